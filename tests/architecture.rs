//! Keeps ARCHITECTURE.md true: every `crate::` import under `src/` stays inside the table of who
//! may import whom, and every top-level module has a row.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The layer table between the `layers:begin` and `layers:end` markers.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let table = doc
        .split("<!-- layers:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- layers:end -->").next())
        .expect("layer table markers");
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let module = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let imports = cells
                .get(2)?
                .split(',')
                .map(|m| m.trim().trim_matches('`').to_owned())
                .filter(|m| !m.is_empty())
                .collect();
            Some((module.to_owned(), imports))
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to (`None` for lib.rs and main.rs).
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root().join("src")).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => None,
        Some(name) => Some(name.to_owned()),
        None => Some(first),
    }
}

/// Modules named by `crate::NAME` in the code (comments skipped).
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("crate::") {
            let name: String = line[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

#[test]
fn no_module_imports_outside_its_layer() {
    let allowed = allowed();
    assert!(allowed.len() >= 10, "layer table not found: {allowed:?}");
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let code = std::fs::read_to_string(file).unwrap();
        assert!(
            !code.contains("use crate::{"),
            "{}: grouped `use crate::{{...}}` hides imports from this test; write one `use` a module",
            file.display()
        );
        let Some(module) = module_of(file) else {
            continue;
        };
        let Some(may) = allowed.get(&module) else {
            violations.push(format!(
                "{}: module `{module}` has no row in ARCHITECTURE.md",
                file.display()
            ));
            continue;
        };
        for used in imports(&code) {
            if used != module && !may.contains(&used) {
                violations.push(format!("{}: `{module}` imports `{used}`", file.display()));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn only_the_binary_layer_uses_clap_and_anyhow() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for file in files {
        let module = module_of(&file);
        if module.as_deref() == Some("cli") || module.is_none() {
            continue;
        }
        let code = std::fs::read_to_string(&file).unwrap();
        for word in ["clap::", "anyhow"] {
            assert!(
                !code.contains(word),
                "{}: `{word}` outside the binary layer",
                file.display()
            );
        }
    }
}

#[test]
fn every_top_level_module_has_a_row() {
    let allowed = allowed();
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|l| l.strip_suffix(';'))
        {
            assert!(
                allowed.contains_key(name),
                "module {name} is missing from ARCHITECTURE.md"
            );
        }
    }
}
