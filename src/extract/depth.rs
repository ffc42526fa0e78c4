//! Nesting as browsers limit it: html5ever has no depth limit and slows quadratically with depth,
//! so pages are rewritten first the way Blink would build them.

use std::borrow::Cow;

/// Deeper than this, browsers stop nesting: Blink attaches further elements to the ancestor
/// at this depth. html5ever has no limit and slows quadratically with depth (every start tag
/// scans the open elements): 100,000 nested `<div>`s took a minute.
pub const MAX_DEPTH: usize = 512;

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
pub fn limit_depth(html: &str) -> Cow<'_, str> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::dom::{parse_document, visible_text};
    use scraper::{ElementRef, Html, Selector};

    fn first<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
        doc.select(&Selector::parse(css).unwrap()).next().unwrap()
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
}
