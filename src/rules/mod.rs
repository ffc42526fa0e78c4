//! The rule engine: rules are data (`rules/checks/*.toml`) with CEL conditions over the facts.

pub mod docs;
pub mod eval;
pub mod examples;
pub mod functions;
pub mod load;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use eval::Engine;
pub use load::{Rule, RuleSet};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// The facts prove it.
    Definite,
    /// It rests on a heuristic, such as a generic banner match.
    Possible,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Definite => "definite",
            Confidence::Possible => "possible",
        }
    }
}

/// A rule that fired on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub message: String,
    pub evidence: String,
    pub references: Vec<String>,
    /// Set when compared with a baseline (fixed ones are listed apart).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline: Option<BaselineState>,
}

/// A finding compared with a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineState {
    New,
    Unchanged,
}
