//! From a fetched page to the facts rules read. Extraction never decides compliance.

pub mod banner;
pub mod browser;
pub mod candidate;
pub mod claims;
pub mod controls;
pub mod cookies;
pub mod depth;
pub mod dom;
pub mod evidence;
pub mod language;
pub mod roles;
pub mod tcf;
pub mod trackers;
pub mod urls;

use std::sync::LazyLock;

use scraper::{Html, Selector};

use crate::facts::{Banner, Claims, Coverage, Detection, EvidenceKind, Facts, Markup};
use crate::knowledge::Knowledge;
use crate::knowledge::selectors::PageNames;
use crate::page::{Page, PageError};
use banner::Detected;

static HTML_ROOT: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("html").expect("static selector"));

/// Reads a page into facts.
pub fn extract(page: &Page, knowledge: &Knowledge) -> Facts {
    let doc = dom::parse_document(&page.html);
    let page_url = urls::document_base(&doc, url::Url::parse(&page.url).ok().as_ref());
    let page_host = page_url
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or_default()
        .to_owned();
    let declared = doc
        .select(&HTML_ROOT)
        .next()
        .and_then(|h| h.value().attr("lang"))
        .and_then(language::normalize_tag)
        .or_else(|| {
            page.content_language
                .as_deref()
                .and_then(language::normalize_tag)
        });
    let page_language = language::page_language(&doc, declared);

    let scan = trackers::scan(&doc, page_url.as_ref(), knowledge);
    let mut gathered = evidence::gather(&doc, page_url.as_ref(), knowledge, &scan);
    let script_cmp = gathered.cmp;
    let templates = banner::script_templates(&doc);
    let looking = Looking {
        knowledge,
        script_cmp,
        page_lang: page_language.as_deref(),
        host: &page_host,
    };
    let mut shells = Vec::new();
    let detected = looking.detect(&doc, &mut shells).or_else(|| {
        let d = looking.detect(templates.as_ref()?, &mut shells)?;
        Some(Detected {
            markup: Markup::Template,
            ..d
        })
    });
    if detected.is_none() {
        for css in shells {
            gathered.add(
                EvidenceKind::ListSelector,
                format!("{css} (empty until a script fills it)"),
            );
        }
    }
    let (banner, language) = match &detected {
        Some(d) => {
            let (banner, language) =
                read_banner(d, knowledge, page_language.as_deref(), page_url.as_ref());
            if let Some(markup) = banner.markup.filter(|m| *m != Markup::Live) {
                gathered.add_markup(markup, &d.root_selector);
            }
            (Some(banner), language)
        }
        // Evidence of a consent mechanism without a banner to read: a browser must show it.
        None if !gathered.evidence.is_empty() => (
            Some(script_only_banner(script_cmp.map(|c| c.id.as_str()))),
            None,
        ),
        None => (None, None),
    };

    let mut cookies = cookies::from_set_cookies(
        &page.set_cookies,
        page.fetched_at,
        &knowledge.cookies,
        &page_host,
    );
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
    let browser_host = url::Url::parse(&page.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let render = page.rendered.as_ref().map(|seen| {
        let folding = browser::Folding {
            knowledge,
            page_url: page_url.as_ref(),
            host: &browser_host,
            banner: banner.as_ref(),
            banner_coverage: detected.as_ref().and_then(|d| dom::viewport_share(d.root)),
        };
        browser::fold(seen, folding, &mut cookies, &mut trackers)
    });
    trackers::mark_third_party(&mut trackers, &page_host);
    let mut facts = Facts {
        page_language,
        language,
        banner,
        cookies,
        trackers,
        signals,
        consent_evidence: gathered.evidence,
        tcf: tcf::observed(page),
        render,
    };
    facts.finish();
    facts
}

/// What banner detection needs to know besides the document.
struct Looking<'k, 'p> {
    knowledge: &'k Knowledge,
    script_cmp: Option<&'k crate::knowledge::cmp::Cmp>,
    page_lang: Option<&'p str>,
    host: &'p str,
}

impl<'k> Looking<'k, '_> {
    /// A CMP signature first, then what filter lists name, then the generic search. Selectors
    /// of listed elements with nothing to read yet go to `shells`.
    fn detect<'a>(&self, doc: &'a Html, shells: &mut Vec<String>) -> Option<Detected<'a>>
    where
        'k: 'a,
    {
        let knowledge = self.knowledge;
        let names = PageNames::of(doc);
        if let Some((root, cmp, css)) = banner::by_signature(doc, &names, knowledge) {
            return Some(Detected {
                doc,
                root,
                cmp: Some(cmp),
                detection: Detection::Signature,
                root_selector: css,
                second_layers: banner::second_layers(doc, Some(cmp)),
                markup: banner::markup_of(root),
            });
        }
        let langs: Vec<&str> = self.page_lang.into_iter().collect();
        let (listed, empty) = banner::by_lists(doc, &names, knowledge, self.host, &langs);
        shells.extend(empty.into_iter().map(str::to_owned));
        let (root, detection) = match listed {
            Some(root) => (root, Detection::List),
            None => (banner::generic(doc, knowledge, &langs)?, Detection::Generic),
        };
        Some(Detected {
            doc,
            root,
            cmp: self.script_cmp,
            detection,
            root_selector: dom::selector_for(root),
            second_layers: banner::second_layers(doc, self.script_cmp),
            markup: banner::markup_of(root),
        })
    }
}

fn read_banner(
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
        doc: d.doc,
        root: d.root,
        second_layers: &d.second_layers,
        cmp: d.cmp,
        lexicons: knowledge.lexicons.ordered(&first, true),
        page_url,
    };
    let mut found = controls::read_controls(&scope);
    let claim_lexicons = knowledge.lexicons.ordered(&first, false);
    roles::accept_by_wording(&mut found.buttons, &text, &claim_lexicons);
    let banner = Banner {
        present: true,
        cmp: d.cmp.map(|c| c.id.clone()),
        detection: d.detection,
        markup: Some(d.markup),
        selector: Some(d.root_selector.clone()),
        claims: claims::read_claims(&text, &claim_lexicons),
        text,
        buttons: found.buttons,
        checkboxes: found.checkboxes,
        links: found.links,
    };
    (banner, language)
}

fn script_only_banner(cmp: Option<&str>) -> Banner {
    Banner {
        present: false,
        cmp: cmp.map(str::to_owned),
        detection: Detection::Script,
        markup: None,
        selector: None,
        text: String::new(),
        buttons: Vec::new(),
        checkboxes: Vec::new(),
        links: Vec::new(),
        claims: Claims::default(),
    }
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

/// Interstitials of bot-protection services: the real page was withheld. Cloudflare's and
/// Imperva's (Incapsula) script paths also appear in ordinary pages (their JavaScript detections
/// are injected everywhere), so they count only in a page with almost nothing else in it.
pub fn is_bot_challenge(html: &str) -> bool {
    const INTERSTITIALS: [&str; 4] = [
        "cf-browser-verification",
        "captcha-delivery.com",
        "px-captcha",
        "Pardon Our Interruption",
    ];
    // Scripts these services inject into every page they protect, challenge or not.
    const INJECTED: [&str; 3] = [
        "challenges.cloudflare.com/cdn-cgi/challenge-platform",
        "/cdn-cgi/challenge-platform/",
        "/_Incapsula_Resource?",
    ];
    /// A challenge page is a few kilobytes; an article that carries the injected script is not.
    const INTERSTITIAL_BYTES: usize = 40_000;
    let mut end = html.len().min(200_000);
    // Slicing inside a character panics; a 5 MB page of accented text has them anywhere.
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let head = &html[..end];
    INTERSTITIALS.iter().any(|m| head.contains(m))
        || head.contains("<title>Just a moment...</title>")
        || html.len() < INTERSTITIAL_BYTES && INJECTED.iter().any(|m| head.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Role;

    fn facts_of(html: &str) -> Facts {
        let page = Page::from_html("test", "file:///tmp/saved.html", html.into());
        extract(&page, &Knowledge::embedded())
    }

    #[test]
    fn an_ok_accepts_when_the_notice_says_clicking_it_consents() {
        let facts = facts_of(
            r#"<html lang="de"><body><main><p>Artikel</p></main><section class="privacy-settings">
            <p>Wir und unsere Partner brauchen für einzelne Datennutzungen Ihre Einwilligung. Mit Klick auf „OK“
            geben Sie diese Einwilligung.</p><span class="btn btn-primary">ok</span></section></body></html>"#,
        );
        let banner = facts.banner.expect("a banner");
        assert_eq!(banner.buttons[0].role, Role::Accept, "{:?}", banner.buttons);
        let info = facts_of(
            r#"<html lang="de"><body><div id="cookie-hinweis"><p>Diese Website verwendet Cookies, um
            Ihnen den bestmöglichen Service zu bieten.</p><button>OK</button></div></body></html>"#,
        );
        assert_eq!(
            info.banner.expect("a banner").buttons[0].role,
            Role::Acknowledge
        );
    }

    #[test]
    fn a_wall_shown_after_a_refusal_is_not_a_first_layer() {
        let facts = facts_of(
            r#"<html lang="fr"><body><main><p>Article</p></main><div class="site-consent-wall">
            <div class="site-consent-wall__title">Vous avez choisi de refuser les cookies</div>
            <p>En acceptant les cookies, vous pourrez accéder aux contenus gratuits.</p>
            <div class="site-consent-wall__action"><button>Accepter les cookies</button> ou
            <a href="/abonnement">Refuser et s'abonner</a></div></div></body></html>"#,
        );
        assert!(
            facts.banner.as_ref().is_none_or(|b| !b.present),
            "{:?}",
            facts.banner
        );
    }

    #[test]
    fn a_challenge_interstitial_is_blocked_but_an_article_with_the_injected_script_is_not() {
        let interstitial = r#"<html><head><title>Attention Required</title></head><body>
            <script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script></body></html>"#;
        assert!(is_bot_challenge(interstitial));
        let article = format!(
            r#"<html><head><title>Glyphosate</title></head><body><article>{}</article>
            <script>(function(){{var a=document.createElement('script');a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';}})();</script></body></html>"#,
            "<p>Le texte de l'article, long comme un article de presse.</p>".repeat(800)
        );
        assert!(!is_bot_challenge(&article));
        let imperva = r#"<script async type="text/javascript" src="/_Incapsula_Resource?SWJIYLWA=719d34d31c8e&ns=1&cb=88693"></script></body></html>"#;
        assert!(!is_bot_challenge(
            &article.replace("</body></html>", imperva)
        ));
        assert!(is_bot_challenge(&format!(
            "<html><head><meta name=\"robots\" content=\"noindex\"></head><body><iframe src=\"/_Incapsula_Resource?CWUDNSAI=9\">Request unsuccessful.</iframe>{imperva}"
        )));
        assert!(is_bot_challenge(
            "<html><head><title>Just a moment...</title></head></html>"
        ));
    }
}
