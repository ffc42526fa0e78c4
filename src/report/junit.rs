//! JUnit XML: a test suite per page, a test case per evaluated rule; findings fail, errors err.

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use super::ReportError;
use super::{Report, RuleInfo};

pub fn render(report: &Report, rules: &[RuleInfo]) -> Result<String, ReportError> {
    let mut junit = JUnit::new("cookie-audit");
    for page in &report.pages {
        let mut suite = TestSuite::new(page.url.as_str());
        if let Some(why) = page.unchecked() {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(why);
            status.set_type(match &page.error {
                Some(err) => format!("{:?}", err.kind),
                None => "Blocked".to_owned(),
            });
            suite.add_test_case(TestCase::new("fetch", status));
            junit.add_test_suite(suite);
            continue;
        }
        for rule in rules {
            let skipped = rule.render_only && page.mode == crate::facts::Mode::Static;
            let failed = page.rule_errors.iter().find(|e| e.rule == rule.id);
            let case = match page.findings.iter().find(|f| f.rule == rule.id) {
                _ if failed.is_some() => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    status.set_message(failed.map_or("", |e| e.message.as_str()));
                    status.set_type("RuleError");
                    TestCase::new(rule.id.as_str(), status)
                }
                Some(f) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(f.message.as_str());
                    status.set_type(f.severity.as_str());
                    status.set_description(format!(
                        "{}\nEvidence: {}\nReferences: {}",
                        f.message,
                        f.evidence,
                        f.references.join("; ")
                    ));
                    TestCase::new(rule.id.as_str(), status)
                }
                None if skipped => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message("needs render mode");
                    TestCase::new(rule.id.as_str(), status)
                }
                None => TestCase::new(rule.id.as_str(), TestCaseStatus::success()),
            };
            let mut case = case;
            case.set_classname(page.url.as_str());
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    Ok(junit.to_string()?)
}
