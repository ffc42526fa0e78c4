//! What a fetch produces: the page as the tool received it (and, in render mode, what a browser
//! saw and what a click did), or why it could not be had. Observations only: no classification.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::facts::{Choice, Mode};

/// A fetched page, before extraction.
#[derive(Debug, Clone)]
pub struct Page {
    /// The target as the user gave it.
    pub input: String,
    /// Final URL after redirects (a `file://` URL for local files).
    pub url: String,
    pub status: Option<u16>,
    pub mode: Mode,
    pub fetched_at: DateTime<Utc>,
    pub body_sha256: String,
    pub content_language: Option<String>,
    pub redirects: Vec<Redirect>,
    /// Every `Set-Cookie` header of every response in the redirect chain.
    pub set_cookies: Vec<SetCookie>,
    /// The HTML decoded to UTF-8 (the rendered DOM in render mode).
    pub html: String,
    pub rendered: Option<BrowserObservation>,
}

impl Page {
    /// A page from HTML in hand, read now in static mode, with no HTTP exchange: every fetcher,
    /// test, rule example and benchmark starts from it and sets what else it knows with struct
    /// update syntax.
    pub fn from_html(input: &str, url: &str, html: String) -> Page {
        Page {
            input: input.to_owned(),
            url: url.to_owned(),
            status: None,
            mode: Mode::Static,
            fetched_at: Utc::now(),
            body_sha256: String::new(),
            content_language: None,
            redirects: Vec::new(),
            set_cookies: Vec::new(),
            html,
            rendered: None,
        }
    }
}

/// What only a running browser sees; extraction folds it into the facts.
#[derive(Debug, Clone, Default)]
pub struct BrowserObservation {
    /// The browser's cookie jar before any click.
    pub cookies: Vec<RawCookie>,
    /// URLs requested before any click, with their resource type.
    pub requests: Vec<(String, String)>,
    pub storage_keys: Vec<String>,
    /// Where the screenshot of the first look was written.
    pub screenshot: Option<String>,
    /// The consent string the page's IAB TCF API gave before any choice.
    pub tcf_api: Option<String>,
    pub scroll_locked: bool,
    pub choice: Option<ChoiceObservation>,
}

/// What happened when the auditor made a choice in the banner.
#[derive(Debug, Clone)]
pub struct ChoiceObservation {
    pub choice: Choice,
    /// Clicks the choice took, or why it could not be made.
    pub clicks: Result<u32, String>,
    /// Why the choice may not have been recorded although the clicks were made.
    pub doubt: Option<String>,
    /// The cookie jar after the choice.
    pub cookies: Vec<RawCookie>,
    /// URLs requested after the click.
    pub requests: Vec<String>,
    /// The consent string the page's IAB TCF API gave after the choice.
    pub tcf_api: Option<String>,
}

/// A cookie as a browser or a `Set-Cookie` header holds it, before classification.
#[derive(Debug, Clone)]
pub struct RawCookie {
    pub name: String,
    /// Read for what a value means (a TCF consent string); reports give only its length.
    pub value: String,
    pub domain: String,
    pub path: String,
    pub lifetime_days: Option<f64>,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
}

/// One hop of a redirect chain.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Redirect {
    pub url: String,
    pub status: u16,
}

/// A raw `Set-Cookie` header and the URL of the response that carried it.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub header: String,
    pub url: String,
}

/// Why a target could not be audited. Kinds are fixed by DESIGN.md, plus `internal`: the
/// tool itself failed on the page (a bug to report), which is neither the page's fault nor I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    Dns,
    Connect,
    Tls,
    Timeout,
    HttpStatus,
    TooLarge,
    RedirectLoop,
    NotHtml,
    Io,
    Render,
    Internal,
}

impl ErrorKind {
    /// The kind an error message names: the one mapping for errors that come as text (the
    /// browser's `net::ERR_…` codes, the HTTP stack's error chain).
    pub fn from_message(message: &str) -> Option<ErrorKind> {
        let m = message.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
        if has(&[
            "name_not_resolved",
            "dns error",
            "failed to lookup",
            "name or service not known",
        ]) {
            Some(ErrorKind::Dns)
        } else if has(&["message head is too large"]) {
            Some(ErrorKind::TooLarge)
        } else if has(&[
            "connection_refused",
            "connection_reset",
            "address_unreachable",
        ]) {
            Some(ErrorKind::Connect)
        } else if has(&["cert", "ssl", "tls", "handshake"]) {
            Some(ErrorKind::Tls)
        } else if has(&["timed_out", "timeout"]) {
            Some(ErrorKind::Timeout)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct PageError {
    pub kind: ErrorKind,
    pub message: String,
    /// The HTTP status when the error is about one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
}

impl PageError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PageError {
            kind,
            message: message.into(),
            status: None,
        }
    }

    /// 403, 406 and 429 mean a site refused the auditor, not that it is down.
    pub fn is_blocked(&self) -> bool {
        matches!(self.status, Some(403 | 406 | 429))
    }
}
