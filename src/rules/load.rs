//! Loading and validating rule files: everything wrong is reported with file, line and reason.

use std::collections::{BTreeMap, HashSet};

use cel::Program;
use serde::Deserialize;

use super::{Confidence, Severity};
use crate::facts::Mode;
use crate::knowledge::{KnowledgeError, Source, Sources, line_of_key, parse};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    title: String,
    severity: Severity,
    summary: String,
    rationale: String,
    /// What a site owner does to pass, for the rule's documentation page.
    #[serde(default)]
    fix: Option<String>,
    references: Vec<String>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    severity_by_profile: BTreeMap<String, Severity>,
    #[serde(default = "both_modes")]
    modes: Vec<Mode>,
    #[serde(default)]
    confidence: Option<Confidence>,
    /// When this holds, a finding is `possible` rather than `definite`.
    #[serde(default)]
    possible_when: Option<String>,
    #[serde(default)]
    when: Option<String>,
    condition: String,
    message: String,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default, rename = "example")]
    examples: Vec<Example>,
}

fn both_modes() -> Vec<Mode> {
    vec![Mode::Static, Mode::Render]
}

/// One of a rule's own test cases: a page (HTML and cookies) or a facts document, and whether the rule fires.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    pub fires: bool,
    #[serde(default)]
    pub html: Option<String>,
    /// JSON merged over the facts extracted from `html` (or over empty facts).
    #[serde(default)]
    pub facts: Option<String>,
    #[serde(default)]
    pub set_cookies: Vec<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub mode: Option<Mode>,
    /// The confidence the finding must have, when the example fires.
    #[serde(default)]
    pub confidence: Option<Confidence>,
}

/// A compiled expression and its source, for messages.
pub struct Expr {
    pub source: String,
    pub program: Program,
}

/// A piece of a message template: literal text or a `{{ expression }}`.
pub enum Piece {
    Text(String),
    Expr(Expr),
}

pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub summary: String,
    pub rationale: String,
    pub fix: Option<String>,
    pub references: Vec<String>,
    pub profiles: Vec<String>,
    pub severity_by_profile: BTreeMap<String, Severity>,
    pub modes: Vec<Mode>,
    pub confidence: Option<Confidence>,
    pub possible_when: Option<Expr>,
    pub when: Option<Expr>,
    pub condition: Expr,
    pub message: Vec<Piece>,
    pub message_source: String,
    pub evidence: Option<Expr>,
    pub examples: Vec<Example>,
    /// Where the rule came from, for `rules show` and error messages.
    pub origin: String,
    /// The rule reads the banner, so a generic banner match makes it a heuristic.
    pub reads_banner: bool,
}

impl Rule {
    pub fn applies_to(&self, profile: &str) -> bool {
        self.profiles.is_empty() || self.profiles.iter().any(|p| p == profile)
    }

    pub fn severity_for(&self, profile: &str) -> Severity {
        self.severity_by_profile
            .get(profile)
            .copied()
            .unwrap_or(self.severity)
    }

    pub fn render_only(&self) -> bool {
        !self.modes.contains(&Mode::Static)
    }
}

pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// Loads every rule; `profile_ids` are the known profiles.
    pub fn load<'a>(
        sources: &Sources,
        profile_ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<RuleSet, KnowledgeError> {
        let profiles: HashSet<&str> = profile_ids.into_iter().collect();
        let mut rules: Vec<Rule> = Vec::new();
        for source in sources.under("checks/") {
            let rule = load_rule(source, &profiles)?;
            if let Some(other) = rules.iter().find(|r| r.id == rule.id) {
                return Err(KnowledgeError::new(
                    source,
                    line_of_key(&source.text, "id"),
                    format!("duplicate rule id {:?} (also in {})", rule.id, other.origin),
                ));
            }
            rules.push(rule);
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(RuleSet { rules })
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Parses and validates one rule file's text exactly as [`RuleSet::load`] does for each file,
/// without a `Sources` or the file system: the `rule_file` fuzz target feeds it arbitrary bytes.
/// `name` is the file's path (its stem must be the rule id), `profiles` the known profile ids.
pub fn parse_rule_text(name: &str, text: &str, profiles: &[&str]) -> Result<Rule, KnowledgeError> {
    let source = Source {
        name: name.to_owned(),
        text: text.to_owned(),
    };
    load_rule(&source, &profiles.iter().copied().collect())
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn load_rule(source: &Source, profiles: &HashSet<&str>) -> Result<Rule, KnowledgeError> {
    let file: RuleFile = parse(source)?;
    let at_key =
        |key: &str, msg: String| KnowledgeError::new(source, line_of_key(&source.text, key), msg);
    if !is_kebab(&file.id) {
        return Err(at_key(
            "id",
            format!(
                "rule id {:?} must be kebab-case (lowercase letters, digits and dashes)",
                file.id
            ),
        ));
    }
    let stem = source.stem();
    if stem != file.id {
        return Err(at_key(
            "id",
            format!(
                "rule id {:?} does not match the file name {stem:?}.toml",
                file.id
            ),
        ));
    }
    if file.references.is_empty() || file.references.iter().any(|r| r.trim().is_empty()) {
        return Err(at_key(
            "references",
            "a rule needs at least one legal reference, and none may be empty".into(),
        ));
    }
    for (key, value) in [
        ("title", &file.title),
        ("summary", &file.summary),
        ("rationale", &file.rationale),
    ] {
        if value.trim().is_empty() {
            return Err(at_key(key, format!("{key} must not be empty")));
        }
    }
    for p in file.profiles.iter().chain(file.severity_by_profile.keys()) {
        if !profiles.contains(p.as_str()) {
            return Err(at_key(
                if file.profiles.contains(p) {
                    "profiles"
                } else {
                    p
                },
                format!("unknown profile {p:?}"),
            ));
        }
    }
    if file.modes.is_empty() {
        return Err(at_key(
            "modes",
            "modes must name static, render or both".into(),
        ));
    }
    if !file.examples.iter().any(|e| e.fires) || !file.examples.iter().any(|e| !e.fires) {
        return Err(KnowledgeError::new(
            source,
            None,
            "a rule needs at least one [[example]] that fires and one that does not",
        ));
    }
    for (i, e) in file.examples.iter().enumerate() {
        if e.html.is_none() && e.facts.is_none() {
            let line = source
                .text
                .lines()
                .enumerate()
                .filter(|(_, l)| l.trim() == "[[example]]")
                .nth(i)
                .map(|(n, _)| n + 1);
            return Err(KnowledgeError::new(
                source,
                line,
                format!("example {:?} needs html or facts", e.name),
            ));
        }
        if let Some(p) = &e.profile
            && !profiles.contains(p.as_str())
        {
            return Err(KnowledgeError::new(
                source,
                None,
                format!("example {:?} names unknown profile {p:?}", e.name),
            ));
        }
    }
    let compile = |key: &str, src: &str| compile_expr(source, key, src);
    let when = file
        .when
        .as_deref()
        .map(|w| compile("when", w))
        .transpose()?;
    let condition = compile("condition", &file.condition)?;
    let possible_when = file
        .possible_when
        .as_deref()
        .map(|e| compile("possible_when", e))
        .transpose()?;
    let evidence = file
        .evidence
        .as_deref()
        .map(|e| compile("evidence", e))
        .transpose()?;
    let message = compile_template(source, &file.message)?;
    let reads_banner = [Some(&condition), when.as_ref(), evidence.as_ref()]
        .into_iter()
        .flatten()
        .any(|e| e.program.references().has_variable("banner"));
    Ok(Rule {
        id: file.id,
        title: file.title,
        severity: file.severity,
        summary: file.summary,
        rationale: file.rationale,
        fix: file.fix,
        references: file.references,
        profiles: file.profiles,
        severity_by_profile: file.severity_by_profile,
        modes: file.modes,
        confidence: file.confidence,
        possible_when,
        when,
        condition,
        message,
        message_source: file.message,
        evidence,
        examples: file.examples,
        origin: source.name.clone(),
        reads_banner,
    })
}

/// Compiles a CEL expression; a syntax error names the file, the key's line and the column.
/// The variables a rule sees (bound in `rules/eval.rs`).
pub const VARIABLES: [&str; 9] = [
    "banner", "cookies", "trackers", "signals", "evidence", "tcf", "render", "page", "profile",
];

/// CEL's own functions and macros a rule may call, besides `functions::NAMES`.
const BUILTINS: [&str; 40] = [
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "string",
    "int",
    "uint",
    "double",
    "bytes",
    "bool",
    "has",
    "exists",
    "all",
    "exists_one",
    "filter",
    "map",
    "max",
    "min",
    "duration",
    "timestamp",
    "type",
    "dyn",
    "lowerAscii",
    "upperAscii",
    "trim",
    "split",
    "replace",
    "substring",
    "indexOf",
    "lastIndexOf",
    "charAt",
    "format",
    "getFullYear",
    "getMonth",
    "getDayOfMonth",
    "getDayOfWeek",
    "getHours",
    "getMinutes",
    "getSeconds",
];

/// Names a comprehension binds: `cookies.exists(c, ...)` binds `c`.
static BOUND: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\b(?:exists_one|exists|all|filter|map)\(\s*([A-Za-z_]\w*)\s*,")
        .expect("static regex")
});

/// A name the engine does not know: a typo would make the rule fail on every page (or, behind
/// `&&`, never fire), so it is refused at load.
fn unknown_name(program: &Program, src: &str) -> Option<String> {
    let bound: Vec<&str> = BOUND
        .captures_iter(src)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let refs = program.references();
    let mut variables = refs.variables();
    variables.sort_unstable();
    if let Some(v) = variables
        .into_iter()
        .find(|v| !VARIABLES.contains(v) && !bound.contains(v))
    {
        return Some(format!(
            "unknown variable `{v}` (rules see {})",
            VARIABLES.join(", ")
        ));
    }
    let mut functions = refs.functions();
    functions.sort_unstable();
    functions
        .into_iter()
        .filter(|f| f.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .find(|f| !BUILTINS.contains(f) && !super::functions::NAMES.contains(f))
        .map(|f| format!("unknown function `{f}`"))
}

fn compile_expr(source: &Source, key: &str, src: &str) -> Result<Expr, KnowledgeError> {
    let compiled = Program::compile(src).map(|program| Expr {
        source: src.to_owned(),
        program,
    });
    if let Ok(expr) = &compiled
        && let Some(why) = unknown_name(&expr.program, src)
    {
        return Err(KnowledgeError::new(
            source,
            line_of_key(&source.text, key),
            format!("`{key}`: {why}\n    {}", src.trim()),
        ));
    }
    compiled.map_err(|errors| {
        let detail = errors
            .errors
            .iter()
            .map(|e| {
                format!(
                    "line {} column {} of the expression: {}",
                    e.pos.0,
                    e.pos.1 + 1,
                    e.msg
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let line = line_of_key(&source.text, key);
        KnowledgeError::new(
            source,
            line,
            format!("invalid CEL in `{key}`: {detail}\n    {}", src.trim()),
        )
    })
}

fn compile_template(source: &Source, template: &str) -> Result<Vec<Piece>, KnowledgeError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            KnowledgeError::new(
                source,
                line_of_key(&source.text, "message"),
                "unclosed `{{` in message".to_owned(),
            )
        })?;
        pieces.push(Piece::Expr(compile_expr(
            source,
            "message",
            after[..end].trim(),
        )?));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(pieces)
}
