//! The facts a rule may look at. Extraction fills them, rules read them, the JSON report prints them,
//! so every finding can be traced back to what was seen.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// What a banner control does, as a visitor would understand it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Accept,
    Reject,
    Settings,
    Acknowledge,
    Close,
    #[default]
    Other,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Accept,
        Role::Reject,
        Role::Settings,
        Role::Acknowledge,
        Role::Close,
        Role::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Accept => "accept",
            Role::Reject => "reject",
            Role::Settings => "settings",
            Role::Acknowledge => "acknowledge",
            Role::Close => "close",
            Role::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The element as the user sees it: an `<a>` styled as a button is still a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ElementKind {
    #[default]
    Button,
    Link,
    Input,
    Other,
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

/// How the banner was recognised: a CMP signature is proof, a generic match a heuristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Detection {
    #[default]
    Signature,
    Generic,
    /// A consent-banner filter list (e.g. the EasyList Cookie List) names the element.
    List,
    Script,
}

/// How a banner's markup ships in the fetched HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Markup {
    /// In the DOM as served.
    Live,
    /// Inside `<template>` or a template-typed `<script>`: a script clones it in.
    Template,
    /// In the DOM but hidden (`hidden`, `display:none`) until a script shows it.
    Hidden,
    /// Seen only in the rendered DOM.
    Rendered,
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
    /// Facts only a running browser can give; `None` in static mode.
    pub render: Option<RenderFacts>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(default)]
pub struct Banner {
    /// False when a CMP script is loaded but its banner is not in the static HTML.
    pub present: bool,
    /// CMP vendor id (file name under `rules/cmp/`), when recognised.
    pub cmp: Option<String>,
    pub detection: Detection,
    /// How the banner's markup ships in the fetched HTML; `None` when it is not there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markup: Option<Markup>,
    /// CSS selector of the banner root.
    pub selector: Option<String>,
    /// Visible text, whitespace normalised.
    pub text: String,
    pub buttons: Vec<Button>,
    pub checkboxes: Vec<Checkbox>,
    pub links: Vec<Link>,
    pub claims: Claims,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(default)]
pub struct Button {
    pub label: String,
    pub role: Role,
    pub element: ElementKind,
    pub selector: String,
    /// Shown on the first layer (not inside a preference centre that opens later).
    pub first_layer: bool,
    /// A link inside running text rather than a control of its own (EDPB taskforce §14).
    pub in_text_flow: bool,
    /// Rendered appearance; only in render mode.
    pub style: Option<ButtonStyle>,
    /// Render mode's handle on the live element, to click it; not part of the report.
    #[serde(skip)]
    #[schemars(skip)]
    pub handle: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(default)]
pub struct ButtonStyle {
    pub width: f64,
    pub height: f64,
    pub font_size: f64,
    pub color: String,
    pub background: String,
    pub contrast: f64,
    /// Visible without scrolling.
    pub in_viewport: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(default)]
pub struct Checkbox {
    pub label: String,
    pub checked: bool,
    pub disabled: bool,
    pub category: Category,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    PrivacyPolicy,
    CookiePolicy,
    LegalNotice,
    Partners,
    #[default]
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(default)]
pub struct Link {
    pub text: String,
    pub href: String,
    pub kind: LinkKind,
}

/// Statements found in the banner text. Each list holds the phrases that matched, as evidence.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default)]
pub struct Claims {
    pub implied_consent: Vec<String>,
    pub cookie_wall: Vec<String>,
    pub legitimate_interest: Vec<String>,
    pub withdraw: Vec<String>,
    /// Refusing is said to disable a feature (e.g. comments).
    pub consent_coupled: Vec<String>,
    /// What refusing leads to is stated (e.g. "only technical cookies").
    pub refusal_consequences: Vec<String>,
    pub terms_bundled: Vec<String>,
    pub partners: Vec<String>,
    /// Purpose categories the text names.
    pub purposes: Vec<Category>,
    /// Only vague purposes ("to improve your experience").
    pub vague_purposes: Vec<String>,
    pub partner_count: Option<u32>,
    /// Name of the controller, when the text introduces one.
    pub controller: Option<String>,
}

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
    pub kind: Option<String>,
    /// Exempt only under national conditions (e.g. CNIL audience measurement).
    pub exemptable: bool,
    /// Set for a purpose that needs consent (analytics, advertising, social). A national
    /// exemption may still apply: see `exemptable`.
    pub needs_consent: bool,
    /// A session-recording tool's cookie.
    pub session_replay: bool,
    pub third_party: bool,
    pub before_consent: bool,
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
        self.session_replay = self.kind.as_deref() == Some("session-replay");
    }
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
}
