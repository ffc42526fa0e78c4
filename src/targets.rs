//! Turning what the user typed (URLs, files, folders, lists, sitemaps) into an ordered list of targets.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use url::Url;

/// One thing to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Url { input: String, url: Url },
    File { input: String, path: PathBuf },
}

impl Target {
    pub fn input(&self) -> &str {
        match self {
            Target::Url { input, .. } | Target::File { input, .. } => input,
        }
    }

    /// The key used to drop duplicates, to shard and to resume.
    pub fn key(&self) -> String {
        match self {
            Target::Url { url, .. } => url.as_str().to_owned(),
            Target::File { path, .. } => {
                let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                format!("file://{}", abs.display())
            }
        }
    }
}

/// A target that could not be understood, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTarget {
    pub input: String,
    pub message: String,
}

/// The targets of a run, in the order given, without duplicates.
#[derive(Debug, Default)]
pub struct TargetList {
    pub targets: Vec<Target>,
    pub bad: Vec<BadTarget>,
    seen: HashSet<String>,
}

impl TargetList {
    pub fn push(&mut self, target: Target) {
        if self.seen.insert(target.key()) {
            self.targets.push(target);
        }
    }

    /// Adds one target as typed on the command line or in a list.
    pub fn add(&mut self, raw: &str, origin: &str) {
        let raw = raw.trim();
        match parse_target(raw) {
            Ok(Expanded::One(t)) => self.push(t),
            Ok(Expanded::Folder(dir)) => match html_files_under(&dir) {
                Ok(files) => files.into_iter().for_each(|p| {
                    self.push(Target::File {
                        input: p.display().to_string(),
                        path: p,
                    })
                }),
                Err(e) => self.bad.push(BadTarget {
                    input: raw.to_owned(),
                    message: format!("{origin}: cannot read folder {raw}: {e}"),
                }),
            },
            Err(message) => self.bad.push(BadTarget {
                input: raw.to_owned(),
                message: format!("{origin}: {message}"),
            }),
        }
    }

    /// Adds every line of a list: one target a line, blank lines and `#` comments skipped.
    /// A target that cannot be audited, reported as such.
    pub fn add_bad(&mut self, input: &str, message: &str) {
        self.bad.push(BadTarget {
            input: input.to_owned(),
            message: message.to_owned(),
        });
    }

    pub fn add_list(&mut self, text: &str, name: &str) {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.add(line, &format!("{name}:{}", n + 1));
        }
    }
}

enum Expanded {
    One(Target),
    Folder(PathBuf),
}

/// Why a target is not one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    #[error("empty target")]
    Empty,
    #[error("no such file: {0}")]
    NoSuchFile(String),
    #[error("not a URL or an .html file: {raw:?} ({why})")]
    NotUrl { raw: String, why: String },
    #[error("only http and https URLs are audited, not {scheme}: {raw}")]
    Scheme { scheme: String, raw: String },
}

fn parse_target(raw: &str) -> Result<Expanded, TargetError> {
    if raw.is_empty() {
        return Err(TargetError::Empty);
    }
    let path = Path::new(raw);
    if path.is_dir() {
        return Ok(Expanded::Folder(path.to_path_buf()));
    }
    if is_html_file_name(path) {
        if path.is_file() {
            return Ok(Expanded::One(Target::File {
                input: raw.to_owned(),
                path: path.to_path_buf(),
            }));
        }
        if !raw.contains("://")
            && (raw.starts_with('.') || raw.starts_with('/') || raw.contains('\\'))
        {
            return Err(TargetError::NoSuchFile(raw.to_owned()));
        }
    }
    parse_url(raw).map(|url| {
        Expanded::One(Target::Url {
            input: raw.to_owned(),
            url,
        })
    })
}

/// A URL as typed: no scheme means https; only http(s) is audited.
pub fn parse_url(raw: &str) -> Result<Url, TargetError> {
    let not_url = |why: &str| TargetError::NotUrl {
        raw: raw.to_owned(),
        why: why.to_owned(),
    };
    if raw.chars().any(char::is_whitespace) {
        return Err(not_url("it holds spaces"));
    }
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| not_url(&e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(TargetError::Scheme {
                scheme: other.to_owned(),
                raw: raw.to_owned(),
            });
        }
    }
    match url.host_str() {
        Some(host)
            if host.contains('.')
                || host == "localhost"
                || url
                    .host()
                    .is_some_and(|h| !matches!(h, url::Host::Domain(_))) =>
        {
            Ok(url)
        }
        _ => Err(not_url("no host name")),
    }
}

fn is_html_file_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

/// Every `.html`/`.htm` file below a folder, sorted so runs are repeatable.
pub fn html_files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    // A symbolic link back up the tree must not walk forever: each real folder is read once.
    let mut visited = std::collections::HashSet::new();
    while let Some(d) = stack.pop() {
        if !visited.insert(std::fs::canonicalize(&d)?) {
            continue;
        }
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_html_file_name(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Locations listed in a sitemap, and whether it is a sitemap index (its locations are sitemaps).
pub fn parse_sitemap(xml: &str) -> (bool, Vec<String>) {
    let is_index = xml.contains("<sitemapindex");
    let locs = xml
        .split("<loc>")
        .skip(1)
        .filter_map(|chunk| chunk.split("</loc>").next())
        .map(|loc| unescape_xml(loc.trim()))
        .filter(|loc| !loc.is_empty())
        .collect();
    (is_index, locs)
}

fn unescape_xml(s: &str) -> String {
    let s = s.trim_start_matches("<![CDATA[").trim_end_matches("]]>");
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
}

/// Deterministic share of targets for `--shard K/N`: a stable hash of the normalised target.
pub fn in_shard(target: &Target, shard: (u32, u32)) -> bool {
    let (k, n) = shard;
    // FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
    let hash = target.key().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % u64::from(n) == u64::from(k - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_folder_with_a_link_back_up_is_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("site");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("index.html"), "<html></html>").unwrap();
        std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
        let found = html_files_under(dir.path()).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn scheme_less_targets_default_to_https() {
        assert_eq!(
            parse_url("example.com/a").unwrap().as_str(),
            "https://example.com/a"
        );
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(
            parse_url("ftp://example.com/")
                .unwrap_err()
                .to_string()
                .contains("ftp")
        );
        assert!(parse_url("file:///etc/passwd").is_err());
    }

    #[test]
    fn lists_skip_comments_and_report_bad_lines_with_their_number() {
        let mut list = TargetList::default();
        list.add_list(
            "# sites\nexample.com\n\nnot a url\nhttps://example.com/\nexample.org\n",
            "list.txt",
        );
        let inputs: Vec<_> = list.targets.iter().map(Target::input).collect();
        assert_eq!(inputs, ["example.com", "example.org"]);
        assert_eq!(list.bad.len(), 1);
        assert!(
            list.bad[0].message.starts_with("list.txt:4:"),
            "{}",
            list.bad[0].message
        );
    }

    #[test]
    fn sitemap_index_is_recognised() {
        let xml = r#"<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
          <sitemap><loc>https://a.example/s1.xml</loc></sitemap><sitemap><loc> https://a.example/s2.xml?a=1&amp;b=2 </loc></sitemap></sitemapindex>"#;
        let (index, locs) = parse_sitemap(xml);
        assert!(index);
        assert_eq!(
            locs,
            [
                "https://a.example/s1.xml",
                "https://a.example/s2.xml?a=1&b=2"
            ]
        );
    }

    #[test]
    fn shards_partition_the_targets() {
        let targets: Vec<Target> = (0..200)
            .map(|i| Target::Url {
                input: format!("{i}"),
                url: Url::parse(&format!("https://s{i}.example/")).unwrap(),
            })
            .collect();
        let counts: Vec<usize> = (1..=3)
            .map(|k| targets.iter().filter(|t| in_shard(t, (k, 3))).count())
            .collect();
        assert_eq!(counts.iter().sum::<usize>(), 200);
        assert!(counts.iter().all(|&c| c > 40), "{counts:?}");
    }
}
