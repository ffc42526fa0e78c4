//! The knowledge in `rules/`: embedded at build time, overridable file by file with `--knowledge DIR`.

pub mod catalog;
pub mod cmp;
pub mod cookie_db;
pub mod cosmetic;
pub mod lexicon;
pub mod lists;
pub mod profiles;
pub mod selectors;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// A knowledge file: where it came from (for error messages) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    /// The file name without `.toml`: ids and language codes must equal it.
    pub fn stem(&self) -> &str {
        self.name
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".toml")
    }
}

/// A malformed knowledge file: the file, the line when known, and what is wrong.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct KnowledgeError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl KnowledgeError {
    pub fn new(source: &Source, line: Option<usize>, message: impl Into<String>) -> Self {
        KnowledgeError {
            file: source.name.clone(),
            line,
            message: message.into(),
        }
    }

    /// A TOML error, with its line taken from the error's byte span.
    pub fn from_toml(source: &Source, error: &toml::de::Error) -> Self {
        let line = error.span().map(|span| line_of(&source.text, span.start));
        KnowledgeError::new(source, line, error.message().trim().to_owned())
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Line of the first line that starts with `key =` (for errors found after parsing).
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// Every knowledge file by its path relative to `rules/`, the override folder winning.
pub struct Sources {
    files: BTreeMap<String, Source>,
}

impl Sources {
    pub fn load(overrides: Option<&Path>) -> Result<Sources, KnowledgeError> {
        let mut files = BTreeMap::new();
        collect_embedded(&EMBEDDED, &mut files);
        if let Some(dir) = overrides {
            collect_dir(dir, dir, &mut files)?;
        }
        Ok(Sources { files })
    }

    /// Files under a sub-folder (`lexicon/`, `cmp/`, `rules/`) with the given extension.
    pub fn under<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a Source> + 'a {
        self.files
            .iter()
            .filter(move |(path, _)| path.starts_with(folder) && path.ends_with(".toml"))
            .map(|(_, s)| s)
    }

    /// A short hash of every file's path and text: the rule set version printed in reports.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for (path, source) in &self.files {
            hasher.update(path.as_bytes());
            hasher.update([0]);
            hasher.update(source.text.as_bytes());
        }
        hasher
            .finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn get(&self, path: &str) -> Option<&Source> {
        self.files.get(path)
    }

    pub fn require(&self, path: &str) -> Result<&Source, KnowledgeError> {
        self.get(path).ok_or_else(|| KnowledgeError {
            file: path.to_owned(),
            line: None,
            message: "missing knowledge file".into(),
        })
    }
}

fn collect_embedded(dir: &Dir<'_>, files: &mut BTreeMap<String, Source>) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        if let Some(text) = file.contents_utf8() {
            files.insert(
                path.clone(),
                Source {
                    name: format!("(embedded) rules/{path}"),
                    text: text.to_owned(),
                },
            );
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, files);
    }
}

fn collect_dir(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, Source>,
) -> Result<(), KnowledgeError> {
    let io_err = |path: &PathBuf, e: std::io::Error| KnowledgeError {
        file: path.display().to_string(),
        line: None,
        message: format!("cannot read: {e}"),
    };
    let entries = std::fs::read_dir(dir).map_err(|e| io_err(&dir.to_path_buf(), e))?;
    for entry in entries {
        let path = entry.map_err(|e| io_err(&dir.to_path_buf(), e))?.path();
        if path.is_dir() {
            collect_dir(root, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if !in_layout(&rel) {
                return Err(KnowledgeError {
                    file: path.display().to_string(),
                    line: None,
                    message: format!(
                        "not a place for a knowledge file: files go in {} or profiles.toml (see rules/README.md)",
                        FOLDERS.join(", ")
                    ),
                });
            }
            files.insert(
                rel,
                Source {
                    name: path.display().to_string(),
                    text,
                },
            );
        }
    }
    Ok(())
}

/// The folders of `rules/`, each read file by file.
const FOLDERS: [&str; 5] = ["checks/", "cmp/", "cookies/", "lexicon/", "trackers/"];

/// A file an override folder may hold: a file of a known folder, or the profiles. Anything else
/// would be silently ignored (e.g. rules still in the old `rules/` folder), so it is an error.
fn in_layout(rel: &str) -> bool {
    rel == "profiles.toml"
        || FOLDERS
            .iter()
            .any(|f| rel.strip_prefix(f).is_some_and(|name| !name.contains('/')))
}

/// Everything extraction needs, parsed and compiled once per run.
pub struct Knowledge {
    pub lexicons: lexicon::Lexicons,
    pub cmps: Vec<cmp::Cmp>,
    /// Inline markers of every CMP, searched in one pass.
    pub cmp_markers: cmp::Markers,
    pub cookies: catalog::CookieCatalog,
    pub trackers: catalog::TrackerCatalog,
    pub profiles: profiles::Profiles,
    /// Filter lists added to the embedded knowledge (`--filter-list`, `lists update`).
    pub lists: Vec<lists::FilterList>,
}

impl Knowledge {
    pub fn load(sources: &Sources) -> Result<Knowledge, KnowledgeError> {
        let cmps = cmp::load_all(sources)?;
        Ok(Knowledge {
            lexicons: lexicon::Lexicons::load(sources)?,
            cmp_markers: cmp::Markers::build(&cmps),
            cmps,
            cookies: catalog::CookieCatalog::load(sources)?,
            trackers: catalog::TrackerCatalog::load(sources)?,
            profiles: profiles::Profiles::load(sources.require("profiles.toml")?)?,
            lists: Vec::new(),
        })
    }

    /// The embedded knowledge alone; it is tested, so failing here is a build defect.
    pub fn embedded() -> Knowledge {
        let sources = Sources::load(None).expect("embedded rules are readable");
        Knowledge::load(&sources).expect("embedded rules are valid")
    }
}

/// Parses a TOML knowledge file into `T`, turning errors into file:line messages.
pub fn parse<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, KnowledgeError> {
    toml::from_str(&source.text).map_err(|e| KnowledgeError::from_toml(source, &e))
}
