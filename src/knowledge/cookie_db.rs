//! Cookie databases the field maintains, in the Open Cookie Database's CSV layout (Apache-2.0):
//! a second source after the embedded catalogue, consulted only for names it does not know.

use std::collections::HashMap;
use std::path::Path;

use super::catalog::KnownCookie;
use super::lists::{ListError, ListInfo};
use crate::facts::{Category, CookieKind};

/// The header that marks the layout (the first four columns are what is read).
const HEADER: &str = "ID,Platform,Category,Cookie / Data Key name";

pub struct CookieDatabase {
    pub info: ListInfo,
    exact: HashMap<String, KnownCookie>,
    /// Name prefixes (`Wildcard match` = 1), longest first.
    prefixes: Vec<(String, KnownCookie)>,
}

impl CookieDatabase {
    /// Whether a text is in this layout (to tell it from a filter list).
    pub fn recognises(text: &str) -> bool {
        text.trim_start_matches('\u{feff}').starts_with(HEADER)
    }

    pub fn read(path: &Path) -> Result<CookieDatabase, ListError> {
        let error = |reason: String| ListError {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        CookieDatabase::parse(&text, &name).map_err(error)
    }

    /// Parses the CSV; `name` names the database in reports.
    pub fn parse(text: &str, name: &str) -> Result<CookieDatabase, String> {
        if !CookieDatabase::recognises(text) {
            return Err(format!(
                "not a cookie database: the first line must start with {HEADER:?}"
            ));
        }
        let source = format!("list:{name}");
        let mut db = CookieDatabase {
            info: ListInfo {
                name: name.to_owned(),
                version: None,
                sha256: crate::text::sha256_hex(text.as_bytes()),
            },
            exact: HashMap::new(),
            prefixes: Vec::new(),
        };
        for (line, record) in records(text).enumerate().skip(1) {
            let field = |i: usize| record.get(i).map(|s| s.trim()).unwrap_or_default();
            let (vendor, cookie) = (field(1), field(3));
            let Some((category, kind)) = category_of(field(2)) else {
                continue;
            };
            if cookie.is_empty() || cookie.contains(char::is_whitespace) {
                continue;
            }
            if record.len() < 10 {
                return Err(format!(
                    "record {line}: {} columns, expected 10",
                    record.len()
                ));
            }
            let known = KnownCookie {
                vendor: vendor.to_owned(),
                category,
                kind,
                exemptable: false,
                source: source.clone(),
            };
            if field(9) == "1" {
                db.prefixes.push((cookie.to_owned(), known));
            } else {
                db.exact.entry(cookie.to_owned()).or_insert(known);
            }
        }
        if db.exact.is_empty() && db.prefixes.is_empty() {
            return Err("no cookie in it".into());
        }
        db.prefixes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Ok(db)
    }

    pub fn len(&self) -> usize {
        self.exact.len() + self.prefixes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn classify(&self, name: &str) -> Option<&KnownCookie> {
        self.exact.get(name).or_else(|| {
            self.prefixes
                .iter()
                .find(|(p, _)| name.starts_with(p.as_str()))
                .map(|(_, k)| k)
        })
    }
}

/// The database's categories in ours. "Functional" cookies make a site work as asked (they need
/// no consent); none of them is taken for tracking.
fn category_of(category: &str) -> Option<(Category, Option<CookieKind>)> {
    Some(match category {
        "Analytics" => (Category::Analytics, None),
        "Marketing" => (Category::Advertising, None),
        "Functional" | "Personalization" => (Category::Preferences, None),
        "Necessary" => (Category::Necessary, None),
        "Security" => (Category::Necessary, Some(CookieKind::Security)),
        _ => return None,
    })
}

/// The records of a CSV text (RFC 4180: quoted fields may hold commas, quotes doubled, newlines).
fn records(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    std::iter::from_fn(move || {
        chars.peek()?;
        let mut record = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => record.push(std::mem::take(&mut field)),
                ('\n', false) => break,
                ('\r', false) => {}
                (c, _) => field.push(c),
            }
        }
        record.push(field);
        Some(record)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\r\n\
        1,Hotjar,Analytics,_hjSession_,,\"Holds the session, \"\"current\"\" one\",30 minutes,Hotjar,https://x.example/,1\r\n\
        2,Adform,Marketing,uid,adform.net,\"Multi\nline\",60 days,Adform,https://x.example/,0\r\n\
        3,Shop,Functional,basket,,Cart,session,Shop,,0\r\n";

    #[test]
    fn reads_names_prefixes_and_quoted_fields() {
        let db = CookieDatabase::parse(CSV, "ocd").unwrap();
        assert_eq!(db.len(), 3);
        let uid = db.classify("uid").unwrap();
        assert_eq!(
            (uid.vendor.as_str(), uid.category),
            ("Adform", Category::Advertising)
        );
        assert_eq!(
            db.classify("_hjSession_123").unwrap().category,
            Category::Analytics
        );
        assert_eq!(
            db.classify("basket").unwrap().category,
            Category::Preferences
        );
        assert!(db.classify("uid2").is_none());
        assert_eq!(db.classify("uid").unwrap().source, "list:ocd");
    }

    #[test]
    fn other_files_are_refused() {
        assert!(CookieDatabase::parse("||tracker.example^\n", "x").is_err());
        assert!(CookieDatabase::parse(&CSV[..CSV.find('\n').unwrap() + 1], "x").is_err());
    }
}
