//! The schema-v1 JSON report, and the JSON Schema generated from the same types.

use super::Report;
use super::ReportError;

pub fn render(report: &Report) -> Result<String, ReportError> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// Streams the report to `path` through a temporary file, so it is never half-written.
pub fn write(path: &std::path::Path, report: &Report) -> Result<(), ReportError> {
    use std::io::Write;
    let tmp = crate::atomic::temporary(path);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// JSON Schema of the report, checked in as `reports/report-v1.schema.json`.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Report);
    serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n"
}
