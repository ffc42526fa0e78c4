//! `pages.jsonl`: every finished page appended at once, so an interrupted run keeps them and
//! `--resume` can skip them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::report::PageReport;

pub struct Journal {
    file: Mutex<std::fs::File>,
}

impl Journal {
    /// Opens `OUTPUT/pages.jsonl`; when resuming, returns the pages it already holds.
    pub fn open(output: &Path, resume: bool) -> std::io::Result<(Journal, Vec<PageReport>)> {
        let path = output.join("pages.jsonl");
        let previous = if resume { read(&path) } else { Vec::new() };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(resume)
            .write(true)
            .truncate(!resume)
            .open(&path)?;
        Ok((
            Journal {
                file: Mutex::new(file),
            },
            previous,
        ))
    }

    pub fn path(output: &Path) -> PathBuf {
        output.join("pages.jsonl")
    }

    pub fn append(&self, page: &PageReport) {
        let Ok(line) = serde_json::to_string(page) else {
            return;
        };
        let mut file = self.file.lock().expect("journal lock");
        // A failed journal write must not stop the run: the final reports still hold the page.
        let _ = writeln!(file, "{line}").and_then(|()| file.flush());
    }
}

/// Finished pages of an earlier run; a line cut short by a kill is skipped.
fn read(path: &Path) -> Vec<PageReport> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}
