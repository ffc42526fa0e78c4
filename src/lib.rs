//! cookie-audit: audits cookie-consent banners against the GDPR and the ePrivacy rules.
//!
//! The flow is visible in the module names: [`cli`] → [`pipeline`] → [`fetch`] → [`page`] →
//! [`extract`] → [`facts`] → [`rules`] → [`report`]; ARCHITECTURE.md says who may import whom
//! (`tests/architecture.rs` keeps it true). Knowledge (lexicons, CMP signatures,
//! cookie and tracker catalogues, profiles, rules) is data under `rules/`, embedded at build time.

pub mod atomic;
pub mod cli;
pub mod extract;
pub mod facts;
pub mod fetch;
pub mod knowledge;
pub mod lists;
pub mod page;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod targets;
pub mod text;
