//! The schema-v1 JSON report, and the JSON Schema generated from the same types.

use super::Report;

pub fn render(report: &Report) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// JSON Schema of the report, checked in as `reports/report-v1.schema.json`.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Report);
    serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n"
}
