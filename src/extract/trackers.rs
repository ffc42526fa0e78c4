//! Trackers a page loads before any consent: tags by host, inline snippets, and the consent
//! signals (IAB TCF stub, Google Consent Mode) that decide whether a tag is held back.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};
use url::Url;

use crate::facts::{ConsentMode, ConsentSignals, Tracker, TrackerElement};
use crate::knowledge::Knowledge;
use crate::knowledge::catalog::{InlineSnippet, KnownTracker};

static TAGS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(
        "script, iframe, img, link[rel=preload], link[rel=modulepreload], link[rel=prefetch], noscript, embed, object",
    )
    .expect("static selector")
});
static NOSCRIPT_SRC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\bsrc\s*=\s*["']([^"']+)["']"#).expect("static regex"));
static CONSENT_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)['"]consent['"]\s*,\s*['"]default['"]\s*,\s*\{(.*?)\}"#)
        .expect("static regex")
});
static CONSENT_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"['"]?(ad_storage|analytics_storage|ad_user_data|ad_personalization)['"]?\s*:\s*['"](granted|denied)['"]"#).expect("static regex")
});
static GOOGLE_CONFIG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"gtag\(\s*['"]config['"]|googletagmanager\.com/gtm\.js|ga\(\s*['"]create['"]"#)
        .expect("static regex")
});
/// Code that defines the IAB TCF API (a CMP's stub), not code that merely calls it: ad scripts
/// ask `__tcfapi` for consent on pages with and without a CMP.
static TCF_STUB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"__tcfapiLocator|__cmpLocator|__tcfapi\s*=[^=]|function\s+__tcfapi\b|\b__cmp\s*=[^=]"#,
    )
    .expect("static regex")
});
static TCF_CMP_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bcmpId\W{1,4}(\d{1,4})\b").expect("static regex"));

pub struct Scan {
    pub trackers: Vec<Tracker>,
    pub signals: ConsentSignals,
    /// Every URL inline code loads, tracker or not (CMP loaders are evidence).
    pub code_urls: Vec<String>,
}

/// Scans tags and inline code, in document order.
pub fn scan(doc: &Html, page_url: Option<&Url>, knowledge: &Knowledge) -> Scan {
    let mut signals = ConsentSignals::default();
    let mut consent_mode: Option<ConsentMode> = None;
    let mut google_configured = false;
    let mut matomo_cookieless = false;
    let mut trackers: Vec<Tracker> = Vec::new();
    let mut code_urls = Vec::new();
    let page_host = page_url
        .and_then(Url::host_str)
        .unwrap_or_default()
        .to_owned();

    for el in doc.select(&TAGS) {
        let v = el.value();
        let name = v.name();
        if name == "noscript" {
            let inner: String = el.text().collect();
            for cap in NOSCRIPT_SRC.captures_iter(&inner) {
                push_url(
                    &mut trackers,
                    knowledge,
                    page_url,
                    &cap[1],
                    TrackerElement::Noscript,
                    false,
                );
            }
            continue;
        }
        let executes = name != "script" || script_executes(v.attr("type"));
        // Only the type decides: a browser runs no `text/plain` script, whatever CMP marks it. An
        // iframe with `srcdoc` shows that document, not its `src` (click-to-load players).
        let held_back = !executes || (name == "iframe" && v.attr("srcdoc").is_some());
        let element = match name {
            "script" => TrackerElement::Script,
            "iframe" | "embed" | "object" => TrackerElement::Iframe,
            "img" => TrackerElement::Img,
            _ => TrackerElement::Link,
        };
        let live_src = v
            .attr("src")
            .or_else(|| v.attr("href"))
            .or_else(|| v.attr("data"));
        match live_src {
            Some(src)
                if !src.trim().is_empty() && !src.starts_with("data:") && src != "about:blank" =>
            {
                push_url(&mut trackers, knowledge, page_url, src, element, held_back);
                if name == "script" && executes && src.contains("googletagmanager.com") {
                    google_configured = true;
                }
            }
            _ => {
                // A tag with only a deferred source (data-src, data-cookieblock-src) loads nothing yet.
                let deferred = v.attrs().find(|(k, val)| {
                    k.ends_with("src") && k.starts_with("data-") && val.contains("//")
                });
                if let Some((_, src)) = deferred {
                    push_url(&mut trackers, knowledge, page_url, src, element, true);
                }
            }
        }
        if name == "script" && v.attr("src").is_none() {
            let code: String = el.text().collect();
            if TCF_STUB.is_match(&code) {
                signals.tcf = true;
                if signals.tcf_cmp_id.is_none() {
                    signals.tcf_cmp_id = TCF_CMP_ID.captures(&code).and_then(|c| c[1].parse().ok());
                }
            }
            if executes {
                if let Some(mut mode) = consent_defaults(&code) {
                    let default_at = CONSENT_DEFAULT.find(&code).map_or(0, |m| m.start());
                    let config_at = GOOGLE_CONFIG.find(&code).map_or(usize::MAX, |m| m.start());
                    mode.default_before_config = !google_configured && default_at < config_at;
                    consent_mode.get_or_insert(mode);
                }
                google_configured |= GOOGLE_CONFIG.is_match(&code);
                matomo_cookieless |= code.contains("disableCookies");
            }
            for found in super::urls::in_code(&code) {
                if !code_urls.contains(&found.url) {
                    code_urls.push(found.url.clone());
                }
                let gated = !executes || found.after_consent;
                push_url(
                    &mut trackers,
                    knowledge,
                    page_url,
                    &found.url,
                    TrackerElement::Inline,
                    gated,
                );
            }
            for snippet in knowledge.trackers.inline_matches(&code) {
                push_inline(&mut trackers, snippet, !executes);
            }
        }
    }

    hold_back_configured_libraries(&mut trackers);
    // Consent Mode with every storage denied by default holds Google's tags back.
    if consent_mode
        .as_ref()
        .is_some_and(ConsentMode::denies_by_default)
    {
        for t in trackers.iter_mut().filter(|t| is_google(t)) {
            t.gated = true;
        }
    }
    if matomo_cookieless {
        for t in trackers.iter_mut().filter(|t| {
            t.vendor.as_deref().is_some_and(|v| {
                v.to_ascii_lowercase().contains("matomo")
                    || v.to_ascii_lowercase().contains("piwik")
            })
        }) {
            t.exempt = true;
        }
    }
    // First-party scripts are the site's own code, not third-party trackers.
    trackers.retain(|t| {
        t.element == TrackerElement::Inline
            || !t.host.is_empty() && t.host != page_host
            || t.vendor.is_some()
    });
    signals.consent_mode = consent_mode;
    Scan {
        trackers,
        signals,
        code_urls,
    }
}

/// The JavaScript MIME types a browser runs (HTML Living Standard, "JavaScript MIME type"); any
/// other type (`text/plain`, `didomi/javascript`, `javascript/blocked`) is how CMPs hold a tag back.
const JAVASCRIPT_TYPES: [&str; 16] = [
    "application/ecmascript",
    "application/javascript",
    "application/x-ecmascript",
    "application/x-javascript",
    "text/ecmascript",
    "text/javascript",
    "text/javascript1.0",
    "text/javascript1.1",
    "text/javascript1.2",
    "text/javascript1.3",
    "text/javascript1.4",
    "text/javascript1.5",
    "text/jscript",
    "text/livescript",
    "text/x-ecmascript",
    "text/x-javascript",
];

fn script_executes(type_attr: Option<&str>) -> bool {
    let Some(t) = type_attr else {
        return true;
    };
    // The MIME type's essence: parameters (`; charset=utf-8`) do not change it.
    let essence = t
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    // Cloudflare's Rocket Loader types every script `<hex>-text/javascript` and runs them all
    // itself, deferred: that is not consent gating.
    let essence = match essence.split_once('-') {
        Some((hex, rest)) if hex.len() >= 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => rest,
        _ => essence.as_str(),
    };
    essence.is_empty() || essence == "module" || JAVASCRIPT_TYPES.contains(&essence)
}

fn push_url(
    trackers: &mut Vec<Tracker>,
    knowledge: &Knowledge,
    base: Option<&Url>,
    src: &str,
    element: TrackerElement,
    gated: bool,
) {
    let Some(url) = super::urls::resolve(base, src) else {
        return;
    };
    if !matches!(url.scheme(), "http" | "https")
        || trackers
            .iter()
            .any(|t| t.url == url.as_str() && t.element == element)
    {
        return;
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    if let Some(known) = knowledge.trackers.classify(&url) {
        trackers.push(tracker(url.to_string(), host, known, element, gated));
        return;
    }
    // The field's lists name what the catalogue does not know.
    let page = base.map_or("", Url::as_str);
    for list in &knowledge.lists {
        let Some(network) = &list.network else {
            continue;
        };
        if let Some(rule) = network.rule_for(url.as_str(), page, request_type(element)) {
            trackers.push(Tracker {
                url: url.to_string(),
                host,
                vendor: None,
                category: network.category,
                element,
                gated,
                exempt: false,
                tag_manager: false,
                needs_consent: false,
                exemptable: false,
                session_replay: false,
                third_party: false,
                source: Some(format!(
                    "list:{}@{}",
                    list.info.name,
                    list.info
                        .version
                        .as_deref()
                        .unwrap_or(&list.info.sha256[..12])
                )),
                rule: Some(rule),
            });
            return;
        }
    }
}

/// Marks the trackers whose registrable domain is not the page's.
pub fn mark_third_party(trackers: &mut [Tracker], page_host: &str) {
    let page = super::cookies::registrable(page_host);
    for t in trackers {
        t.third_party = !t.host.is_empty() && super::cookies::registrable(&t.host) != page;
    }
}

/// The request type filter lists speak of, for where a URL was found.
fn request_type(element: TrackerElement) -> &'static str {
    match element {
        TrackerElement::Script | TrackerElement::Inline | TrackerElement::Link => "script",
        TrackerElement::Iframe => "sub_frame",
        TrackerElement::Img | TrackerElement::Noscript => "image",
        TrackerElement::Request => "other",
    }
}

/// A tracker started by an inline snippet, under the host it contacts. A host already seen (the
/// snippet's own URL, or a tag) is not listed again.
/// A snippet that only configures a library (`gtag('config', ...)`) loads nothing when every
/// tag that loads the library from its host is held back: it waits with them.
fn hold_back_configured_libraries(trackers: &mut [Tracker]) {
    let held: Vec<(String, bool)> = trackers
        .iter()
        .filter(|t| !t.url.starts_with("inline:") && !t.host.is_empty())
        .map(|t| (t.host.clone(), t.gated))
        .collect();
    for t in trackers
        .iter_mut()
        .filter(|t| t.url.starts_with("inline:") && !t.gated)
    {
        let mut loaders = held.iter().filter(|(host, _)| *host == t.host).peekable();
        if loaders.peek().is_some() && loaders.all(|(_, gated)| *gated) {
            t.gated = true;
        }
    }
}

fn push_inline(trackers: &mut Vec<Tracker>, snippet: &InlineSnippet, gated: bool) {
    let known = &snippet.known;
    let url = format!("inline:{}", known.vendor);
    let host = snippet.host.clone().unwrap_or_default();
    let domain = super::cookies::registrable(&host);
    if trackers.iter().any(|t| {
        t.url == url
            || !host.is_empty()
                && t.gated == gated
                && super::cookies::registrable(&t.host) == domain
    }) {
        return;
    }
    trackers.push(tracker(url, host, known, TrackerElement::Inline, gated));
}

fn tracker(
    url: String,
    host: String,
    known: &KnownTracker,
    element: TrackerElement,
    gated: bool,
) -> Tracker {
    Tracker {
        url,
        host,
        vendor: Some(known.vendor.clone()),
        category: known.category,
        element,
        gated,
        exempt: known.exempt,
        tag_manager: known.tag_manager,
        needs_consent: false,
        exemptable: known.exemptable,
        session_replay: known.session_replay,
        third_party: false,
        source: Some("catalogue".into()),
        rule: None,
    }
}

fn is_google(t: &Tracker) -> bool {
    let host = t.host.as_str();
    [
        "google-analytics.com",
        "googletagmanager.com",
        "doubleclick.net",
        "googleadservices.com",
        "googlesyndication.com",
    ]
    .iter()
    .any(|d| crate::text::host_within(host, d))
        || t.element == TrackerElement::Inline
            && t.vendor.as_deref().is_some_and(|v| v.contains("Google"))
}

/// `gtag('consent', 'default', {...})` and its storage states.
fn consent_defaults(code: &str) -> Option<ConsentMode> {
    let body = CONSENT_DEFAULT.captures(code)?.get(1)?.as_str().to_owned();
    let mut mode = ConsentMode::default();
    for cap in CONSENT_KEY.captures_iter(&body) {
        let state = Some(cap[2].to_owned());
        match &cap[1] {
            "ad_storage" => mode.ad_storage = state,
            "analytics_storage" => mode.analytics_storage = state,
            "ad_user_data" => mode.ad_user_data = state,
            _ => mode.ad_personalization = state,
        }
    }
    Some(mode)
}

/// A request the browser made, classified like a tag; never gated, it happened.
pub fn push_request(
    trackers: &mut Vec<Tracker>,
    knowledge: &Knowledge,
    page_url: Option<&Url>,
    url: &str,
) {
    if let Some(url) = page_url
        .and_then(|p| p.join(url).ok())
        .or_else(|| Url::parse(url).ok())
    {
        push_url(
            trackers,
            knowledge,
            page_url,
            url.as_str(),
            TrackerElement::Request,
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_hosts_match_on_a_dot_boundary() {
        let on = |host: &str| Tracker {
            host: host.into(),
            ..Tracker::default()
        };
        assert!(is_google(&on("www.google-analytics.com")));
        assert!(is_google(&on("doubleclick.net")));
        assert!(!is_google(&on("notdoubleclick.net")));
        assert!(!is_google(&on("evil-googletagmanager.com")));
    }

    #[test]
    fn a_config_call_waits_with_the_library_it_configures() {
        let knowledge = Knowledge::embedded();
        let page = Url::parse("https://www.example.com/").ok();
        let scan_of = |html: &str| scan(&Html::parse_document(html), page.as_ref(), &knowledge);
        let config = "<script>window.dataLayer=[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());gtag('config','G-ABC123');</script>";
        let held = scan_of(&format!(
            r#"<script type="text/plain" data-cookieconsent="statistics" src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script>{config}"#
        ));
        assert!(
            !held.trackers.is_empty() && held.trackers.iter().all(|t| t.gated),
            "{:?}",
            held.trackers
        );
        let live = scan_of(&format!(
            r#"<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script>{config}"#
        ));
        assert!(
            live.trackers.iter().all(|t| !t.gated),
            "{:?}",
            live.trackers
        );
    }

    #[test]
    fn only_javascript_types_run() {
        for runs in [
            None,
            Some(""),
            Some("text/javascript"),
            Some("Text/JavaScript; charset=utf-8"),
            Some("module"),
            Some("application/x-javascript"),
            Some("17ca411b4f98d55bb0e99e82-text/javascript"),
        ] {
            assert!(script_executes(runs), "{runs:?}");
        }
        for held in [
            "text/plain",
            "didomi/javascript",
            "javascript/blocked",
            "text/x-cookieconsent",
            "application/ld+json",
            "lazy",
        ] {
            assert!(!script_executes(Some(held)), "{held}");
        }
    }
}
