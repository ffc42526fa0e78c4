//! Decoding IAB TCF v2 consent strings (the `euconsent-v2` cookie, `__tcfapi` in a browser): the
//! core segment's bit fields, as laid out by the IAB Tech Lab's TC string format v2.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};

use crate::facts::{Choice, PublisherRestriction, TcString, TcfMoment};
use crate::page::{Page, RawCookie};

/// The cookie CMPs of the TCF v2 keep the consent string in.
pub const COOKIE: &str = "euconsent-v2";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TcfError {
    #[error("not base64url: {0}")]
    Encoding(String),
    #[error("version {0}: only TCF v2 strings are decoded")]
    Version(u8),
    #[error("the string ends inside the {0} field")]
    Truncated(&'static str),
}

/// The consent strings a page held: before any choice (from the page's TCF API in a browser,
/// else its cookies) and after the auditor's choice. A malformed string is as good as none.
pub fn observed(page: &Page) -> Vec<TcString> {
    let mut found = Vec::new();
    let mut add = |api: Option<&str>, jar: &[RawCookie], seen: TcfMoment| {
        let cookie = || {
            jar.iter()
                .filter(|c| c.name == COOKIE)
                .find_map(|c| decode(&c.value, "cookie euconsent-v2").ok())
        };
        let decoded = api.and_then(|s| decode(s, "__tcfapi getTCData").ok());
        found.extend(decoded.or_else(cookie).map(|tc| TcString { seen, ..tc }));
    };
    match &page.rendered {
        Some(seen) => {
            add(
                seen.tcf_api.as_deref(),
                &seen.cookies,
                TcfMoment::BeforeChoice,
            );
            if let Some(after) = &seen.choice {
                let moment = match after.choice {
                    Choice::Reject => TcfMoment::AfterReject,
                    Choice::Accept => TcfMoment::AfterAccept,
                };
                add(after.tcf_api.as_deref(), &after.cookies, moment);
            }
        }
        None => {
            // Only the consent cookie's headers: the cookies themselves are read elsewhere.
            let jar: Vec<RawCookie> = page
                .set_cookies
                .iter()
                .filter(|h| h.header.trim_start().starts_with(COOKIE))
                .filter_map(|h| super::cookies::parse_set_cookie(h, page.fetched_at))
                .collect();
            add(None, &jar, TcfMoment::BeforeChoice);
        }
    }
    found
}

/// Decodes the core segment of a TC string (other segments, after a `.`, are ignored).
pub fn decode(tc: &str, source: &str) -> Result<TcString, TcfError> {
    let core = tc.trim().split('.').next().unwrap_or_default();
    // Encoders pad the last character with zero bits and drop `=`; accept either way.
    let lenient = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let bytes = GeneralPurpose::new(&alphabet::URL_SAFE, lenient)
        .decode(core)
        .map_err(|e| TcfError::Encoding(e.to_string()))?;
    let mut r = Bits {
        bytes: &bytes,
        at: 0,
    };
    let version = r.int(6, "version")? as u8;
    if version != 2 {
        return Err(TcfError::Version(version));
    }
    let mut tc = TcString {
        seen: TcfMoment::BeforeChoice,
        source: source.to_owned(),
        version,
        created: r.time("created")?,
        last_updated: r.time("last updated")?,
        cmp_id: r.int(12, "CMP id")? as u16,
        cmp_version: r.int(12, "CMP version")? as u16,
        consent_screen: r.int(6, "consent screen")? as u8,
        consent_language: r.letters("consent language")?,
        vendor_list_version: r.int(12, "vendor list version")? as u16,
        policy_version: r.int(6, "policy version")? as u8,
        service_specific: r.flag("service specific")?,
        // "use non-standard texts": read past, not reported.
        special_features: {
            r.flag("non-standard texts")?;
            r.set(12, "special features")?
        },
        purposes_consent: r.set(24, "purposes consent")?,
        purposes_legitimate_interest: r.set(24, "purposes legitimate interest")?,
        purpose_one_treatment: r.flag("purpose one treatment")?,
        publisher_country: r.letters("publisher country")?,
        vendors_consent: r.vendors("vendor consent")?,
        vendors_legitimate_interest: r.vendors("vendor legitimate interest")?,
        publisher_restrictions: r.restrictions()?,
        ..TcString::default()
    };
    tc.finish();
    Ok(tc)
}

/// A reader of big-endian bit fields.
struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn int(&mut self, width: usize, field: &'static str) -> Result<u64, TcfError> {
        if self.at + width > self.bytes.len() * 8 {
            return Err(TcfError::Truncated(field));
        }
        let mut value = 0;
        for i in self.at..self.at + width {
            value = (value << 1) | u64::from(self.bytes[i / 8] >> (7 - i % 8) & 1);
        }
        self.at += width;
        Ok(value)
    }

    fn flag(&mut self, field: &'static str) -> Result<bool, TcfError> {
        Ok(self.int(1, field)? == 1)
    }

    /// Deciseconds since the epoch, as ISO 8601.
    fn time(&mut self, field: &'static str) -> Result<String, TcfError> {
        let ds = self.int(36, field)?;
        let at = DateTime::<Utc>::from_timestamp_millis(ds as i64 * 100).unwrap_or_default();
        Ok(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }

    /// Two letters of six bits each, 0 = A.
    fn letters(&mut self, field: &'static str) -> Result<String, TcfError> {
        let mut out = String::new();
        for _ in 0..2 {
            out.push(char::from(b'A' + self.int(6, field)? as u8));
        }
        Ok(out)
    }

    /// The 1-based ids of the set bits of a `width`-bit field.
    fn set<T: TryFrom<usize>>(
        &mut self,
        width: usize,
        field: &'static str,
    ) -> Result<Vec<T>, TcfError> {
        let mut ids = Vec::new();
        for id in 1..=width {
            if self.flag(field)? {
                ids.extend(T::try_from(id).ok());
            }
        }
        Ok(ids)
    }

    /// A vendor section: the highest id, then a bit field or a list of ranges.
    fn vendors(&mut self, field: &'static str) -> Result<Vec<u16>, TcfError> {
        let max = self.int(16, field)? as usize;
        if self.flag(field)? {
            self.ranges(field)
        } else {
            self.set(max, field)
        }
    }

    /// A count, then ids or `start..=end` ranges; overlapping ranges are merged first, so a
    /// hostile string cannot make the list longer than the 65,535 possible ids.
    fn ranges(&mut self, field: &'static str) -> Result<Vec<u16>, TcfError> {
        let entries = self.int(12, field)?;
        let mut spans = Vec::new();
        for _ in 0..entries {
            let is_range = self.flag(field)?;
            let start = self.int(16, field)? as u16;
            let end = if is_range {
                self.int(16, field)? as u16
            } else {
                start
            };
            spans.push((start, end.max(start)));
        }
        spans.sort_unstable();
        let mut ids: Vec<u16> = Vec::new();
        for (start, end) in spans {
            let from = ids
                .last()
                .map_or(start, |&last| start.max(last.saturating_add(1)));
            if ids.last().is_none_or(|&last| last < end) {
                ids.extend(from..=end);
            }
        }
        Ok(ids)
    }

    fn restrictions(&mut self) -> Result<Vec<PublisherRestriction>, TcfError> {
        let field = "publisher restrictions";
        let count = self.int(12, field)?;
        (0..count)
            .map(|_| {
                Ok(PublisherRestriction {
                    purpose: self.int(6, field)? as u8,
                    restriction: self.int(2, field)? as u8,
                    vendors: self.ranges(field)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TC string encoder for the tests: fields written in the order and widths of the format.
    #[derive(Default)]
    struct Encoder(Vec<bool>);

    impl Encoder {
        fn int(mut self, width: usize, value: u64) -> Self {
            self.0.extend((0..width).rev().map(|i| value >> i & 1 == 1));
            self
        }
        fn set(self, width: usize, ids: &[usize]) -> Self {
            (1..=width).fold(self, |e, id| e.int(1, u64::from(ids.contains(&id))))
        }
        fn letters(self, two: &str) -> Self {
            two.bytes().fold(self, |e, b| e.int(6, u64::from(b - b'A')))
        }
        fn finish(self) -> String {
            let bytes: Vec<u8> = self
                .0
                .chunks(8)
                .map(|c| {
                    c.iter()
                        .enumerate()
                        .fold(0u8, |b, (i, &on)| b | u8::from(on) << (7 - i))
                })
                .collect();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        }
    }

    /// Header fields of a string made on 2026-03-01 by CMP 300 for vendor list 120.
    fn header(purposes: &[usize], li: &[usize]) -> Encoder {
        let deciseconds = 1_772_323_200 * 10;
        Encoder::default()
            .int(6, 2)
            .int(36, deciseconds)
            .int(36, deciseconds)
            .int(12, 300)
            .int(12, 4)
            .int(6, 1)
            .letters("FR")
            .int(12, 120)
            .int(6, 4)
            .int(1, 0)
            .int(1, 0)
            .set(12, &[])
            .set(24, purposes)
            .set(24, li)
            .int(1, 0)
            .letters("FR")
    }

    #[test]
    fn a_string_built_field_by_field_decodes_to_the_same_choices() {
        let tc = header(&[1, 3, 4], &[2, 7])
            // vendor consent as a bit field up to 10: vendors 2 and 10
            .int(16, 10)
            .int(1, 0)
            .set(10, &[2, 10])
            // vendor legitimate interest as ranges: 5 and 8..=9
            .int(16, 9)
            .int(1, 1)
            .int(12, 2)
            .int(1, 0)
            .int(16, 5)
            .int(1, 1)
            .int(16, 8)
            .int(16, 9)
            // one publisher restriction: purpose 3 needs consent for vendor 10
            .int(12, 1)
            .int(6, 3)
            .int(2, 1)
            .int(12, 1)
            .int(1, 0)
            .int(16, 10)
            .finish();
        let decoded = decode(&format!("{tc}.YAAAAAAAAAAA"), "cookie euconsent-v2").unwrap();
        assert_eq!(decoded.created, "2026-03-01T00:00:00Z");
        assert_eq!(
            (
                decoded.cmp_id,
                decoded.cmp_version,
                decoded.vendor_list_version
            ),
            (300, 4, 120)
        );
        assert_eq!(
            (
                decoded.consent_language.as_str(),
                decoded.publisher_country.as_str()
            ),
            ("FR", "FR")
        );
        assert_eq!(decoded.purposes_consent, [1, 3, 4]);
        assert_eq!(decoded.purposes_legitimate_interest, [2, 7]);
        assert_eq!(decoded.vendors_consent, [2, 10]);
        assert_eq!(decoded.vendors_legitimate_interest, [5, 8, 9]);
        assert_eq!(
            decoded.publisher_restrictions,
            [PublisherRestriction {
                purpose: 3,
                restriction: 1,
                vendors: vec![10]
            }]
        );
        assert!(decoded.grants_consent);
        assert_eq!(decoded.vendors_consent_count, 2);
    }

    #[test]
    fn a_refusal_grants_nothing() {
        let tc = header(&[], &[])
            .int(16, 0)
            .int(1, 0)
            .int(16, 0)
            .int(1, 0)
            .int(12, 0)
            .finish();
        let decoded = decode(&tc, "__tcfapi getTCData").unwrap();
        assert!(!decoded.grants_consent, "{decoded:?}");
    }

    /// A TC string published as an example with the IAB's TCF v2 documentation; the expected
    /// values were read with an independent decoder (the `iab-tcf` 0.2.2 Python package).
    #[test]
    fn the_published_example_decodes_as_other_decoders_read_it() {
        let d = decode("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA", "cookie").unwrap();
        assert_eq!(
            (d.version, d.cmp_id, d.cmp_version, d.consent_screen),
            (2, 675, 2, 1)
        );
        assert_eq!(
            (d.created.as_str(), d.last_updated.as_str()),
            ("2020-01-26T17:01:00Z", "2021-02-02T17:01:00Z")
        );
        assert_eq!(
            (d.consent_language.as_str(), d.publisher_country.as_str()),
            ("EN", "AA")
        );
        assert_eq!((d.vendor_list_version, d.policy_version), (15, 2));
        assert_eq!(d.special_features, [1]);
        assert_eq!(d.purposes_consent, [2, 10]);
        assert_eq!(d.purposes_legitimate_interest, [2, 9]);
        assert!(d.purpose_one_treatment && !d.service_specific);
        assert!(d.vendors_consent.is_empty() && d.publisher_restrictions.is_empty());
    }

    #[test]
    fn broken_and_hostile_strings_are_errors_or_bounded() {
        assert!(matches!(
            decode("not base64!", "c"),
            Err(TcfError::Encoding(_))
        ));
        assert_eq!(
            decode("BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA", "c"),
            Err(TcfError::Version(1))
        );
        assert_eq!(decode("CO", "c"), Err(TcfError::Truncated("created")));
        // 4,095 overlapping full ranges: merged, not 268 million ids.
        let mut e = header(&[1], &[]).int(16, 65535).int(1, 1).int(12, 4095);
        for _ in 0..4095 {
            e = e.int(1, 1).int(16, 1).int(16, 65535);
        }
        let d = decode(&e.int(16, 0).int(1, 0).int(12, 0).finish(), "c").unwrap();
        assert_eq!(d.vendors_consent.len(), 65535);
    }
}
