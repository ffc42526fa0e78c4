//! The facts a rule may look at. Extraction fills them, rules read them, the JSON report prints them,
//! so every finding can be traced back to what was seen.

mod banner;
mod tcf;
mod tracking;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use banner::*;
pub use tcf::*;
pub use tracking::*;

/// How a page was audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Static,
    Render,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Static => "static",
            Mode::Render => "render",
        }
    }
}

/// Purpose categories shared by cookies, trackers and checkboxes (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Necessary,
    Preferences,
    Analytics,
    Advertising,
    Social,
    #[default]
    Unknown,
}

impl Category {
    pub fn needs_consent(self) -> bool {
        matches!(
            self,
            Category::Analytics | Category::Advertising | Category::Social
        )
    }
}

/// The choice the auditor makes in a banner in render mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    #[default]
    Reject,
    Accept,
}

impl Choice {
    /// The banner control that makes this choice.
    pub fn role(self) -> Role {
        match self {
            Choice::Reject => Role::Reject,
            Choice::Accept => Role::Accept,
        }
    }
}

/// How honestly far the audit could see (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Coverage {
    BannerFound,
    NeedsRender,
    NoBannerNoTrackers,
    NoBannerButTrackers,
    Blocked,
    Unreachable,
}

/// One trace of a consent mechanism (DESIGN.md, `page.consent_evidence`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct ConsentEvidence {
    pub kind: EvidenceKind,
    pub detail: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// A CMP's script, or a hint (preconnect, preload) to its host.
    CmpScript,
    /// An inline API stub (`__tcfapi`, Funding Choices' `googlefc`).
    CmpStub,
    /// An inline CMP configuration or callback, or tags held back with a CMP's attributes.
    CmpConfig,
    /// A consent cookie's name written in the page's code.
    ConsentCookie,
    /// The banner's markup (hidden or in a template).
    BannerMarkup,
    /// An application bundle that carries a consent library.
    AppBundle,
    /// An element that a consent-banner filter list names.
    ListSelector,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default)]
pub struct Facts {
    /// `<html lang>` or `Content-Language`, as a two-letter code when known.
    pub page_language: Option<String>,
    /// Language of the banner (its `lang`, the page's, or detected from its text).
    pub language: Option<String>,
    pub banner: Option<Banner>,
    pub cookies: Vec<Cookie>,
    pub trackers: Vec<Tracker>,
    pub signals: ConsentSignals,
    /// Why the audit believes a consent mechanism exists, whether or not its banner was seen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consent_evidence: Vec<ConsentEvidence>,
    /// IAB TCF v2 consent strings the page held, decoded: before any choice, and after the
    /// auditor's choice in render mode (DESIGN.md, `page.tcf`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tcf: Vec<TcString>,
    /// Facts only a running browser can give; `None` in static mode.
    pub render: Option<RenderFacts>,
}

impl Facts {
    /// Sets every derived field (what rules call `needs_consent`, `session_replay`) from the
    /// others: the one place they are computed, for extracted facts and hand-written ones alike.
    pub fn finish(&mut self) {
        let interaction = self.render.as_mut().and_then(|r| r.interaction.as_mut());
        let (after_cookies, after_trackers) = match interaction {
            Some(i) => (&mut i.cookies_after[..], &mut i.trackers_after[..]),
            None => (&mut [][..], &mut [][..]),
        };
        for c in self.cookies.iter_mut().chain(after_cookies) {
            c.finish();
        }
        for t in self.trackers.iter_mut().chain(after_trackers) {
            t.finish();
        }
        for tc in &mut self.tcf {
            tc.finish();
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default)]
pub struct ConsentSignals {
    /// The IAB TCF API stub is present.
    pub tcf: bool,
    pub tcf_cmp_id: Option<u32>,
    pub consent_mode: Option<ConsentMode>,
}

/// Google Consent Mode defaults as issued by the page.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default)]
pub struct ConsentMode {
    pub ad_storage: Option<String>,
    pub analytics_storage: Option<String>,
    pub ad_user_data: Option<String>,
    pub ad_personalization: Option<String>,
    /// The `default` command comes before any tag configuration.
    pub default_before_config: bool,
}

impl ConsentMode {
    /// Every storage type the page set is denied by default.
    pub fn denies_by_default(&self) -> bool {
        let states = [&self.ad_storage, &self.analytics_storage];
        states.iter().any(|s| s.is_some())
            && states
                .iter()
                .all(|s| s.as_deref().is_none_or(|v| v == "denied"))
            && self.default_before_config
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default)]
pub struct RenderFacts {
    /// Screenshot of the page with its banner, relative to the report folder.
    pub screenshot: Option<String>,
    pub storage_keys: Vec<String>,
    /// Share of the viewport the banner covers, 0 to 1.
    pub banner_coverage: Option<f64>,
    pub scroll_locked: bool,
    pub interaction: Option<Interaction>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default)]
pub struct Interaction {
    pub choice: Choice,
    /// Clicks the choice took; `None` when it could not be made.
    pub clicks: Option<u32>,
    /// Clicks accepting takes on the first layer, for comparison.
    pub clicks_to_accept: Option<u32>,
    pub cookies_after: Vec<Cookie>,
    pub trackers_after: Vec<Tracker>,
    pub error: Option<String>,
    /// Why the choice may not have been recorded though every click was made (the settings
    /// layer offered nothing the auditor could untick, the banner stayed open...).
    pub doubt: Option<String>,
}
