//! What makes an element a consent-banner candidate, and how good a candidate it is: consent
//! words in its attributes, a dialog's role or position, cookie vocabulary, choice controls, a
//! banner's size; page landmarks, forms and notices shown after a refusal are not banners.

use std::collections::HashSet;
use std::sync::LazyLock;

use scraper::{ElementRef, Selector};

use super::controls::{CONTROLS, control_label};
use super::dom::{all_text, is_hidden, visible_text};
use super::roles::guess_role_fast;
use crate::facts::Role;
use crate::knowledge::Knowledge;
use crate::knowledge::lexicon::PhraseKind;
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
pub(super) const MAX_BANNER_CHARS: usize = 6000;

pub(super) fn attribute_hint(el: ElementRef<'_>) -> bool {
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
pub(super) fn has_hint_word(value: &str) -> bool {
    HINT_WORDS
        .iter()
        .any(|w| contains_ignore_ascii_case(value.as_bytes(), w.as_bytes()))
}

pub(super) fn contains_ignore_ascii_case(hay: &[u8], lower_needle: &[u8]) -> bool {
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
pub(super) fn hinted_or_dialog(el: ElementRef<'_>) -> bool {
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
pub(super) fn after_refusal(
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
        .any(|l| l.all_in(PhraseKind::AfterRefusal, &norm).next().is_some())
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
pub(super) fn score(
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
        .flat_map(|l| l.all_in(PhraseKind::CookieTerms, &norm))
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
    use scraper::Html;

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
}
