//! Cookies from `Set-Cookie` headers, classified by the cookie catalogue.

use chrono::{DateTime, Utc};

use crate::facts::{Category, Cookie, CookieSource};
use crate::knowledge::catalog::CookieCatalog;
use crate::page::{RawCookie, SetCookie};

/// Registrable domain (eTLD+1) of a host, for first/third-party decisions.
pub fn registrable(host: &str) -> String {
    let host = host.trim_start_matches('.').to_ascii_lowercase();
    // An address is its own site: 127.0.0.1 and 127.0.0.2 share no "0.1".
    if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    psl::domain_str(&host).unwrap_or(&host).to_owned()
}

/// Parses one `Set-Cookie` header as received from `response_url`.
pub fn parse_set_cookie(header: &SetCookie, fetched_at: DateTime<Utc>) -> Option<RawCookie> {
    let mut parts = header.header.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let request_host = url::Url::parse(&header.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let mut cookie = RawCookie {
        name: name.to_owned(),
        value: value.trim().to_owned(),
        domain: request_host,
        path: "/".into(),
        lifetime_days: None,
        secure: false,
        http_only: false,
        same_site: None,
    };
    let mut max_age = None;
    let mut expires = None;
    for attr in parts {
        let (key, val) = attr
            .split_once('=')
            .map_or((attr.trim(), ""), |(k, v)| (k.trim(), v.trim()));
        match key.to_ascii_lowercase().as_str() {
            "domain" if !val.is_empty() => {
                cookie.domain = val.trim_start_matches('.').to_ascii_lowercase()
            }
            "path" if !val.is_empty() => cookie.path = val.to_owned(),
            "secure" => cookie.secure = true,
            "httponly" => cookie.http_only = true,
            "samesite" => cookie.same_site = Some(val.to_owned()),
            "max-age" => max_age = val.parse::<i64>().ok(),
            "expires" => expires = parse_http_date(val),
            _ => {}
        }
    }
    // Max-Age wins over Expires (RFC 6265 §5.3).
    cookie.lifetime_days = match (max_age, expires) {
        (Some(secs), _) => Some(secs as f64 / 86_400.0),
        (None, Some(when)) => Some((when - fetched_at).num_seconds() as f64 / 86_400.0),
        (None, None) => None,
    };
    Some(cookie)
}

fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc2822(s)
        .or_else(|_| DateTime::parse_from_rfc2822(&s.replace('-', " ")))
        .ok()
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%A, %d-%b-%y %H:%M:%S GMT")
                .ok()
                .map(|n| n.and_utc())
        })
}

/// Classifies a cookie; expired ones (deletions) are not cookies a visitor keeps.
pub fn classify(
    raw: RawCookie,
    catalog: &CookieCatalog,
    page_host: &str,
    source: CookieSource,
    before_consent: bool,
) -> Option<Cookie> {
    if raw.lifetime_days.is_some_and(|d| d <= 0.0) {
        return None;
    }
    let known = catalog.classify(&raw.name);
    Some(Cookie {
        third_party: !page_host.is_empty() && registrable(&raw.domain) != registrable(page_host),
        category: known.map_or(Category::Unknown, |k| k.category),
        vendor: known.map(|k| k.vendor.clone()),
        kind: known.and_then(|k| k.kind),
        exemptable: known.is_some_and(|k| k.exemptable),
        classified_by: known.map(|k| k.source.clone()),
        needs_consent: false,
        session_replay: false,
        name: raw.name,
        domain: raw.domain,
        path: raw.path,
        value_len: raw.value.len(),
        lifetime_days: raw.lifetime_days.map(|d| (d * 100.0).round() / 100.0),
        secure: raw.secure,
        http_only: raw.http_only,
        same_site: raw.same_site,
        source,
        before_consent,
    })
}

/// Classifies every `Set-Cookie` of a fetch; the last one of a name and domain wins.
pub fn from_set_cookies(
    headers: &[SetCookie],
    fetched_at: DateTime<Utc>,
    catalog: &CookieCatalog,
    page_host: &str,
) -> Vec<Cookie> {
    let mut out: Vec<Cookie> = Vec::new();
    for header in headers {
        let Some(raw) = parse_set_cookie(header, fetched_at) else {
            continue;
        };
        let key = (raw.name.clone(), raw.domain.clone());
        out.retain(|c| (c.name.as_str(), c.domain.as_str()) != (key.0.as_str(), key.1.as_str()));
        if let Some(cookie) = classify(raw, catalog, page_host, CookieSource::SetCookie, true) {
            out.push(cookie);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(h: &str) -> SetCookie {
        SetCookie {
            header: h.into(),
            url: "https://www.example.fr/a".into(),
        }
    }

    #[test]
    fn attributes_are_read() {
        let now = Utc::now();
        let c = parse_set_cookie(
            &header(
                "_ga=GA1.2.3; Domain=.example.fr; Path=/; Max-Age=63072000; Secure; SameSite=Lax",
            ),
            now,
        )
        .unwrap();
        assert_eq!(
            (c.name.as_str(), c.domain.as_str(), c.value.as_str()),
            ("_ga", "example.fr", "GA1.2.3")
        );
        assert_eq!(c.lifetime_days, Some(730.0));
        assert!(c.secure && !c.http_only);
        assert_eq!(c.same_site.as_deref(), Some("Lax"));
    }

    #[test]
    fn expires_dates_in_both_formats() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let a =
            parse_set_cookie(&header("a=1; Expires=Fri, 01 Jan 2027 00:00:00 GMT"), now).unwrap();
        let b =
            parse_set_cookie(&header("b=1; expires=Fri, 01-Jan-2027 00:00:00 GMT"), now).unwrap();
        assert_eq!(a.lifetime_days, Some(365.0));
        assert_eq!(b.lifetime_days, Some(365.0));
    }

    #[test]
    fn registrable_domains_use_the_public_suffix_list() {
        assert_eq!(registrable("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registrable(".stats.example.fr"), "example.fr");
    }
}
