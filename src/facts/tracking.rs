//! What tracks a visitor: cookies and tracker requests, with what the catalogues say of them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Category;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CookieSource {
    #[default]
    SetCookie,
    Browser,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(default)]
pub struct Cookie {
    pub name: String,
    pub domain: String,
    pub path: String,
    pub value_len: usize,
    /// Lifetime in days from Max-Age or Expires; `None` for a session cookie.
    pub lifetime_days: Option<f64>,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
    pub source: CookieSource,
    pub category: Category,
    pub vendor: Option<String>,
    /// Finer kind from the catalogue: consent-record, session-replay, security, load-balancing...
    pub kind: Option<CookieKind>,
    /// Exempt only under national conditions (e.g. CNIL audience measurement).
    pub exemptable: bool,
    /// Set for a purpose that needs consent (analytics, advertising, social). A national
    /// exemption may still apply: see `exemptable`.
    pub needs_consent: bool,
    /// A session-recording tool's cookie.
    pub session_replay: bool,
    /// What classified it: `catalogue`, or `list:NAME` for a cookie database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classified_by: Option<String>,
    pub third_party: bool,
    pub before_consent: bool,
}

/// What a cookie does, finer than its category (the catalogue's vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CookieKind {
    AbTesting,
    Affiliate,
    Analytics,
    Authentication,
    Cart,
    Comments,
    ConsentRecord,
    Conversion,
    Csrf,
    Currency,
    DataBroker,
    Embed,
    Form,
    Identity,
    Language,
    Layout,
    LeadTracking,
    LoadBalancing,
    MarketingAttribution,
    MarketingAutomation,
    Performance,
    Queue,
    RecentlyViewed,
    Retargeting,
    Security,
    Session,
    SessionReplay,
    Share,
    SocialLogin,
    Targeting,
    Theme,
    Throttling,
    Widget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TrackerElement {
    #[default]
    Script,
    Iframe,
    Img,
    Link,
    Noscript,
    Inline,
    Request,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(default)]
pub struct Tracker {
    pub url: String,
    pub host: String,
    pub vendor: Option<String>,
    pub category: Category,
    pub element: TrackerElement,
    /// Neutralised until consent, the way CMPs document it.
    pub gated: bool,
    /// Cookieless, consent-exempt analytics: never counted as needing consent.
    pub exempt: bool,
    /// A tag manager: it loads other tags rather than tracking by itself.
    pub tag_manager: bool,
    /// Tracks for a purpose that needs consent (analytics, advertising, social), and is neither
    /// exempt nor a tag manager. A national exemption may still apply: see `exemptable`.
    pub needs_consent: bool,
    /// Audience measurement that national exemptions may cover (the profile decides).
    pub exemptable: bool,
    /// Records sessions for replay.
    pub session_replay: bool,
    /// Its registrable domain is not the page's (a first-party host may still track: CNAME
    /// cloaking, self-hosted analytics).
    pub third_party: bool,
    /// What classified it: `catalogue`, or `list:NAME@VERSION` for a filter list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The filter-list rule that matched, when a list classified it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Tracker {
    /// Sets `needs_consent` from the other fields, once they are final.
    pub fn finish(&mut self) {
        self.needs_consent = self.category.needs_consent() && !self.exempt && !self.tag_manager;
    }
}

impl Cookie {
    /// Sets the fields derived from the others, once they are final.
    pub fn finish(&mut self) {
        self.needs_consent = self.category.needs_consent();
        self.session_replay = self.kind == Some(CookieKind::SessionReplay);
    }
}
