//! One fetched page through extraction and the rules, and the knowledge both need.

use std::path::Path;

use chrono::Utc;

use super::SetupError;
use crate::extract::{coverage, error_coverage, extract};
use crate::facts::{Coverage, Facts, Mode};
use crate::knowledge::{Knowledge, Sources};
use crate::page::{Page, PageError};
use crate::report::PageReport;
use crate::rules::eval::EvalError;
use crate::rules::{Engine, RuleSet};

/// Knowledge and rules, loaded and validated once per run.
pub struct Loaded {
    pub knowledge: Knowledge,
    pub engine: Engine,
    /// Fingerprint of the knowledge files, for the report.
    pub rules_version: String,
}

/// Loads the embedded knowledge (with `dir`'s files on top) and the rules under `profile`.
pub fn load(dir: Option<&Path>, profile: &str) -> Result<Loaded, SetupError> {
    let sources = Sources::load(dir)?;
    let knowledge = Knowledge::load(&sources)?;
    let rules = RuleSet::load(&sources, knowledge.profiles.ids())?;
    let profile =
        knowledge
            .profiles
            .get(profile)
            .cloned()
            .ok_or_else(|| SetupError::UnknownProfile {
                name: profile.to_owned(),
                known: knowledge.profiles.ids().collect::<Vec<_>>().join(", "),
            })?;
    Ok(Loaded {
        rules_version: sources.fingerprint(),
        engine: Engine::new(rules, profile),
        knowledge,
    })
}

/// Extraction and rules for one fetched page.
pub fn analyse(
    page: &Page,
    knowledge: &Knowledge,
    engine: &Engine,
) -> (PageReport, Vec<EvalError>) {
    let facts = extract(page, knowledge);
    let coverage = coverage(&facts, &page.html);
    let (findings, errors) = if coverage == Coverage::Blocked {
        (Vec::new(), Vec::new())
    } else {
        engine.evaluate(&facts, &page.url, page.mode)
    };
    let report = PageReport {
        input: page.input.clone(),
        url: page.url.clone(),
        status: page.status,
        mode: page.mode,
        error: None,
        coverage,
        fetched_at: Some(page.fetched_at),
        body_sha256: Some(page.body_sha256.clone()),
        content_language: page.content_language.clone(),
        redirects: page.redirects.clone(),
        facts,
        findings,
        rule_errors: errors.clone(),
    };
    (report, errors)
}

/// The report of a page that could not be audited.
pub fn error_page(input: &str, url: &str, mode: Mode, error: PageError) -> PageReport {
    PageReport {
        input: input.to_owned(),
        url: url.to_owned(),
        status: error.status,
        mode,
        coverage: error_coverage(&error),
        error: Some(error),
        fetched_at: Some(Utc::now()),
        body_sha256: None,
        content_language: None,
        redirects: Vec::new(),
        facts: Facts::default(),
        findings: Vec::new(),
        rule_errors: Vec::new(),
    }
}
