//! Phrases per language and category, matched after normalisation on word boundaries.

use std::collections::HashMap;

use serde::Deserialize;

use super::{KnowledgeError, Source, Sources, line_of_key, parse};
use crate::text::{contains_phrase, normalize};

/// Lexicon categories; the names are the keys of `[phrases]` in `rules/lexicon/<lang>.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cat {
    Accept,
    Reject,
    Settings,
    Acknowledge,
    Close,
    Negation,
    CookieTerms,
    ImpliedConsent,
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
    phrases: HashMap<Cat, Vec<String>>,
}

/// A phrase as written and as matched.
#[derive(Debug, Clone)]
pub struct Phrase {
    pub raw: String,
    pub norm: String,
    pub words: usize,
}

pub struct Lexicon {
    pub language: String,
    pub name: String,
    phrases: HashMap<Cat, Vec<Phrase>>,
}

impl Lexicon {
    pub fn phrases(&self, cat: Cat) -> &[Phrase] {
        self.phrases
            .get(&cat)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The longest phrase of `cat` that the normalised text contains.
    pub fn longest_in(&self, cat: Cat, norm_text: &str) -> Option<&Phrase> {
        self.phrases(cat)
            .iter()
            .filter(|p| contains_phrase(norm_text, &p.norm))
            .max_by_key(|p| (p.words, p.norm.len()))
    }

    /// A phrase of `cat` equal to the whole normalised text.
    pub fn exact(&self, cat: Cat, norm_text: &str) -> Option<&Phrase> {
        self.phrases(cat).iter().find(|p| p.norm == norm_text)
    }

    /// Every phrase of `cat` the normalised text contains.
    pub fn all_in<'a>(
        &'a self,
        cat: Cat,
        norm_text: &'a str,
    ) -> impl Iterator<Item = &'a Phrase> + 'a {
        self.phrases(cat)
            .iter()
            .filter(move |p| contains_phrase(norm_text, &p.norm))
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
    let expected = source
        .name
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".toml");
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
            let norm = normalize(&raw);
            if norm.is_empty() {
                return Err(KnowledgeError::new(
                    source,
                    None,
                    format!("phrase {raw:?} ({cat:?}) has no letters"),
                ));
            }
            let words = norm.split(' ').count();
            compiled.push(Phrase { raw, norm, words });
        }
        phrases.insert(cat, compiled);
    }
    Ok(Lexicon {
        language: file.language,
        name: file.name,
        phrases,
    })
}
