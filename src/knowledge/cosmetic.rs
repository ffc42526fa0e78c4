//! Consent-banner selectors from filter lists in Adblock Plus syntax, such as the EasyList Cookie
//! List that ad blockers use to hide consent banners: `##sel` on every site, `a.com,b.org##sel`
//! on those sites (`~a.com` excepted), `a.com#@#sel` an exception. Extended syntaxes (`#?#`,
//! `#$#`, `:-abp-…`) are skipped.
//!
//! Thousands of selectors cannot each be tried on every page: every rule is indexed by one of
//! the names it needs (an id, a class, a tag or an attribute name), and tried only when the page
//! has all of them.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use scraper::{ElementRef, Html, Selector};

/// One element hiding rule.
struct Rule {
    css: String,
    /// Names the page must hold for the selector to match (`#id`, `.class`, `tag`, `[attr`).
    needs: Vec<String>,
    /// Sites it applies to; empty for a generic rule.
    domains: Vec<String>,
    /// Sites it does not apply to.
    not_domains: Vec<String>,
    selector: OnceLock<Option<Selector>>,
}

/// The element-hiding part of one filter list.
#[derive(Default)]
pub struct CosmeticFilters {
    rules: Vec<Rule>,
    /// Rule indices by the first name each needs.
    by_name: HashMap<String, Vec<usize>>,
    /// Selectors excepted everywhere (`#@#sel`) or on some sites (`a.com#@#sel`).
    exceptions: HashMap<String, Vec<String>>,
}

/// A page element that a list rule names.
pub struct ListMatch<'a> {
    pub element: ElementRef<'a>,
    pub css: &'a str,
}

impl CosmeticFilters {
    pub fn parse(text: &str) -> CosmeticFilters {
        let mut filters = CosmeticFilters::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('!') || line.starts_with('[') {
                continue;
            }
            if let Some((domains, css)) = line.split_once("#@#") {
                filters
                    .exceptions
                    .entry(css.to_owned())
                    .or_default()
                    .extend(split_domains(domains).0);
                continue;
            }
            let Some((domains, css)) = line.split_once("##") else {
                continue;
            };
            if domains.contains(['#', '$']) || css.contains(":-abp-") || css.contains(":has-text") {
                continue;
            }
            let needs = needed_names(css);
            let Some(key) = needs.first().cloned() else {
                continue;
            };
            let (domains, not_domains) = split_domains(domains);
            filters
                .by_name
                .entry(key)
                .or_default()
                .push(filters.rules.len());
            filters.rules.push(Rule {
                css: css.to_owned(),
                needs,
                domains,
                not_domains,
                selector: OnceLock::new(),
            });
        }
        filters
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Elements of the page that a rule for this host names, in document order of the rules.
    pub fn matches<'a>(&'a self, doc: &'a Html, host: &str) -> Vec<ListMatch<'a>> {
        let names = page_names(doc);
        let mut tried = HashSet::new();
        let mut found = Vec::new();
        for name in &names {
            for &i in self.by_name.get(name).into_iter().flatten() {
                let rule = &self.rules[i];
                if !tried.insert(i)
                    || !rule.needs.iter().all(|n| names.contains(n.as_str()))
                    || !self.applies(rule, host)
                {
                    continue;
                }
                let selector = rule
                    .selector
                    .get_or_init(|| Selector::parse(&rule.css).ok());
                if let Some(selector) = selector {
                    found.extend(doc.select(selector).map(|element| ListMatch {
                        element,
                        css: &rule.css,
                    }));
                }
            }
        }
        found
    }

    fn applies(&self, rule: &Rule, host: &str) -> bool {
        let on = |d: &String| host == d || host.ends_with(&format!(".{d}"));
        if !rule.domains.is_empty() && !rule.domains.iter().any(on) {
            return false;
        }
        if rule.not_domains.iter().any(on) {
            return false;
        }
        match self.exceptions.get(&rule.css) {
            Some(sites) => !(sites.is_empty() || sites.iter().any(on)),
            None => true,
        }
    }
}

/// `a.com,~b.com` into the sites a rule is for and those it is not.
fn split_domains(list: &str) -> (Vec<String>, Vec<String>) {
    let mut on = Vec::new();
    let mut off = Vec::new();
    for d in list.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        match d.strip_prefix('~') {
            Some(d) => off.push(d.to_ascii_lowercase()),
            None => on.push(d.to_ascii_lowercase()),
        }
    }
    (on, off)
}

/// The ids, classes, tag names and attribute names a selector needs, outside `:not(…)` and
/// other functional pseudo-classes (which need nothing). A selector list (`a, b`) would need
/// either, not both: it gets no names and is skipped.
pub fn needed_names(css: &str) -> Vec<String> {
    let mut needs = Vec::new();
    let chars: Vec<(usize, char)> = css.char_indices().collect();
    let (mut brackets, mut parens) = (0usize, 0usize);
    let mut compound_start = true;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        match c {
            '(' => parens += 1,
            ')' => parens = parens.saturating_sub(1),
            ']' => brackets = brackets.saturating_sub(1),
            ',' if parens == 0 && brackets == 0 => return Vec::new(),
            _ if parens > 0 || brackets > 0 => {}
            '[' => {
                brackets += 1;
                let name = ident(&css[at + 1..]);
                if !name.is_empty() {
                    needs.push(format!("[{}", name.to_ascii_lowercase()));
                }
            }
            '#' | '.' => {
                let name = ident(&css[at + 1..]);
                if !name.is_empty() {
                    needs.push(format!("{c}{name}"));
                }
                i += name.chars().count();
            }
            ' ' | '>' | '+' | '~' => compound_start = true,
            _ if compound_start && (c.is_alphabetic() || c == '-') => {
                let name = ident(&css[at..]);
                needs.push(name.to_ascii_lowercase());
                i += name.chars().count().saturating_sub(1);
            }
            _ => {}
        }
        if !matches!(c, ' ' | '>' | '+' | '~') {
            compound_start = false;
        }
        i += 1;
    }
    // Escaped names (`#\5f x`) cannot be compared as written.
    if needs.iter().any(|n| n.contains('\\')) || css.contains('\\') {
        return Vec::new();
    }
    needs
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Every id, class, tag name and attribute name of the document, in the forms rules need.
fn page_names(doc: &Html) -> HashSet<String> {
    let mut names = HashSet::new();
    for node in doc.tree.nodes() {
        let Some(e) = node.value().as_element() else {
            continue;
        };
        names.insert(e.name().to_owned());
        for (name, value) in e.attrs() {
            names.insert(format!("[{name}"));
            match name {
                "id" => {
                    names.insert(format!("#{value}"));
                }
                "class" => names.extend(value.split_ascii_whitespace().map(|c| format!(".{c}"))),
                _ => {}
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "! Title: test list
##.cookie-notice
##COOKIE-HEADER
##[data-cookie-banner]
##div#gdpr > .inner:not(.x)
example.com,~shop.example.com##.site-consent
###accept-cookies
other.org#@##accept-cookies
##.a, .b
example.com#?#div:-abp-has(.cookie)
";

    fn matched(html: &str, host: &str) -> Vec<String> {
        let filters = CosmeticFilters::parse(LIST);
        let doc = Html::parse_document(html);
        filters
            .matches(&doc, host)
            .iter()
            .map(|m| m.css.to_owned())
            .collect()
    }

    #[test]
    fn names_needed_by_selectors() {
        assert_eq!(
            needed_names("div#gdpr > .inner:not(.x)"),
            ["div", "#gdpr", ".inner"]
        );
        assert_eq!(
            needed_names("[aria-label=\"Cookies banner\"]"),
            ["[aria-label"]
        );
        assert_eq!(needed_names("COOKIE-HEADER"), ["cookie-header"]);
        assert!(needed_names(".a, .b").is_empty());
    }

    #[test]
    fn generic_and_site_rules_match_where_they_apply() {
        let html = r#"<body><div class="cookie-notice">We use cookies</div><cookie-header></cookie-header>
            <div data-cookie-banner="1"></div><div id="gdpr"><p class="inner">x</p></div>
            <div class="site-consent"></div><div id="accept-cookies"></div></body>"#;
        let got = matched(html, "www.example.com");
        for css in [
            "##.cookie-notice",
            "##COOKIE-HEADER",
            "##[data-cookie-banner]",
            "##div#gdpr > .inner:not(.x)",
        ] {
            assert!(
                got.iter().any(|g| format!("##{g}") == css),
                "{css} in {got:?}"
            );
        }
        assert!(got.contains(&".site-consent".to_owned()));
        assert!(got.contains(&"#accept-cookies".to_owned()));
        let shop = matched(html, "shop.example.com");
        assert!(
            !shop.contains(&".site-consent".to_owned()),
            "excepted by ~domain"
        );
        let other = matched(html, "other.org");
        assert!(
            !other.contains(&"#accept-cookies".to_owned()),
            "excepted by #@#"
        );
        assert!(
            !other.contains(&".site-consent".to_owned()),
            "site rule elsewhere"
        );
    }

    #[test]
    fn the_easylist_cookie_list_parses_at_full_size() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/lists/easylist-cookie.txt");
        let text = std::fs::read_to_string(&path).expect("../shared/lists/easylist-cookie.txt");
        let filters = CosmeticFilters::parse(&text);
        assert!(filters.len() > 20_000, "{} rules", filters.len());
    }
}
