//! An IAB TCF v2 consent string (TC string), decoded: what a CMP recorded as the visitor's choices.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The core segment of a TC string, plus where it was read (IAB Tech Lab, "Transparency and
/// Consent String with Global Vendor List Format", v2).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default)]
pub struct TcString {
    /// When it was read, relative to the auditor's choice.
    pub seen: TcfMoment,
    /// Where it was read: `cookie euconsent-v2` or `__tcfapi getTCData`.
    pub source: String,
    pub version: u8,
    /// When the string was created and last updated (ISO 8601).
    pub created: String,
    pub last_updated: String,
    /// The CMP's id in the IAB's CMP list.
    pub cmp_id: u16,
    pub cmp_version: u16,
    pub consent_screen: u8,
    pub consent_language: String,
    pub vendor_list_version: u16,
    pub policy_version: u8,
    pub service_specific: bool,
    /// Special features opted in (1: precise geolocation, 2: device scanning).
    pub special_features: Vec<u8>,
    /// Purposes with consent (1–24).
    pub purposes_consent: Vec<u8>,
    /// Purposes under legitimate interest, disclosed and not objected to.
    pub purposes_legitimate_interest: Vec<u8>,
    pub purpose_one_treatment: bool,
    pub publisher_country: String,
    /// Vendor ids (Global Vendor List) with consent, and under legitimate interest.
    pub vendors_consent: Vec<u16>,
    pub vendors_legitimate_interest: Vec<u16>,
    pub vendors_consent_count: usize,
    pub vendors_legitimate_interest_count: usize,
    pub publisher_restrictions: Vec<PublisherRestriction>,
    /// Consent for some purpose, special feature or vendor is recorded.
    pub grants_consent: bool,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TcfMoment {
    #[default]
    BeforeChoice,
    AfterReject,
    AfterAccept,
}

/// The publisher's restriction of vendors for a purpose.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(default)]
pub struct PublisherRestriction {
    pub purpose: u8,
    /// 0: not allowed, 1: consent required, 2: legitimate interest required.
    pub restriction: u8,
    pub vendors: Vec<u16>,
}

impl TcString {
    /// Sets the derived fields (counts, `grants_consent`) from the others.
    pub fn finish(&mut self) {
        self.vendors_consent_count = self.vendors_consent.len();
        self.vendors_legitimate_interest_count = self.vendors_legitimate_interest.len();
        self.grants_consent = !self.purposes_consent.is_empty()
            || !self.special_features.is_empty()
            || !self.vendors_consent.is_empty();
    }
}
