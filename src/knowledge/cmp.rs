//! CMP signatures: how to recognise a consent-management platform and read its banner.

use aho_corasick::{AhoCorasick, MatchKind};
use scraper::Selector;
use serde::Deserialize;

use super::{KnowledgeError, Source, Sources, parse};
use crate::facts::Role;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CmpFile {
    id: String,
    name: String,
    #[serde(default)]
    tcf_cmp_ids: Vec<u32>,
    #[serde(default)]
    weak: bool,
    #[serde(default)]
    banner: BannerFile,
    #[serde(default)]
    buttons: ButtonsFile,
    #[serde(default)]
    scripts: ScriptsFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BannerFile {
    #[serde(default)]
    roots: Vec<String>,
    #[serde(default)]
    preference_center: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ButtonsFile {
    #[serde(default)]
    accept: Vec<String>,
    #[serde(default)]
    reject: Vec<String>,
    #[serde(default)]
    settings: Vec<String>,
    #[serde(default)]
    close: Vec<String>,
    #[serde(default)]
    acknowledge: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ScriptsFile {
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    /// Hosts that also serve other files, so only a connection hint to the bare host
    /// (`<link rel=preconnect href="//cdn.iubenda.com">`) names the CMP.
    #[serde(default)]
    pub preconnect: Vec<String>,
    #[serde(default)]
    pub inline: Vec<String>,
    /// Elements the CMP's integration leaves in a page, as CSS selectors: tags held back for
    /// its blocking (`script[data-cookieconsent]`), links that reopen its settings.
    #[serde(default)]
    pub markup: Vec<String>,
    /// Names of the cookies that store the visitor's choice.
    #[serde(default)]
    pub consent_cookies: Vec<String>,
}

/// A compiled CMP signature.
pub struct Cmp {
    pub id: String,
    pub name: String,
    pub tcf_cmp_ids: Vec<u32>,
    /// Its traces also serve other purposes: they name it only when no other CMP is traced.
    pub weak: bool,
    pub roots: Vec<(String, Selector)>,
    pub preference_center: Vec<Selector>,
    pub buttons: Vec<(Role, Selector)>,
    pub scripts: ScriptsFile,
    /// Markup selectors, each with the names (`#id`, `.class`, `tag`, `[attr`) a page must hold
    /// for it to match.
    pub markup: Vec<(Selector, Vec<String>)>,
}

impl Cmp {
    /// Does a script URL belong to this CMP?
    /// A connection hint (no path) to one of the CMP's hosts.
    pub fn owns_connection(&self, url: &url::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        url.path() == "/" && self.scripts.preconnect.iter().any(|h| host == h)
    }

    pub fn owns_script(&self, url: &url::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        self.scripts
            .hosts
            .iter()
            .any(|h| crate::text::host_within(host, h))
            || self
                .scripts
                .paths
                .iter()
                .any(|p| url[url::Position::BeforePath..].contains(p.as_str()))
    }
}

/// What an inline marker of a CMP says when a script contains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// A configuration, callback or loader string of the CMP.
    Inline,
    /// The name of the CMP's consent cookie, written as a string.
    ConsentCookie,
}

/// Every CMP's inline markers and consent-cookie names in one automaton, so that a page's
/// scripts are read once whatever the number of CMPs.
pub struct Markers {
    matcher: Option<AhoCorasick>,
    /// For each pattern: the CMP (index into the list it was built from), and what it marks.
    owners: Vec<(usize, MarkerKind)>,
    patterns: Vec<String>,
}

impl Markers {
    pub fn build(cmps: &[Cmp]) -> Markers {
        let mut owners = Vec::new();
        let mut patterns = Vec::new();
        for (i, cmp) in cmps.iter().enumerate() {
            for (list, kind) in [
                (&cmp.scripts.inline, MarkerKind::Inline),
                (&cmp.scripts.consent_cookies, MarkerKind::ConsentCookie),
            ] {
                for marker in list.iter().filter(|m| !m.is_empty()) {
                    owners.push((i, kind));
                    patterns.push(marker.clone());
                }
            }
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok();
        Markers {
            matcher,
            owners,
            patterns,
        }
    }

    /// The markers found in a script: CMP index, kind and the marker itself. A cookie name
    /// counts only as a string (`'name'`, `"name="`), not as part of a longer word.
    pub fn find<'m>(&'m self, code: &str) -> Vec<(usize, MarkerKind, &'m str)> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let bytes = code.as_bytes();
        let mut found: Vec<(usize, MarkerKind, &str)> = Vec::new();
        for m in matcher.find_overlapping_iter(code) {
            let (cmp, kind) = self.owners[m.pattern().as_usize()];
            if kind == MarkerKind::ConsentCookie {
                let quote = |b: u8| matches!(b, b'"' | b'\'' | b'`');
                let before = m.start() > 0 && quote(bytes[m.start() - 1]);
                let after = bytes.get(m.end()).is_some_and(|b| quote(*b) || *b == b'=');
                if !(before && after) {
                    continue;
                }
            }
            let marker = self.patterns[m.pattern().as_usize()].as_str();
            if !found.iter().any(|(c, k, _)| *c == cmp && *k == kind) {
                found.push((cmp, kind, marker));
            }
        }
        found
    }
}

pub fn load_all(sources: &Sources) -> Result<Vec<Cmp>, KnowledgeError> {
    sources.under("cmp/").map(load_one).collect()
}

fn load_one(source: &Source) -> Result<Cmp, KnowledgeError> {
    let file: CmpFile = parse(source)?;
    let expected = source.stem();
    if file.id != expected {
        return Err(KnowledgeError::new(
            source,
            super::line_of_key(&source.text, "id"),
            format!("id {:?} does not match the file name", file.id),
        ));
    }
    let compile = |css: &String| compile_selector(source, css);
    let roots = file
        .banner
        .roots
        .iter()
        .map(|css| Ok((css.clone(), compile(css)?)))
        .collect::<Result<_, KnowledgeError>>()?;
    let preference_center = file
        .banner
        .preference_center
        .iter()
        .map(compile)
        .collect::<Result<_, _>>()?;
    let b = &file.buttons;
    let mut buttons = Vec::new();
    for (role, list) in [
        (Role::Reject, &b.reject),
        (Role::Accept, &b.accept),
        (Role::Settings, &b.settings),
        (Role::Close, &b.close),
        (Role::Acknowledge, &b.acknowledge),
    ] {
        for css in list {
            buttons.push((role, compile(css)?));
        }
    }
    let markup = file
        .scripts
        .markup
        .iter()
        .map(|css| Ok((compile(css)?, super::selectors::needed_names(css))))
        .collect::<Result<_, KnowledgeError>>()?;
    Ok(Cmp {
        markup,
        id: file.id,
        name: file.name,
        tcf_cmp_ids: file.tcf_cmp_ids,
        weak: file.weak,
        roots,
        preference_center,
        buttons,
        scripts: file.scripts,
    })
}

fn compile_selector(source: &Source, css: &str) -> Result<Selector, KnowledgeError> {
    Selector::parse(css).map_err(|e| {
        let line = source
            .text
            .find(css)
            .map(|off| super::line_of(&source.text, off));
        KnowledgeError::new(source, line, format!("invalid CSS selector {css:?}: {e}"))
    })
}
