//! The `audit` settings, declared once: the same struct is the command line (clap) and the
//! settings file (serde), so a flag without its key cannot exist. Layers, lowest first: defaults,
//! `cookie-audit.toml`, `COOKIE_AUDIT_*` environment variables, flags. Each key is the flag's
//! long name with `_` for `-`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::facts::{Choice, Mode};
use crate::fetch::{DEFAULT_USER_AGENT, FetchOptions};
use crate::pipeline::{CrawlOptions, RunOptions};
use crate::report::Format;
use crate::rules::Severity;
use crate::rules::eval::UrlIgnore;

pub const DEFAULT_FILE: &str = "cookie-audit.toml";
const MAX_RETRIES: u32 = 10;

#[derive(Args, Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// URLs (no scheme means https), .html files, folders of them, or - for a list on stdin.
    pub targets: Vec<String>,
    /// A file listing targets, one a line (# comments and blank lines skipped).
    #[arg(short = 'i', long, value_name = "LIST", env = "COOKIE_AUDIT_INPUT")]
    pub input: Vec<PathBuf>,
    /// Audit the URLs of a sitemap or sitemap index.
    #[arg(long, value_name = "URL", env = "COOKIE_AUDIT_SITEMAP")]
    pub sitemap: Option<String>,
    /// At most this many URLs from the sitemap.
    #[arg(long, value_name = "N", env = "COOKIE_AUDIT_LIMIT")]
    pub limit: Option<usize>,
    /// Also audit the pages of the same site (registrable domain) that each start page links
    /// to, DEPTH links away, breadth first; robots.txt is honoured.
    #[arg(long, value_name = "DEPTH", env = "COOKIE_AUDIT_CRAWL")]
    pub crawl: Option<u32>,
    /// With --crawl: at most N pages for each start page, itself included [default: 50].
    #[arg(long, value_name = "N", env = "COOKIE_AUDIT_MAX_PAGES")]
    pub max_pages: Option<usize>,
    /// With --crawl: follow links that robots.txt disallows.
    #[arg(long, env = "COOKIE_AUDIT_IGNORE_ROBOTS")]
    pub ignore_robots: bool,
    /// static: the HTML as served; render: a real headless Chromium; auto: static, and the browser
    /// only for pages whose banner needs one (needs-render) [default: auto when Chromium or Chrome
    /// is found, else static].
    #[arg(long, value_enum, env = "COOKIE_AUDIT_MODE")]
    pub mode: Option<ModeArg>,
    /// Jurisdiction profile: eu, fr-cnil, de, uk-ico, it, es, nl [default: eu].
    #[arg(long, env = "COOKIE_AUDIT_PROFILE")]
    pub profile: Option<String>,
    /// A folder laid out like `rules/` whose files add to or replace the embedded knowledge
    /// (rules, lexicons, CMP signatures, catalogues, profiles).
    #[arg(
        long,
        alias = "rules",
        value_name = "DIR",
        env = "COOKIE_AUDIT_KNOWLEDGE"
    )]
    #[serde(alias = "rules")]
    pub knowledge: Option<PathBuf>,
    /// A filter list in Adblock Plus syntax (e.g. the EasyList Cookie List) whose element-hiding
    /// rules name consent banners; repeatable.
    #[arg(long, value_name = "FILE", env = "COOKIE_AUDIT_FILTER_LIST")]
    pub filter_list: Vec<PathBuf>,
    /// A cookie database in the Open Cookie Database's CSV layout, consulted for cookie names the
    /// embedded catalogue does not know; repeatable.
    #[arg(long, value_name = "FILE", env = "COOKIE_AUDIT_COOKIE_LIST")]
    pub cookie_list: Vec<PathBuf>,
    /// Output formats, comma-separated [default: table,json].
    #[arg(long, value_delimiter = ',', value_parser = format_parser(), env = "COOKIE_AUDIT_FORMAT")]
    pub format: Vec<Format>,
    /// Folder for report files [default: reports].
    #[arg(short = 'o', long, value_name = "DIR", env = "COOKIE_AUDIT_OUTPUT")]
    pub output: Option<PathBuf>,
    /// Where the pages of `cookie-audit rules docs` are published, for the reports' links to
    /// each rule (SARIF helpUri, HTML, Markdown): `{rule}` is replaced by the rule id, else
    /// `/<id>.md` is appended. Without it, reports carry each rule's text but no link.
    #[arg(long, value_name = "URL", env = "COOKIE_AUDIT_DOCS_URL")]
    pub docs_url: Option<String>,
    /// Exit 1 when a finding at or above this severity exists [default: high].
    #[arg(long, value_enum, env = "COOKIE_AUDIT_FAIL_ON")]
    pub fail_on: Option<FailOn>,
    /// Run only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', env = "COOKIE_AUDIT_SELECT")]
    pub select: Vec<String>,
    /// Skip these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', env = "COOKIE_AUDIT_IGNORE")]
    pub ignore: Vec<String>,
    /// Pages audited at once [default: 16].
    #[arg(long, env = "COOKIE_AUDIT_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// Requests at once to one host [default: 2].
    #[arg(long, env = "COOKIE_AUDIT_PER_HOST")]
    pub per_host: Option<usize>,
    /// Seconds a request may take [default: 30].
    #[arg(long, value_name = "SECS", env = "COOKIE_AUDIT_TIMEOUT")]
    pub timeout: Option<f64>,
    /// Retries on connection errors, 5xx and 429 [default: 2].
    #[arg(long, env = "COOKIE_AUDIT_RETRIES")]
    pub retries: Option<u32>,
    /// Extra request header 'Name: value' (repeatable); never written to reports.
    #[arg(long, value_name = "'K: V'", env = "COOKIE_AUDIT_HEADER")]
    #[serde(alias = "headers")]
    pub header: Vec<String>,
    /// Cookie header to send (e.g. a staging session); never written to reports.
    #[arg(long, env = "COOKIE_AUDIT_COOKIE")]
    pub cookie: Option<String>,
    /// User-Agent (default: a desktop Chrome).
    #[arg(long, env = "COOKIE_AUDIT_USER_AGENT")]
    pub user_agent: Option<String>,
    /// Language to ask for (Accept-Language and the browser locale); banners are localised [default: en].
    #[arg(long, env = "COOKIE_AUDIT_LANG")]
    pub lang: Option<String>,
    /// Redirects followed at most [default: 10].
    #[arg(long, env = "COOKIE_AUDIT_MAX_REDIRECTS")]
    pub max_redirects: Option<usize>,
    /// Accept invalid TLS certificates (staging sites).
    #[arg(long, env = "COOKIE_AUDIT_INSECURE")]
    pub insecure: bool,
    /// Base URL for resolving links of local HTML files.
    #[arg(long, value_name = "URL", env = "COOKIE_AUDIT_BASE_URL")]
    pub base_url: Option<String>,
    /// Largest body read, in bytes [default: 10485760].
    #[arg(long, value_name = "BYTES", env = "COOKIE_AUDIT_MAX_BODY")]
    pub max_body: Option<usize>,
    /// Compare with a baseline: only new findings count for --fail-on.
    #[arg(long, value_name = "FILE", env = "COOKIE_AUDIT_BASELINE")]
    pub baseline: Option<PathBuf>,
    /// Record today's findings as a baseline.
    #[arg(long, value_name = "FILE", env = "COOKIE_AUDIT_WRITE_BASELINE")]
    pub write_baseline: Option<PathBuf>,
    /// Audit only shard K of N (deterministic by URL).
    #[arg(long, value_name = "K/N", env = "COOKIE_AUDIT_SHARD")]
    pub shard: Option<String>,
    /// Continue an interrupted run from OUTPUT/pages.jsonl.
    #[arg(long, env = "COOKIE_AUDIT_RESUME")]
    pub resume: bool,
    /// Chromium or Chrome binary for --mode render.
    #[arg(long, value_name = "PATH", env = "COOKIE_AUDIT_CHROME")]
    pub chrome: Option<PathBuf>,
    /// Extra Chromium flag for --mode render (repeatable).
    #[arg(
        long,
        value_name = "ARG",
        allow_hyphen_values = true,
        env = "COOKIE_AUDIT_CHROME_ARG"
    )]
    #[serde(alias = "chrome_args")]
    pub chrome_arg: Vec<String>,
    /// Seconds to wait for a banner to appear in render mode [default: 5].
    #[arg(long, value_name = "SECS", env = "COOKIE_AUDIT_BANNER_WAIT")]
    pub banner_wait: Option<f64>,
    /// In render mode, click reject or accept after the first look [default: reject].
    #[arg(long, value_enum, env = "COOKIE_AUDIT_INTERACT")]
    pub interact: Option<Interact>,
    /// No progress bar even on a terminal.
    #[arg(long, env = "COOKIE_AUDIT_QUIET")]
    pub quiet: bool,
    /// Rules switched off for some URLs, each with its reason (settings file only: `[[ignore_url]]`).
    #[arg(skip)]
    pub ignore_url: Vec<IgnoreUrl>,
}

/// A rule switched off for some URLs; the reason is required, so the exception is documented.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreUrl {
    pub rule: String,
    pub url: String,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeArg {
    Static,
    Render,
    /// Static first; a browser only for the pages whose banner needs one.
    Auto,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    High,
    Medium,
    Low,
    Info,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interact {
    Reject,
    Accept,
    None,
}

pub(crate) fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::ALL.map(Format::as_str))
        .map(|s| s.parse::<Format>().expect("one of the possible values"))
}

/// What the binary needs besides the run options: its exit policy.
pub struct Resolved {
    pub run: RunOptions,
    pub fail_on: FailOn,
}

impl AuditSettings {
    /// The settings file: `explicit` (`--config`), else `./cookie-audit.toml` if present.
    pub fn from_file(explicit: Option<&Path>) -> anyhow::Result<AuditSettings> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
            None => return Ok(AuditSettings::default()),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        parse(&text, &path.display().to_string())
    }

    /// `self` (flags and environment) over `file`: every value given here wins.
    pub fn over(self, file: AuditSettings) -> anyhow::Result<AuditSettings> {
        let table = |s: &AuditSettings| match toml::Value::try_from(s) {
            Ok(toml::Value::Table(t)) => Ok(t),
            Ok(_) => unreachable!("a struct serialises to a table"),
            Err(e) => Err(anyhow::anyhow!("settings: {e}")),
        };
        let (upper, mut merged) = (table(&self)?, table(&file)?);
        for (key, value) in upper {
            let given = match &value {
                toml::Value::Array(items) => !items.is_empty(),
                toml::Value::Boolean(b) => *b,
                _ => true,
            };
            if given {
                merged.insert(key, value);
            }
        }
        Ok(toml::Value::Table(merged).try_into()?)
    }

    /// Defaults filled in and every value checked.
    pub fn resolve(self) -> anyhow::Result<Resolved> {
        let timeout = seconds("--timeout", self.timeout.unwrap_or(30.0))?;
        let concurrency = self.concurrency.unwrap_or(16);
        let per_host = self.per_host.unwrap_or(2);
        if concurrency == 0 || per_host == 0 {
            bail!("--concurrency and --per-host must be at least 1");
        }
        let retries = self.retries.unwrap_or(2);
        if retries > MAX_RETRIES {
            // Backoff doubles with each retry: past this, waits run to hours and then overflow.
            bail!("--retries {retries}: at most {MAX_RETRIES}");
        }
        let defaults = RunOptions::default();
        let fetch = FetchOptions {
            user_agent: self.user_agent.unwrap_or_else(|| DEFAULT_USER_AGENT.into()),
            lang: self.lang.unwrap_or_else(|| "en".into()),
            headers: self
                .header
                .iter()
                .map(|h| parse_header(h))
                .collect::<anyhow::Result<_>>()?,
            cookie: self.cookie,
            retries,
            max_redirects: self.max_redirects.unwrap_or(10),
            max_body: self.max_body.unwrap_or(10 * 1024 * 1024),
            insecure: self.insecure,
            per_host,
            base_url: self
                .base_url
                .map(|u| url::Url::parse(&u).with_context(|| format!("--base-url {u:?}")))
                .transpose()?,
            ..FetchOptions::with_timeout(timeout)
        };
        let run = RunOptions {
            targets: self.targets,
            inputs: self.input,
            sitemap: self.sitemap,
            limit: self.limit,
            crawl: self.crawl.filter(|d| *d > 0).map(|depth| CrawlOptions {
                depth,
                max_pages: self.max_pages.unwrap_or(50).max(1),
                ignore_robots: self.ignore_robots,
            }),
            mode: match self.mode {
                Some(ModeArg::Render) => Mode::Render,
                Some(ModeArg::Static | ModeArg::Auto) | None => Mode::Static,
            },
            render_when_needed: match self.mode {
                Some(ModeArg::Auto) => true,
                // A browser named with --chrome is meant to be used: a wrong path is said once.
                None => self.chrome.is_some() || browser_found(),
                Some(_) => false,
            },
            profile: self.profile.unwrap_or(defaults.profile),
            knowledge_dir: self.knowledge,
            filter_lists: self.filter_list,
            cookie_lists: self.cookie_list,
            cached_lists: true,
            formats: if self.format.is_empty() {
                defaults.formats
            } else {
                self.format
            },
            output: self.output.unwrap_or(defaults.output),
            docs_url: self.docs_url,
            select: self.select,
            ignore: self.ignore,
            ignore_urls: self
                .ignore_url
                .iter()
                .map(|i| {
                    UrlIgnore::new(&i.rule, &i.url, &i.reason)
                        .with_context(|| format!("ignore_url {:?}", i.url))
                })
                .collect::<anyhow::Result<_>>()?,
            concurrency,
            fetch,
            browser: self.chrome,
            browser_args: self.chrome_arg,
            banner_wait: seconds("--banner-wait", self.banner_wait.unwrap_or(5.0))?,
            choice: match self.interact.unwrap_or(Interact::Reject) {
                Interact::Reject => Some(Choice::Reject),
                Interact::Accept => Some(Choice::Accept),
                Interact::None => None,
            },
            baseline: self.baseline,
            write_baseline: self.write_baseline,
            shard: self.shard.as_deref().map(parse_shard).transpose()?,
            resume: self.resume,
            progress: !self.quiet,
        };
        Ok(Resolved {
            run,
            fail_on: self.fail_on.unwrap_or(FailOn::High),
        })
    }
}

/// A browser render mode could use on the PATH: what makes `auto` the default mode.
fn browser_found() -> bool {
    #[cfg(feature = "render")]
    {
        crate::fetch::render::find_browser(None).is_ok()
    }
    #[cfg(not(feature = "render"))]
    {
        false
    }
}

/// Reads a settings file's text; `name` is what errors call it.
pub fn parse(text: &str, name: &str) -> anyhow::Result<AuditSettings> {
    let settings: AuditSettings = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| crate::knowledge::line_of(text, s.start))
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        anyhow::anyhow!("{name}{line}: {}", e.message().trim())
    })?;
    if let Some(bad) = settings
        .ignore_url
        .iter()
        .find(|i| i.reason.trim().is_empty())
    {
        bail!("{name}: ignore_url for rule {:?} needs a reason", bad.rule);
    }
    Ok(settings)
}

pub fn parse_shard(s: &str) -> anyhow::Result<(u32, u32)> {
    let (k, n) = s
        .split_once('/')
        .with_context(|| format!("--shard {s:?}: expected K/N, e.g. 2/8"))?;
    let k: u32 = k
        .trim()
        .parse()
        .with_context(|| format!("--shard {s:?}: K is not a number"))?;
    let n: u32 = n
        .trim()
        .parse()
        .with_context(|| format!("--shard {s:?}: N is not a number"))?;
    if n == 0 || k == 0 || k > n {
        bail!("--shard {s:?}: need 1 <= K <= N");
    }
    Ok((k, n))
}

fn parse_header(h: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = h
        .split_once(':')
        .with_context(|| format!("--header {h:?}: expected 'Name: value'"))?;
    let name = k.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        bail!("--header {h:?}: {name:?} is not a header name");
    }
    Ok((name.to_owned(), v.trim().to_owned()))
}

fn seconds(what: &str, s: f64) -> anyhow::Result<Duration> {
    if s.is_finite() && s > 0.0 && s < 86_400.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        bail!("{what} must be a positive number of seconds, not {s}")
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::cli::Cli;

    fn flags(args: &[&str]) -> AuditSettings {
        match Cli::try_parse_from([&["cookie-audit", "audit"], args].concat())
            .expect("valid flags")
            .command
        {
            crate::cli::Command::Audit(settings) => *settings,
            _ => unreachable!(),
        }
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let err = parse(
            "profile = \"fr-cnil\"\nconcurency = 4\n",
            "cookie-audit.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("cookie-audit.toml:2:"), "{err}");
        assert!(err.contains("concurency"), "{err}");
    }

    #[test]
    fn ignores_need_a_reason() {
        let err = parse("[[ignore_url]]\nrule = \"cookie-wall\"\nurl = \"https://x.example/*\"\nreason = \" \"\n", "c.toml").unwrap_err();
        assert!(err.to_string().contains("needs a reason"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let file = parse(
            "profile = \"de\"\nconcurrency = 3\nformat = [\"json\"]\ninsecure = true\n",
            "c.toml",
        )
        .unwrap();
        let resolved = flags(&["--profile", "it"])
            .over(file)
            .unwrap()
            .resolve()
            .unwrap();
        let run = resolved.run;
        assert_eq!((run.profile.as_str(), run.concurrency), ("it", 3));
        assert_eq!(run.formats, vec![Format::Json]);
        assert!(run.fetch.insecure);
        assert_eq!(run.fetch.retries, 2);
    }

    #[test]
    fn older_key_names_still_read() {
        let s = parse(
            "headers = [\"X-A: 1\"]\nchrome_args = [\"--x\"]\nrules = \"k\"\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(s.header, vec!["X-A: 1"]);
        assert_eq!(s.chrome_arg, vec!["--x"]);
        assert_eq!(s.knowledge, Some(PathBuf::from("k")));
    }

    /// A flag without its settings-file key (or environment variable) is a bug.
    #[test]
    fn every_flag_has_its_key_and_its_environment_variable() {
        let keys = match serde_json::to_value(AuditSettings::default()).unwrap() {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let cli = Cli::command();
        let audit = cli.find_subcommand("audit").expect("audit subcommand");
        let mut checked = 0;
        for arg in audit.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "config") {
                continue;
            }
            assert!(keys.contains_key(id), "flag {id} has no settings-file key");
            if let Some(long) = arg.get_long() {
                assert_eq!(long.replace('-', "_"), id, "the key of --{long} is {id}");
                let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or_default();
                assert_eq!(
                    env,
                    format!("COOKIE_AUDIT_{}", id.to_uppercase()),
                    "--{long} has no environment variable"
                );
            }
            checked += 1;
        }
        assert!(checked >= 30, "only {checked} flags seen");
        // Every key but the file-only `ignore_url` is a flag.
        let flags: Vec<&str> = audit.get_arguments().map(|a| a.get_id().as_str()).collect();
        for key in keys.keys() {
            assert!(
                key == "ignore_url" || flags.contains(&key.as_str()),
                "key {key} has no flag"
            );
        }
    }

    #[test]
    fn retries_are_bounded() {
        let err = flags(&["--retries", "4000000000"]).resolve().err().unwrap();
        assert!(err.to_string().contains("at most 10"), "{err}");
        assert_eq!(
            flags(&["--retries", "10"])
                .resolve()
                .unwrap()
                .run
                .fetch
                .retries,
            10
        );
    }

    #[test]
    fn shards_are_validated() {
        assert_eq!(parse_shard("2/8").unwrap(), (2, 8));
        assert!(parse_shard("9/8").is_err());
        assert!(parse_shard("1").is_err());
    }
}
