//! MIME pieces for the tests and benchmarks that write TLS-RPT reports as e-mail.

use base64::Engine as _;

/// `bytes` in base64 (the crate the evidence files already use), in lines of 76 characters
/// ended by CRLF as RFC 2045 §6.8 asks, without a line end after the last.
pub fn base64_lines(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    // Base64 is ASCII, so cutting at any byte is cutting at a character.
    encoded
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\r\n")
}
