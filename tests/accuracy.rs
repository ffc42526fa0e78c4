//! Accuracy on labelled corpora, each scored apart: the synthetic pages under
//! `tests/fixtures/pages` (written for the project) and the real saved pages of public sites in
//! `../shared/corpus/real` (labelled blind, with a blind split never tuned on).

mod common;
#[path = "accuracy/real.rs"]
mod real;
#[path = "accuracy/score.rs"]
mod score;
#[path = "accuracy/synthetic.rs"]
mod synthetic;
