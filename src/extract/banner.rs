//! Finding the consent banner: CMP signatures first, then a generic, scored search that wants
//! both cookie vocabulary and choice controls in one banner-sized container.

use std::collections::HashSet;
use std::sync::LazyLock;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};

use super::candidate::{
    MAX_BANNER_CHARS, acts_in_place, after_refusal, contains_ignore_ascii_case, has_hint_word,
    hinted_or_dialog, score,
};
use super::controls::{CONTROLS, control_label};
use super::dom::{all_text, is_hidden};
use super::roles::{RoleGuess, guess_role_fast};
use crate::facts::{Detection, Markup, Role};
use crate::knowledge::Knowledge;
use crate::knowledge::cmp::Cmp;
use crate::knowledge::lexicon::PhraseKind;
use crate::knowledge::selectors::{PageNames, needed_names};
use crate::text::normalize;

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
        .any(|l| l.all_in(PhraseKind::CookieTerms, &norm).next().is_some());
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

#[cfg(test)]
mod tests {
    use super::*;

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
