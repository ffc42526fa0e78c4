//! SARIF 2.1.0, as GitHub code scanning reads it: one rule per rule id, results on the page URL.

use serde_json::{Value, json};

use super::ReportError;
use super::{Report, RuleInfo};
use crate::rules::Severity;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

pub fn render(report: &Report, rules: &[RuleInfo]) -> Result<String, ReportError> {
    let rule_index = |id: &str| rules.iter().position(|r| r.id == id);
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|r| {
            let refs = r.references.iter().map(|x| format!("- {x}")).collect::<Vec<_>>().join("\n");
            let fix = r.fix.as_deref().map(|f| format!("\n\nHow to fix:\n{f}")).unwrap_or_default();
            let mut descriptor = json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.summary},
                "help": {
                    "text": format!("{}\n\n{}{fix}\n\nReferences:\n{refs}", r.summary, r.rationale),
                    "markdown": format!("**{}**\n\n{}\n\n{}{}\n\n**References**\n\n{refs}", r.title, r.summary, r.rationale, fix.replace("How to fix:", "**How to fix**\n")),
                },
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"tags": ["privacy", "gdpr", "eprivacy"], "severity": r.severity.as_str(), "references": r.references},
            });
            if let Some(uri) = &r.help_uri {
                descriptor["helpUri"] = json!(uri);
            }
            descriptor
        })
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for page in &report.pages {
        if let Some(why) = page.unchecked() {
            notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{}: {why}", page.input)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": page.url}}}],
            }));
        }
        for e in &page.rule_errors {
            notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{}: rule {} could not be evaluated: {}", page.input, e.rule, e.message)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": page.url}}}],
            }));
        }
        for f in &page.findings {
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": if f.evidence.is_empty() { f.message.clone() } else { format!("{} (evidence: {})", f.message, f.evidence) }},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": page.url}}}],
                "partialFingerprints": {"cookieAudit/v1": super::baseline::fingerprint(&page.url, f)},
                "properties": {"severity": f.severity, "confidence": f.confidence, "evidence": f.evidence, "references": f.references},
            });
            if let Some(i) = rule_index(&f.rule) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(state) = f.baseline {
                result["baselineState"] = json!(state);
            }
            results.push(result);
        }
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": "https://github.com/cookie-audit/cookie-audit",
                "rules": descriptors,
            }},
            "invocations": [{
                // A page no rule was checked on is not a clean result.
                "executionSuccessful": notifications.is_empty(),
                "startTimeUtc": report.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "endTimeUtc": report.finished_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {"profile": report.profile},
        }],
    });
    Ok(serde_json::to_string_pretty(&log)? + "\n")
}
