//! Reading the DOM as a visitor sees it: what is hidden, what text shows, how to name an element.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};

use crate::text::collapse_whitespace;

/// Text read from one element at most: a banner is read, not a book, and every phrase of
/// every lexicon is looked for in it (3 MB of banner text took half a minute).
const MAX_TEXT: usize = 64 * 1024;

/// Parses a page with its nesting limited as a browser would (see [`super::depth`]).
pub fn parse_document(html: &str) -> Html {
    Html::parse_document(&super::depth::limit_depth(html))
}

/// Elements whose content never shows.
const NEVER_VISIBLE: [&str; 7] = [
    "script", "style", "template", "noscript", "head", "title", "svg",
];

/// Hidden by the element itself: `hidden`, `aria-hidden`, an inline `display:none` or `visibility:hidden`.
pub fn hides_itself(el: &scraper::node::Element) -> bool {
    if NEVER_VISIBLE.contains(&el.name())
        || el.attr("hidden").is_some()
        || el.attr("aria-hidden") == Some("true")
    {
        return true;
    }
    el.attr("style").is_some_and(style_hides)
}

/// An inline style that hides the element.
pub fn style_hides(style: &str) -> bool {
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    compact.contains("display:none") || compact.contains("visibility:hidden")
}

/// Is the element or one of its ancestors hidden?
pub fn is_hidden(el: ElementRef<'_>) -> bool {
    std::iter::once(*el)
        .chain(el.ancestors())
        .filter_map(|n| n.value().as_element())
        .any(|e| hides_itself(e) && !matches!(e.name(), "head" | "title" | "svg"))
}

/// Visible text of an element, whitespace collapsed, up to [`MAX_TEXT`]. Walks iteratively:
/// a DOM nested 100,000 deep must not overflow the stack.
pub fn visible_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    let mut hidden_depth = 0usize;
    for edge in el.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) if hidden_depth > 0 || hides_itself(e) => hidden_depth += 1,
                Node::Element(e) if is_block(e.name()) => push_space(&mut out),
                Node::Text(t) if hidden_depth == 0 && !push_capped(&mut out, t) => break,
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    if hidden_depth > 0 {
                        hidden_depth -= 1;
                    } else if is_block(e.name()) {
                        push_space(&mut out);
                    }
                }
            }
        }
    }
    collapse_whitespace(&out)
}

/// All text of an element, hidden or not (for controls inside a closed preference centre),
/// up to [`MAX_TEXT`].
pub fn all_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    let mut skip_depth = 0usize;
    for edge in el.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e)
                    if skip_depth > 0 || matches!(e.name(), "script" | "style" | "template") =>
                {
                    skip_depth += 1
                }
                Node::Element(_) => push_space(&mut out),
                Node::Text(t) if skip_depth == 0 && !push_capped(&mut out, t) => break,
                _ => {}
            },
            Edge::Close(node) => {
                if node.value().is_element() && skip_depth > 0 {
                    skip_depth -= 1;
                }
            }
        }
    }
    collapse_whitespace(&out)
}

/// Appends what fits of `text` under [`MAX_TEXT`], cut on a character boundary; false when
/// the text did not all fit.
fn push_capped(out: &mut String, text: &str) -> bool {
    let mut end = text.len().min(MAX_TEXT.saturating_sub(out.len()));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(&text[..end]);
    end == text.len()
}

/// One space between blocks: thousands of empty elements must not fill the text cap.
fn push_space(out: &mut String) {
    if !out.ends_with(' ') {
        out.push(' ');
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "button"
            | "a"
            | "label"
            | "td"
            | "th"
            | "tr"
            | "dialog"
            | "form"
            | "input"
    )
}

/// Share of the viewport a fixed banner (or its backdrop) covers, as measured by the render
/// snapshot in `data-cookie-audit-box`: the banner root, its ancestors and descendants.
pub fn viewport_share(root: ElementRef<'_>) -> Option<f64> {
    let share = |e: &scraper::node::Element| {
        e.attr("data-cookie-audit-box")
            .and_then(|v| v.parse::<f64>().ok())
    };
    let up = std::iter::once(*root)
        .chain(root.ancestors())
        .filter_map(|n| n.value().as_element().and_then(share));
    let down = root.descendent_elements().filter_map(|e| share(e.value()));
    up.chain(down).reduce(f64::max)
}

/// A CSS selector that identifies the element: its id, else a short path of tags and classes.
pub fn selector_for(el: ElementRef<'_>) -> String {
    let mut parts = Vec::new();
    let mut current = Some(el);
    while let Some(e) = current {
        let v = e.value();
        if let Some(id) = v.id().filter(|id| is_css_ident(id)) {
            parts.push(format!("#{id}"));
            break;
        }
        let mut part = v.name().to_owned();
        for class in v.classes().filter(|c| is_css_ident(c)).take(2) {
            part.push('.');
            part.push_str(class);
        }
        if let Some(parent) = e.parent().and_then(ElementRef::wrap) {
            let same: Vec<_> = parent
                .child_elements()
                .filter(|c| c.value().name() == v.name())
                .collect();
            if same.len() > 1
                && let Some(i) = same.iter().position(|c| c.id() == e.id())
            {
                part.push_str(&format!(":nth-of-type({})", i + 1));
            }
        }
        parts.push(part);
        if parts.len() >= 4 || matches!(v.name(), "body" | "html") {
            break;
        }
        current = e.parent().and_then(ElementRef::wrap);
    }
    parts.reverse();
    parts.join(" > ")
}

fn is_css_ident(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    fn first<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
        doc.select(&Selector::parse(css).unwrap()).next().unwrap()
    }

    #[test]
    fn hidden_content_is_not_visible_text() {
        let doc = Html::parse_document(
            r#"<div id="b">Nous utilisons des <b>cookies</b>.<span hidden>secret</span><span style="display: none">no</span>
               <span aria-hidden="true">icon</span><script>var x = 1;</script><p>Fin</p></div>"#,
        );
        assert_eq!(
            visible_text(first(&doc, "#b")),
            "Nous utilisons des cookies. Fin"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 20_000;
        let html = format!("{}cookies{}", "<div>".repeat(depth), "</div>".repeat(depth));
        let doc = Html::parse_document(&html);
        assert!(visible_text(first(&doc, "body")).contains("cookies"));
    }

    #[test]
    fn text_is_read_up_to_the_cap() {
        let html = format!("<div id=b><p>{}</p><p>tail</p></div>", "é".repeat(MAX_TEXT));
        let doc = Html::parse_document(&html);
        for text in [visible_text(first(&doc, "#b")), all_text(first(&doc, "#b"))] {
            assert!(
                text.len() <= MAX_TEXT && text.len() > MAX_TEXT - 4,
                "{}",
                text.len()
            );
            assert!(!text.contains("tail"));
        }
    }

    #[test]
    fn selectors_prefer_ids() {
        let doc = Html::parse_document(
            r#"<div id="cookie-bar"><p><button class="btn primary">OK</button></p></div>"#,
        );
        assert_eq!(
            selector_for(first(&doc, "button")),
            "#cookie-bar > p > button.btn.primary"
        );
    }
}
