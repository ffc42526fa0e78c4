//! Finding the consent banner: CMP signatures first, then a generic, scored search that wants
//! both cookie vocabulary and choice controls in one banner-sized container.

use std::collections::HashSet;
use std::sync::LazyLock;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};

use super::controls::{CONTROLS, RoleGuess, control_label, guess_role_fast};
use super::dom::{all_text, is_hidden, visible_text};
use crate::facts::{Detection, Markup, Role};
use crate::knowledge::Knowledge;
use crate::knowledge::cmp::Cmp;
use crate::knowledge::lexicon::Cat;
use crate::knowledge::selectors::{PageNames, needed_names};
use crate::text::{contains_phrase, normalize};

/// Attribute words that mark a consent container, in the languages CMPs and themes use.
const HINT_WORDS: [&str; 14] = [
    "cookie",
    "consent",
    "gdpr",
    "rgpd",
    "dsgvo",
    "privacy",
    "datenschutz",
    "cmp",
    "tracking",
    "eu-law",
    "cnil",
    "lgpd",
    "ccpa",
    "biscuit",
];

/// A notice says something: a hinted container with less text is a menu entry or a button.
const MIN_NOTICE_CHARS: usize = 40;

/// More links than this make a menu or a footer, not a banner.
const MAX_BANNER_LINKS: usize = 12;

/// Text longer than this is a page section, not a banner.
const MAX_BANNER_CHARS: usize = 6000;

pub struct Detected<'a> {
    /// The document the banner is in: the page, or markup parsed from its templates.
    pub doc: &'a Html,
    pub root: ElementRef<'a>,
    pub cmp: Option<&'a Cmp>,
    pub detection: Detection,
    pub root_selector: String,
    /// Roots of a second layer (preference centre) present in the DOM.
    pub second_layers: Vec<ElementRef<'a>>,
    pub markup: Markup,
}

static TEMPLATE_SCRIPTS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("script[type]").expect("static selector"));

/// Markup that scripts clone in from template-typed `<script>` elements (`text/template`,
/// `text/html`, `text/x-template`...), parsed as a document of its own when it speaks of
/// consent. Browsers never parse it, so the main document holds it as text only.
pub fn script_templates(doc: &Html) -> Option<Html> {
    let mut markup = String::new();
    for script in doc.select(&TEMPLATE_SCRIPTS) {
        let kind = script
            .value()
            .attr("type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !(kind.contains("template") || kind == "text/html") {
            continue;
        }
        let text: String = script.text().collect();
        if has_hint_word(&text) {
            // Templates wrapped for XHTML: HTML parsing would read `<![CDATA[` as a comment
            // that swallows the first tag.
            markup.push_str(&text.replace("<![CDATA[", "").replace("]]>", ""));
        }
    }
    (!markup.is_empty())
        .then(|| super::dom::parse_document(&format!("<html><body>{markup}</body></html>")))
}

/// A banner root matched by a CMP signature, with content a visitor would see.
pub fn by_signature<'a, 'k>(
    doc: &'a Html,
    names: &PageNames<'_>,
    knowledge: &'k Knowledge,
) -> Option<(ElementRef<'a>, &'k Cmp, String)> {
    for cmp in &knowledge.cmps {
        for (css, selector) in &cmp.roots {
            if !may_match(names, css) {
                continue;
            }
            if let Some(root) = doc.select(selector).find(|r| has_content(*r)) {
                return Some((root, cmp, css.clone()));
            }
        }
    }
    None
}

/// A selector list of which every alternative needs a name the page lacks cannot match.
fn may_match(names: &PageNames<'_>, css: &str) -> bool {
    css.split(',')
        .any(|alternative| names.has_all(&needed_names(alternative)))
}

/// A CMP root with something to show (an empty shell is filled in by the CMP's script).
fn has_content(root: ElementRef<'_>) -> bool {
    root.text().any(|t| !t.trim().is_empty()) || root.select(&CONTROLS).next().is_some()
}

/// How the banner's markup ships: in a `<template>`, hidden until a script shows it, or live.
pub fn markup_of(root: ElementRef<'_>) -> Markup {
    let in_template = root
        .ancestors()
        .filter_map(|n| n.value().as_element())
        .any(|e| e.name() == "template");
    if in_template {
        Markup::Template
    } else if is_hidden(root) || hidden_by_class(root) {
        Markup::Hidden
    } else {
        Markup::Live
    }
}

/// A class that stylesheets use to hide an element until a script shows it (`hidden`,
/// `d-none`, `cookie-notice-hidden`, `cmplz-hidden`...), on the element or an ancestor.
fn hidden_by_class(el: ElementRef<'_>) -> bool {
    std::iter::once(*el)
        .chain(el.ancestors())
        .filter_map(|n| n.value().as_element())
        .flat_map(|e| e.classes())
        .any(|c| {
            let c = c.to_ascii_lowercase();
            matches!(c.as_str(), "hide" | "d-none" | "invisible" | "display-none")
                || c == "hidden"
                || c.ends_with("-hidden")
                || c.ends_with("--hidden")
                || c.ends_with("_hidden")
        })
}

/// Second-layer roots of a CMP present in the DOM.
pub fn second_layers<'a>(doc: &'a Html, cmp: Option<&Cmp>) -> Vec<ElementRef<'a>> {
    cmp.map(|c| {
        c.preference_center
            .iter()
            .flat_map(|s| doc.select(s))
            .collect()
    })
    .unwrap_or_default()
}

/// Elements the filter lists name as consent banners on this host: the best one with something
/// to read, or else the selectors of the empty shells a script will fill.
pub fn by_lists<'a>(
    doc: &'a Html,
    names: &PageNames<'_>,
    knowledge: &'a Knowledge,
    host: &str,
    page_langs: &[&str],
) -> (Option<ElementRef<'a>>, Vec<&'a str>) {
    let lexicons = knowledge.lexicons.ordered(page_langs, true);
    let mut shells = Vec::new();
    let mut best: Option<(f64, ElementRef<'a>)> = None;
    for list in &knowledge.lists {
        for m in list.cosmetic.matches(doc, names, host) {
            if matches!(m.element.value().name(), "body" | "html" | "main")
                || after_refusal(m.element, &lexicons)
            {
                continue;
            }
            match list_score(m.element, &lexicons, knowledge) {
                Some(s) if best.is_none_or(|(b, _)| s > b) => best = Some((s, m.element)),
                Some(_) => {}
                None if names_consent(m.css) && !shells.contains(&m.css) => shells.push(m.css),
                None => {}
            }
        }
    }
    (best.map(|(_, e)| e), shells)
}

/// A selector that speaks of consent: an empty element it names is a banner shell. (Lists also
/// hide comment-form privacy notes and the like, which prove nothing.)
fn names_consent(css: &str) -> bool {
    const WORDS: [&str; 6] = ["cookie", "consent", "gdpr", "rgpd", "dsgvo", "cmp"];
    WORDS
        .iter()
        .any(|w| contains_ignore_ascii_case(css.as_bytes(), w.as_bytes()))
}

/// A list match is a banner when it reads like one: the generic score, or cookie vocabulary
/// with a control to act on (the list vouches for the rest).
fn list_score(
    el: ElementRef<'_>,
    lexicons: &[&crate::knowledge::lexicon::Lexicon],
    knowledge: &Knowledge,
) -> Option<f64> {
    if let Some(s) = score(el, lexicons, knowledge, true) {
        return Some(s);
    }
    let text = all_text(el);
    if text.len() < 15 || text.len() > MAX_BANNER_CHARS {
        return None;
    }
    let norm = normalize(&text);
    let speaks_of_cookies = lexicons
        .iter()
        .any(|l| l.all_in(Cat::CookieTerms, &norm).next().is_some());
    (speaks_of_cookies && el.select(&CONTROLS).any(acts_in_place)).then_some(1.0)
}

/// The best generic candidate: cookie vocabulary, choice controls, a banner's size.
pub fn generic<'a>(
    doc: &'a Html,
    knowledge: &Knowledge,
    page_langs: &[&str],
) -> Option<ElementRef<'a>> {
    let mut candidates: Vec<ElementRef<'a>> = Vec::new();
    let mut seen: HashSet<NodeId> = HashSet::new();
    let mut push = |e: ElementRef<'a>, candidates: &mut Vec<ElementRef<'a>>| {
        if seen.insert(e.id()) {
            candidates.push(e);
        }
    };
    for control in doc.select(&CONTROLS) {
        let label = control_label(control);
        let guess = guess_role_fast(&knowledge.lexicons, &label, control.value().name() != "a");
        if matches!(
            guess,
            Some(RoleGuess {
                role: Role::Accept | Role::Reject | Role::Acknowledge | Role::Settings,
                ..
            })
        ) {
            for ancestor in control.ancestors().filter_map(ElementRef::wrap).take(12) {
                if matches!(ancestor.value().name(), "body" | "html") {
                    break;
                }
                push(ancestor, &mut candidates);
            }
        }
    }
    for node in doc.tree.nodes() {
        if let Some(el) = ElementRef::wrap(node)
            && hinted_or_dialog(el)
        {
            push(el, &mut candidates);
        }
    }
    let lexicons = knowledge.lexicons.ordered(page_langs, true);
    let mut scored: Vec<(f64, ElementRef<'a>)> = candidates
        .into_iter()
        .filter(|c| {
            !matches!(
                c.value().name(),
                "body" | "html" | "head" | "main" | "article" | "nav" | "script" | "style"
            )
        })
        .filter_map(|c| score(c, &lexicons, knowledge, false).map(|s| (s, c)))
        .collect();
    // Best first (the later of equals, as before); who the notice speaks to is asked of the
    // winners only.
    scored.reverse();
    scored.sort_by(|(a, _), (b, _)| b.total_cmp(a));
    scored
        .into_iter()
        .map(|(_, c)| c)
        .find(|c| !after_refusal(*c, &lexicons))
}

fn attribute_hint(el: ElementRef<'_>) -> bool {
    let v = el.value();
    let mut attrs = v
        .id()
        .into_iter()
        .chain(v.classes())
        .chain(v.attr("aria-label"))
        .chain(v.attr("aria-labelledby"));
    attrs.any(has_hint_word)
}

/// Does an attribute value contain a hint word, ignoring ASCII case (without allocating:
/// this runs on every attribute of every element).
fn has_hint_word(value: &str) -> bool {
    HINT_WORDS
        .iter()
        .any(|w| contains_ignore_ascii_case(value.as_bytes(), w.as_bytes()))
}

fn contains_ignore_ascii_case(hay: &[u8], lower_needle: &[u8]) -> bool {
    hay.len() >= lower_needle.len()
        && hay
            .windows(lower_needle.len())
            .any(|w| w.eq_ignore_ascii_case(lower_needle))
}

fn is_dialog(el: ElementRef<'_>) -> bool {
    let v = el.value();
    matches!(v.attr("role"), Some("dialog" | "alertdialog"))
        || v.attr("aria-modal") == Some("true")
        || v.name() == "dialog"
        || v.attr("style").is_some_and(style_fixed)
}

/// `position:fixed` or `position:sticky` once spaces are removed and ASCII lowercased.
fn style_fixed(style: &str) -> bool {
    compact_contains(style.as_bytes(), b"position:fixed")
        || compact_contains(style.as_bytes(), b"position:sticky")
}

/// Would `hay` with every `' '` removed and ASCII lowercased contain `lower_needle`? The
/// answer of `hay.replace(' ', "").to_ascii_lowercase().contains(..)`, without allocating.
fn compact_contains(hay: &[u8], lower_needle: &[u8]) -> bool {
    (0..hay.len()).any(|start| {
        if hay[start] == b' ' {
            return false;
        }
        let mut i = start;
        for &n in lower_needle {
            while i < hay.len() && hay[i] == b' ' {
                i += 1;
            }
            if i == hay.len() || hay[i].to_ascii_lowercase() != n {
                return false;
            }
            i += 1;
        }
        true
    })
}

/// `attribute_hint(el) || is_dialog(el)` in one pass over the element's attributes: the
/// generic search asks it of every element of the page.
fn hinted_or_dialog(el: ElementRef<'_>) -> bool {
    let v = el.value();
    if v.name() == "dialog" {
        return true;
    }
    // The first attribute of a name is the one `attr`, `id` and `classes` read (the parser
    // drops duplicates anyway). Hint words hold no whitespace, so a class attribute contains
    // one exactly when one of its classes does: no need to split (and intern) the classes.
    let mut seen = [false; 7];
    for (name, value) in &v.attrs {
        let slot = match &*name.local {
            "id" => 0,
            "class" => 1,
            "aria-label" => 2,
            "aria-labelledby" => 3,
            "role" => 4,
            "aria-modal" => 5,
            "style" => 6,
            _ => continue,
        };
        // `attr` reads attributes without a namespace only; `id` and `classes` read any.
        let plain = name.prefix.is_none() && name.ns.is_empty();
        if slot >= 2 && !plain || std::mem::replace(&mut seen[slot], true) {
            continue;
        }
        let value: &str = value;
        let hit = match slot {
            0..=3 => has_hint_word(value),
            4 => matches!(value, "dialog" | "alertdialog"),
            5 => value == "true",
            _ => style_fixed(value),
        };
        if hit {
            return true;
        }
    }
    false
}

/// Footers, headers and menus hold cookie links and "OK" buttons of their own; they are banners
/// only when they say so in their attributes.
fn is_page_landmark(el: ElementRef<'_>) -> bool {
    let v = el.value();
    matches!(v.name(), "footer" | "header" | "nav" | "form")
        || matches!(
            v.attr("role"),
            Some("contentinfo" | "navigation" | "banner" | "search")
        )
}

static TEXT_ENTRY: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(r#"textarea, input[type="email"], input[type="text"], input[type="search"], input[type="password"], input:not([type])"#)
        .expect("static selector")
});

/// A field to type in: newsletter, search and comment forms ask for text, consent notices do not.
fn has_text_entry(el: ElementRef<'_>) -> bool {
    el.select(&TEXT_ENTRY).next().is_some()
}

/// Does the notice (the candidate, or the consent container it sits in) speak to a visitor who
/// has already refused? Walls and reminders shown after a refusal are not the first layer.
fn after_refusal(
    candidate: ElementRef<'_>,
    lexicons: &[&crate::knowledge::lexicon::Lexicon],
) -> bool {
    // The outermost consent container a few levels up: the candidate may be its button row.
    let container = std::iter::once(candidate)
        .chain(candidate.ancestors().filter_map(ElementRef::wrap).take(3))
        .filter(|e| attribute_hint(*e))
        .last()
        .unwrap_or(candidate);
    let norm = normalize(&all_text(container));
    lexicons
        .iter()
        .any(|l| l.all_in(Cat::AfterRefusal, &norm).next().is_some())
}

/// A button, or a link that goes nowhere (`#`, `javascript:`): something clicked to decide.
pub fn acts_in_place(control: ElementRef<'_>) -> bool {
    let v = control.value();
    v.name() != "a"
        || v.attr("role") == Some("button")
        || v.attr("href")
            .is_none_or(|h| h.is_empty() || h.starts_with('#') || h.starts_with("javascript:"))
}

/// Scores a candidate; `None` when it is not a consent banner at all.
fn score(
    candidate: ElementRef<'_>,
    lexicons: &[&crate::knowledge::lexicon::Lexicon],
    knowledge: &Knowledge,
    listed: bool,
) -> Option<f64> {
    // Hidden markup counts only when it calls itself a consent container (or a list says it
    // is one): a script shows it.
    let hidden = is_hidden(candidate);
    let hint = listed || attribute_hint(candidate);
    if !hint && (hidden || is_page_landmark(candidate)) {
        return None;
    }
    if candidate.text().map(str::len).sum::<usize>() > MAX_BANNER_CHARS * 3 {
        return None;
    }
    let text = if hidden {
        all_text(candidate)
    } else {
        visible_text(candidate)
    };
    // The subtree search for form fields comes after the size checks: every ancestor of every
    // control is a candidate, and most are far too large to be one.
    if text.len() < 15 || text.len() > MAX_BANNER_CHARS || has_text_entry(candidate) {
        return None;
    }
    let norm = normalize(&text);
    let terms: HashSet<&str> = lexicons
        .iter()
        .flat_map(|l| l.all_in(Cat::CookieTerms, &norm))
        .map(|p| p.norm.as_str())
        .collect();
    if terms.is_empty() {
        return None;
    }
    let strong_term = terms
        .iter()
        .any(|t| t.contains("cookie") || t.contains("consent"))
        || terms.len() >= 2;
    let mut roles = HashSet::new();
    // Controls that act rather than navigate: a policy link alone makes no notice.
    let mut action_count = 0;
    let mut links = 0;
    for control in candidate.select(&CONTROLS).take(60) {
        let acts = acts_in_place(control);
        action_count += usize::from(acts);
        links += usize::from(!acts);
        let label = control_label(control);
        if let Some(g) = guess_role_fast(&knowledge.lexicons, &label, true) {
            roles.insert(g.role);
        }
    }
    // A consent notice always lets the visitor agree or acknowledge; a refusal alone
    // ("No thanks" under a newsletter form) is not one.
    let choice = roles.contains(&Role::Accept) || roles.contains(&Role::Acknowledge);
    // Hidden markup must offer the choice in words: "enable all cookies" on a click-to-load
    // placeholder is not a notice.
    let hinted_choice =
        hint && action_count > 0 && strong_term && !hidden && text.len() >= MIN_NOTICE_CHARS;
    if !(choice || hinted_choice) || links > MAX_BANNER_LINKS {
        return None;
    }
    let mut s = 2.0 * terms.len().min(3) as f64;
    s += [
        (Role::Accept, 3.0),
        (Role::Reject, 2.0),
        (Role::Settings, 1.0),
        (Role::Acknowledge, 1.0),
    ]
    .iter()
    .filter(|(r, _)| roles.contains(r))
    .map(|(_, w)| w)
    .sum::<f64>();
    if hint {
        s += 2.0;
    }
    if is_dialog(candidate) {
        s += 1.0;
    }
    if hidden {
        s -= 2.0;
    }
    if contains_phrase(&norm, "cookie") || contains_phrase(&norm, "cookies") {
        s += 1.0;
    }
    // Longer text is more likely a page section: each extra 600 characters costs a point.
    s -= (text.len().saturating_sub(400) as f64) / 600.0;
    (s >= 5.0).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_scans_agree_with_the_allocating_versions() {
        for style in [
            "position: fixed",
            "POSITION : Sticky;top:0",
            "posi tion:fi xed",
            "position:\tfixed",
            "display:block",
            "",
        ] {
            let compact = style.replace(' ', "").to_ascii_lowercase();
            let expected =
                compact.contains("position:fixed") || compact.contains("position:sticky");
            assert_eq!(style_fixed(style), expected, "{style:?}");
        }
        let doc = Html::parse_document(
            r#"<div id="x" class="A Cookie-Bar"></div><div style="position : FIXED"></div>
               <div role="alertdialog"></div><div aria-label="Privacy"></div><p class="lead">x</p>"#,
        );
        for node in doc.tree.nodes() {
            if let Some(el) = ElementRef::wrap(node) {
                assert_eq!(
                    hinted_or_dialog(el),
                    attribute_hint(el) || is_dialog(el),
                    "{:?}",
                    el.value()
                );
            }
        }
    }

    #[test]
    fn signatures_that_need_an_absent_name_are_not_tried() {
        let doc = Html::parse_document(
            r#"<div id="onetrust-banner-sdk"><p class="ot-sdk-row">x</p></div>"#,
        );
        let names = PageNames::of(&doc);
        assert!(may_match(&names, "#onetrust-banner-sdk .ot-sdk-row"));
        assert!(may_match(&names, "#absent, #onetrust-banner-sdk"));
        assert!(!may_match(&names, "#absent, .also-absent"));
    }
}
