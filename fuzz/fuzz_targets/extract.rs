//! Arbitrary bytes as a fetched page: extraction, rule evaluation and every report format must
//! never panic, hang or blow up memory, whatever the HTML.
#![no_main]

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use cookie_audit::pipeline::{Loaded, analyse, load};
use cookie_audit::page::{Page, SetCookie};
use cookie_audit::report::{Format, Report, RuleInfo, SCHEMA, Summary, Tool, render};
use libfuzzer_sys::fuzz_target;

const URL: &str = "https://www.example.com/";

fn loaded() -> &'static (Loaded, Vec<RuleInfo>) {
    static LOADED: OnceLock<(Loaded, Vec<RuleInfo>)> = OnceLock::new();
    LOADED.get_or_init(|| {
        let loaded = load(None, "eu").expect("embedded knowledge loads");
        let rules = RuleInfo::from_rules(&loaded.engine.rules.rules, None);
        (loaded, rules)
    })
}

fuzz_target!(|data: &[u8]| {
    let (loaded, rules) = loaded();
    let html = String::from_utf8_lossy(data).into_owned();
    // Lines that look like Set-Cookie headers also go through the cookie parser.
    let set_cookies = html
        .lines()
        .filter_map(|l| l.strip_prefix("Set-Cookie: "))
        .map(|h| SetCookie {
            header: h.to_owned(),
            url: URL.to_owned(),
        })
        .collect();
    let fetched_at = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let page = Page {
        status: Some(200),
        fetched_at,
        set_cookies,
        ..Page::from_html(URL, URL, html)
    };
    let (page_report, _errors) = analyse(&page, &loaded.knowledge, &loaded.engine);
    let mut report = Report {
        schema: SCHEMA.to_owned(),
        tool: Tool {
            name: "cookie-audit".into(),
            version: "fuzz".into(),
            rules_version: loaded.rules_version.clone(),
            lists: Vec::new(),
        },
        profile: "eu".into(),
        started_at: fetched_at,
        finished_at: fetched_at,
        summary: Summary::default(),
        pages: vec![page_report],
        fixed: Vec::new(),
    };
    report.summarise();
    for format in Format::ALL {
        render(format, &report, rules).expect("a report always renders");
    }
});
