//! The controls of a banner: buttons and their roles, checkboxes and their state, policy links.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};

use super::dom::{all_text, is_hidden, selector_for, visible_text};
use super::roles::category_from_identifier;
use super::roles::{classify_label, purpose_category};
use crate::facts::{Button, ButtonStyle, Category, Checkbox, ElementKind, Link, LinkKind, Role};
use crate::knowledge::cmp::Cmp;
use crate::knowledge::lexicon::{Lexicon, PhraseKind};
use crate::text::{collapse_whitespace, normalize};

/// What a visitor clicks: real controls, and the spans, divs and icons that sites script into
/// controls (`<span class="btn" data-action="agree">`, `<i class="fa-close">`).
pub const CONTROL_SELECTOR: &str = "button, a, input[type=button], input[type=submit], [role=button], \
     [onclick], span.btn, div.btn, i[class*=close], span[class*=close]";
pub static CONTROLS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse(CONTROL_SELECTOR).expect("static selector"));
static TOGGLES: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("input[type=checkbox], [role=switch], [role=checkbox]")
        .expect("static selector")
});
static LABELS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("label[for]").expect("static selector"));

/// The label a visitor reads: visible text, else aria-label, value, title.
pub fn control_label(el: ElementRef<'_>) -> String {
    let text = visible_text(el);
    let text = if text.is_empty() && is_hidden(el) {
        all_text(el)
    } else {
        text
    };
    if !text.is_empty() {
        return text;
    }
    let v = el.value();
    ["aria-label", "value", "title", "alt"]
        .iter()
        .find_map(|a| v.attr(a).map(collapse_whitespace).filter(|s| !s.is_empty()))
        .unwrap_or_default()
}

fn element_kind(el: ElementRef<'_>) -> ElementKind {
    match el.value().name() {
        "button" => ElementKind::Button,
        "a" => ElementKind::Link,
        "input" => ElementKind::Input,
        _ => ElementKind::Other,
    }
}

/// A link sitting inside running text, rather than a control of its own: the text around it in
/// its parent (text nodes and inline elements, not separate blocks) reads as a sentence.
fn in_text_flow(el: ElementRef<'_>) -> bool {
    const INLINE: [&str; 9] = ["a", "span", "b", "strong", "em", "i", "small", "code", "u"];
    if el.value().name() != "a" {
        return false;
    }
    let Some(parent) = el.parent() else {
        return false;
    };
    let around: usize = parent
        .children()
        .filter(|c| c.id() != el.id())
        .map(|c| match c.value() {
            scraper::Node::Text(t) => t.trim().chars().count(),
            scraper::Node::Element(e) if INLINE.contains(&e.name()) => {
                ElementRef::wrap(c).map_or(0, |e| visible_text(e).chars().count())
            }
            _ => 0,
        })
        .sum();
    around >= 25
}

/// Everything the banner offers: buttons, checkboxes and links.
pub struct Controls {
    pub buttons: Vec<Button>,
    pub checkboxes: Vec<Checkbox>,
    pub links: Vec<Link>,
}

pub struct Scope<'a, 'k> {
    pub doc: &'a Html,
    pub root: ElementRef<'a>,
    pub second_layers: &'a [ElementRef<'a>],
    pub cmp: Option<&'k Cmp>,
    pub lexicons: Vec<&'k Lexicon>,
    pub page_url: Option<&'a url::Url>,
}

impl Scope<'_, '_> {
    fn in_second_layer(&self, el: ElementRef<'_>) -> bool {
        self.second_layers.iter().any(|layer| {
            el.ancestors()
                .chain(std::iter::once(*el))
                .any(|a| a.id() == layer.id())
        }) || el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take_while(|a| a.id() != self.root.id())
            .any(|a| super::dom::hides_itself(a.value()))
    }

    fn cmp_role(&self, el: ElementRef<'_>) -> Option<Role> {
        self.cmp?
            .buttons
            .iter()
            .find(|(_, sel)| sel.matches(&el))
            .map(|(role, _)| *role)
    }

    fn link_kind_from_text(&self, label: &str) -> Option<LinkKind> {
        let norm = normalize(label);
        [
            (LinkKind::CookiePolicy, PhraseKind::CookiePolicy),
            (LinkKind::PrivacyPolicy, PhraseKind::PrivacyPolicy),
            (LinkKind::LegalNotice, PhraseKind::LegalNotice),
            (LinkKind::Partners, PhraseKind::Partners),
        ]
        .into_iter()
        .filter_map(|(kind, cat)| {
            self.lexicons
                .iter()
                .filter_map(|l| l.longest_in(cat, &norm))
                .map(|p| (p.words, p.norm.len()))
                .max()
                .map(|k| (k, kind))
        })
        .max_by_key(|(k, _)| *k)
        .map(|(_, kind)| kind)
    }

    /// What a link's address says it leads to: common slugs, else its path read as words in
    /// the banner's languages (`/kurumsal/cerez-politikasi` is a cookie policy).
    fn link_kind_from_href(&self, href: &str) -> LinkKind {
        let kind = link_kind_from_slug(href);
        if kind != LinkKind::Other {
            return kind;
        }
        let path = href
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .rsplit("//")
            .next()
            .unwrap_or_default();
        // The host is no part of what the page is about; the path's words are.
        let words = path
            .split_once('/')
            .map_or("", |(_, p)| p)
            .replace(['/', '-', '_', '.'], " ");
        self.link_kind_from_text(&words)
            .filter(|k| *k != LinkKind::Partners)
            .unwrap_or(LinkKind::Other)
    }
}

fn link_kind_from_slug(href: &str) -> LinkKind {
    let h = href.to_ascii_lowercase();
    let path = h.split(['?', '#']).next().unwrap_or_default();
    if path.contains("cookie") {
        LinkKind::CookiePolicy
    } else if [
        "privacy",
        "datenschutz",
        "confidentialit",
        "privacidad",
        "privacite",
        "gdpr",
        "rgpd",
        "dsgvo",
    ]
    .iter()
    .any(|w| path.contains(w))
    {
        LinkKind::PrivacyPolicy
    } else if [
        "impressum",
        "mentions-legales",
        "legal",
        "aviso-legal",
        "note-legali",
    ]
    .iter()
    .any(|w| path.contains(w))
    {
        LinkKind::LegalNotice
    } else if ["partner", "vendor"].iter().any(|w| path.contains(w)) {
        LinkKind::Partners
    } else {
        LinkKind::Other
    }
}

pub fn read_controls(scope: &Scope<'_, '_>) -> Controls {
    let mut buttons = Vec::new();
    let mut links = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let areas = std::iter::once(scope.root).chain(scope.second_layers.iter().copied());
    for area in areas {
        for el in area.select(&CONTROLS) {
            if !seen.insert(el.id()) || inside_another_control(el, area) {
                continue;
            }
            let label = control_label(el);
            let href = el.value().attr("href").unwrap_or_default();
            let cmp_role = scope.cmp_role(el);
            let lex_role =
                classify_label(&normalize(&label), &scope.lexicons, true).map(|g| g.role);
            let is_link = el.value().name() == "a"
                && cmp_role.is_none()
                && el.value().attr("role") != Some("button");
            if is_link {
                // A policy link is information; a link whose words make a choice, or that goes
                // nowhere a policy lives, acts as a control.
                let choice = lex_role.filter(|_| label.chars().count() <= 60);
                let decisive = matches!(choice, Some(Role::Accept | Role::Reject));
                // "change your cookie settings" inside a sentence, leading to another page, is
                // a reference to read, not a control of the notice.
                let reference = choice == Some(Role::Settings)
                    && in_text_flow(el)
                    && !super::candidate::acts_in_place(el);
                let kind = match scope.link_kind_from_text(&label) {
                    Some(kind) if !decisive => Some(kind),
                    None if choice.is_none() || reference => Some(scope.link_kind_from_href(href))
                        .filter(|k| *k != LinkKind::Other || reference),
                    _ => None,
                };
                if let Some(kind) = kind {
                    links.push(Link {
                        text: label,
                        href: resolve(scope.page_url, href),
                        kind,
                    });
                    continue;
                }
            }
            if label.is_empty() && cmp_role.is_none() {
                continue;
            }
            // The visitor reads the label: an "OK" that the CMP wires to accept is still an
            // acknowledgement to them (rules on explicit labels depend on it).
            let role = match (cmp_role, lex_role) {
                (Some(Role::Accept), Some(Role::Acknowledge)) => Role::Acknowledge,
                (Some(r), _) | (None, Some(r)) => r,
                (None, None) => Role::Other,
            };
            buttons.push(Button {
                in_text_flow: in_text_flow(el),
                first_layer: !scope.in_second_layer(el),
                selector: selector_for(el),
                element: element_kind(el),
                label,
                role,
                style: el
                    .value()
                    .attr("data-cookie-audit-style")
                    .and_then(parse_style),
                handle: el.value().attr("data-cookie-audit-id").map(str::to_owned),
            });
        }
    }
    Controls {
        buttons,
        checkboxes: read_checkboxes(scope),
        links,
    }
}

/// The rendered style the render snapshot measured: width;height;font size;colour;background;contrast;in view.
fn parse_style(s: &str) -> Option<ButtonStyle> {
    let parts: Vec<&str> = s.split(';').collect();
    let [w, h, fs, color, background, contrast, in_view] = parts.as_slice() else {
        return None;
    };
    Some(ButtonStyle {
        width: w.parse().ok()?,
        height: h.parse().ok()?,
        font_size: fs.parse().ok()?,
        color: (*color).to_owned(),
        background: (*background).to_owned(),
        contrast: contrast.parse().ok()?,
        in_viewport: *in_view == "1",
    })
}

/// Nested controls (a `<span role=button>` inside a `<button>`) count once, as the outer one.
fn inside_another_control(el: ElementRef<'_>, area: ElementRef<'_>) -> bool {
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .take_while(|a| a.id() != area.id())
        .any(|a| CONTROLS.matches(&a))
}

fn resolve(base: Option<&url::Url>, href: &str) -> String {
    super::urls::resolve(base, href)
        .map(String::from)
        .unwrap_or_else(|| href.to_owned())
}

fn read_checkboxes(scope: &Scope<'_, '_>) -> Vec<Checkbox> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let areas = std::iter::once(scope.root).chain(scope.second_layers.iter().copied());
    for area in areas {
        for el in area.select(&TOGGLES) {
            if !seen.insert(el.id()) {
                continue;
            }
            let v = el.value();
            let label = toggle_label(scope.doc, el);
            let checked = v.attr("checked").is_some() || v.attr("aria-checked") == Some("true");
            let disabled = v.attr("disabled").is_some() || v.attr("aria-disabled") == Some("true");
            let hints = [
                v.attr("name"),
                v.attr("value"),
                v.id(),
                v.attr("data-category"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let category = purpose_category(&scope.lexicons, &label)
                .or_else(|| category_from_identifier(&hints))
                .unwrap_or(Category::Unknown);
            out.push(Checkbox {
                label,
                checked,
                disabled,
                category,
            });
        }
    }
    out
}

fn toggle_label(doc: &Html, el: ElementRef<'_>) -> String {
    let v = el.value();
    if let Some(l) = v
        .attr("aria-label")
        .map(collapse_whitespace)
        .filter(|s| !s.is_empty())
    {
        return l;
    }
    if let Some(id) = v.id()
        && let Some(label) = doc
            .select(&LABELS)
            .find(|l| l.value().attr("for") == Some(id))
    {
        let text = all_text(label);
        if !text.is_empty() {
            return text;
        }
    }
    if let Some(ids) = v.attr("aria-labelledby") {
        let text: Vec<String> = ids
            .split_whitespace()
            .filter_map(|id| {
                doc.tree
                    .nodes()
                    .filter_map(ElementRef::wrap)
                    .find(|e| e.value().id() == Some(id))
            })
            .map(all_text)
            .collect();
        if !text.is_empty() {
            return text.join(" ");
        }
    }
    for ancestor in el.ancestors().filter_map(ElementRef::wrap).take(3) {
        let text = all_text(ancestor);
        if !text.is_empty() {
            return crate::text::truncate(&text, 80);
        }
    }
    v.attr("name").unwrap_or_default().to_owned()
}
