//! The report: one model (schema `cookie-audit/report/v1`) and sibling writers that read it.

pub mod baseline;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod sqlite;
pub mod table;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::facts::{Coverage, Facts, Mode};
use crate::page::{PageError, Redirect};
use crate::rules::eval::EvalError;
use crate::rules::{Finding, Severity};

pub const SCHEMA: &str = "cookie-audit/report/v1";

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    pub profile: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub summary: Summary,
    pub pages: Vec<PageReport>,
    /// Findings of the baseline that no longer appear (only with `--baseline`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<FixedFinding>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
    /// Fingerprint of the rule set that judged the pages.
    pub rules_version: String,
    /// Filter lists used besides the embedded knowledge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<crate::knowledge::lists::ListInfo>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Summary {
    pub targets: usize,
    /// Pages whose rules were checked: neither an error nor a bot-protection challenge.
    pub audited: usize,
    pub errors: usize,
    /// Pages a bot-protection challenge withheld: fetched, but no rule was checked.
    #[serde(default)]
    pub blocked: usize,
    pub findings: SeverityCounts,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SeverityCounts {
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    pub fn add(&mut self, s: Severity) {
        match s {
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
    }

    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// One target's outcome: a page with its facts and findings, or an error.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PageReport {
    pub input: String,
    pub url: String,
    pub status: Option<u16>,
    pub mode: Mode,
    pub error: Option<PageError>,
    pub coverage: Coverage,
    pub fetched_at: Option<DateTime<Utc>>,
    pub body_sha256: Option<String>,
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<Redirect>,
    #[serde(flatten)]
    pub facts: Facts,
    pub findings: Vec<Finding>,
    /// Rules that could not be evaluated on this page: they were not checked, so the page is
    /// not clean for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_errors: Vec<EvalError>,
}

impl PageReport {
    /// Why no rule was checked on this page, if none was: a fetch error or a bot challenge.
    /// Such a page must never read as a clean one.
    pub fn unchecked(&self) -> Option<String> {
        match (&self.error, self.coverage) {
            (Some(e), _) => Some(e.message.clone()),
            (None, Coverage::Blocked) => {
                Some("a bot-protection challenge withheld the page: no rule was checked".into())
            }
            _ => None,
        }
    }
}

/// A baseline finding that is gone.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct FixedFinding {
    pub url: String,
    pub rule: String,
    pub fingerprint: String,
}

impl Report {
    /// Screenshot paths are relative to the report's folder: a report read from `from` and
    /// written to `to` names them from there.
    pub fn move_folder(&mut self, from: &Path, to: &Path) {
        let shots = self
            .pages
            .iter_mut()
            .filter_map(|p| p.facts.render.as_mut())
            .filter_map(|r| r.screenshot.as_mut());
        for shot in shots {
            if Path::new(shot.as_str()).is_relative() {
                *shot = relative_to(&from.join(&*shot), to).display().to_string();
            }
        }
    }

    /// Recomputes the summary from the pages (after a merge or a baseline comparison).
    pub fn summarise(&mut self) {
        let mut summary = Summary {
            targets: self.pages.len(),
            ..Summary::default()
        };
        for page in &self.pages {
            if page.error.is_some() {
                summary.errors += 1;
            } else if page.coverage == Coverage::Blocked {
                summary.blocked += 1;
            } else {
                summary.audited += 1;
            }
            for f in &page.findings {
                summary.findings.add(f.severity);
            }
        }
        self.summary = summary;
    }

    /// Findings grouped by rule id, for the summaries that read by rule.
    pub fn findings_by_rule(&self) -> BTreeMap<&str, Vec<(&PageReport, &Finding)>> {
        let mut by_rule: BTreeMap<&str, Vec<_>> = BTreeMap::new();
        for page in &self.pages {
            for f in &page.findings {
                by_rule.entry(f.rule.as_str()).or_default().push((page, f));
            }
        }
        by_rule
    }
}

/// Every output format; `table` goes to stdout, the others to files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Table,
    Json,
    Sarif,
    Junit,
    Markdown,
    Html,
    /// A database each run appends to, not a text.
    Sqlite,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
        Format::Html,
        Format::Sqlite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Sqlite => "sqlite",
        }
    }

    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Format::Table => None,
            Format::Json => Some("report.json"),
            Format::Sarif => Some("report.sarif"),
            Format::Junit => Some("junit.xml"),
            Format::Markdown => Some("report.md"),
            Format::Html => Some("report.html"),
            Format::Sqlite => Some("report.sqlite"),
        }
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown format {0:?}")]
pub struct UnknownFormat(String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// What a writer needs beside the report: the rules, to explain them.
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub rationale: String,
    pub severity: Severity,
    pub references: Vec<String>,
    /// Needs render-mode facts; silent in static mode.
    pub render_only: bool,
    pub fix: Option<String>,
    /// The rule's documentation page, when a docs URL is set (`--docs-url`).
    pub help_uri: Option<String>,
}

impl RuleInfo {
    /// `docs_url` is where `rules docs` pages are published: `{rule}` in it is replaced by the
    /// rule id, else `<id>.md` is appended.
    pub fn from_rules<'a>(
        rules: impl IntoIterator<Item = &'a crate::rules::Rule>,
        docs_url: Option<&str>,
    ) -> Vec<RuleInfo> {
        rules
            .into_iter()
            .map(|r| RuleInfo {
                help_uri: docs_url.map(|base| help_uri(base, &r.id)),
                fix: r.fix.clone(),
                render_only: r.render_only(),
                id: r.id.clone(),
                title: r.title.clone(),
                summary: r.summary.clone(),
                rationale: r.rationale.clone(),
                severity: r.severity,
                references: r.references.clone(),
            })
            .collect()
    }
}

/// Why a report file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("JUnit: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    #[error("HTML template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the {0} format is a file, not text")]
    NotText(&'static str),
}

/// Renders one file format to a string; screenshots are read from the working folder.
pub fn render(format: Format, report: &Report, rules: &[RuleInfo]) -> Result<String, ReportError> {
    render_in(format, report, rules, Path::new(""))
}

/// Renders one file format for a report kept in `folder` (where its screenshots are).
fn render_in(
    format: Format,
    report: &Report,
    rules: &[RuleInfo],
    folder: &Path,
) -> Result<String, ReportError> {
    Ok(match format {
        Format::Table => table::render(report, false),
        Format::Json => json::render(report)?,
        Format::Sarif => sarif::render(report, rules)?,
        Format::Junit => junit::render(report, rules)?,
        Format::Markdown => markdown::render(report, rules),
        Format::Html => html::render(report, rules, folder)?,
        Format::Sqlite => return Err(ReportError::NotText("sqlite")),
    })
}

/// Writes every file format into `dir`, each through a temporary file so none is half-written.
/// The report's screenshot paths are relative to `dir`.
pub fn write_files(
    dir: &Path,
    formats: &[Format],
    report: &Report,
    rules: &[RuleInfo],
) -> Result<Vec<std::path::PathBuf>, ReportError> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for format in formats {
        let Some(name) = format.file_name() else {
            continue;
        };
        let path = dir.join(name);
        if *format == Format::Json {
            // The largest report: streamed to disk rather than built as one string in memory.
            json::write(&path, report)?;
        } else if *format == Format::Sqlite {
            sqlite::append(&path, report)?;
        } else {
            crate::atomic::write(&path, render_in(*format, report, rules, dir)?.as_bytes())?;
        }
        written.push(path);
    }
    Ok(written)
}

/// `path` as seen from the folder `base` (both made absolute, `..` resolved in the names).
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let absolute = |p: &Path| {
        let mut out = PathBuf::new();
        for c in std::path::absolute(p)
            .unwrap_or_else(|_| p.to_owned())
            .components()
        {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                c => out.push(c),
            }
        }
        out
    };
    let (path, base) = (absolute(path), absolute(base));
    let shared = path
        .components()
        .zip(base.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out: PathBuf = base.components().skip(shared).map(|_| "..").collect();
    out.extend(path.components().skip(shared));
    out
}

/// An enum's name as report.json spells it (`banner-found`, `after-reject`...).
fn json_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A rule's documentation page under `base`.
fn help_uri(base: &str, rule: &str) -> String {
    if base.contains("{rule}") {
        base.replace("{rule}", rule)
    } else {
        format!("{}/{rule}.md", base.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_screenshot(path: &str) -> Report {
        let facts = serde_json::json!({"render": {"screenshot": path}});
        let mut report: Report = serde_json::from_value(serde_json::json!({
            "schema": "", "tool": {"name": "", "version": "", "rules_version": ""},
            "profile": "", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:00Z",
            "summary": Summary::default(), "pages": [], "fixed": []
        }))
        .unwrap();
        report.pages.push(PageReport {
            input: "https://shop.example/".into(),
            url: "https://shop.example/".into(),
            status: Some(200),
            mode: Mode::Render,
            error: None,
            coverage: Coverage::BannerFound,
            fetched_at: None,
            body_sha256: None,
            content_language: None,
            redirects: Vec::new(),
            facts: serde_json::from_value(facts).unwrap(),
            findings: Vec::new(),
            rule_errors: Vec::new(),
        });
        report
    }

    fn screenshot(report: &Report) -> &str {
        report.pages[0]
            .facts
            .render
            .as_ref()
            .unwrap()
            .screenshot
            .as_deref()
            .unwrap()
    }

    #[test]
    fn screenshots_stay_reachable_when_a_report_moves_folder() {
        let mut report = with_screenshot("screenshots/shop-1a2b.png");
        report.move_folder(Path::new("/ci/shard-1"), Path::new("/ci/merged"));
        assert_eq!(screenshot(&report), "../shard-1/screenshots/shop-1a2b.png");
        report.move_folder(
            Path::new("/ci/merged"),
            Path::new("/ci/./merged/../shard-1"),
        );
        assert_eq!(screenshot(&report), "screenshots/shop-1a2b.png");
        let mut absolute = with_screenshot("/srv/shots/x.png");
        absolute.move_folder(Path::new("/a"), Path::new("/b"));
        assert_eq!(screenshot(&absolute), "/srv/shots/x.png");
    }
}
