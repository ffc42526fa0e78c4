//! The rule catalogue: every rule's own examples, strict loading, and the French seed page end to end.

mod common;

use std::path::Path;
use std::process::Command;

use cookie_audit::cli::commands::rules_test;
use cookie_audit::pipeline;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cookie-audit"))
}

#[test]
fn every_rule_example_passes() {
    let (report, ok) = rules_test(None).expect("embedded rules load");
    println!("{report}");
    assert!(ok, "{report}");
    let loaded = pipeline::load(None, "eu").unwrap();
    assert!(
        loaded.engine.rules.rules.len() >= 30,
        "the catalogue has at least 30 rules"
    );
    for id in [
        "banner-missing",
        "banner-needs-render",
        "no-reject-first-layer",
        "reject-less-prominent",
        "acknowledge-only",
        "implied-consent",
        "preticked-purposes",
        "no-policy-link",
        "no-withdraw-info",
        "legitimate-interest",
        "cookie-wall",
        "consent-coupled",
        "tracker-before-consent",
        "cookie-before-consent",
        "reject-not-honoured",
    ] {
        assert!(
            loaded.engine.rules.get(id).is_some(),
            "stable rule id {id} is missing"
        );
    }
}

const GOOD_RULE: &str = r#"id = "custom-rule"
title = "A custom rule"
severity = "low"
summary = "Fires when the banner has no settings button."
rationale = "Teams may want a settings button."
references = ["GDPR Art. 7(1)"]
when = "banner != null && banner.present"
condition = "!has_role(banner, 'settings')"
message = "No settings button among {{ join(names(banner.buttons), ', ') }}."

[[example]]
name = "no settings"
fires = true
html = '<html lang="en"><body><div id="cookie-notice" role="dialog"><p>We use cookies for analytics.</p><button>Accept all</button><button>Reject all</button></div></body></html>'

[[example]]
name = "with settings"
fires = false
html = '<html lang="en"><body><div id="cookie-notice" role="dialog"><p>We use cookies for analytics.</p><button>Accept all</button><button>Cookie settings</button></div></body></html>'
"#;

fn rule_dir(file: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("checks")).unwrap();
    std::fs::write(dir.path().join("checks").join(file), text).unwrap();
    dir
}

fn load_error(file: &str, text: &str) -> String {
    let dir = rule_dir(file, text);
    match pipeline::load(Some(dir.path()), "eu") {
        Ok(_) => panic!("{file} should have been rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_user_rule_is_loaded_and_tested() {
    let dir = rule_dir("custom-rule.toml", GOOD_RULE);
    let (report, ok) = rules_test(Some(dir.path())).unwrap();
    assert!(ok, "{report}");
    let broken = rule_dir(
        "custom-rule.toml",
        &GOOD_RULE.replace("fires = false", "fires = true").replacen(
            "fires = true",
            "fires = false",
            1,
        ),
    );
    let (report, ok) = rules_test(Some(broken.path())).unwrap();
    assert!(!ok);
    assert!(
        report.contains("FAIL custom-rule › no settings")
            && report.contains("- expected: stays silent")
            && report.contains("+ actual:   fired"),
        "{report}"
    );
}

#[test]
fn malformed_rule_files_are_rejected_with_file_line_and_reason() {
    let cases: [(&str, String, &str); 7] = [
        (
            "custom-rule.toml",
            GOOD_RULE.replace("severity = \"low\"", "severity = \"critical\""),
            ":3: unknown variant `critical`",
        ),
        (
            "custom-rule.toml",
            GOOD_RULE.replace("title =", "titel ="),
            ":2: unknown field `titel`",
        ),
        (
            "custom-rule.toml",
            GOOD_RULE.replace("references = [\"GDPR Art. 7(1)\"]", "references = []"),
            ":6: a rule needs at least one legal reference",
        ),
        (
            "custom-rule.toml",
            GOOD_RULE.replace(
                "!has_role(banner, 'settings')",
                "!has_role(banner, 'settings'",
            ),
            ":8: invalid CEL in `condition`: line 1 column",
        ),
        (
            "custom-rule.toml",
            GOOD_RULE.replace("fires = false", "fires = true"),
            "at least one [[example]] that fires and one that does not",
        ),
        (
            "other-name.toml",
            GOOD_RULE.to_owned(),
            ":1: rule id \"custom-rule\" does not match the file name",
        ),
        (
            "custom-rule.toml",
            GOOD_RULE.replace("title = \"A custom rule\"", "title = \"A custom rule"),
            ":2:",
        ),
    ];
    for (file, text, expected) in cases {
        let err = load_error(file, &text);
        assert!(err.contains(file), "the file is named: {err}");
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
    }
}

#[test]
fn rules_test_exits_2_on_a_malformed_rule_and_1_on_a_failing_example() {
    let dir = rule_dir(
        "custom-rule.toml",
        &GOOD_RULE.replace("summary =", "sumary ="),
    );
    let out = cli()
        .args(["rules", "test"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("custom-rule.toml:4") && stderr.contains("sumary"),
        "{stderr}"
    );
    let failing = rule_dir(
        "custom-rule.toml",
        &GOOD_RULE.replace("fires = false", "fires = true").replacen(
            "fires = true",
            "fires = false",
            1,
        ),
    );
    let out = cli()
        .args(["rules", "test"])
        .arg(failing.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rules_list_and_show_explain_the_catalogue() {
    let list = cli().args(["rules", "list"]).output().unwrap();
    assert!(list.status.success());
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("no-reject-first-layer") && text.contains("high"));
    let show = cli()
        .args(["rules", "show", "no-reject-first-layer"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("Legal references") && text.contains("EDPB"),
        "{text}"
    );
    let unknown = cli()
        .args(["rules", "show", "no-such-rule"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

/// The page that started the project: a French first layer with accept, reject and settings.
#[test]
fn the_french_seed_page_is_judged_as_the_design_expects() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pages/generic/seed-fr-news.html");
    let out = tempfile::tempdir().unwrap();
    let run = cli()
        .args([
            "audit",
            "--profile",
            "fr-cnil",
            "--format",
            "json",
            "--fail-on",
            "never",
            "-o",
        ])
        .arg(out.path())
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let page = &report["pages"][0];
    assert_eq!(page["language"], "fr");
    let rules: Vec<&str> = page["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"consent-coupled"),
        "refusing disables comments: {rules:?}"
    );
    for absent in [
        "no-reject-first-layer",
        "no-policy-link",
        "no-withdraw-info",
        "implied-consent",
        "acknowledge-only",
    ] {
        assert!(
            !rules.contains(&absent),
            "{absent} must not fire on the seed page: {rules:?}"
        );
    }
    let claims = &page["banner"]["claims"];
    assert_eq!(claims["controller"], "ANO « TV-Novosti »");
    assert!(!claims["withdraw"].as_array().unwrap().is_empty());
}

#[test]
fn a_rule_that_fails_on_a_page_is_reported_on_that_page_not_passed() {
    let failing = GOOD_RULE.replace(
        "condition = \"!has_role(banner, 'settings')\"",
        "condition = \"banner.no_such_field > 1\"",
    );
    let dir = rule_dir("custom-rule.toml", &failing);
    let loaded = pipeline::load(Some(dir.path()), "eu").expect("it loads; it fails when run");
    let page = cookie_audit::page::Page::from_html(
        "p",
        "https://www.example.com/",
        r#"<html lang="en"><body><div id="cookie-notice" role="dialog"><p>We use cookies for analytics.</p><button>Accept all</button><button>Reject all</button></div></body></html>"#.into(),
    );
    let (report, errors) = pipeline::analyse(&page, &loaded.knowledge, &loaded.engine);
    assert!(!errors.is_empty());
    let id = report.rule_errors[0].rule.clone();
    assert!(!report.findings.iter().any(|f| f.rule == id));
    let rules = cookie_audit::report::RuleInfo::from_rules(loaded.engine.active(), None);
    let full = cookie_audit::report::Report {
        schema: cookie_audit::report::SCHEMA.into(),
        tool: cookie_audit::report::Tool {
            name: "cookie-audit".into(),
            version: "test".into(),
            rules_version: loaded.rules_version.clone(),
            lists: Vec::new(),
        },
        profile: "eu".into(),
        started_at: chrono::Utc::now(),
        finished_at: chrono::Utc::now(),
        summary: Default::default(),
        pages: vec![report],
        fixed: Vec::new(),
    };
    let junit =
        cookie_audit::report::render(cookie_audit::report::Format::Junit, &full, &rules).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(id.as_str()))
        .unwrap();
    assert!(case.children().any(|n| n.has_tag_name("error")), "{junit}");
    let sarif =
        cookie_audit::report::render(cookie_audit::report::Format::Sarif, &full, &rules).unwrap();
    assert!(sarif.contains("could not be evaluated"));
}

#[test]
fn every_profile_setting_is_read_by_a_rule() {
    let profiles =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/profiles.toml"))
            .unwrap();
    let table: toml::Table = profiles.parse().unwrap();
    let settings = table["eu"]["settings"].as_table().unwrap();
    let mut rules = String::new();
    for entry in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/checks")).unwrap()
    {
        rules.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    for key in settings.keys() {
        assert!(
            rules.contains(&format!("profile.settings.{key}")),
            "profile setting {key} is read by no rule"
        );
    }
}

#[test]
fn a_rule_naming_an_unknown_variable_or_function_is_refused_at_load() {
    let variable = load_error(
        "custom-rule.toml",
        &GOOD_RULE.replace(
            "condition = \"!has_role(banner, 'settings')\"",
            "condition = \"!has_role(bannr, 'settings')\"",
        ),
    );
    assert!(variable.contains("custom-rule.toml:"), "{variable}");
    assert!(variable.contains("unknown variable `bannr`"), "{variable}");
    let function = load_error(
        "custom-rule.toml",
        &GOOD_RULE.replace(
            "condition = \"!has_role(banner, 'settings')\"",
            "condition = \"!has_rol(banner, 'settings')\"",
        ),
    );
    assert!(
        function.contains("unknown function `has_rol`"),
        "{function}"
    );
    // Names a comprehension binds are known inside it.
    let bound = rule_dir(
        "custom-rule.toml",
        &GOOD_RULE.replace(
            "condition = \"!has_role(banner, 'settings')\"",
            "condition = \"!banner.buttons.exists(b, b.role == 'settings')\"",
        ),
    );
    assert!(pipeline::load(Some(bound.path()), "eu").is_ok());
}

#[test]
fn rule_docs_are_generated_from_the_rule_files_and_reports_link_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli()
        .current_dir(dir.path())
        .args(["rules", "docs", "-o", "docs"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = dir.path().join("docs");
    let index = std::fs::read_to_string(docs.join("README.md")).unwrap();
    let loaded = pipeline::load(None, "eu").unwrap();
    let ids: Vec<&str> = loaded
        .engine
        .rules
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert!(ids.len() >= 30, "{ids:?}");
    for id in &ids {
        assert!(
            index.contains(&format!("]({id}.md)")),
            "{id} is not in the index"
        );
        let page = std::fs::read_to_string(docs.join(format!("{id}.md"))).unwrap();
        for section in [
            "## What it checks",
            "## Why it matters",
            "## How to fix",
            "## Legal references",
            "## Examples that fire",
            "## Examples that pass",
            "```cel",
        ] {
            assert!(page.contains(section), "{id}: no {section:?}");
        }
    }

    // Reports link each rule to its published page only when told where the pages are.
    let page = common::fixtures().join("pages/generic/bar-en-implied-got-it.html");
    let audit = |extra: &[&str]| {
        let out = cli()
            .current_dir(dir.path())
            .env("COOKIE_AUDIT_LISTS", dir.path().join("no-lists"))
            .args([
                "audit",
                page.to_str().unwrap(),
                "--format",
                "sarif,markdown",
            ])
            .args(["--fail-on", "never"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read = |name: &str| std::fs::read_to_string(dir.path().join("reports").join(name));
        (read("report.sarif").unwrap(), read("report.md").unwrap())
    };
    let (sarif, md) = audit(&[]);
    assert!(
        !sarif.contains("helpUri") && !md.contains("[rule]("),
        "no placeholder links"
    );
    let (sarif, md) = audit(&["--docs-url", "https://dpo.example.eu/audit-rules/"]);
    let link = "https://dpo.example.eu/audit-rules/implied-consent.md";
    assert!(
        sarif.contains(&format!("\"helpUri\": \"{link}\"")),
        "{sarif}"
    );
    assert!(md.contains(&format!("({link})")), "{md}");
}
