//! Phrases per language and category, matched after normalisation on word boundaries.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Deserialize;

use super::{KnowledgeError, Source, Sources, line_of_key, parse};
use crate::text::{contains_phrase, normalize};

/// Kinds of lexicon phrases; the names are the keys of `[phrases]` in `rules/lexicon/<lang>.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhraseKind {
    Accept,
    Reject,
    Settings,
    Acknowledge,
    Close,
    Negation,
    CookieTerms,
    ImpliedConsent,
    /// The text says that clicking a control gives consent ("by clicking OK you agree").
    ClickConsent,
    /// The notice speaks to a visitor who has already refused ("you have declined cookies"):
    /// a wall or reminder shown after the choice, not the first layer.
    AfterRefusal,
    CookieWall,
    LegitimateInterest,
    Withdraw,
    ConsentCoupled,
    RefusalConsequences,
    TermsBundled,
    Partners,
    VaguePurpose,
    PurposeNecessary,
    PurposePreferences,
    PurposeAnalytics,
    PurposeAdvertising,
    PurposeSocial,
    ControllerIntro,
    PrivacyPolicy,
    CookiePolicy,
    LegalNotice,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    language: String,
    name: String,
    phrases: HashMap<PhraseKind, Vec<String>>,
}

/// A phrase as written and as matched. A `*` in a phrase stands for up to [`MAX_GAP_WORDS`]
/// words, so that one phrase covers a family of word orders and fillers ("durch * weitere
/// nutzung * stimmen sie * zu").
#[derive(Debug, Clone)]
pub struct Phrase {
    pub raw: String,
    /// The normalised phrase, or its first segment when it has gaps.
    pub norm: String,
    /// The normalised segments after each gap, in order.
    pub after_gaps: Vec<String>,
    pub words: usize,
}

/// How many words a `*` in a phrase may stand for.
pub const MAX_GAP_WORDS: usize = 6;

impl Phrase {
    /// Does the text after a match of the first segment go on with the remaining segments?
    fn continues(&self, rest: &str) -> bool {
        let mut words: Vec<&str> = rest.split(' ').filter(|w| !w.is_empty()).collect();
        for segment in &self.after_gaps {
            let seg: Vec<&str> = segment.split(' ').collect();
            let at = (0..=MAX_GAP_WORDS.min(words.len()))
                .find(|&j| words.len() >= j + seg.len() && words[j..j + seg.len()] == seg[..]);
            match at {
                Some(j) => words.drain(..j + seg.len()),
                None => return false,
            };
        }
        true
    }
}

pub struct Lexicon {
    pub language: String,
    pub name: String,
    phrases: HashMap<PhraseKind, Phrases>,
    /// Every phrase by its normalised form: category and index, in file order.
    by_norm: HashMap<String, Vec<(PhraseKind, usize)>>,
}

/// The phrases of one category, and an automaton that finds them all in one pass over a text
/// (one substring search per phrase was most of the extraction time).
struct Phrases {
    list: Vec<Phrase>,
    matcher: Option<AhoCorasick>,
    /// For each pattern of `matcher` (distinct normalised phrases), the phrases it stands for.
    owners: Vec<Vec<usize>>,
}

impl Phrases {
    fn new(list: Vec<Phrase>) -> Phrases {
        let mut patterns: Vec<&str> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        for (i, p) in list.iter().enumerate() {
            match patterns.iter().position(|q| *q == p.norm) {
                Some(at) => owners[at].push(i),
                None => {
                    patterns.push(&p.norm);
                    owners.push(vec![i]);
                }
            }
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok();
        Phrases {
            list,
            matcher,
            owners,
        }
    }

    /// Which phrases the normalised text contains on word boundaries, as `contains_phrase`
    /// decides it, by index.
    fn found(&self, text: &str) -> Vec<bool> {
        let mut found = vec![false; self.list.len()];
        if self.list.is_empty() || text.is_empty() {
            return found;
        }
        let Some(matcher) = &self.matcher else {
            for (i, p) in self.list.iter().enumerate() {
                found[i] = contains_phrase(text, &p.norm) && p.after_gaps.is_empty();
            }
            return found;
        };
        let bytes = text.as_bytes();
        for m in matcher.find_overlapping_iter(text) {
            let (at, end) = (m.start(), m.end());
            if m.is_empty() {
                continue;
            }
            let before_ok = at == 0 || bytes[at - 1] == b' ';
            let after_ok = end == bytes.len() || bytes[end] == b' ';
            if before_ok && after_ok {
                for &i in &self.owners[m.pattern().as_usize()] {
                    let phrase = &self.list[i];
                    found[i] |= phrase.after_gaps.is_empty() || phrase.continues(&text[end..]);
                }
            }
        }
        found
    }
}

impl Lexicon {
    pub fn phrases(&self, cat: PhraseKind) -> &[Phrase] {
        self.phrases
            .get(&cat)
            .map(|p| p.list.as_slice())
            .unwrap_or_default()
    }

    /// The longest phrase of `cat` that the normalised text contains.
    pub fn longest_in(&self, cat: PhraseKind, norm_text: &str) -> Option<&Phrase> {
        self.all_in(cat, norm_text)
            .max_by_key(|p| (p.words, p.norm.len()))
    }

    /// A phrase of `cat` equal to the whole normalised text.
    pub fn exact(&self, cat: PhraseKind, norm_text: &str) -> Option<&Phrase> {
        let (_, i) = self.exact_all(norm_text).iter().find(|(c, _)| *c == cat)?;
        Some(&self.phrases(cat)[*i])
    }

    /// Every category with a phrase equal to the whole normalised text, with that phrase's
    /// index, in file order: one hash lookup instead of a scan of every category.
    pub fn exact_all(&self, norm_text: &str) -> &[(PhraseKind, usize)] {
        self.by_norm
            .get(norm_text)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Every phrase of `cat` the normalised text contains, in file order.
    pub fn all_in<'a>(
        &'a self,
        cat: PhraseKind,
        norm_text: &str,
    ) -> impl Iterator<Item = &'a Phrase> + use<'a> {
        let (list, found) = match self.phrases.get(&cat) {
            Some(p) => (p.list.as_slice(), p.found(norm_text)),
            None => (&[][..], Vec::new()),
        };
        list.iter().zip(found).filter(|(_, f)| *f).map(|(p, _)| p)
    }
}

pub struct Lexicons {
    by_lang: Vec<Lexicon>,
}

impl Lexicons {
    pub fn load(sources: &Sources) -> Result<Lexicons, KnowledgeError> {
        let mut by_lang: Vec<Lexicon> = sources
            .under("lexicon/")
            .map(load_one)
            .collect::<Result<_, _>>()?;
        by_lang.sort_by(|a, b| a.language.cmp(&b.language));
        Ok(Lexicons { by_lang })
    }

    pub fn get(&self, lang: &str) -> Option<&Lexicon> {
        self.by_lang.iter().find(|l| l.language == lang)
    }

    pub fn all(&self) -> &[Lexicon] {
        &self.by_lang
    }

    /// The given languages first (deduplicated, known ones only), then English, then the rest
    /// when `all` is set: a banner's own language decides before any other.
    pub fn ordered<'a>(&'a self, first: &[&str], all: bool) -> Vec<&'a Lexicon> {
        let mut out: Vec<&Lexicon> = Vec::new();
        for lang in first.iter().copied().chain(["en"]) {
            if let Some(lex) = self.get(lang)
                && !out.iter().any(|l| l.language == lex.language)
            {
                out.push(lex);
            }
        }
        if all {
            for lex in &self.by_lang {
                if !out.iter().any(|l| l.language == lex.language) {
                    out.push(lex);
                }
            }
        }
        out
    }
}

fn load_one(source: &Source) -> Result<Lexicon, KnowledgeError> {
    let file: LexiconFile = parse(source)?;
    let expected = source.stem();
    if file.language != expected {
        return Err(KnowledgeError::new(
            source,
            line_of_key(&source.text, "language"),
            format!(
                "language {:?} does not match the file name {expected:?}",
                file.language
            ),
        ));
    }
    let mut phrases = HashMap::new();
    for (cat, list) in file.phrases {
        let mut compiled = Vec::with_capacity(list.len());
        for raw in list {
            let mut segments = raw.split('*').map(normalize);
            let norm = segments.next().unwrap_or_default();
            let after_gaps: Vec<String> = segments.collect();
            if norm.is_empty() || after_gaps.iter().any(String::is_empty) {
                return Err(KnowledgeError::new(
                    source,
                    source
                        .text
                        .find(&raw)
                        .map(|at| super::line_of(&source.text, at)),
                    format!(
                        "phrase {raw:?} ({cat:?}) has a part without letters (a `*` must stand between words)"
                    ),
                ));
            }
            let words = norm.split(' ').count()
                + after_gaps
                    .iter()
                    .map(|g| g.split(' ').count())
                    .sum::<usize>();
            compiled.push(Phrase {
                raw,
                norm,
                after_gaps,
                words,
            });
        }
        phrases.insert(cat, compiled);
    }
    // Categories in a fixed order, so `exact_all` lists them the same way on every load.
    let mut cats: Vec<PhraseKind> = phrases.keys().copied().collect();
    cats.sort_by_key(|c| *c as u8);
    let mut by_norm: HashMap<String, Vec<(PhraseKind, usize)>> = HashMap::new();
    for cat in cats {
        for (i, p) in phrases[&cat].iter().enumerate() {
            if p.after_gaps.is_empty() {
                by_norm.entry(p.norm.clone()).or_default().push((cat, i));
            }
        }
    }
    Ok(Lexicon {
        language: file.language,
        name: file.name,
        phrases: phrases
            .into_iter()
            .map(|(cat, list)| (cat, Phrases::new(list)))
            .collect(),
        by_norm,
    })
}
