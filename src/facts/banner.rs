//! The consent banner as read: its controls, toggles, links and what its text claims.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Category;

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
