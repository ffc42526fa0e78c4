//! `pages.jsonl`: every finished page appended at once, so an interrupted run keeps them and
//! `--resume` can skip them. Its first line names what judged the pages (profile, mode, rule
//! set): a run resumed with other settings audits every page again rather than mix verdicts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::report::PageReport;

pub struct Journal {
    file: Mutex<std::fs::File>,
}

impl Journal {
    /// Opens `OUTPUT/pages.jsonl` for a run judged by `judge`; when resuming a run of the same
    /// judge, returns the pages it already holds.
    pub fn open(
        output: &Path,
        resume: bool,
        judge: &Judge,
    ) -> std::io::Result<(Journal, Vec<PageReport>)> {
        let path = output.join("pages.jsonl");
        let previous = if resume { read(&path, judge) } else { None };
        let keep = previous.is_some();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(keep)
            .write(true)
            .truncate(!keep)
            .open(&path)?;
        let journal = Journal {
            file: Mutex::new(file),
        };
        if !keep {
            journal.write_line(&serde_json::to_string(&Header {
                judge: judge.clone(),
            })?);
        }
        Ok((journal, previous.unwrap_or_default()))
    }

    pub fn path(output: &Path) -> PathBuf {
        output.join("pages.jsonl")
    }

    pub fn append(&self, page: &PageReport) {
        if let Ok(line) = serde_json::to_string(page) {
            self.write_line(&line);
        }
    }

    fn write_line(&self, line: &str) {
        let mut file = self.file.lock().expect("journal lock");
        // A failed journal write must not stop the run: the final reports still hold the page.
        let _ = writeln!(file, "{line}").and_then(|()| file.flush());
    }
}

/// What judged the pages of a run: resuming mixes no verdicts of other settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judge {
    pub profile: String,
    pub mode: crate::facts::Mode,
    /// `--mode auto`: a browser for the pages that need one.
    #[serde(default)]
    pub render_when_needed: bool,
    pub rules_version: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    judge: Judge,
}

/// Finished pages of an earlier run by the same judge (`None`: none to resume); a line cut short
/// by a kill is skipped.
fn read(path: &Path, judge: &Judge) -> Option<Vec<PageReport>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let header: Header = serde_json::from_str(lines.next()?).ok()?;
    if header.judge != *judge {
        eprintln!(
            "warning: {} was written with other settings ({:?}); every page is audited again",
            path.display(),
            header.judge
        );
        return None;
    }
    Some(lines.filter_map(|l| serde_json::from_str(l).ok()).collect())
}
