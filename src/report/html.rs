//! One self-contained HTML file: summary, an overview table of every page (sortable and
//! filtered by a small inline script, readable without it), a chart of findings by rule, and a
//! section per page. Everything that comes from a page is escaped, and control characters are
//! dropped; the script reads its data from escaped `data-*` attributes and table cells. A
//! Content-Security-Policy allows only that script (by hash), inline styles and data-URI images,
//! so the file makes no network request when opened.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::Engine as _;
use minijinja::{Environment, Value, context};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ReportError;
use super::{PageReport, Report, RuleInfo, SeverityCounts, json_name};

const TEMPLATE: &str = include_str!("report.html.j2");
/// The overview's sorting and filtering, inlined as is (its hash goes into the CSP).
const SCRIPT: &str = include_str!("report.js");

#[derive(Serialize)]
struct Bar<'a> {
    rule: &'a str,
    title: &'a str,
    count: usize,
    percent: usize,
    severity: &'a str,
}

/// One row of the overview table, beside its page.
#[derive(Serialize)]
struct Row {
    counts: SeverityCounts,
    /// The highest severity found, 0 (none) to 4 (high), for the minimum-severity filter.
    severity: u8,
    /// Distinct rule ids with a finding, space separated, for the rule filter.
    rules: String,
    unchecked: Option<Unchecked>,
}

/// Why a page, or part of it, was not checked: shown as a marker so it never reads as clean.
#[derive(Serialize)]
struct Unchecked {
    /// 2: no rule was checked (an error, a bot challenge); 1: some rules could not be evaluated.
    level: u8,
    /// A few words for the table cell.
    short: String,
    /// The whole reason, for the cell's title.
    reason: String,
}

fn row(page: &PageReport) -> Row {
    let mut counts = SeverityCounts::default();
    for f in &page.findings {
        counts.add(f.severity);
    }
    // Severity's variants run from info to high.
    let severity = page
        .findings
        .iter()
        .map(|f| f.severity as u8 + 1)
        .max()
        .unwrap_or(0);
    let rules: BTreeSet<&str> = page.findings.iter().map(|f| f.rule.as_str()).collect();
    let unchecked = match (&page.error, page.unchecked()) {
        (Some(e), Some(reason)) => Some(Unchecked {
            level: 2,
            short: format!("{} error", json_name(&e.kind)),
            reason,
        }),
        (None, Some(reason)) => Some(Unchecked {
            level: 2,
            short: "blocked".into(),
            reason,
        }),
        (_, None) if !page.rule_errors.is_empty() => {
            let ids: BTreeSet<&str> = page.rule_errors.iter().map(|e| e.rule.as_str()).collect();
            Some(Unchecked {
                level: 1,
                short: match ids.len() {
                    1 => "1 rule".into(),
                    n => format!("{n} rules"),
                },
                reason: format!(
                    "These rules could not be evaluated on this page: {}",
                    ids.into_iter().collect::<Vec<_>>().join(", ")
                ),
            })
        }
        _ => None,
    };
    Row {
        counts,
        severity,
        rules: rules.into_iter().collect::<Vec<_>>().join(" "),
        unchecked,
    }
}

/// The script's CSP source: its SHA-256, so that no other script can run in the report.
fn script_hash() -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()))
    )
}

/// `assets` is the folder the report's relative paths (screenshots) start from.
pub fn render(report: &Report, rules: &[RuleInfo], assets: &Path) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.set_formatter(|out, state, value| {
        let cleaned = match value.as_str().filter(|_| !value.is_safe()) {
            Some(s) => Value::from(strip_controls(s)),
            None => value.clone(),
        };
        minijinja::escape_formatter(out, state, &cleaned)
    });
    env.add_template("report.html", TEMPLATE)?;
    let by_rule = report.findings_by_rule();
    let max = by_rule.values().map(Vec::len).max().unwrap_or(1).max(1);
    let bars: Vec<Bar> = by_rule
        .iter()
        .map(|(rule, hits)| {
            let info = rules.iter().find(|r| r.id == *rule);
            Bar {
                rule,
                title: info.map_or(rule, |r| r.title.as_str()),
                count: hits.len(),
                percent: hits.len() * 100 / max,
                severity: hits
                    .iter()
                    .map(|(_, f)| f.severity)
                    .max()
                    .map_or("info", |s| s.as_str()),
            }
        })
        .collect();
    // Our own base64 data URIs: marked safe so the escaper leaves their slashes alone.
    let screenshots: Vec<Option<Value>> = report
        .pages
        .iter()
        .map(|p| {
            p.facts
                .render
                .as_ref()
                .and_then(|r| r.screenshot.as_deref())
                .and_then(|path| embed_png(&assets.join(path)))
                .map(Value::from_safe_string)
        })
        .collect();
    let rows: Vec<Row> = report.pages.iter().map(row).collect();
    // The filters offer what the report holds: each coverage and each rule that fired, with
    // how many pages they concern.
    let mut coverages: BTreeMap<String, usize> = BTreeMap::new();
    for page in &report.pages {
        *coverages.entry(json_name(&page.coverage)).or_default() += 1;
    }
    let unchecked_pages = rows.iter().filter(|r| r.unchecked.is_some()).count();
    let mut rule_pages: BTreeMap<String, usize> = BTreeMap::new();
    for rules in rows.iter().map(|r| r.rules.as_str()) {
        for rule in rules.split_whitespace() {
            *rule_pages.entry(rule.to_owned()).or_default() += 1;
        }
    }
    let help: Vec<(String, String)> = rules
        .iter()
        .filter_map(|r| Some((r.id.clone(), r.help_uri.clone()?)))
        .collect();
    let html = env.get_template("report.html")?.render(context! {
        report => Value::from(minijinja::value::Serde(report)),
        bars => Value::from(minijinja::value::Serde(&bars)),
        screenshots => screenshots,
        rows => Value::from(minijinja::value::Serde(&rows)),
        coverages => coverages.into_iter().collect::<Vec<_>>(),
        unchecked_pages => unchecked_pages,
        rule_pages => rule_pages.into_iter().collect::<Vec<_>>(),
        script => Value::from_safe_string(SCRIPT.to_owned()),
        script_hash => Value::from_safe_string(script_hash()),
        help => help.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    })?;
    Ok(html)
}

fn strip_controls(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// A screenshot as a data URI, so the report stays one file.
fn embed_png(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}
