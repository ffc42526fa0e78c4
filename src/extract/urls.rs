//! URLs as the page will use them: the document's base, and references resolved against it.

use std::sync::LazyLock;

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
