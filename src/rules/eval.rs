//! Evaluating the rule set over one page's facts.

use cel::{Context, Value};
use regex::Regex;
use serde::Serialize;

use super::functions::{self, display};
use super::load::{Expr, Piece, Rule, RuleSet};
use super::{Confidence, Finding};
use crate::facts::{Detection, Facts, Mode};
use crate::knowledge::profiles::Profile;

/// A rule switched off for URLs that match a pattern, with the reason someone gave.
#[derive(Debug, Clone)]
pub struct UrlIgnore {
    pub rule: String,
    pub pattern: Regex,
    pub reason: String,
}

impl UrlIgnore {
    /// `*` matches any run of characters; everything else is literal.
    pub fn new(rule: &str, glob: &str, reason: &str) -> Result<Self, regex::Error> {
        let pattern = format!(
            "^{}$",
            glob.split('*')
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(".*")
        );
        Ok(UrlIgnore {
            rule: rule.to_owned(),
            pattern: Regex::new(&pattern)?,
            reason: reason.to_owned(),
        })
    }
}

/// A rule whose expression failed on a page: a defect in the rule, never a finding.
#[derive(
    Debug, Clone, PartialEq, thiserror::Error, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[error("rule {rule}: {message}")]
pub struct EvalError {
    pub rule: String,
    pub message: String,
}

pub struct Engine {
    pub rules: RuleSet,
    pub profile: Profile,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub url_ignores: Vec<UrlIgnore>,
}

#[derive(Serialize)]
struct PageVars<'a> {
    url: &'a str,
    mode: &'a str,
    language: Option<&'a str>,
    page_language: Option<&'a str>,
}

impl Engine {
    pub fn new(rules: RuleSet, profile: Profile) -> Self {
        Engine {
            rules,
            profile,
            select: Vec::new(),
            ignore: Vec::new(),
            url_ignores: Vec::new(),
        }
    }

    /// The rules that run under this profile and selection.
    pub fn active(&self) -> impl Iterator<Item = &Rule> {
        self.rules.rules.iter().filter(|r| {
            r.applies_to(&self.profile.id)
                && (self.select.is_empty() || self.select.iter().any(|s| s == &r.id))
                && !self.ignore.iter().any(|s| s == &r.id)
        })
    }

    /// Every finding for a page, and the rules that could not be evaluated.
    pub fn evaluate(&self, facts: &Facts, url: &str, mode: Mode) -> (Vec<Finding>, Vec<EvalError>) {
        let ctx = match bind(facts, url, mode, &self.profile) {
            Ok(ctx) => ctx,
            Err(message) => {
                return (
                    Vec::new(),
                    vec![EvalError {
                        rule: "*".into(),
                        message,
                    }],
                );
            }
        };
        let mut findings = Vec::new();
        let mut errors = Vec::new();
        for rule in self.active() {
            if !rule.modes.contains(&mode)
                || self
                    .url_ignores
                    .iter()
                    .any(|i| i.rule == rule.id && i.pattern.is_match(url))
            {
                continue;
            }
            match fire(rule, &self.profile, &ctx, facts) {
                Ok(Some(f)) => findings.push(f),
                Ok(None) => {}
                Err(message) => errors.push(EvalError {
                    rule: rule.id.clone(),
                    message,
                }),
            }
        }
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.rule.cmp(&b.rule))
        });
        (findings, errors)
    }
}

/// Evaluates one rule over one page's facts (rule examples use this directly).
pub fn check_rule(
    rule: &Rule,
    profile: &Profile,
    facts: &Facts,
    url: &str,
    mode: Mode,
) -> Result<Option<Finding>, EvalError> {
    if !rule.modes.contains(&mode) {
        return Ok(None);
    }
    bind(facts, url, mode, profile)
        .and_then(|ctx| fire(rule, profile, &ctx, facts))
        .map_err(|message| EvalError {
            rule: rule.id.clone(),
            message,
        })
}

/// The CEL variables a rule sees: `banner`, `cookies`, `trackers`, `signals`, `render`, `page`, `profile`.
fn bind<'a>(
    facts: &Facts,
    url: &str,
    mode: Mode,
    profile: &Profile,
) -> Result<Context<'a, 'a>, String> {
    let mut ctx = Context::default();
    functions::register(&mut ctx);
    let vars = PageVars {
        url,
        mode: mode.as_str(),
        language: facts.language.as_deref(),
        page_language: facts.page_language.as_deref(),
    };
    let bound = [
        ctx.add_variable("banner", &facts.banner),
        ctx.add_variable("cookies", &facts.cookies),
        ctx.add_variable("trackers", &facts.trackers),
        ctx.add_variable("signals", &facts.signals),
        ctx.add_variable("evidence", &facts.consent_evidence),
        ctx.add_variable("tcf", &facts.tcf),
        ctx.add_variable("render", &facts.render),
        ctx.add_variable("page", &vars),
        ctx.add_variable("profile", profile),
    ];
    match bound.into_iter().find(Result::is_err) {
        Some(Err(e)) => Err(format!("cannot bind facts: {e}")),
        _ => Ok(ctx),
    }
}

fn fire(
    rule: &Rule,
    profile: &Profile,
    ctx: &Context<'_, '_>,
    facts: &Facts,
) -> Result<Option<Finding>, String> {
    if let Some(when) = &rule.when
        && !truthy(when, ctx)?
    {
        return Ok(None);
    }
    if !truthy(&rule.condition, ctx)? {
        return Ok(None);
    }
    let generic_banner = facts
        .banner
        .as_ref()
        .is_some_and(|b| matches!(b.detection, Detection::Generic | Detection::List));
    let heuristic = rule.reads_banner && generic_banner;
    let in_doubt = match &rule.possible_when {
        Some(expr) => truthy(expr, ctx)?,
        None => false,
    };
    Ok(Some(Finding {
        rule: rule.id.clone(),
        severity: rule.severity_for(&profile.id),
        confidence: match rule.confidence {
            Some(fixed) => fixed,
            None if heuristic || in_doubt => Confidence::Possible,
            None => Confidence::Definite,
        },
        message: render_message(&rule.message, ctx)?,
        evidence: match &rule.evidence {
            Some(e) => display(&value(e, ctx)?),
            None => String::new(),
        },
        references: rule.references.clone(),
        baseline: None,
    }))
}

fn value(expr: &Expr, ctx: &Context<'_, '_>) -> Result<Value, String> {
    expr.program
        .execute(ctx)
        .map_err(|e| format!("{e} in `{}`", expr.source))
}

fn truthy(expr: &Expr, ctx: &Context<'_, '_>) -> Result<bool, String> {
    match value(expr, ctx)? {
        Value::Bool(b) => Ok(b),
        other => Err(format!("`{}` gave {other:?}, not a boolean", expr.source)),
    }
}

fn render_message(pieces: &[Piece], ctx: &Context<'_, '_>) -> Result<String, String> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Expr(e) => out.push_str(&display(&value(e, ctx)?)),
        }
    }
    Ok(crate::text::collapse_whitespace(&out))
}
