//! Which language a banner speaks: its own `lang`, the page's, or detected from its text.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};
use whatlang::{Detector, Lang};

use crate::knowledge::lexicon::{Lexicons, PhraseKind};
use crate::text::normalize;

/// ISO 639-1 code of every language whatlang knows, indexed by `Lang as usize`.
const CODES: [&str; 70] = [
    "eo", "en", "ru", "zh", "es", "pt", "it", "bn", "fr", "de", "uk", "ka", "ar", "hi", "ja", "he",
    "yi", "pl", "am", "jv", "ko", "nb", "da", "sv", "fi", "tr", "nl", "hu", "cs", "el", "bg", "be",
    "mr", "kn", "ro", "sl", "hr", "sr", "mk", "lt", "lv", "et", "ta", "vi", "ur", "th", "gu", "uz",
    "pa", "az", "id", "te", "fa", "ml", "or", "my", "ne", "si", "km", "tk", "ak", "zu", "sn", "af",
    "la", "sk", "ca", "tl", "hy", "cy",
];

/// Text this long gives whatlang enough trigrams to overrule a page's `lang` attribute.
const OVERRULE_CHARS: usize = 200;
/// How much page text is sampled for its language.
const SAMPLE_CHARS: usize = 1200;

fn code(lang: Lang) -> &'static str {
    CODES[lang as usize]
}

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

static PARAGRAPHS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("body p, body h1, body h2, body li").expect("static selector")
});
static BODY: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("body").expect("static selector"));

/// The language of the page's content. The declared `lang` (or `Content-Language`) stands unless
/// a long enough sample of the text says otherwise with confidence: templates often keep the
/// `lang` of the theme they came from. `None` when neither says anything.
pub fn page_language(doc: &Html, declared: Option<String>) -> Option<String> {
    let sample = text_sample(doc);
    let detected = whatlang::detect(&sample).map(|info| {
        let long = sample.chars().count() >= OVERRULE_CHARS;
        (code(info.lang()).to_owned(), info.is_reliable() && long)
    });
    match (declared, detected) {
        (Some(declared), Some((found, true))) if found != declared => Some(found),
        (Some(declared), _) => Some(declared),
        (None, Some((found, _))) if sample.chars().count() >= 40 => Some(found),
        (None, _) => None,
    }
}

/// Visible text of the page's paragraphs and headings (its running text rather than its
/// menus), or of the whole body when it has none, up to [`SAMPLE_CHARS`].
fn text_sample(doc: &Html) -> String {
    let mut sample = String::new();
    for el in doc.select(&PARAGRAPHS) {
        if sample.len() >= SAMPLE_CHARS {
            break;
        }
        if super::dom::is_hidden(el) {
            continue;
        }
        sample.push_str(&super::dom::visible_text(el));
        sample.push(' ');
    }
    if sample.trim().is_empty() {
        sample = doc
            .select(&BODY)
            .next()
            .map(super::dom::visible_text)
            .unwrap_or_default();
    }
    let mut end = sample.len().min(SAMPLE_CHARS);
    while !sample.is_char_boundary(end) {
        end -= 1;
    }
    sample.truncate(end);
    sample
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
    let allow: Vec<Lang> = Lang::all()
        .iter()
        .copied()
        .filter(|l| lexicons.get(code(*l)).is_some())
        .collect();
    let by_whatlang = Detector::with_allowlist(allow).detect(text).map(|info| {
        (
            code(info.lang()).to_owned(),
            info.is_reliable() && text.chars().count() >= 60,
        )
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
    const CATS: [PhraseKind; 8] = [
        PhraseKind::CookieTerms,
        PhraseKind::Accept,
        PhraseKind::Reject,
        PhraseKind::Settings,
        PhraseKind::PrivacyPolicy,
        PhraseKind::Withdraw,
        PhraseKind::Partners,
        PhraseKind::PurposeAnalytics,
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
