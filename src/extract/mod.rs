//! From a fetched page to the facts rules read. Extraction never decides compliance.

pub mod banner;
pub mod claims;
pub mod controls;
pub mod cookies;
pub mod dom;
pub mod language;
pub mod trackers;

use std::sync::LazyLock;

use scraper::{Html, Selector};

use crate::facts::{Banner, Claims, Coverage, Detection, Facts};
use crate::knowledge::Knowledge;
use crate::page::{Page, PageError};
use banner::Detected;

static HTML_ROOT: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("html").expect("static selector"));

/// Reads a page into facts.
pub fn extract(page: &Page, knowledge: &Knowledge) -> Facts {
    let doc = dom::parse_document(&page.html);
    let page_url = url::Url::parse(&page.url).ok();
    let page_host = page_url
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or_default()
        .to_owned();
    let page_language = doc
        .select(&HTML_ROOT)
        .next()
        .and_then(|h| h.value().attr("lang"))
        .and_then(language::normalize_tag)
        .or_else(|| {
            page.content_language
                .as_deref()
                .and_then(language::normalize_tag)
        });

    let script_cmp = banner::cmp_from_scripts(&doc, page_url.as_ref(), knowledge);
    let detected = detect(&doc, knowledge, script_cmp, page_language.as_deref());
    let (banner, language) = match &detected {
        Some(d) => {
            let (banner, language) = read_banner(
                &doc,
                d,
                knowledge,
                page_language.as_deref(),
                page_url.as_ref(),
            );
            (Some(banner), language)
        }
        None => (script_cmp.map(|cmp| script_only_banner(&cmp.id)), None),
    };

    let mut cookies = cookies::from_set_cookies(
        &page.set_cookies,
        page.fetched_at,
        &knowledge.cookies,
        &page_host,
    );
    let scan = trackers::scan(&doc, page_url.as_ref(), &knowledge.trackers);
    let mut signals = scan.signals;
    if signals.tcf_cmp_id.is_none() && signals.tcf {
        signals.tcf_cmp_id = banner
            .as_ref()
            .and_then(|b| b.cmp.as_deref())
            .and_then(|id| {
                knowledge
                    .cmps
                    .iter()
                    .find(|c| c.id == id)
                    .and_then(|c| c.tcf_cmp_ids.first().copied())
            });
    }
    let mut trackers = scan.trackers;
    let render = page.rendered.as_ref().map(|r| {
        cookies = merge_cookies(cookies.clone(), r.cookies.clone());
        for (url, kind) in &r.requests {
            trackers::push_request(&mut trackers, &knowledge.trackers, url, kind);
        }
        crate::facts::RenderFacts {
            screenshot: r.screenshot.clone(),
            storage_keys: r.storage_keys.clone(),
            banner_coverage: detected.as_ref().and_then(|d| dom::viewport_share(d.root)),
            scroll_locked: r.scroll_locked,
            interaction: r.interaction.clone(),
        }
    });
    Facts {
        page_language,
        language,
        banner,
        cookies,
        trackers,
        signals,
        render,
    }
}

fn detect<'a, 'k>(
    doc: &'a Html,
    knowledge: &'k Knowledge,
    script_cmp: Option<&'k crate::knowledge::cmp::Cmp>,
    page_lang: Option<&str>,
) -> Option<Detected<'a>>
where
    'k: 'a,
{
    if let Some((root, cmp, css)) = banner::by_signature(doc, knowledge) {
        return Some(Detected {
            root,
            cmp: Some(cmp),
            detection: Detection::Signature,
            root_selector: css,
            second_layers: banner::second_layers(doc, Some(cmp)),
        });
    }
    let langs: Vec<&str> = page_lang.into_iter().collect();
    banner::generic(doc, knowledge, &langs).map(|root| Detected {
        root,
        cmp: script_cmp,
        detection: Detection::Generic,
        root_selector: dom::selector_for(root),
        second_layers: banner::second_layers(doc, script_cmp),
    })
}

fn read_banner(
    doc: &Html,
    d: &Detected<'_>,
    knowledge: &Knowledge,
    page_lang: Option<&str>,
    page_url: Option<&url::Url>,
) -> (Banner, Option<String>) {
    let mut text = dom::visible_text(d.root);
    if text.is_empty() {
        // A CMP root shipped hidden in the HTML, shown by its script: read it as it will show.
        text = dom::all_text(d.root);
    }
    let own_lang = language::lang_attr(d.root).filter(|l| Some(l.as_str()) != page_lang);
    let detected = language::detect(&text, &knowledge.lexicons);
    let language = own_lang.or_else(|| match (&detected, page_lang) {
        (Some((found, true)), Some(page)) if found != page => Some(found.clone()),
        (_, Some(page)) => Some(page.to_owned()),
        (Some((found, _)), None) => Some(found.clone()),
        (None, None) => None,
    });
    let first: Vec<&str> = language
        .iter()
        .map(String::as_str)
        .chain(page_lang)
        .collect();
    let scope = controls::Scope {
        doc,
        root: d.root,
        second_layers: &d.second_layers,
        cmp: d.cmp,
        lexicons: knowledge.lexicons.ordered(&first, true),
        page_url,
    };
    let found = controls::read_controls(&scope);
    let claim_lexicons = knowledge.lexicons.ordered(&first, false);
    let banner = Banner {
        present: true,
        cmp: d.cmp.map(|c| c.id.clone()),
        detection: d.detection,
        selector: Some(d.root_selector.clone()),
        claims: claims::read_claims(&text, &claim_lexicons),
        text,
        buttons: found.buttons,
        checkboxes: found.checkboxes,
        links: found.links,
    };
    (banner, language)
}

fn script_only_banner(cmp: &str) -> Banner {
    Banner {
        present: false,
        cmp: Some(cmp.to_owned()),
        detection: Detection::Script,
        selector: None,
        text: String::new(),
        buttons: Vec::new(),
        checkboxes: Vec::new(),
        links: Vec::new(),
        claims: Claims::default(),
    }
}

/// Browser cookies replace the same cookies seen in `Set-Cookie`; the rest are added.
fn merge_cookies(
    mut from_headers: Vec<crate::facts::Cookie>,
    from_browser: Vec<crate::facts::Cookie>,
) -> Vec<crate::facts::Cookie> {
    for c in from_browser {
        from_headers.retain(|h| {
            !(h.name == c.name
                && h.domain.trim_start_matches('.') == c.domain.trim_start_matches('.'))
        });
        from_headers.push(c);
    }
    from_headers
}

/// How far the audit could see (DESIGN.md), for a page that was fetched.
pub fn coverage(facts: &Facts, html: &str) -> Coverage {
    if is_bot_challenge(html) {
        return Coverage::Blocked;
    }
    match &facts.banner {
        Some(b) if b.present => Coverage::BannerFound,
        Some(_) => Coverage::NeedsRender,
        None if facts
            .trackers
            .iter()
            .any(|t| t.category.needs_consent() && !t.exempt && !t.gated)
            || facts
                .cookies
                .iter()
                .any(|c| c.category.needs_consent() && !c.exemptable) =>
        {
            Coverage::NoBannerButTrackers
        }
        None => Coverage::NoBannerNoTrackers,
    }
}

/// For a page that could not be fetched.
pub fn error_coverage(error: &PageError) -> Coverage {
    if error.is_blocked() {
        Coverage::Blocked
    } else {
        Coverage::Unreachable
    }
}

/// Interstitials of bot-protection services: the real page was withheld.
pub fn is_bot_challenge(html: &str) -> bool {
    const MARKERS: [&str; 7] = [
        "cf-browser-verification",
        "challenges.cloudflare.com/cdn-cgi/challenge-platform",
        "/cdn-cgi/challenge-platform/",
        "captcha-delivery.com",
        "px-captcha",
        "Pardon Our Interruption",
        "_Incapsula_Resource",
    ];
    let mut end = html.len().min(200_000);
    // Slicing inside a character panics; a 5 MB page of accented text has them anywhere.
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let head = &html[..end];
    MARKERS.iter().any(|m| head.contains(m)) || head.contains("<title>Just a moment...</title>")
}
