//! Exit codes (DESIGN.md): 0 fine, 1 findings at or above --fail-on, 2 usage, configuration or
//! rule error, 3 no target could be audited (every one failed or was withheld by a bot challenge;
//! an empty shard has none to audit: 0); 128 + N after signal N (SIGINT 130, SIGTERM 143). And
//! one DESIGN.md lacks: 4 when the run finished but its reports could not be written (a full
//! disk), which is neither the user's mistake (2) nor a verdict on the pages.

use crate::pipeline::RunOutcome;
use crate::rules::BaselineState;

use super::settings::FailOn;

pub const FINDINGS: u8 = 1;
pub const USAGE: u8 = 2;
pub const NOTHING_AUDITED: u8 = 3;
pub const REPORTS_UNWRITTEN: u8 = 4;

/// The exit code of an audit and why, in words for the summary line.
pub fn of_audit(outcome: &RunOutcome, fail_on: FailOn, counts_only_new: bool) -> (u8, String) {
    let report = &outcome.report;
    let failing = fail_on.threshold().map_or(0, |t| {
        report
            .pages
            .iter()
            .flat_map(|p| &p.findings)
            .filter(|f| {
                f.severity >= t && (!counts_only_new || f.baseline == Some(BaselineState::New))
            })
            .count()
    });
    if let Some(why) = &outcome.unwritten {
        (
            REPORTS_UNWRITTEN,
            format!("{why}; every audited page is in pages.jsonl, and --resume writes them"),
        )
    } else if let Some(sig) = outcome.interrupted {
        (
            128 + sig as u8,
            format!("interrupted by signal {sig}; finished pages are in the reports"),
        )
    } else if report.summary.targets > 0 && report.summary.audited == 0 {
        (NOTHING_AUDITED, "no target could be audited".to_owned())
    } else if failing > 0 {
        (
            FINDINGS,
            format!("{failing} finding(s) at or above --fail-on {fail_on:?}").to_lowercase(),
        )
    } else {
        (0, "no finding at or above --fail-on".to_owned())
    }
}

/// The line printed on stderr at the end of an audit.
pub fn summary_line(outcome: &RunOutcome, code: u8, why: &str) -> String {
    let report = &outcome.report;
    let s = &report.summary;
    format!(
        "{} target(s): {} audited, {} error(s){}; findings: {} high, {} medium, {} low, {} info{} → exit {code} ({why})",
        s.targets,
        s.audited,
        s.errors,
        if s.blocked > 0 {
            format!(", {} blocked by a bot challenge (not checked)", s.blocked)
        } else {
            String::new()
        },
        s.findings.high,
        s.findings.medium,
        s.findings.low,
        s.findings.info,
        if report.fixed.is_empty() {
            String::new()
        } else {
            format!("; {} fixed since the baseline", report.fixed.len())
        },
    )
}
