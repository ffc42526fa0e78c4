//! CMP signatures: how to recognise a consent-management platform and read its banner.

use scraper::Selector;
use serde::Deserialize;

use super::{KnowledgeError, Source, Sources, parse};
use crate::facts::Role;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CmpFile {
    id: String,
    name: String,
    #[serde(default)]
    tcf_cmp_ids: Vec<u32>,
    #[serde(default)]
    banner: BannerFile,
    #[serde(default)]
    buttons: ButtonsFile,
    #[serde(default)]
    scripts: ScriptsFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BannerFile {
    #[serde(default)]
    roots: Vec<String>,
    #[serde(default)]
    preference_center: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ButtonsFile {
    #[serde(default)]
    accept: Vec<String>,
    #[serde(default)]
    reject: Vec<String>,
    #[serde(default)]
    settings: Vec<String>,
    #[serde(default)]
    close: Vec<String>,
    #[serde(default)]
    acknowledge: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ScriptsFile {
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub inline: Vec<String>,
}

/// A compiled CMP signature.
pub struct Cmp {
    pub id: String,
    pub name: String,
    pub tcf_cmp_ids: Vec<u32>,
    pub roots: Vec<(String, Selector)>,
    pub preference_center: Vec<Selector>,
    pub buttons: Vec<(Role, Selector)>,
    pub scripts: ScriptsFile,
}

impl Cmp {
    /// Does a script URL belong to this CMP?
    pub fn owns_script(&self, url: &url::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        self.scripts
            .hosts
            .iter()
            .any(|h| host == h || host.ends_with(&format!(".{h}")))
            || self
                .scripts
                .paths
                .iter()
                .any(|p| url.path().contains(p.as_str()))
    }

    pub fn owns_inline(&self, code: &str) -> bool {
        self.scripts
            .inline
            .iter()
            .any(|m| code.contains(m.as_str()))
    }
}

pub fn load_all(sources: &Sources) -> Result<Vec<Cmp>, KnowledgeError> {
    sources.under("cmp/").map(load_one).collect()
}

fn load_one(source: &Source) -> Result<Cmp, KnowledgeError> {
    let file: CmpFile = parse(source)?;
    let expected = source.stem();
    if file.id != expected {
        return Err(KnowledgeError::new(
            source,
            super::line_of_key(&source.text, "id"),
            format!("id {:?} does not match the file name", file.id),
        ));
    }
    let compile = |css: &String| compile_selector(source, css);
    let roots = file
        .banner
        .roots
        .iter()
        .map(|css| Ok((css.clone(), compile(css)?)))
        .collect::<Result<_, KnowledgeError>>()?;
    let preference_center = file
        .banner
        .preference_center
        .iter()
        .map(compile)
        .collect::<Result<_, _>>()?;
    let b = &file.buttons;
    let mut buttons = Vec::new();
    for (role, list) in [
        (Role::Reject, &b.reject),
        (Role::Accept, &b.accept),
        (Role::Settings, &b.settings),
        (Role::Close, &b.close),
        (Role::Acknowledge, &b.acknowledge),
    ] {
        for css in list {
            buttons.push((role, compile(css)?));
        }
    }
    Ok(Cmp {
        id: file.id,
        name: file.name,
        tcf_cmp_ids: file.tcf_cmp_ids,
        roots,
        preference_center,
        buttons,
        scripts: file.scripts,
    })
}

fn compile_selector(source: &Source, css: &str) -> Result<Selector, KnowledgeError> {
    Selector::parse(css).map_err(|e| {
        let line = source
            .text
            .find(css)
            .map(|off| super::line_of(&source.text, off));
        KnowledgeError::new(source, line, format!("invalid CSS selector {css:?}: {e}"))
    })
}
