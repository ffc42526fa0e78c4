//! The subcommands besides `audit`: rules list/show/test, merge, report.

use std::fmt::Write;
use std::path::Path;

use comfy_table::{ContentArrangement, Table, presets};

use crate::audit::{SetupError, load};
use crate::knowledge::profiles::DEFAULT_PROFILE;
use crate::report::{Format, Report, RuleInfo, SCHEMA};
use crate::rules::examples;

pub fn rules_list(rules_dir: Option<&Path>) -> Result<String, SetupError> {
    let loaded = load(rules_dir, DEFAULT_PROFILE)?;
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(["Id", "Severity", "Title", "Profiles", "Modes"]);
    for r in &loaded.engine.rules.rules {
        let mut severity = r.severity.as_str().to_owned();
        for (p, s) in &r.severity_by_profile {
            let _ = write!(severity, "\n{p}: {}", s.as_str());
        }
        let profiles = if r.profiles.is_empty() {
            "all".to_owned()
        } else {
            r.profiles.join(", ")
        };
        let modes = r
            .modes
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        table.add_row(vec![
            r.id.clone(),
            severity,
            r.title.clone(),
            profiles,
            modes,
        ]);
    }
    Ok(format!(
        "{table}\n{} rules\n",
        loaded.engine.rules.rules.len()
    ))
}

pub fn rules_show(id: &str, rules_dir: Option<&Path>) -> Result<String, SetupError> {
    let loaded = load(rules_dir, DEFAULT_PROFILE)?;
    let rule = loaded.engine.rules.get(id).ok_or_else(|| {
        SetupError(format!(
            "no rule {id:?}; `cookie-audit rules list` shows them all"
        ))
    })?;
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}\n", rule.id, rule.title);
    let _ = writeln!(out, "Severity: {}", rule.severity.as_str());
    for (p, s) in &rule.severity_by_profile {
        let _ = writeln!(out, "  under profile {p}: {}", s.as_str());
    }
    let _ = writeln!(
        out,
        "Applies to: {}",
        if rule.profiles.is_empty() {
            "every profile".into()
        } else {
            rule.profiles.join(", ")
        }
    );
    if rule.render_only() {
        let _ = writeln!(out, "Needs: --mode render (silent in static mode)");
    }
    let _ = writeln!(out, "\nWhat it checks\n  {}\n", rule.summary.trim());
    let _ = writeln!(out, "Why it matters\n{}\n", indent(rule.rationale.trim()));
    let _ = writeln!(out, "Legal references");
    for r in &rule.references {
        let _ = writeln!(out, "  - {r}");
    }
    let _ = writeln!(out, "\nCondition (CEL)");
    if let Some(w) = &rule.when {
        let _ = writeln!(out, "  when:      {}", w.source.trim());
    }
    let _ = writeln!(out, "  condition: {}", rule.condition.source.trim());
    let _ = writeln!(
        out,
        "\nExamples: {} that fire, {} that do not",
        rule.examples.iter().filter(|e| e.fires).count(),
        rule.examples.iter().filter(|e| !e.fires).count()
    );
    let _ = writeln!(out, "Source: {}", rule.origin);
    Ok(out)
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs every example; returns the report and whether all passed.
pub fn rules_test(dir: Option<&Path>) -> Result<(String, bool), SetupError> {
    let loaded = load(dir, DEFAULT_PROFILE)?;
    let outcomes = examples::run_all(&loaded.engine.rules, &loaded.knowledge);
    let mut out = String::new();
    let mut failed = 0;
    for o in &outcomes {
        if o.passed() {
            continue;
        }
        failed += 1;
        let _ = writeln!(out, "FAIL {} › {}", o.rule.id, o.example.name);
        let expected = if o.example.fires {
            "fires"
        } else {
            "stays silent"
        };
        let actual = match &o.fired {
            Ok(true) => "fired".to_owned(),
            Ok(false) => "stayed silent".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        let _ = writeln!(out, "  - expected: {expected}\n  + actual:   {actual}");
        let banner = o.facts.banner.as_ref();
        let _ = writeln!(
            out,
            "    facts: banner {}, buttons [{}], cookies [{}], trackers [{}]",
            banner.map_or("none".into(), |b| format!(
                "{} ({:?})",
                if b.present { "present" } else { "script only" },
                b.detection
            )),
            banner
                .map(|b| b
                    .buttons
                    .iter()
                    .map(|x| format!("{:?}={}", x.label, x.role.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default(),
            o.facts
                .cookies
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            o.facts
                .trackers
                .iter()
                .map(|t| if t.host.is_empty() {
                    t.url.as_str()
                } else {
                    t.host.as_str()
                })
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    let _ = writeln!(
        out,
        "{} passed, {} failed ({} rules)",
        outcomes.len() - failed,
        failed,
        loaded.engine.rules.rules.len()
    );
    Ok((out, failed == 0))
}

pub fn read_report(path: &Path) -> Result<Report, SetupError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SetupError(format!("{}: cannot read: {e}", path.display())))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        SetupError(format!(
            "{}:{}: not a cookie-audit report: {e}",
            path.display(),
            e.line()
        ))
    })?;
    if report.schema != SCHEMA {
        return Err(SetupError(format!(
            "{}: schema {:?}, expected {SCHEMA:?}",
            path.display(),
            report.schema
        )));
    }
    Ok(report)
}

/// Combines reports: pages in the order given, summary recomputed, the widest time span.
pub fn merge(paths: &[impl AsRef<Path>]) -> Result<Report, SetupError> {
    let mut reports = paths.iter().map(|p| read_report(p.as_ref()));
    let mut merged = reports
        .next()
        .ok_or_else(|| SetupError("nothing to merge".into()))??;
    for next in reports {
        let next = next?;
        if next.profile != merged.profile {
            return Err(SetupError(format!(
                "cannot merge reports of profiles {} and {}",
                merged.profile, next.profile
            )));
        }
        merged.started_at = merged.started_at.min(next.started_at);
        merged.finished_at = merged.finished_at.max(next.finished_at);
        merged.pages.extend(next.pages);
        merged.fixed.extend(next.fixed);
    }
    merged.summarise();
    Ok(merged)
}

/// Renders a saved report again; `table` goes to the returned string, files to `dir`.
pub fn rerender(
    report: &Report,
    formats: &[Format],
    dir: &Path,
    rules_dir: Option<&Path>,
) -> Result<String, SetupError> {
    let loaded = load(rules_dir, &report.profile)?;
    let rules = RuleInfo::from_rules(loaded.engine.active());
    crate::report::write_files(dir, formats, report, &rules)
        .map_err(|e| SetupError(format!("cannot write reports: {e}")))?;
    Ok(if formats.contains(&Format::Table) {
        crate::report::table::render(report, false)
    } else {
        String::new()
    })
}
