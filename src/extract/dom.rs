//! Reading the DOM as a visitor sees it: what is hidden, what text shows, how to name an element.

use std::borrow::Cow;

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};

use crate::text::collapse_whitespace;

/// Deeper than this, browsers stop nesting: Blink attaches further elements to the ancestor
/// at this depth. html5ever has no limit and slows quadratically with depth (every start tag
/// scans the open elements): 100,000 nested `<div>`s took a minute.
const MAX_DEPTH: usize = 512;

/// Text read from one element at most: a banner is read, not a book, and every phrase of
/// every lexicon is looked for in it (3 MB of banner text took half a minute).
const MAX_TEXT: usize = 64 * 1024;

/// Elements that never hold others: void, or closed by their next sibling.
const NEVER_NEST: [&str; 31] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody",
    "tfoot", "colgroup", "caption", "rt", "rp", "head", "body",
];

/// Elements whose content is text up to their end tag (scripting is on, so `noscript` too).
const RAW_TEXT: [&str; 9] = [
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// Parses a page with its nesting limited to [`MAX_DEPTH`], as a browser would show it.
pub fn parse_document(html: &str) -> Html {
    Html::parse_document(&limit_depth(html))
}

/// One element the tag scan saw open.
struct Open<'a> {
    name: &'a str,
    /// Closed by us before a start tag that would have nested too deep.
    closed_early: bool,
}

/// Before a start tag that would nest past [`MAX_DEPTH`], closes the innermost open element
/// (so the new one becomes its sibling, as in Blink) and drops that element's own end tag
/// later. A linear scan of tags, not a parser: exact for well-formed deep nesting, and a
/// no-op for pages less than `MAX_DEPTH` deep.
fn limit_depth(html: &str) -> Cow<'_, str> {
    let mut open: Vec<Open<'_>> = Vec::new();
    let (mut depth, mut foreign) = (0usize, 0usize);
    let mut out = Rewrite::new(html);
    let mut from = 0;
    while let Some(tag) = next_tag(html, from) {
        from = tag.end;
        let nests = !NEVER_NEST.iter().any(|n| n.eq_ignore_ascii_case(tag.name));
        if tag.closing {
            if nests && close(&mut open, tag.name, &mut depth, &mut foreign) {
                out.replace(tag.start..tag.end, &[]);
            }
        } else if let Some(raw) = RAW_TEXT.iter().find(|n| n.eq_ignore_ascii_case(tag.name)) {
            from = raw_text_end(html, from, raw);
        } else if nests && !(tag.self_closing && foreign > 0) {
            if depth >= MAX_DEPTH
                && let Some(top) = open.last_mut()
            {
                out.replace(tag.start..tag.start, &["</", top.name, ">"]);
                top.closed_early = true;
                depth -= 1;
            }
            foreign += usize::from(is_foreign(tag.name));
            open.push(Open {
                name: tag.name,
                closed_early: false,
            });
            depth += 1;
        }
    }
    out.finish()
}

/// Pops the innermost open element named `name` and those inside it; true when it was
/// closed early, so its end tag must go. The search looks `MAX_DEPTH` elements down at
/// most: a stray end tag costs bounded time.
fn close(open: &mut Vec<Open<'_>>, name: &str, depth: &mut usize, foreign: &mut usize) -> bool {
    let window = open.len().saturating_sub(MAX_DEPTH);
    let Some(at) = open[window..]
        .iter()
        .rposition(|o| o.name.eq_ignore_ascii_case(name))
        .map(|i| window + i)
    else {
        return false;
    };
    let early = open[at].closed_early;
    for o in open.drain(at..) {
        *depth -= usize::from(!o.closed_early);
        *foreign -= usize::from(is_foreign(o.name));
    }
    early
}

/// In SVG and MathML, `<path/>` is complete; in HTML, `<div/>` still opens a div.
fn is_foreign(name: &str) -> bool {
    name.eq_ignore_ascii_case("svg") || name.eq_ignore_ascii_case("math")
}

/// The source with edits made in order, copied only once there is a first edit.
struct Rewrite<'a> {
    html: &'a str,
    out: String,
    copied: usize,
    edited: bool,
}

impl<'a> Rewrite<'a> {
    fn new(html: &'a str) -> Self {
        Rewrite {
            html,
            out: String::new(),
            copied: 0,
            edited: false,
        }
    }

    /// Replaces `range`, at or after the previous edit, with `parts`.
    fn replace(&mut self, range: std::ops::Range<usize>, parts: &[&str]) {
        self.out.push_str(&self.html[self.copied..range.start]);
        parts.iter().for_each(|p| self.out.push_str(p));
        self.copied = range.end;
        self.edited = true;
    }

    fn finish(mut self) -> Cow<'a, str> {
        if !self.edited {
            return Cow::Borrowed(self.html);
        }
        self.out.push_str(&self.html[self.copied..]);
        Cow::Owned(self.out)
    }
}

/// A start or end tag found in the source, with its byte range.
struct Tag<'a> {
    start: usize,
    end: usize,
    name: &'a str,
    closing: bool,
    self_closing: bool,
}

/// The next tag at or after `from`, skipping comments, doctypes and stray `<`.
fn next_tag(html: &str, mut from: usize) -> Option<Tag<'_>> {
    let bytes = html.as_bytes();
    loop {
        let start = from + html[from..].find('<')?;
        let rest = &html[start + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            from = start + 4 + comment.find("-->")? + 3;
            continue;
        }
        let closing = rest.starts_with('/');
        let name_start = start + 1 + usize::from(closing);
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            from = if matches!(rest.as_bytes().first(), Some(b'!' | b'?' | b'/')) {
                start + 1 + rest.find('>')?
            } else {
                start + 1
            };
            continue;
        }
        let name_len = html[name_start..]
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(html.len() - name_start);
        let end = tag_end(bytes, name_start + name_len)?;
        return Some(Tag {
            start,
            end,
            name: &html[name_start..name_start + name_len],
            closing,
            self_closing: bytes[end - 2] == b'/',
        });
    }
}

/// Just past the `>` that ends a tag; a `>` inside a quoted attribute value does not.
fn tag_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() {
        match bytes[i] {
            b'>' => return Some(i + 1),
            b'=' => {
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                if let Some(&quote @ (b'"' | b'\'')) = bytes.get(i) {
                    i += 2 + bytes[i + 1..].iter().position(|&b| b == quote)?;
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Where the text of a `<script>` (or other raw-text element) ends: at its end tag.
fn raw_text_end(html: &str, from: usize, name: &str) -> usize {
    html[from..]
        .match_indices("</")
        .map(|(i, _)| from + i)
        .find(|&i| {
            html.as_bytes()
                .get(i + 2..i + 2 + name.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
        })
        .unwrap_or(html.len())
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
    fn nesting_past_the_limit_becomes_siblings() {
        let depth = 100_000;
        let html = format!(
            "<div title='a > b'>{}<p>cookies<button>OK</button></p>{}</div><!-- <div> --><script>'<div>'</script><i>end</i>",
            "<div><span>".repeat(depth / 2),
            "</span></div>".repeat(depth / 2)
        );
        let doc = parse_document(&html);
        // The <p>, MAX_DEPTH elements, body, html and the document node.
        assert_eq!(first(&doc, "button").ancestors().count(), MAX_DEPTH + 4);
        assert_eq!(visible_text(first(&doc, "i")), "end");
        assert_eq!(
            first(&doc, "i").ancestors().count(),
            3,
            "the end tags still match"
        );
    }

    #[test]
    fn shallow_pages_are_parsed_untouched() {
        let html = "<div a='<b>'><svg><path/><path/></svg><ul><li>one<li>two</ul><br><div/></div>";
        assert!(matches!(limit_depth(html), Cow::Borrowed(_)));
        let deep_svg = format!("<svg>{}</svg><p>after</p>", "<path/>".repeat(2 * MAX_DEPTH));
        assert!(matches!(limit_depth(&deep_svg), Cow::Borrowed(_)));
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
