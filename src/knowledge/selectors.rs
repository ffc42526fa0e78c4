//! Which selectors can match a page: the names (`#id`, `.class`, `tag`, `[attr`) a selector
//! needs, and those a page holds. A selector needing a name the page lacks cannot match, so it
//! need not walk the page: thousands of list rules and CMP signatures are tried only where they can.

use std::collections::HashSet;

use scraper::Html;

/// The ids, classes, tag names and attribute names a selector needs, outside `:not(…)` and
/// other functional pseudo-classes (which need nothing). A selector list (`a, b`) would need
/// either, not both: it gets no names and is skipped.
pub fn needed_names(css: &str) -> Vec<String> {
    let mut needs = Vec::new();
    let chars: Vec<(usize, char)> = css.char_indices().collect();
    let (mut brackets, mut parens) = (0usize, 0usize);
    let mut compound_start = true;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        match c {
            '(' => parens += 1,
            ')' => parens = parens.saturating_sub(1),
            ']' => brackets = brackets.saturating_sub(1),
            ',' if parens == 0 && brackets == 0 => return Vec::new(),
            _ if parens > 0 || brackets > 0 => {}
            '[' => {
                brackets += 1;
                let name = ident(&css[at + 1..]);
                if !name.is_empty() {
                    needs.push(format!("[{}", name.to_ascii_lowercase()));
                }
            }
            '#' | '.' => {
                let name = ident(&css[at + 1..]);
                if !name.is_empty() {
                    needs.push(format!("{c}{name}"));
                }
                i += name.chars().count();
            }
            ' ' | '>' | '+' | '~' => compound_start = true,
            _ if compound_start && (c.is_alphabetic() || c == '-') => {
                let name = ident(&css[at..]);
                needs.push(name.to_ascii_lowercase());
                i += name.chars().count().saturating_sub(1);
            }
            _ => {}
        }
        if !matches!(c, ' ' | '>' | '+' | '~') {
            compound_start = false;
        }
        i += 1;
    }
    // Escaped names (`#\5f x`) cannot be compared as written.
    if needs.iter().any(|n| n.contains('\\')) || css.contains('\\') {
        return Vec::new();
    }
    needs
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The ids, classes, tag names and attribute names a document holds, borrowed from it: a
/// selector that needs a name the page lacks cannot match, so it need not walk the page.
pub struct PageNames<'a> {
    ids: HashSet<&'a str>,
    classes: HashSet<&'a str>,
    tags: HashSet<&'a str>,
    attrs: HashSet<&'a str>,
}

impl<'a> PageNames<'a> {
    pub fn of(doc: &'a Html) -> Self {
        let mut names = PageNames {
            ids: HashSet::new(),
            classes: HashSet::new(),
            tags: HashSet::new(),
            attrs: HashSet::new(),
        };
        for node in doc.tree.nodes() {
            let Some(e) = node.value().as_element() else {
                continue;
            };
            names.tags.insert(&e.name.local);
            for (name, value) in &e.attrs {
                names.attrs.insert(&name.local);
                match &*name.local {
                    "id" => {
                        names.ids.insert(value);
                    }
                    "class" => names.classes.extend(value.split_ascii_whitespace()),
                    _ => {}
                }
            }
        }
        names
    }

    /// Does the page hold a name written as selectors need it (`#id`, `.class`, `[attr`, `tag`)?
    pub fn has(&self, name: &str) -> bool {
        let (kind, bare) = NameKind::of(name);
        self.set(kind).contains(bare)
    }

    /// Does the page hold every name a selector needs (see [`needed_names`])?
    pub fn has_all(&self, needs: &[String]) -> bool {
        needs.iter().all(|n| self.has(n))
    }

    /// Every name of the page, bare, with its kind.
    pub fn iter(&self) -> impl Iterator<Item = (NameKind, &'a str)> + '_ {
        NameKind::ALL
            .into_iter()
            .flat_map(move |kind| self.set(kind).iter().map(move |n| (kind, *n)))
    }

    fn set(&self, kind: NameKind) -> &HashSet<&'a str> {
        match kind {
            NameKind::Id => &self.ids,
            NameKind::Class => &self.classes,
            NameKind::Tag => &self.tags,
            NameKind::Attr => &self.attrs,
        }
    }
}

/// The kinds of name a selector can need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    Id,
    Class,
    Tag,
    Attr,
}

impl NameKind {
    const ALL: [NameKind; 4] = [NameKind::Id, NameKind::Class, NameKind::Tag, NameKind::Attr];

    /// `#id`, `.class`, `[attr` or `tag`: the kind and the bare name.
    pub fn of(name: &str) -> (NameKind, &str) {
        match name.split_at_checked(1) {
            Some(("#", id)) => (NameKind::Id, id),
            Some((".", class)) => (NameKind::Class, class),
            Some(("[", attr)) => (NameKind::Attr, attr),
            _ => (NameKind::Tag, name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_needed_by_selectors() {
        assert_eq!(
            needed_names("div#gdpr > .inner:not(.x)"),
            ["div", "#gdpr", ".inner"]
        );
        assert_eq!(
            needed_names("[aria-label=\"Cookies banner\"]"),
            ["[aria-label"]
        );
        assert_eq!(needed_names("COOKIE-HEADER"), ["cookie-header"]);
        assert!(needed_names(".a, .b").is_empty());
    }

    #[test]
    fn a_page_holds_the_names_selectors_need() {
        let doc = Html::parse_document(
            r#"<body><div id="gdpr" class="a b" data-cookie-banner="1"><cookie-header></cookie-header></div></body>"#,
        );
        let names = PageNames::of(&doc);
        for held in [
            "#gdpr",
            ".a",
            ".b",
            "[data-cookie-banner",
            "cookie-header",
            "div",
        ] {
            assert!(names.has(held), "{held}");
        }
        assert!(!names.has(".gdpr") && !names.has("#a"));
        assert!(names.has_all(&needed_names("div#gdpr > cookie-header")));
        assert!(!names.has_all(&needed_names("div#gdpr .missing")));
    }
}
