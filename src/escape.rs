//! Escaping of bytes that came from remote servers, so that they can reach a terminal, a log or a
//! spreadsheet without being interpreted (no control sequences, no bidi tricks).

/// Renders bytes as printable text: valid UTF-8 is kept except control and format characters,
/// which become `\r`, `\n`, `\t`, `\x1b` or `\u{202e}`; invalid bytes become `\xFF`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        escape_into(chunk.valid(), &mut out);
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02X}"));
        }
    }
    out
}

/// Like [`escape_bytes`] for text that is already a `str`.
pub fn escape_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}

fn escape_into(text: &str, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c if is_invisible_or_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

/// C1 controls, the line and paragraph separators (U+2028, U+2029) and every format character
/// (Unicode general category Cf: bidi controls and marks, zero-width characters, tags), which
/// can rewrite or hide part of a terminal line.
pub fn is_invisible_or_control(c: char) -> bool {
    matches!(c as u32,
        0x80..=0x9f
        | 0xad
        | 0x600..=0x605
        | 0x61c
        | 0x6dd
        | 0x70f
        | 0x890..=0x891
        | 0x8e2
        | 0x180e
        | 0x200b..=0x200f
        | 0x2028..=0x202e
        | 0x2060..=0x2064
        | 0x2066..=0x206f
        | 0xfeff
        | 0xfff9..=0xfffb
        | 0x110bd
        | 0x110cd
        | 0x13430..=0x1343f
        | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a
        | 0xe0001
        | 0xe0020..=0xe007f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12: every format character (Cf), the line and paragraph separators and the C1
    /// controls are escaped.
    #[test]
    fn escapes_format_characters_separators_and_c1() {
        for (ch, shown) in [
            ('\u{61c}', "\\u{61c}"),
            ('\u{202a}', "\\u{202a}"),
            ('\u{202e}', "\\u{202e}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{2069}', "\\u{2069}"),
            ('\u{2028}', "\\u{2028}"),
            ('\u{2029}', "\\u{2029}"),
            ('\u{ad}', "\\u{ad}"),
            ('\u{85}', "\\u{85}"),
            ('\u{9b}', "\\u{9b}"),
            ('\u{e0041}', "\\u{e0041}"),
        ] {
            assert_eq!(escape_str(&format!("a{ch}b")), format!("a{shown}b"));
        }
    }

    #[test]
    fn keeps_plain_text() {
        assert_eq!(escape_bytes(b"mode: enforce"), "mode: enforce");
        assert_eq!(escape_bytes("bücher".as_bytes()), "bücher");
    }

    #[test]
    fn escapes_line_ends_and_controls() {
        assert_eq!(escape_bytes(b"max age: 1\r\n"), "max age: 1\\r\\n");
        assert_eq!(escape_bytes(b"\x1b[31mred"), "\\x1B[31mred");
        assert_eq!(escape_bytes(b"a\\b"), "a\\\\b");
    }

    #[test]
    fn escapes_invalid_utf8_and_bidi() {
        assert_eq!(escape_bytes(b"\xff\xfeok"), "\\xFF\\xFEok");
        assert_eq!(escape_str("\u{feff}version"), "\\u{feff}version");
        assert_eq!(escape_str("a\u{202e}b"), "a\\u{202e}b");
    }
}
