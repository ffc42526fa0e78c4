//! Jurisdiction profiles: where national positions differ from the EDPB baseline.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{KnowledgeError, Source, parse};

pub const DEFAULT_PROFILE: &str = "eu";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileEntry {
    name: String,
    description: String,
    #[serde(default)]
    inherits: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    settings: BTreeMap<String, toml::Value>,
}

/// A resolved profile: its settings are the base profile's, overridden by its own.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub description: String,
    pub references: Vec<String>,
    pub settings: BTreeMap<String, serde_json::Value>,
}

pub struct Profiles {
    by_id: BTreeMap<String, Profile>,
}

impl Profiles {
    pub fn load(source: &Source) -> Result<Self, KnowledgeError> {
        let entries: BTreeMap<String, ProfileEntry> = parse(source)?;
        let base = entries.get(DEFAULT_PROFILE).ok_or_else(|| {
            KnowledgeError::new(
                source,
                None,
                format!("the base profile [{DEFAULT_PROFILE}] is missing"),
            )
        })?;
        let mut by_id = BTreeMap::new();
        for (id, entry) in &entries {
            let at = || {
                super::line_of_key(&source.text, &format!("[{id}"))
                    .or_else(|| find_header(&source.text, id))
            };
            let mut settings: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            let mut chain = vec![entry];
            let mut parent = entry.inherits.as_deref();
            while let Some(p) = parent {
                let e = entries.get(p).ok_or_else(|| {
                    KnowledgeError::new(
                        source,
                        at(),
                        format!("profile {id} inherits unknown profile {p}"),
                    )
                })?;
                if chain.len() > entries.len() {
                    return Err(KnowledgeError::new(
                        source,
                        at(),
                        format!("profile {id} has an inheritance cycle"),
                    ));
                }
                chain.push(e);
                parent = e.inherits.as_deref();
            }
            if id != DEFAULT_PROFILE && !chain.iter().any(|e| std::ptr::eq(*e, base)) {
                chain.push(base);
            }
            for e in chain.iter().rev() {
                for (k, v) in &e.settings {
                    if !base.settings.contains_key(k) {
                        return Err(KnowledgeError::new(
                            source,
                            find_header(&source.text, id),
                            format!(
                                "unknown setting {k:?} in profile {id} (settings are declared in [{DEFAULT_PROFILE}])"
                            ),
                        ));
                    }
                    let json = serde_json::to_value(v)
                        .map_err(|e| KnowledgeError::new(source, at(), e.to_string()))?;
                    settings.insert(k.clone(), json);
                }
            }
            by_id.insert(
                id.clone(),
                Profile {
                    id: id.clone(),
                    name: entry.name.clone(),
                    description: entry.description.clone(),
                    references: entry.references.clone(),
                    settings,
                },
            );
        }
        Ok(Profiles { by_id })
    }

    pub fn get(&self, id: &str) -> Option<&Profile> {
        self.by_id.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }

    pub fn all(&self) -> impl Iterator<Item = &Profile> {
        self.by_id.values()
    }
}

fn find_header(text: &str, id: &str) -> Option<usize> {
    let header = format!("[{id}]");
    let quoted = format!("[\"{id}\"]");
    text.lines()
        .position(|l| l.trim() == header || l.trim() == quoted)
        .map(|i| i + 1)
}
