//! Temporary (perf helper): dumps facts and findings of every fixture page, to compare behaviour.
#[test]
fn dump() {
    let Ok(out) = std::env::var("PERF_DUMP") else { return };
    let loaded = cookie_audit::audit::load(None, "eu").unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages");
    let mut files = Vec::new();
    for g in std::fs::read_dir(&root).unwrap() {
        let g = g.unwrap().path();
        if g.is_dir() { for f in std::fs::read_dir(&g).unwrap() { files.push(f.unwrap().path()); } }
    }
    files.sort();
    let mut text = String::new();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "html")) {
        let html = std::fs::read_to_string(f).unwrap();
        for (i, html) in [html.clone(), format!("{html}{}", html.replace("<body", "<div").replace("</body>", "</div>"))].into_iter().enumerate() {
            let page = cookie_audit::page::Page { input: format!("{}#{i}", f.display()), url: "https://www.example.org/x".into(), status: Some(200), mode: cookie_audit::facts::Mode::Static, fetched_at: chrono::Utc::now(), body_sha256: String::new(), content_language: None, redirects: vec![], set_cookies: vec![], html, rendered: None };
            let (r, e) = cookie_audit::audit::analyse(&page, &loaded.knowledge, &loaded.engine);
            text.push_str(&format!("{}\n{}\n{}\n{}\n", page.input, serde_json::to_string(&r.facts).unwrap(), serde_json::to_string(&r.findings).unwrap(), e.len()));
        }
    }
    std::fs::write(out, text).unwrap();
}
