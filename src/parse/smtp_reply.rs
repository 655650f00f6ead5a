//! SMTP replies (RFC 5321 §4.2): multi-line, code-checked, size-bounded. Bytes in, no socket.
//!
//! A reply is one or more lines `NNN-text` followed by a last line `NNN text` or a bare `NNN`
//! (RFC 5321 §4.2, §4.2.1), every line with the same code, each line ending in CRLF. Bare LF is
//! tolerated because real servers send it and senders accept it; the line-length bound (RFC 5321
//! §4.5.3.1.5 says 512 octets) and the line-count bound are the caller's, so that a hostile
//! server cannot make the prober buffer without end.

use crate::escape::escape_bytes;
use crate::observe::SmtpReply;

#[derive(Debug, PartialEq, Eq)]
pub enum ReplyParse {
    /// A whole reply, and how many bytes of the buffer it used.
    Complete { reply: SmtpReply, consumed: usize },
    /// Need more bytes.
    Incomplete,
    /// The server broke the protocol; the text says how.
    Invalid(String),
}

/// Parses one reply from the front of `buf`, with at most `max_line` bytes per line (without
/// its line ending) and `max_lines` lines.
pub fn parse_reply(buf: &[u8], max_line: usize, max_lines: usize) -> ReplyParse {
    let mut code: Option<u16> = None;
    let mut lines = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &buf[pos..];
        let Some(newline) = rest.iter().position(|&byte| byte == b'\n') else {
            // A line may still end in CR before its LF arrives, hence the extra byte.
            if rest.len() > max_line.saturating_add(1) {
                return too_long(max_line);
            }
            return ReplyParse::Incomplete;
        };
        let mut line = &rest[..newline];
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        if line.len() > max_line {
            return too_long(max_line);
        }
        if lines.len() >= max_lines {
            return ReplyParse::Invalid(format!("reply has more than {max_lines} lines"));
        }
        let (line_code, last, text) = match split_line(line) {
            Ok(parts) => parts,
            Err(reason) => return ReplyParse::Invalid(reason),
        };
        match code {
            Some(first) if first != line_code => {
                return ReplyParse::Invalid(format!(
                    "reply lines carry different codes ({first} then {line_code})"
                ));
            }
            _ => code = Some(line_code),
        }
        lines.push(escape_bytes(text));
        pos += newline + 1;
        if last {
            return ReplyParse::Complete {
                reply: SmtpReply {
                    code: line_code,
                    lines,
                },
                consumed: pos,
            };
        }
    }
}

fn too_long(max_line: usize) -> ReplyParse {
    ReplyParse::Invalid(format!("reply line longer than {max_line} bytes"))
}

/// Splits one line (without its line ending) into code, whether it is the last line, and text.
fn split_line(line: &[u8]) -> Result<(u16, bool, &[u8]), String> {
    let Some((digits, rest)) = line.split_first_chunk::<3>() else {
        return Err(format!(
            "reply line too short for a code: \"{}\"",
            escape_bytes(line)
        ));
    };
    // Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 §4.2).
    let valid = matches!(digits[0], b'2'..=b'5')
        && matches!(digits[1], b'0'..=b'5')
        && digits[2].is_ascii_digit();
    if !valid {
        return Err(format!(
            "reply line does not start with a reply code: \"{}\"",
            escape_bytes(line)
        ));
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, digit| acc * 10 + u16::from(digit - b'0'));
    match rest.split_first() {
        None => Ok((code, true, rest)),
        Some((b' ', text)) => Ok((code, true, text)),
        Some((b'-', text)) => Ok((code, false, text)),
        Some(_) => Err(format!(
            "reply code not followed by a space or a hyphen: \"{}\"",
            escape_bytes(line)
        )),
    }
}

/// Whether an EHLO reply advertises `keyword` (case-insensitive, RFC 5321 §2.4). The first line
/// is the greeting part (`250-mx.example.com Hello`), so only the following lines count.
pub fn advertises(reply: &SmtpReply, keyword: &str) -> bool {
    reply.lines.iter().skip(1).any(|line| {
        line.split(' ')
            .next()
            .is_some_and(|word| word.eq_ignore_ascii_case(keyword))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_LINE: usize = 512;
    const MAX_LINES: usize = 100;

    fn parse(buf: &[u8]) -> ReplyParse {
        parse_reply(buf, MAX_LINE, MAX_LINES)
    }

    fn complete(code: u16, lines: &[&str], consumed: usize) -> ReplyParse {
        ReplyParse::Complete {
            reply: SmtpReply {
                code,
                lines: lines.iter().map(|line| (*line).to_owned()).collect(),
            },
            consumed,
        }
    }

    #[test]
    fn well_formed_replies() {
        let cases: &[(&[u8], ReplyParse)] = &[
            (
                b"220 mx.example.com ESMTP\r\n",
                complete(220, &["mx.example.com ESMTP"], 26),
            ),
            (b"250\r\n", complete(250, &[""], 5)),
            (b"250 \r\n", complete(250, &[""], 6)),
            (
                b"220-mx.example.com\r\n220-second\r\n220 ready\r\n",
                complete(220, &["mx.example.com", "second", "ready"], 43),
            ),
            (
                b"250-mx\r\n250-STARTTLS\r\n250\r\n",
                complete(250, &["mx", "STARTTLS", ""], 27),
            ),
            // Bare LF is tolerated.
            (b"250-a\n250 b\n", complete(250, &["a", "b"], 12)),
            // Only the first reply is consumed; what follows stays in the buffer.
            (b"220 ok\r\n250 extra\r\n", complete(220, &["ok"], 8)),
            (b"554 5.7.1 no\r\n", complete(554, &["5.7.1 no"], 14)),
            (b"421 busy\r\n", complete(421, &["busy"], 10)),
        ];
        for (input, expected) in cases {
            assert_eq!(&parse(input), expected, "{}", escape_bytes(input));
        }
    }

    #[test]
    fn incomplete_replies() {
        let cases: &[&[u8]] = &[
            b"",
            b"2",
            b"220",
            b"220 ready",
            b"220 ready\r",
            b"220-first\r\n",
            b"220-first\r\n220 sec",
        ];
        for input in cases {
            assert_eq!(
                parse(input),
                ReplyParse::Incomplete,
                "{}",
                escape_bytes(input)
            );
        }
    }

    #[test]
    fn invalid_replies() {
        let cases: &[(&[u8], &str)] = &[
            (b"hello\r\n", "does not start with a reply code"),
            (b"22\r\n", "too short"),
            (b"\r\n", "too short"),
            (b"120 x\r\n", "does not start with a reply code"),
            (b"620 x\r\n", "does not start with a reply code"),
            (b"260 x\r\n", "does not start with a reply code"),
            (b"22a x\r\n", "does not start with a reply code"),
            (b"220_x\r\n", "not followed by a space or a hyphen"),
            (b"220-a\r\n250 b\r\n", "different codes (220 then 250)"),
            (
                b"\x16\x03\x01\x00\x02\r\n",
                "does not start with a reply code",
            ),
        ];
        for (input, needle) in cases {
            match parse(input) {
                ReplyParse::Invalid(reason) => {
                    assert!(reason.contains(needle), "{reason:?} lacks {needle:?}");
                }
                other => panic!("{} parsed as {other:?}", escape_bytes(input)),
            }
        }
    }

    #[test]
    fn text_is_escaped() {
        let input = b"220 \x1b[31mred\xff\xfe \xe2\x80\xae\r\n";
        assert_eq!(
            parse(input),
            complete(220, &["\\x1B[31mred\\xFF\\xFE \\u{202e}"], input.len())
        );
    }

    #[test]
    fn line_length_is_bounded() {
        let at_limit = format!("250 {}\r\n", "a".repeat(MAX_LINE - 4));
        assert!(matches!(
            parse(at_limit.as_bytes()),
            ReplyParse::Complete { .. }
        ));
        let over = format!("250 {}\r\n", "a".repeat(MAX_LINE - 3));
        assert_eq!(
            parse(over.as_bytes()),
            ReplyParse::Invalid("reply line longer than 512 bytes".to_owned())
        );
        // A megabyte without a line end is refused without waiting for the end.
        let huge = vec![b'a'; 1 << 20];
        assert_eq!(
            parse(&huge),
            ReplyParse::Invalid("reply line longer than 512 bytes".to_owned())
        );
        // A long line still arriving is refused as soon as it passes the bound.
        let mut partial = b"250 ".to_vec();
        partial.extend(std::iter::repeat_n(b'x', MAX_LINE));
        assert!(matches!(parse(&partial), ReplyParse::Invalid(_)));
    }

    #[test]
    fn line_count_is_bounded() {
        let endless = "250-x\r\n".repeat(MAX_LINES + 5);
        assert_eq!(
            parse(endless.as_bytes()),
            ReplyParse::Invalid("reply has more than 100 lines".to_owned())
        );
        let at_limit = format!("{}250 end\r\n", "250-x\r\n".repeat(MAX_LINES - 1));
        match parse(at_limit.as_bytes()) {
            ReplyParse::Complete { reply, .. } => assert_eq!(reply.lines.len(), MAX_LINES),
            other => panic!("{other:?}"),
        }
        let one_more = format!("{}250 end\r\n", "250-x\r\n".repeat(MAX_LINES));
        assert!(matches!(parse(one_more.as_bytes()), ReplyParse::Invalid(_)));
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        // A cheap deterministic sweep over short inputs from a small alphabet.
        let alphabet = b"25 -\r\n\xff0";
        let mut seed = 0x2545_f491_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let input: Vec<u8> = (0..len)
                .map(|index| alphabet[((seed >> (index * 2)) % alphabet.len() as u64) as usize])
                .collect();
            let _ = parse_reply(&input, 8, 3);
            let _ = parse_reply(&input, 0, 0);
        }
    }

    #[test]
    fn advertises_keywords_case_insensitively() {
        let reply = |lines: &[&str]| SmtpReply {
            code: 250,
            lines: lines.iter().map(|line| (*line).to_owned()).collect(),
        };
        let cases: &[(&[&str], bool)] = &[
            (
                &["mx.example.com", "PIPELINING", "STARTTLS", "8BITMIME"],
                true,
            ),
            // EC-62: lower-case keyword.
            (&["mx.example.com", "starttls"], true),
            (&["mx.example.com", "StartTLS"], true),
            (&["mx.example.com", "STARTTLS extra"], true),
            // The greeting line does not count.
            (&["STARTTLS"], false),
            (&["mx.example.com", "PIPELINING"], false),
            (&["mx.example.com", "STARTTLSX"], false),
            (&["mx.example.com", "X-STARTTLS"], false),
            (&["mx.example.com", " STARTTLS"], false),
        ];
        for (lines, expected) in cases {
            assert_eq!(
                advertises(&reply(lines), "STARTTLS"),
                *expected,
                "{lines:?}"
            );
        }
    }
}
