//! Baselines: record today's findings, then report only what is new, so a team can adopt the
//! tool on a site with known problems and still block regressions.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{FixedFinding, Report};
use crate::rules::{BaselineState, Finding};
use crate::text::{collapse_whitespace, normalize};

const SCHEMA: &str = "cookie-audit/baseline/v1";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub schema: String,
    pub findings: Vec<FixedFinding>,
}

/// Stable identity of a finding: the page, the rule and what it is about, ignoring case,
/// whitespace and punctuation so a reworded banner with the same problem stays "unchanged".
pub fn fingerprint(url: &str, finding: &Finding) -> String {
    let url = url.trim_end_matches('/').to_ascii_lowercase();
    let evidence = normalize(&collapse_whitespace(&finding.evidence));
    let digest = Sha256::digest(format!("{url}\n{}\n{evidence}", finding.rule).as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

pub fn from_report(report: &Report) -> Baseline {
    let findings = report
        .pages
        .iter()
        .flat_map(|p| {
            p.findings.iter().map(move |f| FixedFinding {
                url: p.url.clone(),
                rule: f.rule.clone(),
                fingerprint: fingerprint(&p.url, f),
            })
        })
        .collect();
    Baseline {
        schema: SCHEMA.into(),
        findings,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write baseline {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a cookie-audit baseline: {source}", line = source.line())]
    NotABaseline {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: baseline schema {found:?}, expected {SCHEMA:?}")]
    Schema { path: PathBuf, found: String },
}

pub fn write(path: &Path, report: &Report) -> Result<(), BaselineError> {
    let json =
        serde_json::to_string_pretty(&from_report(report)).expect("a baseline serialises") + "\n";
    crate::atomic::write(path, json.as_bytes()).map_err(|source| BaselineError::Write {
        path: path.to_path_buf(),
        source,
    })
}

pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let baseline: Baseline =
        serde_json::from_str(&text).map_err(|source| BaselineError::NotABaseline {
            path: path.to_path_buf(),
            source,
        })?;
    if baseline.schema != SCHEMA {
        return Err(BaselineError::Schema {
            path: path.to_path_buf(),
            found: baseline.schema,
        });
    }
    Ok(baseline)
}

/// Marks each finding `new` or `unchanged` and lists baseline findings that are gone from pages
/// audited in this run (a page that failed to load fixes nothing).
pub fn compare(report: &mut Report, baseline: &Baseline) {
    let known: HashSet<&str> = baseline
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let mut current = HashSet::new();
    for page in &mut report.pages {
        for f in &mut page.findings {
            let fp = fingerprint(&page.url, f);
            f.baseline = Some(if known.contains(fp.as_str()) {
                BaselineState::Unchanged
            } else {
                BaselineState::New
            });
            current.insert(fp);
        }
    }
    let audited: HashSet<&str> = report
        .pages
        .iter()
        .filter(|p| p.error.is_none())
        .map(|p| p.url.as_str())
        .collect();
    report.fixed = baseline
        .findings
        .iter()
        .filter(|f| audited.contains(f.url.as_str()) && !current.contains(&f.fingerprint))
        .cloned()
        .collect();
}
