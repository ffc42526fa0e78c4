//! Which language a banner speaks: its own `lang`, the page's, or detected from its text.

use scraper::ElementRef;
use whatlang::{Detector, Lang};

use crate::knowledge::lexicon::{Cat, Lexicons};
use crate::text::normalize;

/// ISO 639-3 (whatlang) to the ISO 639-1 codes our lexicons use.
const CODES: [(Lang, &str); 30] = [
    (Lang::Eng, "en"),
    (Lang::Fra, "fr"),
    (Lang::Deu, "de"),
    (Lang::Spa, "es"),
    (Lang::Ita, "it"),
    (Lang::Nld, "nl"),
    (Lang::Por, "pt"),
    (Lang::Pol, "pl"),
    (Lang::Swe, "sv"),
    (Lang::Dan, "da"),
    (Lang::Fin, "fi"),
    (Lang::Ces, "cs"),
    (Lang::Ron, "ro"),
    (Lang::Ell, "el"),
    (Lang::Hun, "hu"),
    (Lang::Slk, "sk"),
    (Lang::Slv, "sl"),
    (Lang::Hrv, "hr"),
    (Lang::Bul, "bg"),
    (Lang::Est, "et"),
    (Lang::Lav, "lv"),
    (Lang::Lit, "lt"),
    (Lang::Nob, "nb"),
    (Lang::Rus, "ru"),
    (Lang::Ukr, "uk"),
    (Lang::Tur, "tr"),
    (Lang::Cat, "ca"),
    (Lang::Srp, "sr"),
    (Lang::Lat, "la"),
    (Lang::Epo, "eo"),
];

/// `fr-FR` → `fr`; Norwegian variants → `nb`.
pub fn normalize_tag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.as_str() {
        "" => None,
        "no" | "nn" => Some("nb".into()),
        p if p.len() == 2 || p.len() == 3 => Some(p.to_owned()),
        _ => None,
    }
}

/// The nearest `lang` attribute on the element or its ancestors.
pub fn lang_attr(el: ElementRef<'_>) -> Option<String> {
    std::iter::once(*el)
        .chain(el.ancestors())
        .filter_map(|n| n.value().as_element())
        .find_map(|e| e.attr("lang").or_else(|| e.attr("xml:lang")))
        .and_then(normalize_tag)
}

/// Detects the language of a text: whatlang among the languages we know, backed by the lexicons
/// for short texts and languages whatlang lacks (Irish, Maltese, Icelandic).
pub fn detect(text: &str, lexicons: &Lexicons) -> Option<(String, bool)> {
    let allow: Vec<Lang> = CODES
        .iter()
        .filter(|(_, c)| lexicons.get(c).is_some())
        .map(|(l, _)| *l)
        .collect();
    let by_whatlang = Detector::with_allowlist(allow)
        .detect(text)
        .and_then(|info| {
            let code = CODES
                .iter()
                .find(|(l, _)| *l == info.lang())
                .map(|(_, c)| (*c).to_owned())?;
            Some((code, info.is_reliable() && text.chars().count() >= 60))
        });
    let by_lexicon = lexicon_vote(text, lexicons);
    match (by_whatlang, by_lexicon) {
        (Some((w, true)), _) => Some((w, true)),
        (_, Some((l, hits))) if hits >= 3 => Some((l, true)),
        (Some((w, false)), _) => Some((w, false)),
        (None, Some((l, _))) => Some((l, false)),
        (None, None) => None,
    }
}

/// The language whose banner vocabulary the text uses most.
fn lexicon_vote(text: &str, lexicons: &Lexicons) -> Option<(String, usize)> {
    let norm = normalize(text);
    const CATS: [Cat; 8] = [
        Cat::CookieTerms,
        Cat::Accept,
        Cat::Reject,
        Cat::Settings,
        Cat::PrivacyPolicy,
        Cat::Withdraw,
        Cat::Partners,
        Cat::PurposeAnalytics,
    ];
    lexicons
        .all()
        .iter()
        .map(|lex| {
            let hits: usize = CATS
                .iter()
                .map(|c| lex.all_in(*c, &norm).filter(|p| p.norm.len() > 3).count())
                .sum();
            (lex.language.clone(), hits)
        })
        .filter(|(_, hits)| *hits > 0)
        .max_by_key(|(_, hits)| *hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_reduced_to_their_primary_language() {
        assert_eq!(normalize_tag("fr-FR").as_deref(), Some("fr"));
        assert_eq!(normalize_tag("nn-NO").as_deref(), Some("nb"));
        assert_eq!(normalize_tag(""), None);
    }
}
