//! What a browser observed (render mode), as facts: its cookie jar, the requests it made, and what
//! followed the auditor's choice.

use url::Url;

use crate::facts::{Banner, Cookie, CookieSource, Interaction, RenderFacts, Tracker};
use crate::knowledge::Knowledge;
use crate::page::{BrowserObservation, ChoiceObservation, RawCookie};

use super::{cookies, trackers};

/// Folds the observation into the page's cookies and trackers and returns the render facts.
pub fn fold(
    seen: &BrowserObservation,
    facts: Folding<'_>,
    cookies: &mut Vec<Cookie>,
    trackers: &mut Vec<Tracker>,
) -> RenderFacts {
    let before = classify_all(&seen.cookies, facts, true);
    merge_cookies(cookies, before);
    for (url, _) in &seen.requests {
        trackers::push_request(trackers, facts.knowledge, facts.page_url, url);
    }
    RenderFacts {
        screenshot: seen.screenshot.clone(),
        storage_keys: seen.storage_keys.clone(),
        banner_coverage: facts.banner_coverage,
        scroll_locked: seen.scroll_locked,
        interaction: seen.choice.as_ref().map(|c| interaction(c, facts)),
    }
}

/// What folding needs from the rest of extraction.
#[derive(Clone, Copy)]
pub struct Folding<'a> {
    pub knowledge: &'a Knowledge,
    pub page_url: Option<&'a Url>,
    /// The host the browser ended on, for first/third-party decisions.
    pub host: &'a str,
    pub banner: Option<&'a Banner>,
    pub banner_coverage: Option<f64>,
}

fn interaction(choice: &ChoiceObservation, facts: Folding<'_>) -> Interaction {
    let mut trackers_after = Vec::new();
    for url in &choice.requests {
        trackers::push_request(&mut trackers_after, facts.knowledge, facts.page_url, url);
    }

    trackers::mark_third_party(&mut trackers_after, facts.host);
    Interaction {
        choice: choice.choice,
        clicks: choice.clicks.as_ref().ok().copied(),
        clicks_to_accept: facts.banner.and_then(clicks_to_accept),
        cookies_after: classify_all(&choice.cookies, facts, false),
        trackers_after,
        error: choice.clicks.as_ref().err().cloned(),
        doubt: choice.doubt.clone(),
    }
}

fn classify_all(jar: &[RawCookie], facts: Folding<'_>, before_consent: bool) -> Vec<Cookie> {
    jar.iter()
        .filter_map(|raw| {
            cookies::classify(
                raw.clone(),
                &facts.knowledge.cookies,
                facts.host,
                CookieSource::Browser,
                before_consent,
            )
        })
        .collect()
}

/// Clicks accepting takes: one on the first layer, two through settings, unknown otherwise.
fn clicks_to_accept(banner: &Banner) -> Option<u32> {
    let accept = |b: &&crate::facts::Button| b.role == crate::facts::Role::Accept;
    if banner.buttons.iter().filter(accept).any(|b| b.first_layer) {
        Some(1)
    } else if banner.buttons.iter().any(|b| accept(&b)) {
        Some(2)
    } else {
        None
    }
}

/// Browser cookies replace the same cookies seen in `Set-Cookie`; the rest are added.
fn merge_cookies(from_headers: &mut Vec<Cookie>, from_browser: Vec<Cookie>) {
    for c in from_browser {
        from_headers.retain(|h| {
            !(h.name == c.name
                && h.domain.trim_start_matches('.') == c.domain.trim_start_matches('.'))
        });
        from_headers.push(c);
    }
}
