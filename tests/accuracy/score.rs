//! Scores for labelled corpora: precision and recall of yes/no facts, and plain agreement.
//! A score with nothing to count is "not measured", never a perfect 1.0.

use std::fmt;

/// Precision and recall of a fact the tool either reports or not.
#[derive(Default, Clone, Copy)]
pub struct Pr {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Pr {
    pub fn add(&mut self, expected: bool, got: bool) {
        match (expected, got) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => {}
        }
    }

    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }
}

impl fmt::Display for Pr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "precision {}, recall {} (tp {}, fp {}, fn {})",
            shown(self.precision()),
            shown(self.recall()),
            self.tp,
            self.fp,
            self.fn_
        )
    }
}

/// Share of cases the tool got right.
#[derive(Default, Clone, Copy)]
pub struct Agreement {
    pub right: usize,
    pub total: usize,
}

impl Agreement {
    pub fn add(&mut self, ok: bool) {
        self.total += 1;
        self.right += usize::from(ok);
    }

    pub fn ratio(&self) -> Option<f64> {
        ratio(self.right, self.total)
    }
}

impl fmt::Display for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}/{})", shown(self.ratio()), self.right, self.total)
    }
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn shown(value: Option<f64>) -> String {
    value.map_or_else(|| "not measured".to_owned(), |v| format!("{v:.3}"))
}

/// Fails when a measured score is under its floor; a score that could not be measured fails too,
/// since a corpus that cannot measure a field proves nothing about it.
pub fn require(failures: &mut Vec<String>, what: &str, value: Option<f64>, floor: f64) {
    match value {
        Some(v) if v >= floor => {}
        Some(v) => failures.push(format!("{what} {v:.3} < {floor}")),
        None => failures.push(format!("{what} not measured")),
    }
}
