//! A same-site crawl from each start page (`--crawl DEPTH`): breadth first, pages of the start
//! page's registrable domain only, each URL once, at most `--max-pages` a start page, and the
//! site's robots.txt honoured unless `--ignore-robots`. Banners differ between templates, so an
//! audit of the home page alone says little about the rest of a site.

use std::collections::{HashMap, HashSet};

use scraper::{Html, Selector};
use url::Url;

use crate::extract::cookies::registrable;
use crate::fetch::http::HttpFetcher;

/// The name robots.txt groups address this crawler by.
pub const ROBOTS_AGENT: &str = "cookie-audit";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrawlOptions {
    /// Links followed from a start page: 1 = the pages it links to.
    pub depth: u32,
    /// Pages audited for each start page, itself included.
    pub max_pages: usize,
    pub ignore_robots: bool,
}

/// Files a link may point at that are not pages.
const NOT_PAGES: [&str; 32] = [
    "pdf", "zip", "gz", "tgz", "rar", "7z", "jpg", "jpeg", "png", "gif", "webp", "avif", "svg",
    "ico", "bmp", "tif", "tiff", "mp3", "mp4", "m4a", "webm", "ogg", "wav", "avi", "mov", "doc",
    "docx", "xls", "xlsx", "ppt", "pptx", "exe",
];

/// The links of a page to other web pages, resolved against its URL and made canonical.
pub fn links(html: &str, base: &Url) -> Vec<Url> {
    let anchors = Selector::parse("a[href], area[href]").expect("a valid selector");
    let doc = Html::parse_document(html);
    let base = doc
        .select(&Selector::parse("base[href]").expect("a valid selector"))
        .find_map(|b| base.join(b.value().attr("href")?).ok())
        .unwrap_or_else(|| base.clone());
    doc.select(&anchors)
        .filter(|a| a.value().attr("download").is_none())
        .filter_map(|a| base.join(a.value().attr("href")?.trim()).ok())
        .filter_map(canonical)
        .collect()
}

/// One spelling per page: http(s) only, no fragment, no trailing slash (but the root's), and
/// no link to a file that is not a page.
pub fn canonical(mut url: Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    let path = url.path().to_owned();
    if path.len() > 1 && path.ends_with('/') {
        url.set_path(path.trim_end_matches('/'));
    }
    let last = url.path_segments()?.next_back().unwrap_or_default();
    let extension = last.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if extension.is_some_and(|e| NOT_PAGES.contains(&e.as_str())) {
        return None;
    }
    Some(url)
}

/// What the crawl has seen and how far each start page's crawl may still go.
#[derive(Default)]
pub struct Frontier {
    seen: HashSet<String>,
    /// Pages taken for each start page (by its index).
    taken: HashMap<usize, usize>,
}

impl Frontier {
    /// A start page: never audited twice, and the first of its site's pages.
    pub fn start(&mut self, start: usize, url: &Url) {
        self.seen.insert(url.to_string());
        *self.taken.entry(start).or_default() += 1;
    }

    /// Takes a link found under start page `start` (whose site is `site`) when it is on that
    /// site, new, and within the page budget.
    pub fn admit(&mut self, start: usize, site: &str, url: &Url, max_pages: usize) -> bool {
        let taken = self.taken.entry(start).or_default();
        let same_site = url.host_str().is_some_and(|h| registrable(h) == site);
        if !same_site || *taken >= max_pages || !self.seen.insert(url.to_string()) {
            return false;
        }
        *taken += 1;
        true
    }
}

/// robots.txt of each origin, fetched once (RFC 9309).
#[derive(Default)]
pub struct Robots {
    by_origin: HashMap<String, RobotsTxt>,
}

impl Robots {
    pub async fn allows(&mut self, http: &HttpFetcher, url: &Url) -> bool {
        let origin = url.origin().ascii_serialization();
        if !self.by_origin.contains_key(&origin) {
            let rules = match url.join("/robots.txt") {
                Ok(robots) => match http.fetch_text(&robots, true).await {
                    Ok(text) => RobotsTxt::parse(&text, ROBOTS_AGENT),
                    // No robots.txt (4xx) allows everything; a server that fails to answer
                    // (5xx, unreachable) is taken as disallowing everything (RFC 9309 §2.3.1).
                    Err(e) if e.status.is_some_and(|s| (400..500).contains(&s)) => {
                        RobotsTxt::default()
                    }
                    Err(_) => RobotsTxt::everything_disallowed(),
                },
                Err(_) => RobotsTxt::default(),
            };
            self.by_origin.insert(origin.clone(), rules);
        }
        self.by_origin[&origin].allows(url)
    }
}

/// The rules of the group that applies to one crawler.
#[derive(Debug, Default, PartialEq)]
pub struct RobotsTxt {
    /// (allowed, path pattern)
    rules: Vec<(bool, String)>,
}

impl RobotsTxt {
    fn everything_disallowed() -> RobotsTxt {
        RobotsTxt {
            rules: vec![(false, "/".into())],
        }
    }

    /// The group naming `agent`, else the `*` group; groups sharing a name are merged.
    pub fn parse(text: &str, agent: &str) -> RobotsTxt {
        let mut named = Vec::new();
        let mut any = Vec::new();
        let mut named_group = false;
        let (mut agents, mut in_rules) = (Vec::<String>::new(), false);
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    if in_rules {
                        agents.clear();
                        in_rules = false;
                    }
                    let name = value.to_ascii_lowercase();
                    named_group |= name == agent;
                    agents.push(name);
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    if value.is_empty() {
                        continue;
                    }
                    let rule = (key == "allow", value.to_owned());
                    if agents.iter().any(|a| a == agent) {
                        named.push(rule.clone());
                    }
                    if agents.iter().any(|a| a == "*") {
                        any.push(rule);
                    }
                }
                _ => {}
            }
        }
        RobotsTxt {
            rules: if named_group { named } else { any },
        }
    }

    /// The longest matching rule decides; on a tie, allow wins; no match allows.
    pub fn allows(&self, url: &Url) -> bool {
        let mut target = url.path().to_owned();
        if let Some(q) = url.query() {
            target = format!("{target}?{q}");
        }
        self.rules
            .iter()
            .filter(|(_, pattern)| matches(pattern, &target))
            .max_by_key(|(allow, pattern)| (pattern.len(), *allow))
            .is_none_or(|(allow, _)| *allow)
    }
}

/// robots.txt patterns: a prefix, with `*` for any run of characters and `$` for the end.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        match if anchored && last {
            rest.ends_with(piece).then(|| rest.len() - piece.len())
        } else {
            rest.find(piece)
        } {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    !anchored || rest.is_empty() || pattern.ends_with('*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn links_are_pages_of_the_web_spelt_once() {
        let html = r#"<html><body>
            <a href="/actualites/">News</a> <a href="/actualites#top">Top</a>
            <a href="https://boutique.example.fr/panier?x=1">Shop</a>
            <a href="/rapport-annuel.PDF">Report</a> <a href="mailto:dpo@example.fr">DPO</a>
            <a href="javascript:void(0)">Menu</a> <a href="tel:+33100000000">Call</a>
            <a href="/contrat.html" download>Contract</a> <area href="/plan" alt="Map">
        </body></html>"#;
        let found: Vec<String> = links(html, &url("https://www.example.fr/"))
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            found,
            [
                "https://www.example.fr/actualites",
                "https://www.example.fr/actualites",
                "https://boutique.example.fr/panier?x=1",
                "https://www.example.fr/plan",
            ]
        );
    }

    #[test]
    fn the_frontier_keeps_to_the_site_and_the_budget() {
        let mut f = Frontier::default();
        f.start(0, &url("https://www.example.fr/"));
        let site = registrable("www.example.fr");
        assert!(f.admit(0, &site, &url("https://blog.example.fr/a"), 3));
        assert!(
            !f.admit(0, &site, &url("https://blog.example.fr/a"), 3),
            "seen"
        );
        assert!(
            !f.admit(0, &site, &url("https://www.example.fr/"), 3),
            "the start"
        );
        assert!(
            !f.admit(0, &site, &url("https://tracker.example.com/x"), 3),
            "other site"
        );
        assert!(f.admit(0, &site, &url("https://www.example.fr/b"), 3));
        assert!(
            !f.admit(0, &site, &url("https://www.example.fr/c"), 3),
            "budget spent"
        );
    }

    #[test]
    fn robots_rules_follow_rfc_9309() {
        let text = "User-agent: *\nDisallow: /private\nAllow: /private/press\nDisallow: /*.json$\n\n\
                    User-agent: OtherBot\nDisallow: /\n";
        let robots = RobotsTxt::parse(text, ROBOTS_AGENT);
        let allows = |p: &str| robots.allows(&url(&format!("https://example.fr{p}")));
        assert!(allows("/") && allows("/privacy") && allows("/data.json?v=1"));
        assert!(!allows("/private") && !allows("/private/x") && !allows("/feed.json"));
        assert!(allows("/private/press/2026"), "the longer allow wins");

        let named = RobotsTxt::parse(
            "User-agent: *\nDisallow: /\n\nUser-agent: cookie-audit\nDisallow: /search\n",
            ROBOTS_AGENT,
        );
        assert!(
            named.allows(&url("https://example.fr/about")),
            "our own group replaces *"
        );
        assert!(!named.allows(&url("https://example.fr/search?q=x")));
        assert!(
            RobotsTxt::parse("User-agent: *\nDisallow:\n", ROBOTS_AGENT)
                .allows(&url("https://e.fr/x"))
        );
    }
}
