//! URLs as the page will use them: the document's base, and references resolved against it.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};
use url::Url;

static BASE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("base[href]").expect("static selector"));
static CANONICAL: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"link[rel~="canonical"][href], meta[property="og:url"][content]"#)
        .expect("static selector")
});

/// The URL relative references resolve against. A saved page (a `file:` URL) is read as the
/// site it was saved from, named by its canonical link or `og:url`, so that its links,
/// scripts and first-party checks mean what they meant online.
pub fn document_base(doc: &Html, page_url: Option<&Url>) -> Option<Url> {
    let saved = page_url.is_none_or(|u| !matches!(u.scheme(), "http" | "https"));
    let origin = if saved {
        doc.select(&CANONICAL)
            .filter_map(|e| e.value().attr("href").or_else(|| e.value().attr("content")))
            .filter_map(|raw| Url::parse(raw.trim()).ok())
            .find(|u| matches!(u.scheme(), "http" | "https"))
            .or_else(|| page_url.cloned())
    } else {
        page_url.cloned()
    };
    let base_href = doc
        .select(&BASE)
        .next()
        .and_then(|e| e.value().attr("href"));
    match base_href {
        Some(href) => resolve(origin.as_ref(), href).or(origin),
        None => origin,
    }
}

/// A reference as the browser would fetch it. A protocol-relative `//host/x` takes the page's
/// scheme, and `https` when the page is a saved file (browsers would ask `file://host/x`, which
/// no site means).
pub fn resolve(base: Option<&Url>, raw: &str) -> Option<Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Some(rest) = raw.strip_prefix("//") {
        let scheme = base
            .map(Url::scheme)
            .filter(|s| matches!(*s, "http" | "https"))
            .unwrap_or("https");
        return Url::parse(&format!("{scheme}://{rest}")).ok();
    }
    match base {
        Some(b) => b.join(raw).ok(),
        None => Url::parse(raw).ok(),
    }
}

/// A URL written as a string in code: absolute or protocol-relative, after a quote, or after a
/// scheme built apart (`l + '://tr.hit.gemius.pl/xgemius.js'`).
static URL_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"["'`]((?:https?:|:)?//(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d{1,5})?(?:/[^\s"'`<>\\]*)?)"#,
    )
    .expect("static regex")
});
/// A host split from its scheme, as loaders write it: `'//www.' + 'host.com/x.js'` or
/// `(secure ? 'https://ssl' : 'http://www') + '.google-analytics.com/ga.js'`.
static HOST_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"["'`](?:(?:https?:)?//(?:www\.)?["'`]\s*\+\s*["'`]|\.)((?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s"'`<>\\]*)"#)
        .expect("static regex")
});
/// A host and path concatenated to a scheme built apart:
/// `('https:' == location.protocol ? 'https://' : 'http://') + 'tags.example.com/t.js'`.
static CONCAT_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\+\s*["'`]((?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s"'`<>\\]*)"#).expect("static regex")
});
/// Code that creates or fetches something: its URLs are loads, not mere mentions.
static LOADS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"createElement|\.src\s*=|appendChild|insertBefore|document\.write|getScript|loadScript|import\(|new Image|sendBeacon|fetch\(")
        .expect("static regex")
});

/// How near a loading statement a URL string must be to count as what it loads.
const LOAD_REACH: usize = 300;

/// Code that waits for consent before it goes on (`runAfterConsent(`, `OptanonWrapper`,
/// `CookiebotOnAccept`, `__tcfapi('addEventListener'`...): what it loads is held back.
static WAITS_FOR_CONSENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)consent|OptanonWrapper|CookiebotOn|didomiOnReady|__tcfapi|__cmp\(")
        .expect("static regex")
});

/// A URL that inline code requests.
#[derive(Debug, PartialEq)]
pub struct CodeUrl {
    pub url: String,
    /// Written inside code that waits for consent first.
    pub after_consent: bool,
}

/// URLs that inline code will request, as protocol-relative or absolute strings: script URLs
/// anywhere (a configuration naming a `.js` file hands it to a loader), and any URL written
/// near a statement that loads something. Profile and share links in application state are
/// mentions, not loads.
pub fn in_code(code: &str) -> Vec<CodeUrl> {
    let unescaped;
    let code = if code.contains("\\/") || code.contains("unescape(") {
        unescaped = percent_decoded(&code.replace("\\/", "/"));
        unescaped.as_str()
    } else {
        code
    };
    let loads: Vec<usize> = LOADS.find_iter(code).map(|m| m.start()).collect();
    let waits: Vec<usize> = WAITS_FOR_CONSENT
        .find_iter(code)
        .map(|m| m.start())
        .collect();
    let near = |marks: &[usize], at: usize| marks.iter().any(|&l| l.abs_diff(at) <= LOAD_REACH);
    let mut found: Vec<CodeUrl> = Vec::new();
    let literals = URL_LITERAL.captures_iter(code).map(|c| {
        let url = &c[1];
        (
            c.get(1).map_or(0, |m| m.start()),
            url.strip_prefix(':').unwrap_or(url).to_owned(),
        )
    });
    let tails = HOST_TAIL
        .captures_iter(code)
        .chain(CONCAT_TAIL.captures_iter(code))
        .map(|c| (c.get(1).map_or(0, |m| m.start()), format!("//{}", &c[1])));
    for (at, url) in literals.chain(tails) {
        let path = url.splitn(4, '/').nth(3).unwrap_or_default();
        let script = path
            .split(['?', '#'])
            .next()
            .is_some_and(|p| p.ends_with(".js"));
        if (script || near(&loads, at)) && !found.iter().any(|f| f.url == url) {
            // Only what comes before the URL can hold it back.
            let after_consent = waits.iter().any(|&w| w < at && at - w <= LOAD_REACH);
            found.push(CodeUrl { url, after_consent });
        }
    }
    found
}

/// `document.write(unescape("%3Cscript src='//host/x.js'%3E"))`: old loaders percent-encode
/// the tag they write. Only ASCII escapes are decoded; anything else stays as written.
fn percent_decoded(code: &str) -> String {
    if !code.contains("unescape(") {
        return code.to_owned();
    }
    let bytes = code.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) if h < 8 => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_of(html: &str, page: &str) -> Option<String> {
        let doc = Html::parse_document(html);
        document_base(&doc, Url::parse(page).ok().as_ref()).map(String::from)
    }

    #[test]
    fn a_saved_page_is_read_as_its_canonical_site() {
        let html = r#"<html><head><link rel="canonical" href="https://www.example.de/artikel/1"></head></html>"#;
        assert_eq!(
            base_of(html, "file:///tmp/saved.html").as_deref(),
            Some("https://www.example.de/artikel/1")
        );
        let og = r#"<html><head><meta property="og:url" content="https://news.example.fr/a"></head></html>"#;
        assert_eq!(
            base_of(og, "file:///tmp/saved.html").as_deref(),
            Some("https://news.example.fr/a")
        );
    }

    #[test]
    fn a_fetched_page_keeps_its_own_url_but_honours_base_href() {
        let html = r#"<html><head><link rel="canonical" href="https://elsewhere.example/"><base href="/static/"></head></html>"#;
        assert_eq!(
            base_of(html, "https://www.example.com/page").as_deref(),
            Some("https://www.example.com/static/")
        );
    }

    #[test]
    fn loaders_in_inline_code_give_the_urls_they_load() {
        let ga = "(function(i,s,o,g,r,a,m){a=s.createElement(o);a.src=g})(window,document,'script','https://www.google-analytics.com/analytics.js','ga');";
        assert_eq!(urls(ga), ["https://www.google-analytics.com/analytics.js"]);
        let legacy = "var ga = document.createElement('script'); ga.src = ('https:' == document.location.protocol ? 'https://ssl' : 'http://www') + '.google-analytics.com/ga.js';";
        assert_eq!(urls(legacy), ["//google-analytics.com/ga.js"]);
        let gemius = "l='http'+((location.protocol=='https:')?'s':''); gt.src=l+'://gapl.hit.gemius.pl/xgemius.js'; s.parentNode.insertBefore(gt,s);";
        assert_eq!(urls(gemius), ["//gapl.hit.gemius.pl/xgemius.js"]);
        let concat = "ts.src = ('https:' == document.location.protocol ? 'https://' : 'http://') + 'tags.example-dmp.com/t3m.js?i=' + i; s.parentNode.insertBefore(ts, s);";
        assert_eq!(urls(concat), ["//tags.example-dmp.com/t3m.js?i="]);
        let escaped = r#"document.write(unescape("%3Cscript src='//cl2.example-stats.cn/webdig.js?z=16' type='text/javascript'%3E%3C/script%3E"));"#;
        assert_eq!(urls(escaped), ["//cl2.example-stats.cn/webdig.js?z=16"]);
        let split = "s.src = '//www.' + 'addthis.com/js/300/addthis_widget.js'; document.body.appendChild(s);";
        assert!(urls(split).contains(&"//addthis.com/js/300/addthis_widget.js".to_owned()));
        let json = r#"{"sdk":"https:\/\/connect.facebook.net\/en_US\/sdk.js"}"#;
        assert_eq!(urls(json), ["https://connect.facebook.net/en_US/sdk.js"]);
        assert!(in_code(ga).iter().all(|u| !u.after_consent));
    }

    #[test]
    fn a_loader_inside_a_consent_callback_is_held_back() {
        let gated = "WP.gdpr.runAfterConsent(function() { WP.getScript({ src: '//platform.instagram.com/en_US/embeds.js' }); });";
        assert_eq!(
            in_code(gated),
            [CodeUrl {
                url: "//platform.instagram.com/en_US/embeds.js".into(),
                after_consent: true
            }]
        );
    }

    fn urls(code: &str) -> Vec<String> {
        in_code(code).into_iter().map(|u| u.url).collect()
    }

    #[test]
    fn links_in_plain_data_are_not_loads() {
        let data = r#"var share = {twitter: "https://twitter.com/intent/tweet", page: 'https://www.facebook.com/example'};"#;
        assert!(in_code(data).is_empty(), "{:?}", in_code(data));
        let state = format!(
            r#"window.__STATE__ = {{"author": {{"instagramUrl": "https://www.instagram.com/someone/"}}, "filler": "{}"}}; var s = document.createElement('script');"#,
            "x".repeat(LOAD_REACH * 2)
        );
        assert!(in_code(&state).is_empty(), "{:?}", in_code(&state));
    }

    #[test]
    fn protocol_relative_references_are_https_in_saved_pages() {
        let file = Url::parse("file:///tmp/x.html").unwrap();
        assert_eq!(
            resolve(Some(&file), "//s7.addthis.com/js/300/addthis_widget.js").map(String::from),
            Some("https://s7.addthis.com/js/300/addthis_widget.js".into())
        );
        let http = Url::parse("http://www.example.com/").unwrap();
        assert_eq!(
            resolve(Some(&http), "//cdn.example.net/a.js").map(String::from),
            Some("http://cdn.example.net/a.js".into())
        );
        assert_eq!(
            resolve(None, "//cdn.example.net/a.js").map(|u| u.scheme().to_owned()),
            Some("https".into())
        );
    }
}
