//! Known cookies and tracker hosts, each mapped to a purpose category.

use std::collections::HashMap;

use regex::Regex;
use serde::Deserialize;

use super::cookie_db::CookieDatabase;
use super::{KnowledgeError, Source, Sources, parse};
use crate::facts::{Category, CookieKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CookieFile {
    cookie: Vec<CookieEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CookieEntry {
    name: Option<String>,
    prefix: Option<String>,
    pattern: Option<String>,
    vendor: String,
    category: Category,
    #[serde(default)]
    kind: Option<CookieKind>,
    #[serde(default)]
    exemptable: bool,
}

enum NameMatch {
    Exact(String),
    Prefix(String),
    Pattern(Regex),
}

/// What the catalogue knows of a cookie.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownCookie {
    pub vendor: String,
    pub category: Category,
    pub kind: Option<CookieKind>,
    pub exemptable: bool,
    /// Where it is known from: `catalogue`, or `list:NAME` for a cookie database.
    pub source: String,
}

pub struct CookieCatalog {
    entries: Vec<(NameMatch, KnownCookie)>,
    /// Cookie databases (`--cookie-list`, `lists update`), asked only when the catalogue does
    /// not know a name.
    databases: Vec<CookieDatabase>,
}

impl CookieCatalog {
    /// Every file under `cookies/`.
    pub fn load(sources: &Sources) -> Result<Self, KnowledgeError> {
        let mut entries = Vec::new();
        for source in sources.under("cookies/") {
            load_file(source, &mut entries)?;
        }
        // Exact names first, then prefixes (longest first), then patterns: the most specific wins.
        entries.sort_by_key(|(m, _)| match m {
            NameMatch::Exact(_) => (0, 0),
            NameMatch::Prefix(p) => (1, usize::MAX - p.len()),
            NameMatch::Pattern(_) => (2, 0),
        });
        Ok(CookieCatalog {
            entries,
            databases: Vec::new(),
        })
    }

    pub fn add_database(&mut self, db: CookieDatabase) {
        self.databases.push(db);
    }

    pub fn databases(&self) -> impl Iterator<Item = &CookieDatabase> {
        self.databases.iter()
    }

    pub fn classify(&self, name: &str) -> Option<&KnownCookie> {
        self.entries
            .iter()
            .find_map(|(m, known)| {
                let hit = match m {
                    NameMatch::Exact(n) => n == name,
                    NameMatch::Prefix(p) => name.starts_with(p.as_str()),
                    NameMatch::Pattern(r) => r.is_match(name),
                };
                hit.then_some(known)
            })
            .or_else(|| self.databases.iter().find_map(|db| db.classify(name)))
    }
}

fn load_file(
    source: &Source,
    entries: &mut Vec<(NameMatch, KnownCookie)>,
) -> Result<(), KnowledgeError> {
    let file: CookieFile = parse(source)?;
    for (i, e) in file.cookie.into_iter().enumerate() {
        let at = |msg: String| {
            KnowledgeError::new(source, nth_table_line(&source.text, "[[cookie]]", i), msg)
        };
        let matcher = match (e.name, e.prefix, e.pattern) {
            (Some(n), None, None) => NameMatch::Exact(n),
            (None, Some(p), None) => NameMatch::Prefix(p),
            (None, None, Some(p)) => NameMatch::Pattern(
                Regex::new(&p).map_err(|err| at(format!("invalid pattern {p:?}: {err}")))?,
            ),
            _ => {
                return Err(at(
                    "a cookie needs exactly one of name, prefix or pattern".into()
                ));
            }
        };
        if e.category == Category::Unknown {
            return Err(at(
                "category must be known (necessary, preferences, analytics, advertising, social)"
                    .into(),
            ));
        }
        entries.push((
            matcher,
            KnownCookie {
                vendor: e.vendor,
                category: e.category,
                kind: e.kind,
                exemptable: e.exemptable,
                source: "catalogue".into(),
            },
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackerFile {
    #[serde(default)]
    tracker: Vec<TrackerEntry>,
    #[serde(default)]
    inline: Vec<InlineEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackerEntry {
    domain: String,
    #[serde(default)]
    path: Option<String>,
    vendor: String,
    category: Category,
    #[serde(default)]
    tag_manager: bool,
    #[serde(default)]
    exempt: bool,
    #[serde(default)]
    exemptable: bool,
    #[serde(default)]
    session_replay: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InlineEntry {
    pattern: String,
    vendor: String,
    #[serde(default)]
    host: Option<String>,
    category: Category,
    #[serde(default)]
    tag_manager: bool,
    #[serde(default)]
    exempt: bool,
    #[serde(default)]
    exemptable: bool,
    #[serde(default)]
    session_replay: bool,
}

/// What the catalogue knows of a tracker.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownTracker {
    pub vendor: String,
    pub category: Category,
    pub tag_manager: bool,
    /// Cookieless, consent-exempt analytics.
    pub exempt: bool,
    /// Audience measurement that national exemptions may cover (CNIL's list: Matomo, Piano...).
    pub exemptable: bool,
    /// Records sessions (clicks, mouse movements, keystrokes) for replay.
    pub session_replay: bool,
}

pub struct TrackerCatalog {
    /// Entries by domain, each list longest path first.
    by_domain: HashMap<String, Vec<(Option<String>, KnownTracker)>>,
    inline: Vec<InlineSnippet>,
}

/// A snippet of inline code that starts a tracker, and the host it makes the browser contact.
pub struct InlineSnippet {
    pattern: Regex,
    pub known: KnownTracker,
    pub host: Option<String>,
}

impl TrackerCatalog {
    /// Every file under `trackers/`; a domain and path listed twice is an error.
    pub fn load(sources: &Sources) -> Result<Self, KnowledgeError> {
        let mut catalog = TrackerCatalog {
            by_domain: HashMap::new(),
            inline: Vec::new(),
        };
        for source in sources.under("trackers/") {
            catalog.add(source)?;
        }
        for entries in catalog.by_domain.values_mut() {
            entries.sort_by_key(|(p, _)| std::cmp::Reverse(p.as_ref().map_or(0, String::len)));
        }
        Ok(catalog)
    }

    fn add(&mut self, source: &Source) -> Result<(), KnowledgeError> {
        let file: TrackerFile = parse(source)?;
        for (i, t) in file.tracker.into_iter().enumerate() {
            let entries = self
                .by_domain
                .entry(t.domain.to_ascii_lowercase())
                .or_default();
            if entries.iter().any(|(p, _)| *p == t.path) {
                return Err(KnowledgeError::new(
                    source,
                    nth_table_line(&source.text, "[[tracker]]", i),
                    format!(
                        "{}{} is listed twice in the tracker catalogue",
                        t.domain,
                        t.path.as_deref().unwrap_or_default()
                    ),
                ));
            }
            entries.push((
                t.path,
                KnownTracker {
                    vendor: t.vendor,
                    category: t.category,
                    tag_manager: t.tag_manager,
                    exempt: t.exempt,
                    exemptable: t.exemptable,
                    session_replay: t.session_replay,
                },
            ));
        }
        for (i, e) in file.inline.into_iter().enumerate() {
            let regex = Regex::new(&e.pattern).map_err(|err| {
                KnowledgeError::new(
                    source,
                    nth_table_line(&source.text, "[[inline]]", i),
                    format!("invalid pattern {:?}: {err}", e.pattern),
                )
            })?;
            self.inline.push(InlineSnippet {
                pattern: regex,
                known: KnownTracker {
                    vendor: e.vendor,
                    category: e.category,
                    tag_manager: e.tag_manager,
                    exempt: e.exempt,
                    exemptable: e.exemptable,
                    session_replay: e.session_replay,
                },
                host: e.host,
            });
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.by_domain.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_domain.is_empty()
    }

    /// The tracker a URL belongs to, by host (or its nearest listed parent domain) and optional
    /// path prefix.
    pub fn classify(&self, url: &url::Url) -> Option<&KnownTracker> {
        let host = url.host_str()?.to_ascii_lowercase();
        let mut domain = host.as_str();
        loop {
            let hit = self.by_domain.get(domain).and_then(|entries| {
                entries.iter().find(|(path, _)| {
                    path.as_ref()
                        .is_none_or(|p| url.path().starts_with(p.as_str()))
                })
            });
            if let Some((_, known)) = hit {
                return Some(known);
            }
            domain = domain.split_once('.')?.1;
        }
    }

    /// Trackers started by inline code.
    pub fn inline_matches<'a>(
        &'a self,
        code: &'a str,
    ) -> impl Iterator<Item = &'a InlineSnippet> + 'a {
        self.inline.iter().filter(move |s| s.pattern.is_match(code))
    }
}

/// Line of the n-th `[[table]]` header, to point errors at the right entry.
fn nth_table_line(text: &str, header: &str, n: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .nth(n)
        .map(|(i, _)| i + 1)
}
