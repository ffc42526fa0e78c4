//! What a control's words say it does (accept, reject, settings...) and which purpose a toggle's
//! label names, by the lexicons: reading words, not the DOM.

use crate::facts::{Button, Category, Role};
use crate::knowledge::lexicon::{Lexicon, Lexicons, PhraseKind};
use crate::text::{contains_phrase, normalize};

/// Roles in the order they win ties: a refusal is never mistaken for consent.
const ROLE_CATS: [(Role, PhraseKind); 5] = [
    (Role::Reject, PhraseKind::Reject),
    (Role::Accept, PhraseKind::Accept),
    (Role::Settings, PhraseKind::Settings),
    (Role::Close, PhraseKind::Close),
    (Role::Acknowledge, PhraseKind::Acknowledge),
];

const CLOSE_MARKS: [&str; 3] = ["×", "x", "✕"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoleGuess {
    pub role: Role,
    pub exact: bool,
}

/// A role from the lexicons of every language: the exact label first, then phrases inside it.
pub fn guess_role_fast(
    lexicons: &Lexicons,
    label: &str,
    allow_contains: bool,
) -> Option<RoleGuess> {
    if label.len() > 80 {
        return None;
    }
    let ordered: Vec<&Lexicon> = lexicons.all().iter().collect();
    classify_label(&normalize(label), &ordered, allow_contains)
}

/// Role of a normalised label, the given lexicons deciding in order.
pub fn classify_label(
    norm: &str,
    lexicons: &[&Lexicon],
    allow_contains: bool,
) -> Option<RoleGuess> {
    if norm.is_empty() {
        return None;
    }
    if CLOSE_MARKS.contains(&norm) {
        return Some(RoleGuess {
            role: Role::Close,
            exact: true,
        });
    }
    for lex in lexicons {
        let exact = lex.exact_all(norm);
        if exact.is_empty() {
            continue;
        }
        if let Some((role, _)) = ROLE_CATS
            .iter()
            .find(|(_, cat)| exact.iter().any(|(c, _)| c == cat))
        {
            return Some(RoleGuess {
                role: *role,
                exact: true,
            });
        }
    }
    if !allow_contains {
        return None;
    }
    lexicons.iter().find_map(|lex| contained_role(lex, norm))
}

fn contained_role(lex: &Lexicon, norm: &str) -> Option<RoleGuess> {
    let hits: Vec<(Role, usize)> = ROLE_CATS
        .iter()
        .filter_map(|(role, cat)| lex.longest_in(*cat, norm).map(|p| (*role, p.words)))
        .collect();
    let reject = hits.iter().find(|h| h.0 == Role::Reject);
    let accept = hits.iter().find(|h| h.0 == Role::Accept);
    // "Continue without accepting", "accept only necessary": the refusal wins unless the
    // consent phrase is clearly the longer one.
    if let (Some(r), Some(a)) = (reject, accept)
        && r.1 + 1 >= a.1
    {
        return Some(RoleGuess {
            role: Role::Reject,
            exact: false,
        });
    }
    // More words decide; between equally long phrases the earlier role of ROLE_CATS wins
    // (`max_by_key` keeps the last maximum, hence the reversal).
    let best = hits.iter().copied().rev().max_by_key(|(_, words)| *words)?;
    let role = if best.0 == Role::Accept && lex.longest_in(PhraseKind::Negation, norm).is_some() {
        Role::Reject
    } else {
        best.0
    };
    Some(RoleGuess { role, exact: false })
}

/// An "OK" that the notice itself says gives consent when clicked ("Mit Klick auf „OK“ geben
/// Sie diese Einwilligung") accepts; elsewhere an "OK" only acknowledges an information notice
/// (DESIGN.md). The notice's words decide, not the CMP's wiring.
pub fn accept_by_wording(buttons: &mut [Button], text: &str, lexicons: &[&Lexicon]) {
    // The sentences that say a click consents, each normalised.
    let sentences: Vec<String> = text
        .split(['.', '!', '?', ';'])
        .map(normalize)
        .filter(|s| {
            lexicons
                .iter()
                .any(|l| l.all_in(PhraseKind::ClickConsent, s).next().is_some())
        })
        .collect();
    if sentences.is_empty() {
        return;
    }
    for b in buttons.iter_mut().filter(|b| b.role == Role::Acknowledge) {
        let label = normalize(&b.label);
        if !label.is_empty() && sentences.iter().any(|s| contains_phrase(s, &label)) {
            b.role = Role::Accept;
        }
    }
}

/// The purpose a label names, by the lexicons of the banner's languages.
pub fn purpose_category(lexicons: &[&Lexicon], label: &str) -> Option<Category> {
    let norm = normalize(label);
    const PURPOSES: [(Category, PhraseKind); 5] = [
        (Category::Necessary, PhraseKind::PurposeNecessary),
        (Category::Advertising, PhraseKind::PurposeAdvertising),
        (Category::Analytics, PhraseKind::PurposeAnalytics),
        (Category::Social, PhraseKind::PurposeSocial),
        (Category::Preferences, PhraseKind::PurposePreferences),
    ];
    PURPOSES
        .iter()
        .filter_map(|(category, cat)| {
            lexicons
                .iter()
                .filter_map(|l| l.longest_in(*cat, &norm))
                .map(|p| (p.words, p.norm.len()))
                .max()
                .map(|k| (k, *category))
        })
        .max_by_key(|(k, _)| *k)
        .map(|(_, c)| c)
}

/// CMPs name their toggles after the category: `C0002`, `statistics`, `marketing`...
pub(super) fn category_from_identifier(hints: &str) -> Option<Category> {
    // "non-essential-marketing" is marketing: a negated "essential" says nothing.
    let h = hints
        .to_ascii_lowercase()
        .replace("nonessential", "")
        .replace("non-essential", "")
        .replace("non_essential", "")
        .replace("non-necessary", "");
    let table: [(&[&str], Category); 5] = [
        (
            &[
                "necessary",
                "essential",
                "required",
                "strictly",
                "technical",
                "functional-required",
            ],
            Category::Necessary,
        ),
        (
            &["marketing", "advertis", "ads", "targeting"],
            Category::Advertising,
        ),
        (
            &[
                "statistic",
                "analytic",
                "performance",
                "measurement",
                "audience",
            ],
            Category::Analytics,
        ),
        (&["social", "media"], Category::Social),
        (
            &["preference", "functional", "personali"],
            Category::Preferences,
        ),
    ];
    table
        .iter()
        .find(|(words, _)| words.iter().any(|w| h.contains(w)))
        .map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_name_their_category() {
        assert_eq!(
            category_from_identifier("C0002 statistics"),
            Some(Category::Analytics)
        );
        assert_eq!(
            category_from_identifier("strictly-necessary"),
            Some(Category::Necessary)
        );
        assert_eq!(
            category_from_identifier("non-essential-marketing"),
            Some(Category::Advertising)
        );
        assert_eq!(category_from_identifier("nonessential"), None);
    }
}
