//! SMTP replies (RFC 5321 §4.2): multi-line, code-checked, size-bounded. Bytes in, no socket.

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

/// Parses one reply from the front of `buf`, with at most `max_line` bytes per line and
/// `max_lines` lines.
pub fn parse_reply(_buf: &[u8], _max_line: usize, _max_lines: usize) -> ReplyParse {
    todo!()
}

/// Whether an EHLO reply advertises `keyword` (case-insensitive, RFC 5321 §2.4).
pub fn advertises(_reply: &SmtpReply, _keyword: &str) -> bool {
    todo!()
}
