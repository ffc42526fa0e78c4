//! Text normalisation shared by lexicon matching and extraction: case-, accent-, punctuation- and
//! whitespace-insensitive, so "Paramétrer  vos choix" and "PARAMETRER VOS CHOIX!" compare equal.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// SHA-256 of some bytes as lowercase hex: how reports name a fetched body or a list.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Symbols used as close buttons; kept as words of their own.
const CLOSE_SYMBOLS: [char; 5] = ['×', '✕', '✖', '╳', '⨯'];

/// Lowercase, accents and punctuation removed, single spaces. Apostrophes separate words, so the
/// elided "l'intérêt légitime" still contains "intérêt légitime".
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        // Letters with no decomposition fold as their writers fold them without the key
        // (`politikası` is typed `politikasi`, and so are URL slugs).
        let c = match c {
            'ß' => {
                push_word_char(&mut out, &mut pending_space, 's');
                's'
            }
            'ı' => 'i',
            'ł' | 'Ł' => 'l',
            'ø' | 'Ø' => 'o',
            'đ' | 'Đ' => 'd',
            'ħ' | 'Ħ' => 'h',
            c => c,
        };
        if c.is_alphanumeric() || CLOSE_SYMBOLS.contains(&c) {
            for lower in c.to_lowercase() {
                push_word_char(&mut out, &mut pending_space, lower);
            }
        } else {
            pending_space = !out.is_empty();
        }
    }
    out
}

fn push_word_char(out: &mut String, pending_space: &mut bool, c: char) {
    if *pending_space {
        out.push(' ');
        *pending_space = false;
    }
    out.push(c);
}

/// Collapses runs of whitespace to single spaces and trims.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Does `haystack` (normalised) contain `needle` (normalised) on word boundaries?
pub fn contains_phrase(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let mut start = 0;
    while let Some(pos) = haystack[start..].find(needle) {
        let at = start + pos;
        let end = at + needle.len();
        let before_ok = at == 0 || haystack.as_bytes()[at - 1] == b' ';
        let after_ok = end == haystack.len() || haystack.as_bytes()[end] == b' ';
        if before_ok && after_ok {
            return true;
        }
        start = at + haystack[at..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Shortens text for messages, on a character boundary.
pub fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Shortens text in the middle, keeping its start and its end (a URL's host and its page).
pub fn truncate_middle(s: &str, max_chars: usize) -> String {
    let count = s.chars().count();
    if count <= max_chars {
        return s.to_owned();
    }
    let head = max_chars * 2 / 5;
    let tail = max_chars - head - 1;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(count - tail).collect();
    format!("{start}…{end}")
}

/// `host` is `domain` or one of its subdomains (`cdn.example.com` is within `example.com`;
/// `badexample.com` is not).
pub fn host_within(host: &str, domain: &str) -> bool {
    host.strip_suffix(domain)
        .is_some_and(|sub| sub.is_empty() || sub.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_punctuation_fold() {
        assert_eq!(
            normalize("  Paramétrer\u{a0}VOS   choix !"),
            "parametrer vos choix"
        );
        assert_eq!(normalize("J’accepte"), "j accepte");
        assert!(contains_phrase(
            &normalize("l'intérêt légitime"),
            &normalize("intérêt légitime")
        ));
        assert_eq!(normalize("Schließen"), "schliessen");
        assert_eq!(normalize("Çerez politikası"), "cerez politikasi");
        assert_eq!(
            normalize("Polityka plików, personvernerklæring, Ødegaard"),
            "polityka plikow personvernerklæring odegaard"
        );
        assert_eq!(normalize("×"), "×");
    }

    #[test]
    fn hosts_are_within_a_domain_on_a_dot_boundary() {
        assert!(host_within("example.com", "example.com"));
        assert!(host_within("cdn.example.com", "example.com"));
        assert!(!host_within("badexample.com", "example.com"));
    }

    #[test]
    fn phrases_match_on_word_boundaries_only() {
        assert!(contains_phrase("tout accepter", "accepter"));
        assert!(!contains_phrase("cookies", "ok"));
        assert!(contains_phrase("ok merci", "ok"));
        assert!(contains_phrase("a okay ok", "ok"));
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("Paramétrer", 6), "Paramé…");
        assert_eq!(
            truncate_middle("https://example.com/a/very/long/page.html", 20),
            "https://…g/page.html"
        );
    }
}
