//! The GitHub Action (`action.yml`) and the CI examples under `examples/`: valid against the schemas
//! SchemaStore publishes (vendored in `tests/fixtures/schemas/`), passing cookie-audit only flags it
//! knows, using every input it declares, and never expanding an input inside a shell script.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use cookie_audit::report::Format;
use serde::Deserialize;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every YAML document in `path`, as JSON values (the schemas are JSON Schemas).
fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| {
            Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
        })
        .collect()
}

fn action() -> Value {
    let mut docs = yaml_documents(&root().join("action.yml"));
    assert_eq!(docs.len(), 1, "action.yml holds one YAML document");
    docs.remove(0)
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = root().join("tests/fixtures/schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Each schema error as "file: at /instance/path: message", or nothing when `doc` is valid.
fn schema_errors(validator: &jsonschema::Validator, file: &str, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .flat_map(|e| {
            let mut leaves = Vec::new();
            deepest_causes(&e, &mut leaves);
            let depth = leaves.iter().map(|(d, _)| *d).max().unwrap_or(0);
            leaves
                .into_iter()
                .filter(move |(d, _)| *d == depth)
                .map(move |(_, message)| format!("{file}: {message}"))
        })
        .collect()
}

/// The errors under a `oneOf`/`anyOf` failure, each with the depth of its instance path: a
/// misspelt key deep in `runs.steps` otherwise shows only as "not valid under any of the schemas"
/// at `/runs`. The deepest ones name the real mistake.
fn deepest_causes(e: &jsonschema::ValidationError, out: &mut Vec<(usize, String)>) {
    use jsonschema::error::ValidationErrorKind as Kind;
    let branches = match e.kind() {
        Kind::OneOfNotValid { context } | Kind::AnyOf { context } => Some(context),
        _ => None,
    };
    match branches {
        Some(branches) if branches.iter().any(|b| !b.is_empty()) => {
            for cause in branches.iter().flatten() {
                deepest_causes(cause, out);
            }
        }
        _ => {
            let path = e.instance_path().as_str();
            out.push((
                path.matches('/').count(),
                format!(
                    "at {}: {}",
                    if path.is_empty() { "/" } else { path },
                    e.masked()
                ),
            ));
        }
    }
}

/// YAML files under `dir`, recursively, in a stable order.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(yaml_files(&path));
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The GitHub workflows among the YAML files of `examples/`: the documents with both `on` and
/// `jobs` at the top (GitLab CI files, Kubernetes manifests and the like have neither).
fn example_workflows() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in yaml_files(&root().join("examples")) {
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        for doc in yaml_documents(&path) {
            if doc.get("on").is_some() && doc.get("jobs").is_some() {
                out.push((rel.clone(), doc));
            }
        }
    }
    out
}

fn steps(action: &Value) -> &Vec<Value> {
    action["runs"]["steps"]
        .as_array()
        .expect("action.yml: runs.steps is a list")
}

/// Every name written as `<context>.NAME` (e.g. `inputs.fail-on`) in `text`.
fn references(text: &str, context: &str) -> BTreeSet<String> {
    let prefix = format!("{context}.");
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        let before = text.len() - rest.len() + at;
        rest = &rest[at + prefix.len()..];
        // `inputs.x` but not `myinputs.x`.
        let glued = text[..before]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !glued && !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// The long flags (`--name`) written in a shell script or in help text.
fn long_flags(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|t| {
            t.strip_prefix("--")
                .is_some_and(|name| name.starts_with(|c: char| c.is_ascii_lowercase()))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn action_yml_matches_the_published_action_schema() {
    let errors = schema_errors(&schema("github-action.json"), "action.yml", &action());
    assert!(
        errors.is_empty(),
        "action.yml does not match SchemaStore's github-action schema:\n{}",
        errors.join("\n")
    );
    assert_eq!(action()["runs"]["using"], "composite");
}

#[test]
fn example_workflows_match_the_published_workflow_schema() {
    let workflows = example_workflows();
    let names: BTreeSet<&str> = workflows.iter().map(|(f, _)| f.as_str()).collect();
    for expected in [
        "examples/ci/github-actions.yml",
        "examples/scale/github-matrix.yml",
    ] {
        assert!(
            names.contains(expected),
            "{expected} was not recognised as a GitHub workflow (found: {names:?})"
        );
    }
    let validator = schema("github-workflow.json");
    let errors: Vec<String> = workflows
        .iter()
        .flat_map(|(file, doc)| schema_errors(&validator, file, doc))
        .collect();
    assert!(
        errors.is_empty(),
        "example workflows do not match SchemaStore's github-workflow schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn the_action_passes_only_flags_that_cookie_audit_audit_knows() {
    let action = action();
    let audit = steps(&action)
        .iter()
        .find(|s| s["id"] == "audit")
        .expect("action.yml has a step with id `audit` that runs cookie-audit");
    let script = audit["run"]
        .as_str()
        .expect("the audit step is a `run` step");
    let passed = long_flags(script);
    assert!(
        passed.contains("--output") && passed.contains("--format"),
        "the audit step passes --output and --format: {passed:?}"
    );

    let help = Command::new(env!("CARGO_BIN_EXE_cookie-audit"))
        .args(["audit", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success(), "cookie-audit audit --help failed");
    let known = long_flags(&String::from_utf8_lossy(&help.stdout));
    let unknown: Vec<&String> = passed.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "action.yml passes flags that `cookie-audit audit --help` does not list: {unknown:?}"
    );
}

#[test]
fn every_input_is_used_and_every_reference_is_declared() {
    let action = action();
    let declared: BTreeSet<String> = action["inputs"]
        .as_object()
        .expect("action.yml declares inputs")
        .keys()
        .cloned()
        .collect();
    let runs = serde_json::to_string(&action["runs"]).unwrap();
    let used = references(&runs, "inputs");
    let unused: Vec<&String> = declared.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "inputs declared in action.yml but used by no step: {unused:?}"
    );
    let undeclared: Vec<&String> = used.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "inputs used by action.yml's steps but not declared: {undeclared:?}"
    );
    for (name, input) in action["inputs"].as_object().unwrap() {
        assert!(
            input["description"].as_str().is_some_and(|d| !d.is_empty()),
            "input {name} has a description"
        );
    }

    // `steps.ID.outputs...` in the steps and in the action's outputs name steps that exist.
    let ids: BTreeSet<String> = steps(&action)
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    let whole = serde_json::to_string(&action).unwrap();
    let referenced = references(&whole, "steps");
    let missing: Vec<&String> = referenced.difference(&ids).collect();
    assert!(
        missing.is_empty(),
        "action.yml refers to steps that do not exist: {missing:?}"
    );
}

#[test]
fn no_run_script_expands_an_expression() {
    // `${{ inputs.x }}` inside `run:` is pasted into the script before the shell reads it, so a
    // quote in an input ends the string and the rest runs as code. The action passes every value
    // through `env:`; the examples may expand their own matrix, never an input or event text.
    let action = action();
    let mut offending = Vec::new();
    let mut scripts = 0;
    for step in steps(&action) {
        if let Some(run) = step["run"].as_str() {
            scripts += 1;
            if run.contains("${{") {
                offending.push(format!("action.yml, step {}", step["name"]));
            }
        }
    }
    assert!(scripts >= 3, "action.yml has its run steps ({scripts})");
    for (file, doc) in example_workflows() {
        for (job, body) in doc["jobs"].as_object().unwrap() {
            for step in body["steps"].as_array().into_iter().flatten() {
                let Some(run) = step["run"].as_str() else {
                    continue;
                };
                let compact: String = run.split_whitespace().collect();
                if ["${{inputs.", "${{github.event", "${{github.head_ref"]
                    .iter()
                    .any(|c| compact.contains(c))
                {
                    offending.push(format!("{file}, job {job}"));
                }
            }
        }
    }
    assert!(
        offending.is_empty(),
        "run scripts that expand an expression (pass values through env:): {offending:?}"
    );
}

#[test]
fn the_default_formats_write_the_files_the_later_steps_read() {
    let action = action();
    let formats: Vec<Format> = action["inputs"]["formats"]["default"]
        .as_str()
        .expect("the formats input has a default")
        .split(',')
        .map(|f| {
            f.trim()
                .parse()
                .unwrap_or_else(|e| panic!("formats default: {e}"))
        })
        .collect();
    let text = serde_json::to_string(&action["runs"]).unwrap();
    let mut read = 0;
    for format in Format::ALL {
        let Some(file) = format.file_name() else {
            continue;
        };
        if text.contains(file) {
            read += 1;
            assert!(
                formats.contains(&format),
                "action.yml reads {file} but its default formats do not include {}",
                format.as_str()
            );
        }
    }
    assert!(read >= 2, "action.yml reads report.md and report.sarif");
}

#[test]
fn the_examples_give_the_action_only_inputs_it_declares() {
    let action = action();
    let declared = action["inputs"].as_object().unwrap();
    let mut uses_it = BTreeSet::new();
    for (file, doc) in example_workflows() {
        for body in doc["jobs"].as_object().unwrap().values() {
            for step in body["steps"].as_array().into_iter().flatten() {
                let Some(uses) = step["uses"].as_str() else {
                    continue;
                };
                if uses != "./" && !uses.contains("/cookie-audit@") {
                    continue;
                }
                uses_it.insert(file.clone());
                for key in step["with"].as_object().into_iter().flatten().map(|w| w.0) {
                    assert!(
                        declared.contains_key(key),
                        "{file}: `with: {key}` is not an input of action.yml"
                    );
                }
            }
        }
    }
    assert!(
        uses_it.contains("examples/ci/github-actions.yml"),
        "examples/ci/github-actions.yml uses the action (found in: {uses_it:?})"
    );
}
