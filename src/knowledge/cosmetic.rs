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

use super::selectors::{NameKind, PageNames, needed_names};

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
    /// Rule indices by the first name each needs, bare, under its kind.
    by_name: HashMap<NameKind, HashMap<String, Vec<usize>>>,
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
            let (kind, bare) = NameKind::of(&key);
            filters
                .by_name
                .entry(kind)
                .or_default()
                .entry(bare.to_owned())
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
    pub fn matches<'a>(
        &'a self,
        doc: &'a Html,
        names: &PageNames<'_>,
        host: &str,
    ) -> Vec<ListMatch<'a>> {
        let mut tried = HashSet::new();
        let mut found = Vec::new();
        for (kind, name) in names.iter() {
            let Some(rules) = self.by_name.get(&kind).and_then(|m| m.get(name)) else {
                continue;
            };
            for &i in rules {
                let rule = &self.rules[i];
                if !tried.insert(i) || !names.has_all(&rule.needs) || !self.applies(rule, host) {
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
        let on = |d: &String| crate::text::host_within(host, d);
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
            .matches(&doc, &PageNames::of(&doc), host)
            .iter()
            .map(|m| m.css.to_owned())
            .collect()
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
