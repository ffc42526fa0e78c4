//! Traces of a consent mechanism in the static page, and the CMP they name. A page with such
//! traces but no readable banner needs a browser; it is never a page "without a banner".

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::candidate::acts_in_place;
use super::controls::{CONTROLS, control_label};
use super::trackers::Scan;
use super::urls::resolve;
use crate::facts::{ConsentEvidence, EvidenceKind, Markup};
use crate::knowledge::Knowledge;
use crate::knowledge::cmp::{Cmp, MarkerKind};
use crate::knowledge::lexicon::PhraseKind;
use crate::knowledge::selectors::PageNames;
use crate::text::normalize;

static TAGS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("script, link[href], iframe[src]").expect("static selector"));
/// Controls whose code talks to a CMP ("Cookie settings" links in footers).
static SCRIPTED_CONTROLS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"a[href^="javascript:"], [onclick]"#).expect("static selector")
});
/// A script whose file name says it is a consent library, when no signature names the vendor:
/// cookie-consent, cookie_notice, consent-manager... or a file named after a "cmp". Not "gdpr":
/// plugins name their form checkboxes so (`um-gdpr.min.js`).
static CONSENT_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)/([^/?#]*(cookie[-_.]?(consent|notice|banner|bar|law|policy|compliance|info|hinweis|warning)|consent[-_.]?(manager|banner|mode))[^/?#]*|(cmp|consent)([-_.][^/?#]*)?)\.js$")
        .expect("static regex")
});
/// Keys of application data that configure a consent dialog (`"cookiesSimpleModal"`,
/// `"consentBanner"`): the app draws it, the static page only carries its words.
static APP_CONSENT_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)"[a-z_]*(cookie|consent)[a-z_]*(modal|banner|popup|dialog|notice|bar|layer)[a-z_]*"\s*:"#)
        .expect("static regex")
});
/// A call that defers work until the visitor's consent (`WP.gdpr.runAfterConsent(`,
/// `consent.whenConsented(`): the page has a consent mechanism, whoever built it.
static WAITS_FOR_CONSENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\.(run)?(after|on|when|waitfor)consent(ed|given|ready)?\s*\(")
        .expect("static regex")
});
/// Longer labels are sentences, not "Cookie settings".
const MAX_REOPEN_LABEL: usize = 60;
/// A script with the markers of this many CMPs is a checker, not a CMP.
const MANY_VENDORS: usize = 3;
/// Evidence beyond this many entries adds nothing a reader needs.
const MAX_EVIDENCE: usize = 12;

/// How strongly a trace names its vendor: a loaded script beats a hint, a config beats a cookie.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    Script,
    Hint,
    Config,
    Markup,
    Cookie,
    TcfId,
}

#[derive(Default)]
pub struct Gathered<'k> {
    pub evidence: Vec<ConsentEvidence>,
    /// The CMP the strongest traces name (the most of them on a tie).
    pub cmp: Option<&'k Cmp>,
    named: Vec<(&'k Cmp, Strength)>,
}

impl<'k> Gathered<'k> {
    pub fn add(&mut self, kind: EvidenceKind, detail: String) {
        if self.evidence.len() < MAX_EVIDENCE
            && !self
                .evidence
                .iter()
                .any(|e| e.kind == kind && e.detail == detail)
        {
            self.evidence.push(ConsentEvidence { kind, detail });
        }
    }

    /// Banner markup that ships inert is evidence too: a script will show it.
    pub fn add_markup(&mut self, markup: Markup, selector: &str) {
        let how = match markup {
            Markup::Template => "in a template",
            _ => "hidden until a script shows it",
        };
        self.add(EvidenceKind::BannerMarkup, format!("{selector} ({how})"));
    }

    fn name(&mut self, cmp: &'k Cmp, strength: Strength) {
        self.named.push((cmp, strength));
    }

    /// The CMP of the strongest trace; between equally strong ones, the most often named.
    fn choose(&mut self) {
        let count = |cmp: &Cmp| self.named.iter().filter(|(c, _)| c.id == cmp.id).count();
        self.cmp = self
            .named
            .iter()
            .min_by_key(|(c, s)| (c.weak, *s, std::cmp::Reverse(count(c))))
            .map(|(c, _)| *c);
    }
}

pub fn gather<'k>(
    doc: &Html,
    base: Option<&Url>,
    knowledge: &'k Knowledge,
    scan: &Scan,
) -> Gathered<'k> {
    let signals = &scan.signals;
    let mut g = Gathered::default();
    let cmps = &knowledge.cmps;
    for el in doc.select(&TAGS) {
        let v = el.value();
        let hint = v.name() == "link";
        // A link without `rel` is inert, but it names what the page was built with (pages saved
        // by some tools lose their `rel` attributes); one with another `rel` is a mere reference.
        if hint
            && v.attr("rel").is_some_and(|r| {
                !r.split_ascii_whitespace().any(|r| {
                    matches!(
                        r.to_ascii_lowercase().as_str(),
                        "preconnect"
                            | "dns-prefetch"
                            | "preload"
                            | "modulepreload"
                            | "prefetch"
                            | "stylesheet"
                    )
                })
            })
        {
            continue;
        }
        if let Some(url) = v
            .attr("src")
            .or_else(|| v.attr("href"))
            .and_then(|src| resolve(base, src))
        {
            if let Some(cmp) = cmps
                .iter()
                .find(|c| c.owns_script(&url) || hint && c.owns_connection(&url))
            {
                let how = if hint { "link" } else { v.name() };
                g.add(
                    EvidenceKind::CmpScript,
                    format!("{} {how}: {url}", cmp.name),
                );
                g.name(
                    cmp,
                    if hint {
                        Strength::Hint
                    } else {
                        Strength::Script
                    },
                );
            } else if v.name() != "iframe" && CONSENT_FILE.is_match(url.path()) {
                g.add(
                    EvidenceKind::CmpScript,
                    format!("consent script of an unidentified vendor: {url}"),
                );
            }
            continue;
        }
        if v.name() != "script" {
            continue;
        }
        let code: String = el.text().collect();
        if is_app_data(v)
            && let Some(key) = APP_CONSENT_KEY.find(&code)
        {
            g.add(
                EvidenceKind::AppBundle,
                format!(
                    "application data configures a consent dialog ({})",
                    key.as_str().trim_end_matches(':').trim()
                ),
            );
        }
        if let Some(call) = WAITS_FOR_CONSENT.find(&code) {
            g.add(
                EvidenceKind::CmpConfig,
                format!(
                    "inline code waits for consent ({})",
                    call.as_str().trim_start_matches('.')
                ),
            );
        }
        let found = knowledge.cmp_markers.find(&code);
        // A script naming the markers of many CMPs checks for them (ad and cache plugins list
        // every consent cookie they know): it says nothing of which one the page has.
        let vendors: HashSet<usize> = found.iter().map(|(i, _, _)| *i).collect();
        if vendors.len() >= MANY_VENDORS {
            continue;
        }
        for (i, kind, marker) in found {
            let cmp = &cmps[i];
            match kind {
                MarkerKind::Inline => {
                    g.add(
                        EvidenceKind::CmpConfig,
                        format!("{}: inline {marker}", cmp.name),
                    );
                    g.name(cmp, Strength::Config);
                }
                MarkerKind::ConsentCookie => {
                    g.add(
                        EvidenceKind::ConsentCookie,
                        format!("{}: cookie {marker}", cmp.name),
                    );
                    g.name(cmp, Strength::Cookie);
                }
            }
        }
        if code.contains("googlefc") {
            g.add(
                EvidenceKind::CmpStub,
                "Google Funding Choices (googlefc) in an inline script".into(),
            );
        }
    }
    // Inline code that loads a CMP's script (a preload or a script element it creates).
    for url in scan.code_urls.iter().filter_map(|u| resolve(base, u)) {
        if let Some(cmp) = cmps.iter().find(|c| c.owns_script(&url)) {
            g.add(
                EvidenceKind::CmpScript,
                format!("{} loaded by inline code: {url}", cmp.name),
            );
            g.name(cmp, Strength::Script);
        }
    }
    for el in doc.select(&SCRIPTED_CONTROLS) {
        let v = el.value();
        let code = [v.attr("href"), v.attr("onclick")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        for (i, _, marker) in knowledge.cmp_markers.find(&code) {
            let cmp = &cmps[i];
            g.add(
                EvidenceKind::CmpConfig,
                format!("{}: a control calls {marker}", cmp.name),
            );
            g.name(cmp, Strength::Config);
        }
        if code.contains("__tcfapi(") {
            g.add(
                EvidenceKind::CmpStub,
                "a control calls the IAB TCF API (__tcfapi)".into(),
            );
        }
    }
    if signals.tcf {
        g.add(
            EvidenceKind::CmpStub,
            "IAB TCF API stub (__tcfapi) in an inline script".into(),
        );
        let by_id = signals
            .tcf_cmp_id
            .and_then(|id| cmps.iter().find(|c| c.tcf_cmp_ids.contains(&id)));
        if let Some(cmp) = by_id {
            g.name(cmp, Strength::TcfId);
        }
    }
    // Markup traces name a CMP that no script, hint or configuration named; each selector is a
    // walk over the whole page, so they are not asked when a stronger trace has answered.
    let named = g.named.iter().any(|(_, s)| *s <= Strength::Config);
    let names = (!named).then(|| PageNames::of(doc));
    for cmp in cmps.iter().filter(|_| !named) {
        let found = cmp
            .markup
            .iter()
            .filter(|(_, needs)| names.as_ref().is_some_and(|n| n.has_all(needs)))
            .find_map(|(s, _)| doc.select(s).next());
        if let Some(el) = found {
            g.add(
                EvidenceKind::CmpConfig,
                format!(
                    "{}: markup of its integration (<{}>)",
                    cmp.name,
                    opening(el)
                ),
            );
            g.name(cmp, Strength::Markup);
        }
    }
    // The page-wide searches for traces of a home-made mechanism run only when nothing else
    // was found: one trace is enough to say a browser must show the banner.
    if g.evidence.is_empty() {
        if let Some(label) = reopening_control(doc, knowledge) {
            g.add(
                EvidenceKind::CmpConfig,
                format!("a control reopens the consent choices: {label:?}"),
            );
        } else if let Some(shell) = empty_banner_shell(doc) {
            g.add(
                EvidenceKind::BannerMarkup,
                format!("empty <{shell}> (a script fills it)"),
            );
        }
    }
    g.choose();
    g
}

/// A control whose class or id says it opens the consent manager (`atm-cmp-link`, `open-cmp`):
/// its `href` is only a fallback the manager's script replaces.
fn names_a_cmp(control: ElementRef<'_>) -> bool {
    let v = control.value();
    v.id().into_iter().chain(v.classes()).any(|name| {
        name.split(['-', '_'])
            .any(|part| part.eq_ignore_ascii_case("cmp"))
    })
}

/// A control that acts in place (or names a CMP) and whose short label speaks of cookie or consent settings
/// ("Cookie settings", "Gestion des cookies", "Odvolat souhlas"): sites put one in the footer to
/// reopen their consent manager, so one exists even when its banner is not in the page.
fn reopening_control(doc: &Html, knowledge: &Knowledge) -> Option<String> {
    let lexicons = knowledge.lexicons.all();
    doc.select(&CONTROLS)
        .filter(|c| acts_in_place(*c) || names_a_cmp(*c))
        .map(control_label)
        .filter(|label| label.len() <= MAX_REOPEN_LABEL)
        .find(|label| {
            let norm = normalize(label);
            let has =
                |l: &crate::knowledge::lexicon::Lexicon, cat| l.all_in(cat, &norm).next().is_some();
            // Cookie words first: most labels have none, and the test ends there.
            !norm.is_empty()
                && norm.split(' ').count() <= 6
                && lexicons.iter().any(|l| {
                    has(l, PhraseKind::CookieTerms)
                        && (has(l, PhraseKind::Settings) || has(l, PhraseKind::Withdraw))
                })
        })
}

/// An empty element named as a consent banner (`<swc-cookie-banner>`, `<div id="cookie-consent-banner">`)
/// that a script will fill.
fn empty_banner_shell(doc: &Html) -> Option<String> {
    const SUBJECT: [&str; 2] = ["cookie", "consent"];
    const WHAT: [&str; 8] = [
        "banner", "notice", "popup", "bar", "modal", "dialog", "wall", "layer",
    ];
    doc.tree.nodes().find_map(|node| {
        let e = node.value().as_element()?;
        let name = if e.name().contains('-') {
            e.name()
        } else {
            e.id()?
        };
        let lower = name.to_ascii_lowercase();
        let named =
            SUBJECT.iter().any(|w| lower.contains(w)) && WHAT.iter().any(|w| lower.contains(w));
        let empty = node
            .children()
            .all(|c| c.value().as_text().is_some_and(|t| t.trim().is_empty()));
        (named && empty).then(|| {
            if e.name().contains('-') {
                e.name().to_owned()
            } else {
                format!("{} id=\"{name}\"", e.name())
            }
        })
    })
}

/// A script element that carries data for an application (`application/json`, Next.js and Nuxt
/// state), not metadata for search engines (`ld+json`).
fn is_app_data(v: &scraper::node::Element) -> bool {
    let kind = v.attr("type").unwrap_or_default().to_ascii_lowercase();
    kind == "application/json" || matches!(v.id(), Some("__NEXT_DATA__" | "__NUXT_DATA__"))
}

/// An element's name and attributes, as evidence.
fn opening(el: ElementRef<'_>) -> String {
    let v = el.value();
    let mut out = v.name().to_owned();
    for (k, val) in v.attrs().filter(|(k, _)| *k != "src").take(4) {
        let val: String = val.chars().take(40).collect();
        out.push_str(&format!(" {k}=\"{val}\""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gathered(html: &str) -> (Vec<ConsentEvidence>, Option<String>) {
        let knowledge = Knowledge::embedded();
        let doc = Html::parse_document(html);
        let base = Url::parse("https://www.example.de/").unwrap();
        let scan = super::super::trackers::scan(&doc, Some(&base), &knowledge);
        let g = gather(&doc, Some(&base), &knowledge, &scan);
        (g.evidence, g.cmp.map(|c| c.id.clone()))
    }

    #[test]
    fn a_loader_script_names_its_cmp() {
        let (evidence, cmp) = gathered(
            r#"<head><script src="https://cdn.cookielaw.org/scripttemplates/otSDKStub.js" data-domain-script="0190-ab"></script></head>"#,
        );
        assert_eq!(cmp.as_deref(), Some("onetrust"));
        assert_eq!(evidence[0].kind, EvidenceKind::CmpScript);
    }

    #[test]
    fn a_protocol_relative_hint_counts_and_a_stub_without_vendor_is_evidence() {
        let (evidence, cmp) = gathered(
            r#"<head><link rel="preconnect" href="//sdk.privacy-center.org"><script>window.__tcfapi = function(){ (window.__tcfapi.a = window.__tcfapi.a || []).push(arguments) };</script></head>"#,
        );
        assert_eq!(cmp.as_deref(), Some("didomi"));
        assert!(evidence.iter().any(|e| e.kind == EvidenceKind::CmpStub));
    }

    #[test]
    fn inline_code_that_loads_a_cmp_names_it() {
        let (evidence, cmp) = gathered(
            r#"<script>var link = document.createElement('link'); link.rel = 'preload'; link.href = 'https://consent.example-news.de/unified/wrapperMessagingWithoutDetection.js'; document.head.appendChild(link);</script>"#,
        );
        assert_eq!(cmp.as_deref(), Some("sourcepoint"), "{evidence:?}");
    }

    #[test]
    fn a_bare_host_hint_names_a_cmp_whose_cdn_serves_other_files_too() {
        let (_, cmp) = gathered(r#"<link rel="preconnect" href="//cdn.iubenda.com">"#);
        assert_eq!(cmp.as_deref(), Some("iubenda"));
        // iubenda.js embeds a hosted privacy policy: no Cookie Solution.
        let (evidence, _) =
            gathered(r#"<script src="https://cdn.iubenda.com/iubenda.js"></script>"#);
        assert!(evidence.is_empty(), "{evidence:?}");
    }

    #[test]
    fn a_footer_link_named_for_the_cmp_reopens_it_whatever_its_href() {
        let (evidence, _) = gathered(
            r#"<footer><a href="https://www.example.cz" class="e_m atm-cmp-link">Odvolat souhlas</a></footer>"#,
        );
        assert!(
            evidence
                .iter()
                .any(|e| e.detail.contains("Odvolat souhlas")),
            "{evidence:?}"
        );
        let (evidence, _) = gathered(
            r#"<script src="/wp-content/plugins/ultimate-member/assets/js/um-gdpr.min.js"></script>"#,
        );
        assert!(evidence.is_empty(), "{evidence:?}");
    }

    #[test]
    fn a_cookie_name_counts_only_as_a_string() {
        let (evidence, _) = gathered(r#"<script>var s = "OptanonConsentGroups";</script>"#);
        assert!(evidence.is_empty(), "{evidence:?}");
        let (evidence, cmp) = gathered(
            r#"<script>if (document.cookie.indexOf("OptanonAlertBoxClosed=") < 0) {}</script>"#,
        );
        assert_eq!(cmp.as_deref(), Some("onetrust"), "{evidence:?}");
    }

    #[test]
    fn code_that_waits_for_consent_is_evidence() {
        let (evidence, _) = gathered(
            r#"<script>WP.gdpr.runAfterConsent(function() { WP.getScript({ src: '//platform.instagram.com/en_US/embeds.js' }); });</script>"#,
        );
        assert_eq!(evidence[0].kind, EvidenceKind::CmpConfig, "{evidence:?}");
    }

    #[test]
    fn an_ordinary_page_has_no_evidence() {
        let (evidence, cmp) = gathered(
            r#"<head><script src="/assets/app.3f9a.js"></script><script>var x = 1;</script></head><body><p>Hallo</p></body>"#,
        );
        assert!(evidence.is_empty() && cmp.is_none(), "{evidence:?}");
    }
}
