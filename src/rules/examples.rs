//! Running the examples every rule file carries (`cookie-audit rules test`, `cargo test`).

use super::Confidence;
use super::eval::{EvalError, check_rule};
use super::load::{Example, Rule, RuleSet};
use crate::facts::{Facts, Mode};
use crate::knowledge::Knowledge;
use crate::knowledge::profiles::DEFAULT_PROFILE;
use crate::page::{Page, SetCookie};

const EXAMPLE_URL: &str = "https://www.example.com/";

/// Why an example could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ExampleError {
    #[error("facts of example {example:?} {why}")]
    Facts { example: String, why: String },
    #[error("unknown profile {0}")]
    UnknownProfile(String),
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// What one example did.
pub struct ExampleRun<'r> {
    pub rule: &'r Rule,
    pub example: &'r Example,
    /// The confidence of the finding when the rule fired, `None` when it stayed silent, or
    /// why it could not be evaluated.
    pub fired: Result<Option<Confidence>, ExampleError>,
    /// The facts the rule saw, for the report of a failure.
    pub facts: Facts,
}

impl ExampleRun<'_> {
    pub fn passed(&self) -> bool {
        self.fired.as_ref().is_ok_and(|f| match f {
            Some(confidence) => {
                self.example.fires && self.example.confidence.is_none_or(|c| c == *confidence)
            }
            None => !self.example.fires,
        })
    }
}

pub fn run_all<'r>(rules: &'r RuleSet, knowledge: &Knowledge) -> Vec<ExampleRun<'r>> {
    rules
        .rules
        .iter()
        .flat_map(|rule| rule.examples.iter().map(move |ex| (rule, ex)))
        .map(|(rule, ex)| run_one(rule, ex, knowledge))
        .collect()
}

pub fn run_one<'r>(rule: &'r Rule, example: &'r Example, knowledge: &Knowledge) -> ExampleRun<'r> {
    let url = example
        .url
        .clone()
        .unwrap_or_else(|| EXAMPLE_URL.to_owned());
    let mode = example.mode.unwrap_or(if rule.render_only() {
        Mode::Render
    } else {
        Mode::Static
    });
    let facts = match example_facts(example, &url, mode, knowledge) {
        Ok(f) => f,
        Err(e) => {
            return ExampleRun {
                rule,
                example,
                fired: Err(e),
                facts: Facts::default(),
            };
        }
    };
    let profile_id = example.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    let fired = match knowledge.profiles.get(profile_id) {
        Some(profile) => check_rule(rule, profile, &facts, &url, mode)
            .map(|f| f.map(|f| f.confidence))
            .map_err(ExampleError::from),
        None => Err(ExampleError::UnknownProfile(profile_id.to_owned())),
    };
    ExampleRun {
        rule,
        example,
        fired,
        facts,
    }
}

fn example_facts(
    example: &Example,
    url: &str,
    mode: Mode,
    knowledge: &Knowledge,
) -> Result<Facts, ExampleError> {
    let bad = |why: String| ExampleError::Facts {
        example: example.name.clone(),
        why,
    };
    let mut facts = match &example.html {
        Some(html) => {
            let page = Page {
                status: Some(200),
                mode,
                set_cookies: example
                    .set_cookies
                    .iter()
                    .map(|h| SetCookie {
                        header: h.clone(),
                        url: url.to_owned(),
                    })
                    .collect(),
                ..Page::from_html(url, url, html.clone())
            };
            crate::extract::extract(&page, knowledge)
        }
        None => Facts::default(),
    };
    if mode == Mode::Render && facts.render.is_none() {
        facts.render = Some(Default::default());
    }
    if let Some(overlay) = &example.facts {
        let patch: serde_json::Value =
            serde_json::from_str(overlay).map_err(|e| bad(format!("are not valid JSON: {e}")))?;
        let mut base = serde_json::to_value(&facts).map_err(|e| bad(e.to_string()))?;
        merge(&mut base, patch);
        facts = serde_json::from_value(base)
            .map_err(|e| bad(format!("do not fit the facts model: {e}")))?;
        facts.finish();
    }
    Ok(facts)
}

/// Deep merge of JSON objects; anything else replaces.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}
