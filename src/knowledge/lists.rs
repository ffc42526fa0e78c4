//! Filter lists the field maintains (EasyList Cookie List and the like), read from files the user
//! names or `lists update` fetched. They add to the embedded knowledge; it stands without them.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cosmetic::CosmeticFilters;
use crate::facts::Category;

/// A list as the report names it, so that a finding can be traced to the list that made it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ListInfo {
    pub name: String,
    /// The list's own `! Version:` or `! Updated:` header, when it has one.
    pub version: Option<String>,
    pub sha256: String,
}

pub struct FilterList {
    pub info: ListInfo,
    pub cosmetic: CosmeticFilters,
    /// Request rules of a tracker list; `None` for consent-banner lists, whose request rules
    /// block CMP scripts rather than trackers.
    pub network: Option<NetworkFilters>,
}

/// The request rules of a tracker list, compiled by the `adblock` engine.
pub struct NetworkFilters {
    engine: adblock::Engine,
    /// What a request the list names is for: from the list's title (EasyPrivacy tracks,
    /// Fanboy's Social is social, EasyList and the rest advertise).
    pub category: Category,
}

impl NetworkFilters {
    /// The rule that names a request, if one does and no exception lifts it.
    pub fn rule_for(&self, url: &str, page_url: &str, request_type: &str) -> Option<String> {
        let request = adblock::request::Request::new(url, page_url, request_type, "GET").ok()?;
        let result = self.engine.check_network_request(&request);
        result
            .should_block()
            .then(|| result.filter.and_then(|f| f.raw_line).unwrap_or_default())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("filter list {path}: {reason}")]
pub struct ListError {
    pub path: String,
    pub reason: String,
}

impl FilterList {
    pub fn read(path: &Path) -> Result<FilterList, ListError> {
        let error = |reason: String| ListError {
            path: path.display().to_string(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| error("not UTF-8 text".into()))?;
        let list = FilterList::parse(&text, &file_name(path));
        if list.cosmetic.is_empty() && list.network.is_none() {
            return Err(error(
                "no rule in it: neither element hiding (`##selector`), request rules (`||host^`) nor one domain a line".into(),
            ));
        }
        Ok(list)
    }

    pub fn parse(text: &str, fallback_name: &str) -> FilterList {
        let header = |key: &str| {
            text.lines()
                .take(40)
                .filter_map(|l| l.strip_prefix('!'))
                .filter_map(|l| l.trim().split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim().to_owned())
        };
        let name = header("Title").unwrap_or_else(|| fallback_name.to_owned());
        let abp = as_adblock_syntax(text);
        let has_requests = abp.lines().map(str::trim).any(looks_like_request_rule);
        let network = category_of(&name).filter(|_| has_requests).map(|category| {
            let mut set = adblock::lists::FilterSet::new(true);
            let options = adblock::lists::ParseOptions {
                rule_types: adblock::lists::RuleTypes::NetworkOnly,
                ..Default::default()
            };
            set.add_filter_list(abp.into_owned(), options);
            NetworkFilters {
                engine: adblock::Engine::new_with_filter_set(set),
                category,
            }
        });
        FilterList {
            info: ListInfo {
                name,
                version: header("Version").or_else(|| header("Updated")),
                sha256: crate::text::sha256_hex(text.as_bytes()),
            },
            cosmetic: CosmeticFilters::parse(text),
            network,
        }
    }
}

/// A line of request-blocking syntax (`||host^`, `@@…`, `/path/`, `host.tld$opts`), not prose
/// or markup: an error page saved as a list must not count as one.
fn looks_like_request_rule(line: &str) -> bool {
    !line.is_empty()
        && !line.starts_with(['!', '['])
        && !line.contains(['#', '<', '>'])
        && !line.contains(char::is_whitespace)
        && (line.starts_with('|') || line.starts_with("@@") || line.contains(['^', '$', '/', '.']))
}

/// What the requests a list names are for, from its title; `None` for consent-banner lists.
fn category_of(name: &str) -> Option<Category> {
    let name = name.to_ascii_lowercase();
    if name.contains("cookie") || name.contains("consent") || name.contains("annoyance") {
        None
    } else if name.contains("privacy") || name.contains("track") || name.contains("analytic") {
        Some(Category::Analytics)
    } else if name.contains("social") {
        Some(Category::Social)
    } else {
        Some(Category::Advertising)
    }
}

/// Lists of plain domains (one a line, as DNS blockers use them) become `||domain^` rules.
fn as_adblock_syntax(text: &str) -> std::borrow::Cow<'_, str> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(['!', '#', '[']))
        .collect();
    let domain = |l: &&str| {
        l.contains('.')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    if lines.is_empty() || lines.iter().filter(|l| domain(l)).count() * 10 < lines.len() * 9 {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        lines
            .iter()
            .filter(|l| domain(l))
            .map(|d| format!("||{d}^\n"))
            .collect(),
    )
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_and_version_the_list() {
        let list = FilterList::parse(
            "[Adblock Plus 2.0]\n! Title: Easylist Cookie List\n! Updated: 2024-04-05 07:40 UTC\n##.cookie-bar\n",
            "x.txt",
        );
        assert_eq!(list.info.name, "Easylist Cookie List");
        assert_eq!(list.info.version.as_deref(), Some("2024-04-05 07:40 UTC"));
        assert_eq!(list.info.sha256.len(), 64);
    }

    #[test]
    fn a_file_without_rules_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(
            &path,
            "0.0.0.0 tracker.example\nsee https://example.org for more\n",
        )
        .unwrap();
        let err = FilterList::read(&path).err().expect("refused").to_string();
        assert!(err.contains("notes.txt") && err.contains("##"), "{err}");
    }

    #[test]
    fn request_rules_name_tracker_requests_with_the_rule() {
        let list = FilterList::parse(
            "[Adblock Plus 2.0]\n! Title: EasyPrivacy\n||stats.example-tracker.com^$third-party\n@@||stats.example-tracker.com/optout.js\n",
            "x.txt",
        );
        let network = list.network.expect("request rules");
        assert_eq!(network.category, Category::Analytics);
        assert_eq!(
            network
                .rule_for(
                    "https://stats.example-tracker.com/t.js",
                    "https://news.example.de/",
                    "script"
                )
                .as_deref(),
            Some("||stats.example-tracker.com^$third-party")
        );
        assert!(
            network
                .rule_for(
                    "https://stats.example-tracker.com/optout.js",
                    "https://news.example.de/",
                    "script"
                )
                .is_none()
        );
        assert!(
            network
                .rule_for(
                    "https://cdn.example.net/app.js",
                    "https://news.example.de/",
                    "script"
                )
                .is_none()
        );
    }

    #[test]
    fn a_plain_domain_list_matches_like_host_rules_and_a_cookie_list_names_no_tracker() {
        let domains = FilterList::parse(
            "# EasyPrivacy as domains\npixel.example-ads.net\nmetrics.example.org\n",
            "easyprivacy-domains.txt",
        );
        let network = domains.network.expect("domains become rules");
        assert!(
            network
                .rule_for(
                    "https://a.pixel.example-ads.net/p.gif",
                    "https://site.example/",
                    "image"
                )
                .is_some()
        );
        let cookie = FilterList::parse(
            "! Title: Easylist Cookie List\n||cdn.some-cmp.example^\n##.cookie-bar\n",
            "c.txt",
        );
        assert!(cookie.network.is_none());
    }
}
