//! One self-contained HTML file: summary, a chart of findings by rule, a card per page.
//! Everything that comes from a page is escaped, and control characters are dropped.

use std::path::Path;

use base64::Engine as _;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::ReportError;
use super::{Report, RuleInfo};

const TEMPLATE: &str = include_str!("report.html.j2");

#[derive(Serialize)]
struct Bar<'a> {
    rule: &'a str,
    title: &'a str,
    count: usize,
    percent: usize,
    severity: &'a str,
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
    let help: Vec<(String, String)> = rules
        .iter()
        .filter_map(|r| Some((r.id.clone(), r.help_uri.clone()?)))
        .collect();
    let html = env.get_template("report.html")?.render(context! {
        report => Value::from(minijinja::value::Serde(report)),
        bars => Value::from(minijinja::value::Serde(&bars)),
        screenshots => screenshots,
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
