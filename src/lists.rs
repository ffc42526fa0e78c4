//! `cookie-audit lists update|show`: the filter lists and cookie databases the field maintains,
//! kept in the user's cache folder and used by every audit when present. Downloads are conditional (ETag,
//! Last-Modified), checked (a list must parse into rules) and written atomically: a failed update
//! keeps the copy that was there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::knowledge::cookie_db::CookieDatabase;
use crate::knowledge::lists::{FilterList, ListError};

/// The lists `lists update` fetches when none is named: (name, URL, licence).
pub const DEFAULT_SOURCES: [(&str, &str, &str); 4] = [
    (
        "easylist-cookie",
        "https://secure.fanboy.co.nz/fanboy-cookiemonster.txt",
        "CC BY 3.0 (the EasyList authors)",
    ),
    (
        "easyprivacy",
        "https://easylist.to/easylist/easyprivacy.txt",
        "GPL-3.0 or CC BY-SA 3.0 (the EasyList authors)",
    ),
    (
        "easylist",
        "https://easylist.to/easylist/easylist.txt",
        "GPL-3.0 or CC BY-SA 3.0 (the EasyList authors)",
    ),
    (
        "open-cookie-database",
        "https://raw.githubusercontent.com/jkwakman/Open-Cookie-Database/master/open-cookie-database.csv",
        "Apache-2.0 (the Open Cookie Database authors)",
    ),
];

/// Filter lists are kept as `NAME.txt`, cookie databases as `NAME.csv`.
const EXTENSIONS: [&str; 2] = ["txt", "csv"];

/// What the cache folder holds, read and compiled.
#[derive(Default)]
pub struct Cached {
    pub filters: Vec<FilterList>,
    pub cookies: Vec<CookieDatabase>,
}

/// What the cache remembers of a download, next to the list (`NAME.meta.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CachedMeta {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub sha256: String,
    pub fetched_at: String,
}

/// How one list's update ended.
#[derive(Debug, PartialEq)]
pub enum Updated {
    Downloaded { bytes: usize },
    Unchanged,
    Failed(String),
}

/// The cache folder: `$COOKIE_AUDIT_LISTS`, else `$XDG_CACHE_HOME/cookie-audit/lists`, else
/// `~/.cache/cookie-audit/lists`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("COOKIE_AUDIT_LISTS") {
        return Some(PathBuf::from(dir));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("cookie-audit").join("lists"))
}

/// Fetches each `(name, url)` into `dir`, one result a list, in order.
pub async fn update(dir: &Path, sources: &[(String, String)]) -> Vec<(String, Updated)> {
    if let Err(e) = std::fs::create_dir_all(dir) {
        let why = format!("cannot create {}: {e}", dir.display());
        return sources
            .iter()
            .map(|(n, _)| (n.clone(), Updated::Failed(why.clone())))
            .collect();
    }
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!(
            "cookie-audit/",
            env!("CARGO_PKG_VERSION"),
            " (lists update)"
        ))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            let why = format!("cannot set up HTTP: {e}");
            return sources
                .iter()
                .map(|(n, _)| (n.clone(), Updated::Failed(why.clone())))
                .collect();
        }
    };
    let mut results = Vec::new();
    for (name, url) in sources {
        let outcome = update_one(&client, dir, name, url)
            .await
            .unwrap_or_else(Updated::Failed);
        results.push((name.clone(), outcome));
    }
    results
}

async fn update_one(
    client: &reqwest::Client,
    dir: &Path,
    name: &str,
    url: &str,
) -> Result<Updated, String> {
    let meta_path = dir.join(format!("{name}.meta.json"));
    let kept = |ext: &str| dir.join(format!("{name}.{ext}"));
    let cached: Option<CachedMeta> = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|m: &CachedMeta| m.url == url && EXTENSIONS.iter().any(|ext| kept(ext).is_file()));
    let mut request = client.get(url);
    if let Some(meta) = &cached {
        if let Some(etag) = &meta.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = &meta.last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
        }
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e} (the cached copy, if any, stays)"))?;
    if response.status() == reqwest::StatusCode::NOT_MODIFIED && cached.is_some() {
        return Ok(Updated::Unchanged);
    }
    if !response.status().is_success() {
        return Err(format!(
            "{url} answered {} (the cached copy, if any, stays)",
            response.status()
        ));
    }
    let header = |h: reqwest::header::HeaderName| {
        response
            .headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (etag, last_modified) = (
        header(reqwest::header::ETAG),
        header(reqwest::header::LAST_MODIFIED),
    );
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("{url}: the download broke off: {e}"))?;
    // Integrity: what is kept must read as a list with rules, as an audit will read it.
    let text = String::from_utf8(body.to_vec()).map_err(|_| format!("{url}: not UTF-8 text"))?;
    let (sha256, ext) = if CookieDatabase::recognises(&text) {
        let db = CookieDatabase::parse(&text, name)
            .map_err(|e| format!("{url}: {e}; the cached copy, if any, stays"))?;
        (db.info.sha256, "csv")
    } else {
        let list = FilterList::parse(&text, name);
        if list.cosmetic.is_empty() && list.network.is_none() {
            return Err(format!(
                "{url}: no filter rule in what it sent; the cached copy, if any, stays"
            ));
        }
        (list.info.sha256, "txt")
    };
    write_file(&kept(ext), text.as_bytes())?;
    let meta = CachedMeta {
        url: url.to_owned(),
        etag,
        last_modified,
        sha256,
        fetched_at: chrono::Utc::now().to_rfc3339(),
    };
    let json = serde_json::to_vec_pretty(&meta).map_err(|e| e.to_string())?;
    write_file(&meta_path, &json)?;
    Ok(Updated::Downloaded { bytes: text.len() })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    crate::atomic::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The lists in the cache folder (`*.txt` filter lists, `*.csv` cookie databases), read and
/// compiled; none when it does not exist.
pub fn cached(dir: &Path) -> Result<Cached, ListError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Cached::default());
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    let mut cached = Cached::default();
    for path in paths {
        match path.extension().and_then(|x| x.to_str()) {
            Some("txt") => cached.filters.push(FilterList::read(&path)?),
            Some("csv") => cached.cookies.push(CookieDatabase::read(&path)?),
            _ => {}
        }
    }
    Ok(cached)
}

/// `lists show`: one line a cached list.
pub fn show(dir: &Path) -> Result<String, ListError> {
    let Cached { filters, cookies } = cached(dir)?;
    if filters.is_empty() && cookies.is_empty() {
        return Ok(format!(
            "no list in {}; run `cookie-audit lists update`\n",
            dir.display()
        ));
    }
    let mut out = format!("{}\n", dir.display());
    for l in filters {
        out.push_str(&format!(
            "  {}  version {}  sha256 {}  {} banner selectors{}\n",
            l.info.name,
            l.info.version.as_deref().unwrap_or("unknown"),
            &l.info.sha256[..16],
            l.cosmetic.len(),
            if l.network.is_some() {
                ", request rules"
            } else {
                ""
            }
        ));
    }
    for db in cookies {
        out.push_str(&format!(
            "  {}  sha256 {}  {} cookie names\n",
            db.info.name,
            &db.info.sha256[..16],
            db.len()
        ));
    }
    Ok(out)
}
