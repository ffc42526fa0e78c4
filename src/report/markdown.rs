//! A Markdown summary fit for a pull-request comment or a GitHub step summary.

use std::fmt::Write;

use super::{Report, RuleInfo};
use crate::rules::Severity;

/// Escapes page text for a table cell: no pipes, no line breaks, no HTML.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '`' => out.push_str("\\`"),
            '*' | '_' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &Report, rules: &[RuleInfo]) -> String {
    let s = &report.summary;
    let mut md = String::new();
    let _ = writeln!(md, "## cookie-audit report\n");
    let _ = writeln!(
        md,
        "**{}** targets, **{}** audited, **{}** errors, **{}** blocked (not checked) · profile `{}` · findings: **{}** high, **{}** medium, **{}** low, **{}** info\n",
        s.targets,
        s.audited,
        s.errors,
        s.blocked,
        report.profile,
        s.findings.high,
        s.findings.medium,
        s.findings.low,
        s.findings.info
    );
    let _ = writeln!(
        md,
        "| Page | CMP | Language | Coverage | High | Medium | Low | Info | Error |"
    );
    let _ = writeln!(md, "|---|---|---|---|---:|---:|---:|---:|---|");
    for page in &report.pages {
        let count = |sev: Severity| page.findings.iter().filter(|f| f.severity == sev).count();
        let cmp = page
            .facts
            .banner
            .as_ref()
            .and_then(|b| b.cmp.clone())
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:?} | {} | {} | {} | {} | {} |",
            cell(&page.url),
            cell(&cmp),
            cell(page.facts.language.as_deref().unwrap_or("")),
            page.coverage,
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low),
            count(Severity::Info),
            cell(&page.unchecked().unwrap_or_default()),
        );
    }
    let by_rule = report.findings_by_rule();
    if !by_rule.is_empty() {
        let _ = writeln!(md, "\n### Findings by rule\n");
        for (rule, hits) in by_rule {
            let info = rules.iter().find(|r| r.id == rule);
            let title = info.map_or(rule, |r| r.title.as_str());
            let _ = writeln!(
                md,
                "<details><summary><b>{}</b> ({}) · {} page(s)</summary>\n",
                cell(title),
                cell(rule),
                hits.len()
            );
            for (page, f) in hits {
                let _ = writeln!(md, "- {} — {}", cell(&page.url), cell(&f.message));
            }
            if let Some(info) = info {
                let doc = info
                    .help_uri
                    .as_ref()
                    .map(|u| format!(" · [rule]({u})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    md,
                    "\nReferences: {}{doc}\n",
                    cell(&info.references.join("; "))
                );
            }
            let _ = writeln!(md, "</details>\n");
        }
    }
    md
}
