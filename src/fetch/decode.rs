//! Bytes to text the way browsers do: BOM, then the Content-Type charset, then `<meta charset>`.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Decodes an HTML body; `content_type` is the response header, if any.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom_len..])
            .0
            .into_owned();
    }
    // An unknown label is ignored, as browsers do, and the next declaration gets its turn.
    let known = |label: String| Encoding::for_label(label.as_bytes());
    let declared = content_type
        .and_then(charset_param)
        .and_then(known)
        .or_else(|| meta_charset(bytes).and_then(known));
    let encoding = declared.unwrap_or_else(|| {
        // Undeclared: UTF-8 when it is valid, else the web's legacy default.
        if std::str::from_utf8(bytes).is_ok() {
            UTF_8
        } else {
            WINDOWS_1252
        }
    });
    // `<meta charset=utf-16>` in a byte stream without BOM is a lie browsers ignore.
    let encoding = if encoding.output_encoding() != encoding {
        UTF_8
    } else {
        encoding
    };
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// The charset of a `<meta charset>` or `<meta http-equiv content="...; charset=">` in the first 4 KiB.
fn meta_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = text.as_str();
    while let Some(pos) = rest.find("<meta") {
        rest = &rest[pos + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(i) = tag.find("charset") {
            let after = tag[i + 7..].trim_start();
            if let Some(value) = after.strip_prefix('=') {
                let value = value.trim_start().trim_start_matches(['"', '\'']);
                let end = value
                    .find(|c: char| {
                        c == '"' || c == '\'' || c == ';' || c == '/' || c.is_whitespace()
                    })
                    .unwrap_or(value.len());
                if end > 0 {
                    return Some(value[..end].to_owned());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_declared_in_header() {
        let bytes = b"<p>Param\xe9trer vos choix</p>";
        assert_eq!(
            decode_html(bytes, Some("text/html; charset=windows-1252")),
            "<p>Paramétrer vos choix</p>"
        );
    }

    #[test]
    fn meta_charset_is_honoured() {
        let bytes = b"<html><head><meta charset=\"iso-8859-1\"></head><body>Refus\xe9</body>";
        assert!(decode_html(bytes, Some("text/html")).contains("Refusé"));
        let equiv =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">\x80";
        assert!(decode_html(equiv, None).ends_with('€'));
    }

    #[test]
    fn bom_wins_over_declarations() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("déjà".as_bytes());
        assert_eq!(
            decode_html(&bytes, Some("text/html; charset=iso-8859-1")),
            "déjà"
        );
    }

    #[test]
    fn an_unknown_header_label_defers_to_meta() {
        let bytes = b"<meta charset=\"windows-1250\"><p>Zarz\xb9dzaj</p>";
        assert!(decode_html(bytes, Some("text/html; charset=x-klingon")).contains("Zarządzaj"));
    }

    #[test]
    fn undeclared_invalid_utf8_falls_back_to_windows_1252() {
        assert_eq!(decode_html(b"caf\xe9", None), "café");
    }
}
