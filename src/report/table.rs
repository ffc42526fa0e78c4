//! The terminal summary: a row per page, then the findings grouped by rule, then the totals.

use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};

use super::Report;
use crate::facts::Role;
use crate::rules::Severity;
use crate::text::{truncate, truncate_middle};

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Blue,
        Severity::Info => Color::Grey,
    }
}

fn new_table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !color {
        t.force_no_tty();
    }
    t
}

pub fn render(report: &Report, color: bool) -> String {
    let mut pages = new_table(color);
    pages.set_header([
        "Page", "CMP", "Lang", "Banner", "Accept", "Reject", "Settings", "High", "Med", "Low",
        "Info", "Error",
    ]);
    for page in &report.pages {
        let banner = page.facts.banner.as_ref();
        let has = |role: Role| {
            let yes =
                banner.is_some_and(|b| b.buttons.iter().any(|x| x.role == role && x.first_layer));
            if yes { "yes" } else { "-" }
        };
        let banner_cell = match (banner, page.error.is_some()) {
            (_, true) => "-".to_owned(),
            _ if page.coverage == crate::facts::Coverage::Blocked => "blocked".to_owned(),
            (Some(b), _) if b.present => format!("{:?}", b.detection).to_lowercase(),
            (Some(_), _) => "needs render".to_owned(),
            (None, _) => "none".to_owned(),
        };
        let count = |s: Severity| {
            let n = page.findings.iter().filter(|f| f.severity == s).count();
            let cell = Cell::new(n);
            if color && n > 0 {
                cell.fg(severity_color(s))
            } else {
                cell
            }
        };
        pages.add_row(vec![
            Cell::new(truncate_middle(&page.url, 60)),
            Cell::new(
                banner
                    .and_then(|b| b.cmp.clone())
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::new(page.facts.language.clone().unwrap_or_else(|| "-".into())),
            Cell::new(banner_cell),
            Cell::new(has(Role::Accept)),
            Cell::new(has(Role::Reject)),
            Cell::new(has(Role::Settings)),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low),
            count(Severity::Info),
            Cell::new(
                page.unchecked()
                    .map(|why| truncate(&why, 50))
                    .unwrap_or_default(),
            ),
        ]);
    }
    let mut out = pages.to_string();
    let by_rule = report.findings_by_rule();
    if !by_rule.is_empty() {
        let mut rules = new_table(color);
        rules.set_header(["Rule", "Severity", "Pages", "Example"]);
        for (rule, hits) in &by_rule {
            let severity = hits
                .iter()
                .map(|(_, f)| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            let sev_cell = Cell::new(severity.as_str());
            rules.add_row(vec![
                Cell::new(rule).add_attribute(Attribute::Bold),
                if color {
                    sev_cell.fg(severity_color(severity))
                } else {
                    sev_cell
                },
                Cell::new(hits.len()),
                Cell::new(truncate(&hits[0].1.message, 90)),
            ]);
        }
        out.push('\n');
        out.push_str(&rules.to_string());
    }
    out
}
