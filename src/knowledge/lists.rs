//! Filter lists the field maintains (EasyList Cookie List and the like), read from files the user
//! names or `lists update` fetched. They add to the embedded knowledge; it stands without them.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cosmetic::CosmeticFilters;

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
        if list.cosmetic.is_empty() {
            return Err(error(
                "no element-hiding rule (`##selector`) in it: is it an Adblock Plus list?".into(),
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
        FilterList {
            info: ListInfo {
                name: header("Title").unwrap_or_else(|| fallback_name.to_owned()),
                version: header("Version").or_else(|| header("Updated")),
                sha256: crate::text::sha256_hex(text.as_bytes()),
            },
            cosmetic: CosmeticFilters::parse(text),
        }
    }
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
    fn a_file_without_hiding_rules_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts.txt");
        std::fs::write(&path, "0.0.0.0 tracker.example\n").unwrap();
        let err = FilterList::read(&path).err().expect("refused").to_string();
        assert!(err.contains("hosts.txt") && err.contains("##"), "{err}");
    }
}
