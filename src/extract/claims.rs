//! Statements in the banner text that rules care about, each kept with the phrase that matched.

use crate::facts::{Category, Claims};
use crate::knowledge::lexicon::{Lexicon, PhraseKind};
use crate::text::{contains_phrase, normalize};

pub fn read_claims(text: &str, lexicons: &[&Lexicon]) -> Claims {
    let norm = normalize(text);
    let found = |cat: PhraseKind| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for lex in lexicons {
            for p in lex.all_in(cat, &norm) {
                // A shorter phrase inside a longer match adds nothing.
                if !out.iter().any(|o| contains_phrase(&normalize(o), &p.norm)) {
                    out.retain(|o| !contains_phrase(&p.norm, &normalize(o)));
                    out.push(p.raw.clone());
                }
            }
        }
        out
    };
    let purposes = [
        (Category::Analytics, PhraseKind::PurposeAnalytics),
        (Category::Advertising, PhraseKind::PurposeAdvertising),
        (Category::Social, PhraseKind::PurposeSocial),
        (Category::Preferences, PhraseKind::PurposePreferences),
        (Category::Necessary, PhraseKind::PurposeNecessary),
    ]
    .into_iter()
    .filter(|(_, cat)| {
        lexicons
            .iter()
            .any(|l| l.all_in(*cat, &norm).next().is_some())
    })
    .map(|(c, _)| c)
    .collect();
    Claims {
        implied_consent: found(PhraseKind::ImpliedConsent),
        cookie_wall: found(PhraseKind::CookieWall),
        legitimate_interest: found(PhraseKind::LegitimateInterest),
        withdraw: found(PhraseKind::Withdraw),
        consent_coupled: found(PhraseKind::ConsentCoupled),
        refusal_consequences: found(PhraseKind::RefusalConsequences),
        terms_bundled: found(PhraseKind::TermsBundled),
        partners: found(PhraseKind::Partners),
        purposes,
        vague_purposes: found(PhraseKind::VaguePurpose),
        partner_count: partner_count(&norm, lexicons),
        controller: controller(text, lexicons),
    }
}

/// "our 843 partners", "avec nos 250 partenaires": a number shortly before a partners word.
fn partner_count(norm: &str, lexicons: &[&Lexicon]) -> Option<u32> {
    let words: Vec<&str> = norm.split(' ').collect();
    words.iter().enumerate().find_map(|(i, w)| {
        let n: u32 = w.parse().ok().filter(|n| (2..100_000).contains(n))?;
        let after = words[i + 1..words.len().min(i + 5)].join(" ");
        lexicons
            .iter()
            .any(|l| l.all_in(PhraseKind::Partners, &after).next().is_some())
            .then_some(n)
    })
}

/// The name after an introducing phrase ("processed by", "au traitement par"), when it looks like one.
fn controller(text: &str, lexicons: &[&Lexicon]) -> Option<String> {
    let lower = text.to_lowercase();
    for lex in lexicons {
        for intro in lex.phrases(PhraseKind::ControllerIntro) {
            let Some(pos) = lower.find(&intro.raw) else {
                continue;
            };
            let start = pos + intro.raw.len();
            if !text.is_char_boundary(start) {
                continue;
            }
            let rest = text[start..].trim_start();
            let end = [
                " de ", " of ", " von ", " di ", " del ", ",", ".", ";", " (", " pour ", " for ",
                " zu ", " to ",
            ]
            .iter()
            .filter_map(|stop| rest.find(stop))
            .min()
            .unwrap_or(rest.len())
            .min(80);
            let end = (0..=end)
                .rev()
                .find(|&i| rest.is_char_boundary(i))
                .unwrap_or(0);
            let name = rest[..end]
                .trim()
                .trim_matches(|c: char| c == '"' || c == '\'' || c == ':');
            if name.chars().any(char::is_uppercase)
                && name.split_whitespace().count() <= 8
                && !name.is_empty()
            {
                return Some(name.to_owned());
            }
        }
    }
    None
}
