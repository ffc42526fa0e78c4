//! `cookie-audit.toml`: the same settings as the `audit` flags. Flags win; unknown keys are errors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{AuditArgs, FailOn, Interact, ModeArg};
use crate::facts::Mode;
use crate::fetch::{DEFAULT_USER_AGENT, FetchOptions};
use crate::knowledge::profiles::DEFAULT_PROFILE;
use crate::report::Format;

pub const DEFAULT_FILE: &str = "cookie-audit.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub input: Vec<PathBuf>,
    pub sitemap: Option<String>,
    pub limit: Option<usize>,
    pub mode: Option<ModeArg>,
    pub profile: Option<String>,
    pub rules: Option<PathBuf>,
    #[serde(default)]
    pub filter_list: Vec<PathBuf>,
    #[serde(default)]
    pub format: Vec<Format>,
    pub output: Option<PathBuf>,
    pub fail_on: Option<FailOn>,
    #[serde(default)]
    pub select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub ignore_url: Vec<IgnoreUrl>,
    pub concurrency: Option<usize>,
    pub per_host: Option<usize>,
    pub timeout: Option<f64>,
    pub retries: Option<u32>,
    #[serde(default)]
    pub headers: Vec<String>,
    pub cookie: Option<String>,
    pub user_agent: Option<String>,
    pub lang: Option<String>,
    pub max_redirects: Option<usize>,
    pub insecure: Option<bool>,
    pub base_url: Option<String>,
    pub max_body: Option<usize>,
    pub baseline: Option<PathBuf>,
    pub write_baseline: Option<PathBuf>,
    pub chrome: Option<PathBuf>,
    #[serde(default)]
    pub chrome_args: Vec<String>,
    pub banner_wait: Option<f64>,
    pub interact: Option<Interact>,
}

/// A rule switched off for some URLs; the reason is required, so the exception is documented.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreUrl {
    pub rule: String,
    pub url: String,
    pub reason: String,
}

/// Reads the settings file; `explicit` is `--config`, else `./cookie-audit.toml` if present.
pub fn load(explicit: Option<&Path>) -> Result<ConfigFile, String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
        None => return Ok(ConfigFile::default()),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse(&text, &path.display().to_string())
}

pub fn parse(text: &str, name: &str) -> Result<ConfigFile, String> {
    let config: ConfigFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| crate::knowledge::line_of(text, s.start))
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        format!("{name}{line}: {}", e.message().trim())
    })?;
    if let Some(bad) = config
        .ignore_url
        .iter()
        .find(|i| i.reason.trim().is_empty())
    {
        return Err(format!(
            "{name}: ignore_url for rule {:?} needs a reason",
            bad.rule
        ));
    }
    Ok(config)
}

/// Everything an audit run needs, flags and file merged.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub targets: Vec<String>,
    pub inputs: Vec<PathBuf>,
    pub sitemap: Option<String>,
    pub limit: Option<usize>,
    pub mode: Mode,
    pub profile: String,
    pub rules_dir: Option<PathBuf>,
    pub filter_lists: Vec<PathBuf>,
    pub formats: Vec<Format>,
    pub output: PathBuf,
    pub fail_on: FailOn,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub ignore_urls: Vec<IgnoreUrl>,
    pub concurrency: usize,
    pub fetch: FetchOptions,
    pub baseline: Option<PathBuf>,
    pub write_baseline: Option<PathBuf>,
    pub shard: Option<(u32, u32)>,
    pub resume: bool,
    pub chrome: Option<PathBuf>,
    pub chrome_args: Vec<String>,
    pub banner_wait: Duration,
    pub interact: Interact,
    pub progress: bool,
}

fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

fn pick_list<T>(flag: Vec<T>, file: Vec<T>) -> Vec<T> {
    if flag.is_empty() { file } else { flag }
}

pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard {s:?}: expected K/N, e.g. 2/8"))?;
    let (k, n): (u32, u32) = (
        k.trim()
            .parse()
            .map_err(|_| format!("--shard {s:?}: K is not a number"))?,
        n.trim()
            .parse()
            .map_err(|_| format!("--shard {s:?}: N is not a number"))?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard {s:?}: need 1 <= K <= N"));
    }
    Ok((k, n))
}

fn parse_header(h: &str) -> Result<(String, String), String> {
    let (k, v) = h
        .split_once(':')
        .ok_or_else(|| format!("--header {h:?}: expected 'Name: value'"))?;
    let name = k.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        return Err(format!("--header {h:?}: {name:?} is not a header name"));
    }
    Ok((name.to_owned(), v.trim().to_owned()))
}

fn seconds(what: &str, s: f64) -> Result<Duration, String> {
    if s.is_finite() && s > 0.0 && s < 86_400.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(format!(
            "{what} must be a positive number of seconds, not {s}"
        ))
    }
}

impl AuditSettings {
    pub fn resolve(args: AuditArgs, file: ConfigFile) -> Result<AuditSettings, String> {
        let timeout = seconds("--timeout", pick(args.timeout, file.timeout, 30.0))?;
        let headers = pick_list(args.headers, file.headers)
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>, _>>()?;
        let base_url = args
            .base_url
            .or(file.base_url)
            .map(|u| url::Url::parse(&u).map_err(|e| format!("--base-url {u:?}: {e}")))
            .transpose()?;
        let concurrency = pick(args.concurrency, file.concurrency, 16);
        let per_host = pick(args.per_host, file.per_host, 2);
        if concurrency == 0 || per_host == 0 {
            return Err("--concurrency and --per-host must be at least 1".into());
        }
        let fetch = FetchOptions {
            user_agent: args
                .user_agent
                .or(file.user_agent)
                .unwrap_or_else(|| DEFAULT_USER_AGENT.into()),
            lang: args.lang.or(file.lang).unwrap_or_else(|| "en".into()),
            headers,
            cookie: args.cookie.or(file.cookie),
            timeout,
            connect_timeout: timeout.min(Duration::from_secs(10)),
            retries: pick(args.retries, file.retries, 2),
            max_redirects: pick(args.max_redirects, file.max_redirects, 10),
            max_body: pick(args.max_body, file.max_body, 10 * 1024 * 1024),
            insecure: args.insecure || file.insecure.unwrap_or(false),
            per_host,
            base_url,
        };
        let formats = pick_list(args.format, file.format);
        Ok(AuditSettings {
            targets: pick_list(args.targets, file.targets),
            inputs: pick_list(args.input, file.input),
            sitemap: args.sitemap.or(file.sitemap),
            limit: args.limit.or(file.limit),
            mode: match pick(args.mode, file.mode, ModeArg::Static) {
                ModeArg::Static => Mode::Static,
                ModeArg::Render => Mode::Render,
            },
            profile: args
                .profile
                .or(file.profile)
                .unwrap_or_else(|| DEFAULT_PROFILE.into()),
            rules_dir: args.rules.or(file.rules),
            filter_lists: if args.filter_lists.is_empty() {
                file.filter_list
            } else {
                args.filter_lists
            },
            formats: if formats.is_empty() {
                vec![Format::Table, Format::Json]
            } else {
                formats
            },
            output: args
                .output
                .or(file.output)
                .unwrap_or_else(|| PathBuf::from("reports")),
            fail_on: pick(args.fail_on, file.fail_on, FailOn::High),
            select: pick_list(args.select, file.select),
            ignore: pick_list(args.ignore, file.ignore),
            ignore_urls: file.ignore_url,
            concurrency,
            fetch,
            baseline: args.baseline.or(file.baseline),
            write_baseline: args.write_baseline.or(file.write_baseline),
            shard: args.shard.as_deref().map(parse_shard).transpose()?,
            resume: args.resume,
            chrome: args.chrome.or(file.chrome),
            chrome_args: pick_list(args.chrome_args, file.chrome_args),
            banner_wait: seconds(
                "--banner-wait",
                pick(args.banner_wait, file.banner_wait, 5.0),
            )?,
            interact: pick(args.interact, file.interact, Interact::Reject),
            progress: !args.quiet,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let err = parse(
            "profile = \"fr-cnil\"\nconcurency = 4\n",
            "cookie-audit.toml",
        )
        .unwrap_err();
        assert!(err.starts_with("cookie-audit.toml:2:"), "{err}");
        assert!(err.contains("concurency"), "{err}");
    }

    #[test]
    fn ignores_need_a_reason() {
        let err = parse("[[ignore_url]]\nrule = \"cookie-wall\"\nurl = \"https://x.example/*\"\nreason = \" \"\n", "c.toml").unwrap_err();
        assert!(err.contains("needs a reason"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = parse(
            "profile = \"de\"\nconcurrency = 3\nformat = [\"json\"]\n",
            "c.toml",
        )
        .unwrap();
        let args = AuditArgs {
            profile: Some("it".into()),
            ..AuditArgs::default()
        };
        let s = AuditSettings::resolve(args, file).unwrap();
        assert_eq!((s.profile.as_str(), s.concurrency), ("it", 3));
        assert_eq!(s.formats, vec![Format::Json]);
    }

    #[test]
    fn shards_are_validated() {
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        assert!(parse_shard("9/8").is_err());
        assert!(parse_shard("1").is_err());
    }
}
