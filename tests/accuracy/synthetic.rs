//! The synthetic corpus: realistic pages written for the project, in groups with `labels.toml`.

use std::collections::BTreeMap;

use cookie_audit::extract::extract;
use cookie_audit::knowledge::Knowledge;
use cookie_audit::page::Page;
use cookie_audit::text::normalize;
use serde::Deserialize;

use super::common;
use super::score::{Agreement, Pr, require};

#[derive(Deserialize)]
struct Labels {
    page: Vec<Label>,
}

#[derive(Deserialize)]
struct Label {
    file: String,
    banner: bool,
    cmp: Option<String>,
    language: Option<String>,
    #[serde(default)]
    needs_render: bool,
    #[serde(default)]
    buttons: BTreeMap<String, String>,
    #[serde(default)]
    checkboxes: BTreeMap<String, bool>,
}

#[test]
fn synthetic_pages() {
    let knowledge = Knowledge::embedded();
    let root = common::fixtures().join("pages");
    let mut banners = Pr::default();
    let (mut cmp, mut lang, mut roles, mut boxes, mut render) = (
        Agreement::default(),
        Agreement::default(),
        Agreement::default(),
        Agreement::default(),
        Agreement::default(),
    );
    let mut misses: Vec<String> = Vec::new();
    let mut groups: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("labels.toml").is_file())
        .collect();
    groups.sort();
    let mut pages = 0;
    for group in groups {
        let labels: Labels =
            toml::from_str(&std::fs::read_to_string(group.join("labels.toml")).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", group.display()));
        for label in labels.page {
            pages += 1;
            let name = format!(
                "{}/{}",
                group.file_name().unwrap().to_string_lossy(),
                label.file
            );
            let html = std::fs::read_to_string(group.join(&label.file))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let url = format!("https://www.example.org/{}", label.file);
            let page = Page {
                status: Some(200),
                ..Page::from_html(&name, &url, html)
            };
            let facts = extract(&page, &knowledge);
            let banner = facts.banner.as_ref().filter(|b| b.present);
            banners.add(label.banner, banner.is_some());
            match (label.banner, banner.is_some()) {
                (false, true) => {
                    misses.push(format!(
                        "{name}: false banner at {:?}",
                        banner.and_then(|b| b.selector.clone())
                    ));
                }
                (true, false) => {
                    misses.push(format!("{name}: banner missed"));
                }
                _ => {}
            }
            if let Some(expected) = &label.cmp {
                let got = facts.banner.as_ref().and_then(|b| b.cmp.clone());
                cmp.add(got.as_deref() == Some(expected.as_str()));
                if got.as_deref() != Some(expected.as_str()) {
                    misses.push(format!("{name}: cmp {got:?}, expected {expected}"));
                }
            }
            if label.needs_render {
                let ok = facts.banner.as_ref().is_some_and(|b| !b.present);
                render.add(ok);
                if !ok {
                    misses.push(format!("{name}: needs-render not recognised"));
                }
            }
            let Some(banner) = banner.filter(|_| label.banner) else {
                continue;
            };
            if let Some(expected) = &label.language {
                lang.add(facts.language.as_deref() == Some(expected.as_str()));
                if facts.language.as_deref() != Some(expected.as_str()) {
                    misses.push(format!(
                        "{name}: language {:?}, expected {expected}",
                        facts.language
                    ));
                }
            }
            for (text, role) in &label.buttons {
                let found = banner
                    .buttons
                    .iter()
                    .find(|b| b.first_layer && normalize(&b.label) == normalize(text))
                    .or_else(|| {
                        banner
                            .buttons
                            .iter()
                            .find(|b| normalize(&b.label) == normalize(text))
                    });
                let ok = found.is_some_and(|b| b.role.as_str() == role);
                roles.add(ok);
                if !ok {
                    misses.push(format!(
                        "{name}: button {text:?} → {:?}, expected {role}",
                        found.map(|b| b.role.as_str())
                    ));
                }
            }
            for (text, checked) in &label.checkboxes {
                let found = banner
                    .checkboxes
                    .iter()
                    .find(|c| normalize(&c.label).contains(&normalize(text)));
                let ok = found.is_some_and(|c| c.checked == *checked);
                boxes.add(ok);
                if !ok {
                    misses.push(format!(
                        "{name}: checkbox {text:?} → {:?}, expected {checked}",
                        found.map(|c| c.checked)
                    ));
                }
            }
        }
    }
    println!(
        "synthetic corpus: {pages} pages, {} with a banner",
        banners.tp + banners.fn_
    );
    println!("  banner detection:     {banners}");
    println!("  cmp identification:   {cmp}");
    println!("  needs-render:         {render}");
    println!("  banner language:      {lang}");
    println!("  button roles:         {roles}");
    println!("  checkbox states:      {boxes}");
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(pages >= 40, "the corpus is too small to mean anything");
    let mut failures = Vec::new();
    require(&mut failures, "banner precision", banners.precision(), 0.95);
    require(&mut failures, "banner recall", banners.recall(), 0.95);
    for (what, score) in [
        ("CMP identification", cmp),
        ("needs-render", render),
        ("banner language", lang),
        ("button roles", roles),
        ("checkbox states", boxes),
    ] {
        require(&mut failures, what, score.ratio(), 0.95);
    }
    assert!(
        failures.is_empty(),
        "synthetic corpus:\n{}",
        failures.join("\n")
    );
}
