//! Arbitrary bytes as a rule file: loading must return the rule or a `KnowledgeError` (never
//! panic), and a rule that loads must run its own examples (arbitrary CEL) without panicking.
#![no_main]

use std::sync::OnceLock;

use cookie_audit::knowledge::Knowledge;
use cookie_audit::rules::examples::run_one;
use cookie_audit::rules::load::parse_rule_text;
use libfuzzer_sys::fuzz_target;

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(Knowledge::embedded)
}

/// The file name must match the rule id; take the id from the first `id = "..."` line so the
/// seeds (the bundled rules) get past that check and the fuzzer reaches the CEL compiler.
fn file_name(text: &str) -> String {
    let id = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("id"))
        .filter_map(|r| r.trim_start().strip_prefix('='))
        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\''))
        .find(|v| !v.is_empty() && !v.contains('/'))
        .unwrap_or("fuzz-rule");
    format!("checks/{id}.toml")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let knowledge = knowledge();
    let profiles: Vec<&str> = knowledge.profiles.ids().collect();
    if let Ok(rule) = parse_rule_text(&file_name(text), text, &profiles) {
        for example in &rule.examples {
            let _ = run_one(&rule, example, knowledge);
        }
    }
});
