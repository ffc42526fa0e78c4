//! Every report format on a fixed run: snapshots, schema validation, escaping of hostile pages.

mod common;

use cookie_audit::facts::Mode;
use cookie_audit::page::{ErrorKind, Page, PageError};
use cookie_audit::pipeline::{self, analyse, error_page};
use cookie_audit::report::baseline;
use cookie_audit::report::{self, Format, Report, RuleInfo, SCHEMA, Tool};
use cookie_audit::rules::BaselineState;

const HOSTILE: &str =
    "<script>alert(1)</script>\"><img src=x onerror=alert(2)>\u{1b}[31m\u{0}|pipe|";

use common::{fetched_page as page, fixed_time};

/// A small fixed run: the French seed page with tracking cookies, a CMP page, an error.
fn fixed_report(extra: Option<Page>) -> (Report, Vec<RuleInfo>) {
    let loaded = pipeline::load(None, "eu").expect("embedded rules");
    let mut pages = vec![
        page(
            "seed-fr-news.html",
            "https://www.example.fr/",
            common::fixture("pages/generic/seed-fr-news.html"),
            &["_ga=GA1.2.3; Max-Age=63072000", "PHPSESSID=abc"],
        ),
        page(
            "bar-en-implied-got-it.html",
            "https://shop.example.co.uk/",
            common::fixture("pages/generic/bar-en-implied-got-it.html"),
            &[],
        ),
    ];
    pages.extend(extra);
    let mut reports: Vec<_> = pages
        .iter()
        .map(|p| analyse(p, &loaded.knowledge, &loaded.engine).0)
        .collect();
    let mut err = error_page(
        "down.example",
        "https://down.example/",
        Mode::Static,
        PageError::new(ErrorKind::Dns, "https://down.example/: dns error"),
    );
    err.fetched_at = Some(fixed_time());
    reports.push(err);
    let mut report = Report {
        schema: SCHEMA.into(),
        tool: Tool {
            name: "cookie-audit".into(),
            version: "0.0.0-test".into(),
            rules_version: "test".into(),
            lists: Vec::new(),
        },
        profile: "eu".into(),
        started_at: fixed_time(),
        finished_at: fixed_time(),
        summary: Default::default(),
        pages: reports,
        fixed: Vec::new(),
    };
    report.summarise();
    let docs = "https://privacy.example.org/cookie-audit/rules/{rule}.html";
    (
        report,
        RuleInfo::from_rules(loaded.engine.active(), Some(docs)),
    )
}

#[test]
fn snapshots_of_every_format() {
    let (report, rules) = fixed_report(None);
    for format in [
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
        Format::Table,
        Format::Html,
    ] {
        let text = report::render(format, &report, &rules).unwrap();
        insta::assert_snapshot!(format!("{format:?}").to_lowercase(), text);
    }
}

#[test]
fn json_report_matches_its_checked_in_schema() {
    let schema_text = report::json::schema();
    let checked_in = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/reports/report-v1.schema.json"
    ))
    .unwrap();
    assert_eq!(
        checked_in, schema_text,
        "regenerate reports/report-v1.schema.json (cookie-audit schema > reports/report-v1.schema.json)"
    );
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let (report, rules) = fixed_report(None);
    let instance: serde_json::Value =
        serde_json::from_str(&report::render(Format::Json, &report, &rules).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&common::fixture("sarif-schema-2.1.0.json")).unwrap();
    let (report, rules) = fixed_report(None);
    let sarif: serde_json::Value =
        serde_json::from_str(&report::render(Format::Sarif, &report, &rules).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let ids: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[i], r["ruleId"].as_str().unwrap());
        assert!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
    }
}

#[test]
fn junit_parses_back_with_failures_and_errors() {
    let (report, rules) = fixed_report(None);
    let xml = report::render(Format::Junit, &report, &rules).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), report.pages.len());
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    let findings: usize = report.pages.iter().map(|p| p.findings.len()).sum();
    assert_eq!(failures, findings);
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("error"))
            .count(),
        1
    );
    let cases = suites[0]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, rules.len(), "a test case per evaluated rule");
}

#[test]
fn hostile_page_text_stays_inert_in_html_markdown_and_xml() {
    let hostile_html = format!(
        "<html lang=\"en\"><body><div id=\"cookie-banner\" role=\"dialog\"><p>We use cookies {HOSTILE} for analytics.</p>\
         <button>Accept all {HOSTILE}</button><button>Reject all</button></div></body></html>"
    );
    let evil = page(
        HOSTILE,
        &format!("https://evil.example/?q={}", urlencode(HOSTILE)),
        hostile_html,
        &[],
    );
    let (report, rules) = fixed_report(Some(evil));
    let html = report::render(Format::Html, &report, &rules).unwrap();
    assert!(
        !html.contains("<script>alert")
            && !html.contains("<img src=x")
            && !html.contains('\u{0}')
            && !html.contains('\u{1b}')
    );
    let doc = scraper::Html::parse_document(&html);
    let scripts: Vec<String> = doc
        .select(&scraper::Selector::parse("script").unwrap())
        .map(|s| s.text().collect())
        .collect();
    assert_eq!(scripts.len(), 1, "only the report's own script");
    assert!(!scripts[0].contains("alert"));
    assert_eq!(
        doc.select(&scraper::Selector::parse("img").unwrap())
            .count(),
        0
    );
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    let md = report::render(Format::Markdown, &report, &rules).unwrap();
    assert!(!md.contains("<script>") && !md.contains("|pipe|"));
    for row in md.lines().filter(|l| l.starts_with("| https://evil")) {
        assert_eq!(row.matches(" | ").count(), 8, "cells were split: {row}");
    }
    for format in [Format::Sarif, Format::Junit] {
        let text = report::render(format, &report, &rules).unwrap();
        if format == Format::Junit {
            roxmltree::Document::parse(&text).expect("JUnit stays well-formed");
        } else {
            serde_json::from_str::<serde_json::Value>(&text).expect("SARIF stays valid JSON");
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn baselines_tell_new_unchanged_and_fixed_apart() {
    let (before, _) = fixed_report(None);
    let recorded = baseline::from_report(&before);
    assert!(!recorded.findings.is_empty());
    // The next run: the seed page lost its tracking cookie, a reworded page appears.
    let loaded = pipeline::load(None, "eu").unwrap();
    let seed = page(
        "seed-fr-news.html",
        "https://www.example.fr/",
        common::fixture("pages/generic/seed-fr-news.html"),
        &["PHPSESSID=abc"],
    );
    let shop_html =
        common::fixture("pages/generic/bar-en-implied-got-it.html").replace("  ", "   ");
    let shop = page(
        "bar-en-implied-got-it.html",
        "https://shop.example.co.uk/",
        shop_html,
        &[],
    );
    let new_page = page(
        "new",
        "https://new.example/",
        common::fixture("pages/generic/corner-nl-accept-settings.html"),
        &[],
    );
    let mut after = before.clone();
    after.pages = [seed, shop, new_page]
        .iter()
        .map(|p| analyse(p, &loaded.knowledge, &loaded.engine).0)
        .collect();
    baseline::compare(&mut after, &recorded);
    let state = |url: &str| -> Vec<BaselineState> {
        after
            .pages
            .iter()
            .find(|p| p.url == url)
            .unwrap()
            .findings
            .iter()
            .map(|f| f.baseline.unwrap())
            .collect()
    };
    assert!(
        state("https://shop.example.co.uk/")
            .iter()
            .all(|s| *s == BaselineState::Unchanged),
        "whitespace changes keep fingerprints"
    );
    assert!(
        state("https://new.example/")
            .iter()
            .all(|s| *s == BaselineState::New)
    );
    assert!(!state("https://new.example/").is_empty());
    assert!(
        after
            .fixed
            .iter()
            .any(|f| f.rule == "cookie-before-consent" && f.url == "https://www.example.fr/"),
        "{:?}",
        after.fixed
    );
}

#[test]
fn a_page_withheld_by_a_bot_challenge_never_reads_as_clean() {
    let challenge = page(
        "challenge.html",
        "https://guarded.example/",
        r#"<html><head><title>Just a moment...</title></head><body><div id="cf-browser-verification">Checking your browser</div></body></html>"#.into(),
        &[],
    );
    let (mut report, rules) = fixed_report(Some(challenge));
    report.summarise();
    let guarded = report
        .pages
        .iter()
        .find(|p| p.url == "https://guarded.example/")
        .unwrap();
    assert_eq!(guarded.coverage, cookie_audit::facts::Coverage::Blocked);
    assert!(guarded.unchecked().is_some());
    assert_eq!(report.summary.blocked, 1);
    assert_eq!(report.summary.audited, 2, "{:?}", report.summary);

    let sarif: serde_json::Value =
        serde_json::from_str(&report::render(Format::Sarif, &report, &rules).unwrap()).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["message"]["text"]
                .as_str()
                .unwrap()
                .contains("no rule was checked"))
    );
    let junit = report::render(Format::Junit, &report, &rules).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let suite = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testsuite") && n.attribute("name") == Some("https://guarded.example/")
        })
        .unwrap();
    assert!(suite.descendants().any(|n| n.has_tag_name("error")));
    assert!(!suite.descendants().any(
        |n| n.has_tag_name("testcase") && n.attribute("name") == Some("tracker-before-consent")
    ));
    assert!(report::table::render(&report, false).contains("blocked"));
}
