//! Accuracy on the labelled corpus under tests/fixtures/pages: banner detection precision and
//! recall, CMP identification, language, and button roles. Fails under 0.95.

mod common;

use std::collections::BTreeMap;

use chrono::Utc;
use cookie_audit::extract::extract;
use cookie_audit::facts::Mode;
use cookie_audit::knowledge::Knowledge;
use cookie_audit::page::Page;
use cookie_audit::text::normalize;
use serde::Deserialize;

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

#[derive(Default)]
struct Score {
    right: usize,
    total: usize,
}

impl Score {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.right += usize::from(ok);
    }
    fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.right as f64 / self.total as f64
        }
    }
}

#[test]
fn corpus_accuracy() {
    let knowledge = Knowledge::embedded();
    let root = common::fixtures().join("pages");
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let (mut cmp, mut lang, mut roles, mut boxes, mut render) = (
        Score::default(),
        Score::default(),
        Score::default(),
        Score::default(),
        Score::default(),
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
            let page = Page {
                input: name.clone(),
                url: format!("https://www.example.org/{}", label.file),
                status: Some(200),
                mode: Mode::Static,
                fetched_at: Utc::now(),
                body_sha256: String::new(),
                content_language: None,
                redirects: Vec::new(),
                set_cookies: Vec::new(),
                html,
                rendered: None,
            };
            let facts = extract(&page, &knowledge);
            let banner = facts.banner.as_ref().filter(|b| b.present);
            match (label.banner, banner.is_some()) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    misses.push(format!(
                        "{name}: false banner at {:?}",
                        banner.and_then(|b| b.selector.clone())
                    ));
                }
                (true, false) => {
                    fn_ += 1;
                    misses.push(format!("{name}: banner missed"));
                }
                (false, false) => {}
            }
            if let Some(expected) = &label.cmp {
                let got = facts.banner.as_ref().and_then(|b| b.cmp.clone());
                cmp.add(got.as_deref() == Some(expected.as_str()));
                if got.as_deref() != Some(expected.as_str()) {
                    misses.push(format!("{name}: cmp {got:?}, expected {expected}"));
                }
            }
            if label.needs_render {
                let ok = facts
                    .banner
                    .as_ref()
                    .is_some_and(|b| !b.present && b.cmp.is_some());
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
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!("corpus: {pages} pages, {} with a banner", tp + fn_);
    println!(
        "banner detection: precision {precision:.3}, recall {recall:.3} (tp {tp}, fp {fp}, fn {fn_})"
    );
    println!(
        "cmp identification: {:.3} ({}/{})",
        cmp.ratio(),
        cmp.right,
        cmp.total
    );
    println!(
        "needs-render recognised: {:.3} ({}/{})",
        render.ratio(),
        render.right,
        render.total
    );
    println!(
        "banner language: {:.3} ({}/{})",
        lang.ratio(),
        lang.right,
        lang.total
    );
    println!(
        "button roles: {:.3} ({}/{})",
        roles.ratio(),
        roles.right,
        roles.total
    );
    println!(
        "checkbox states: {:.3} ({}/{})",
        boxes.ratio(),
        boxes.right,
        boxes.total
    );
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(pages >= 40, "the corpus is too small to mean anything");
    assert!(
        precision >= 0.95,
        "banner detection precision {precision:.3} < 0.95"
    );
    assert!(recall >= 0.95, "banner detection recall {recall:.3} < 0.95");
    assert!(
        roles.ratio() >= 0.95,
        "button role accuracy {:.3} < 0.95",
        roles.ratio()
    );
    assert!(
        cmp.ratio() >= 0.95,
        "CMP identification {:.3} < 0.95",
        cmp.ratio()
    );
}
