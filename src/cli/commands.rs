//! The subcommands besides `audit`: rules list/show/test, merge, report, lists.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use comfy_table::{ContentArrangement, Table, presets};

use anyhow::{Context, anyhow, bail};

use crate::knowledge::profiles::DEFAULT_PROFILE;
use crate::lists;
use crate::pipeline::load;
use crate::report::{Format, Report, RuleInfo, SCHEMA};
use crate::rules::examples;

pub fn rules_list(rules_dir: Option<&Path>) -> anyhow::Result<String> {
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

pub fn rules_show(id: &str, rules_dir: Option<&Path>) -> anyhow::Result<String> {
    let loaded = load(rules_dir, DEFAULT_PROFILE)?;
    let rule = loaded
        .engine
        .rules
        .get(id)
        .with_context(|| format!("no rule {id:?}; `cookie-audit rules list` shows them all"))?;
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
    if let Some(fix) = &rule.fix {
        let _ = writeln!(out, "How to fix\n{}\n", indent(fix.trim()));
    }
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

/// `rules docs`: every rule's page and the index, written into `dir`.
pub fn rules_docs(dir: &Path, rules_dir: Option<&Path>) -> anyhow::Result<String> {
    let loaded = load(rules_dir, DEFAULT_PROFILE)?;
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let pages = crate::rules::docs::pages(&loaded.engine.rules.rules);
    for (name, text) in &pages {
        let path = dir.join(name);
        crate::atomic::write(&path, text.as_bytes()).with_context(|| path.display().to_string())?;
    }
    Ok(format!(
        "wrote {} rule page(s) and README.md into {}\n",
        pages.len() - 1,
        dir.display()
    ))
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs every example; returns the report and whether all passed.
pub fn rules_test(dir: Option<&Path>) -> anyhow::Result<(String, bool)> {
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
        let expected = match (o.example.fires, o.example.confidence) {
            (true, Some(c)) => format!("fires ({})", c.as_str()),
            (true, None) => "fires".to_owned(),
            (false, _) => "stays silent".to_owned(),
        };
        let actual = match &o.fired {
            Ok(Some(c)) => format!("fired ({})", c.as_str()),
            Ok(None) => "stayed silent".to_owned(),
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

/// The folder a file is in (`.` for a bare file name).
pub fn folder_of(file: &Path) -> &Path {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

pub fn read_report(path: &Path) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{}:{}: not a cookie-audit report: {e}",
            path.display(),
            e.line()
        )
    })?;
    if report.schema != SCHEMA {
        bail!(
            "{}: schema {:?}, expected {SCHEMA:?}",
            path.display(),
            report.schema
        );
    }
    Ok(report)
}

/// Combines reports: pages in the order given, summary recomputed, the widest time span.
/// The merged report, to be written into the folder `into`.
pub fn merge(paths: &[impl AsRef<Path>], into: &Path) -> anyhow::Result<Report> {
    let mut reports = paths.iter().map(|p| {
        let mut report = read_report(p.as_ref())?;
        report.move_folder(folder_of(p.as_ref()), into);
        anyhow::Ok(report)
    });
    let mut merged = reports.next().context("nothing to merge")??;
    for next in reports {
        let next = next?;
        if next.profile != merged.profile {
            bail!(
                "cannot merge reports of profiles {} and {}",
                merged.profile,
                next.profile
            );
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
    docs_url: Option<&str>,
) -> anyhow::Result<String> {
    let loaded = load(rules_dir, &report.profile)?;
    let rules = RuleInfo::from_rules(loaded.engine.active(), docs_url);
    crate::report::write_files(dir, formats, report, &rules).context("cannot write reports")?;
    Ok(if formats.contains(&Format::Table) {
        crate::report::table::render(report, false)
    } else {
        String::new()
    })
}

/// `merge`: the combined report written to `output`.
pub fn merge_into(reports: &[PathBuf], output: &Path) -> anyhow::Result<String> {
    let report = merge(reports, folder_of(output))?;
    let json = crate::report::json::render(&report)?;
    crate::atomic::write(output, json.as_bytes()).with_context(|| output.display().to_string())?;
    Ok(format!(
        "merged {} page(s) into {}\n",
        report.pages.len(),
        output.display()
    ))
}

/// The lists cache folder: `--dir`, else the default one.
pub fn lists_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    given
        .or_else(lists::default_dir)
        .context("no cache folder: set HOME, XDG_CACHE_HOME or COOKIE_AUDIT_LISTS, or give --dir")
}

/// `lists update`: the default lists, or those named as NAME=URL.
pub async fn update_lists(dir: &Path, named: &[String]) -> anyhow::Result<String> {
    let sources: Vec<(String, String)> = if named.is_empty() {
        lists::DEFAULT_SOURCES
            .iter()
            .map(|(n, u, _)| ((*n).to_owned(), (*u).to_owned()))
            .collect()
    } else {
        named
            .iter()
            .map(|s| {
                s.split_once('=')
                    .map(|(n, u)| (n.trim().to_owned(), u.trim().to_owned()))
                    .filter(|(n, u)| !n.is_empty() && !u.is_empty())
                    .with_context(|| format!("--list {s:?}: expected NAME=URL"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let mut out = String::new();
    let mut failed = Vec::new();
    for (name, outcome) in lists::update(dir, &sources).await {
        match outcome {
            lists::Updated::Downloaded { bytes } => {
                out.push_str(&format!("{name}: downloaded ({bytes} bytes)\n"))
            }
            lists::Updated::Unchanged => out.push_str(&format!("{name}: unchanged\n")),
            lists::Updated::Failed(why) => failed.push(format!("{name}: {why}")),
        }
    }
    if failed.is_empty() {
        out.push_str(&format!("lists are in {}\n", dir.display()));
        Ok(out)
    } else {
        print!("{out}");
        bail!("{}", failed.join("\n"))
    }
}
