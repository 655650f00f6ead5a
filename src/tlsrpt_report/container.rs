//! Bytes of one input → the report JSON blobs inside it, whatever wraps them: gzip, zip, an
//! email (`multipart/report`, or any MIME message with the report attached), an mbox of many
//! emails, or plain JSON, nested as senders nest them (gzip inside an email inside an mbox).
//!
//! The format is recognised from the bytes alone: file names and declared content types lie
//! (reports arrive as `application/tlsrpt+gzip`, `application/gzip`, `application/octet-stream`,
//! with a `text/html` part first). Sans I/O: [`extract`] takes bytes, [`extract_mbox`] a
//! [`BufRead`], and every decompression is bounded by [`Limits`], so a zip bomb costs at most
//! [`Limits::max_report_bytes`] of memory at a time. Each blob or problem is handed to a
//! callback as soon as it is found, so nothing is kept.

use std::io::{self, BufRead, Cursor, Read};
use std::panic::{self, AssertUnwindSafe};

use flate2::read::MultiGzDecoder;
use mail_parser::{MessageParser, MimeHeaders, PartType};

/// Bounds on what one input may make the reader do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest report JSON, after decompression (and largest single email in an mbox).
    pub max_report_bytes: u64,
    /// Largest total of decompressed bytes from one input file.
    pub max_total_bytes: u64,
    /// How deep containers may nest (an mbox holding an email holding a zip holding gzip is 4).
    pub max_nesting: usize,
    /// Most members in one container: zip entries, MIME parts, mbox messages.
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_report_bytes: 16 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_nesting: 5,
            max_members: 100_000,
        }
    }
}

/// What was found in an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A JSON document to parse as a report.
    Json {
        /// Where inside the input (`message 3, part 2 (report.json.gz), gzip`); empty when the
        /// input is the JSON itself.
        origin: String,
        bytes: Vec<u8>,
    },
    /// Something that should have held a report but could not be read.
    Problem {
        origin: String,
        /// A sentence without a trailing period.
        reason: String,
    },
}

/// The formats recognised from the first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Json,
    Gzip,
    Zip,
    Mbox,
    Email,
    Unknown,
}

/// Recognises the format of `bytes` from its first bytes and structure.
pub fn sniff(bytes: &[u8]) -> Kind {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Kind::Gzip;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if bytes.starts_with(b"From ") {
        return Kind::Mbox;
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = text.iter().position(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|at| text[at] == b'{') {
        return Kind::Json;
    }
    if looks_like_header(bytes) {
        return Kind::Email;
    }
    Kind::Unknown
}

/// Whether the first line is an RFC 5322 header field (`Name: value`, the name printable ASCII
/// without spaces), as every email starts.
fn looks_like_header(bytes: &[u8]) -> bool {
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let line = &bytes[..line_end.min(998)];
    match line.iter().position(|&b| b == b':') {
        Some(0) | None => false,
        Some(colon) => line[..colon].iter().all(|&b| (0x21..=0x7e).contains(&b)),
    }
}

/// Finds the reports in one input. `sink` receives each JSON blob and each problem as found.
pub fn extract(bytes: &[u8], limits: &Limits, sink: &mut dyn FnMut(Item)) {
    let mut walk = Walk {
        limits,
        used: 0,
        sink,
    };
    walk.any(bytes, String::new(), 0, Strictness::Must);
}

/// Finds the reports in an mbox read from `reader` (which must start with a `From ` line),
/// message by message, holding one message in memory at a time.
pub fn extract_mbox(reader: &mut dyn BufRead, limits: &Limits, sink: &mut dyn FnMut(Item)) {
    let mut walk = Walk {
        limits,
        used: 0,
        sink,
    };
    walk.mbox(reader, "", 0);
}

/// Whether something that turns out not to be a report is a problem (a file given, a gzip
/// member) or just another part (the human-readable text of an email).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strictness {
    Must,
    May,
}

struct Walk<'a> {
    limits: &'a Limits,
    /// Decompressed bytes so far, against [`Limits::max_total_bytes`].
    used: u64,
    sink: &'a mut dyn FnMut(Item),
}

/// `origin` extended by one step.
fn within(origin: &str, step: &str) -> String {
    if origin.is_empty() {
        step.to_owned()
    } else {
        format!("{origin}, {step}")
    }
}

impl Walk<'_> {
    fn problem(&mut self, origin: &str, reason: String) {
        (self.sink)(Item::Problem {
            origin: origin.to_owned(),
            reason,
        });
    }

    /// Returns whether a report (or a problem with one) was found.
    fn any(&mut self, bytes: &[u8], origin: String, depth: usize, strictness: Strictness) -> bool {
        if depth > self.limits.max_nesting {
            self.problem(
                &origin,
                format!(
                    "containers nested more than {} deep; not read further",
                    self.limits.max_nesting
                ),
            );
            return true;
        }
        match sniff(bytes) {
            Kind::Json => {
                (self.sink)(Item::Json {
                    origin,
                    bytes: bytes.to_vec(),
                });
                true
            }
            Kind::Gzip => {
                self.gzip(bytes, &origin, depth);
                true
            }
            Kind::Zip => {
                self.zip(bytes, &origin, depth);
                true
            }
            // Inside an email, a part starting with `From ` is text ("From 1 May to 2 May…").
            Kind::Mbox if strictness == Strictness::May => false,
            Kind::Mbox => {
                self.mbox(&mut Cursor::new(bytes), &origin, depth);
                true
            }
            Kind::Email => self.email(bytes, &origin, depth, strictness),
            Kind::Unknown if strictness == Strictness::May => false,
            Kind::Unknown => {
                let reason = if bytes.is_empty() {
                    "empty: not a TLS-RPT report".to_owned()
                } else {
                    format!(
                        "not a TLS-RPT report: neither JSON, gzip, zip, an email nor an mbox \
                         (it starts with {})",
                        crate::escape::escape_bytes(&bytes[..bytes.len().min(16)])
                    )
                };
                self.problem(&origin, reason);
                true
            }
        }
    }

    /// Reads a decompressing reader to its end, within the per-report and per-input bounds.
    fn bounded(&mut self, reader: &mut dyn Read, what: &str) -> Result<Vec<u8>, String> {
        let remaining = self.limits.max_total_bytes.saturating_sub(self.used);
        let cap = self.limits.max_report_bytes.min(remaining);
        let mut out = Vec::new();
        let read = reader.take(cap.saturating_add(1)).read_to_end(&mut out);
        self.used = self.used.saturating_add(out.len() as u64);
        match read {
            Ok(_) if out.len() as u64 > cap => Err(if cap < self.limits.max_report_bytes {
                format!(
                    "{what} decompresses past the limit of {} bytes for one input; not read further",
                    self.limits.max_total_bytes
                )
            } else {
                format!(
                    "{what} decompresses to more than {} bytes, the limit for one report (a zip \
                     bomb?); not read",
                    self.limits.max_report_bytes
                )
            }),
            Ok(_) => Ok(out),
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Err(format!(
                "the {what} data is truncated ({} bytes decompressed before it ended)",
                out.len()
            )),
            Err(error) => Err(format!("the {what} data is corrupt: {error}")),
        }
    }

    fn gzip(&mut self, bytes: &[u8], origin: &str, depth: usize) {
        let mut decoder = MultiGzDecoder::new(bytes);
        match self.bounded(&mut decoder, "gzip") {
            Ok(inner) => {
                self.any(&inner, within(origin, "gzip"), depth + 1, Strictness::Must);
            }
            Err(reason) => self.problem(origin, reason),
        }
    }

    fn zip(&mut self, bytes: &[u8], origin: &str, depth: usize) {
        let opened = guard(|| zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string()));
        let mut archive = match opened {
            Ok(Ok(archive)) => archive,
            Ok(Err(error)) => {
                return self.problem(
                    origin,
                    format!("not a readable zip archive (truncated or corrupt?): {error}"),
                )
            }
            Err(panicked) => return self.problem(origin, panicked),
        };
        if archive.len() > self.limits.max_members {
            self.problem(
                origin,
                format!(
                    "the zip archive has {} entries; only the first {} were read",
                    archive.len(),
                    self.limits.max_members
                ),
            );
        }
        let mut found = false;
        for index in 0..archive.len().min(self.limits.max_members) {
            let entry = guard(|| {
                let mut file = archive.by_index(index).map_err(|e| e.to_string())?;
                let name = file.name().to_owned();
                if file.is_dir() {
                    return Ok::<_, String>((name, None));
                }
                Ok((name, Some(self.bounded(&mut file, "zip entry"))))
            });
            match entry {
                Ok(Ok((_, None))) => {}
                Ok(Ok((name, Some(read)))) => {
                    found = true;
                    let at = within(
                        origin,
                        &format!("zip entry {}", crate::escape::escape_str(&name)),
                    );
                    match read {
                        Ok(inner) => {
                            self.any(&inner, at, depth + 1, Strictness::Must);
                        }
                        Err(reason) => self.problem(&at, reason),
                    }
                }
                Ok(Err(error)) => {
                    found = true;
                    self.problem(
                        &within(origin, &format!("zip entry {}", index + 1)),
                        format!("cannot be read: {error}"),
                    );
                }
                Err(panicked) => {
                    found = true;
                    self.problem(
                        &within(origin, &format!("zip entry {}", index + 1)),
                        panicked,
                    );
                }
            }
        }
        if !found {
            self.problem(origin, "an empty zip archive: no report in it".to_owned());
        }
    }

    /// Returns whether a report (or a problem with one) was found in the email.
    fn email(&mut self, bytes: &[u8], origin: &str, depth: usize, strictness: Strictness) -> bool {
        let parsed = guard(|| MessageParser::default().parse(bytes));
        let message = match parsed {
            Ok(Some(message)) => message,
            Ok(None) if strictness == Strictness::May => return false,
            Ok(None) => {
                self.problem(
                    origin,
                    "not a TLS-RPT report: looks like an email but cannot be parsed as one"
                        .to_owned(),
                );
                return true;
            }
            Err(panicked) => {
                self.problem(origin, panicked);
                return true;
            }
        };
        let mut found = false;
        let mut leaves = 0usize;
        // Part 0 is the message itself; its body is one of the parts when it is not multipart.
        for (index, part) in message.parts.iter().enumerate() {
            let step = match part.attachment_name() {
                Some(name) => format!("part {index} ({})", crate::escape::escape_str(name)),
                None => format!("part {index}"),
            };
            let declared = part
                .content_type()
                .map(|ct| {
                    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            let body: &[u8] = match &part.body {
                PartType::Multipart(_) | PartType::Html(_) => continue,
                PartType::Message(inner) => {
                    found |= self.any(
                        inner.raw_message(),
                        within(origin, &step),
                        depth + 1,
                        Strictness::May,
                    );
                    continue;
                }
                PartType::Text(text) => text.as_bytes(),
                PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes,
            };
            leaves += 1;
            if leaves > self.limits.max_members {
                self.problem(
                    origin,
                    format!(
                        "more than {} MIME parts; the rest were not read",
                        self.limits.max_members
                    ),
                );
                break;
            }
            // A part declared as a report must be one; anything else may be the text around it.
            let strict = if declared.contains("tlsrpt") {
                Strictness::Must
            } else {
                Strictness::May
            };
            found |= self.any(body, within(origin, &step), depth + 1, strict);
        }
        if !found && strictness == Strictness::Must {
            self.problem(
                origin,
                "an email with no TLS-RPT report in it (no JSON, gzip or zip part)".to_owned(),
            );
        }
        found || strictness == Strictness::Must
    }

    /// Splits an mbox on its `From ` lines (mboxrd: `>From ` loses one `>`), one message at a
    /// time, each at most [`Limits::max_report_bytes`].
    fn mbox(&mut self, reader: &mut dyn BufRead, origin: &str, depth: usize) {
        let mut message: Vec<u8> = Vec::new();
        let mut number = 0usize;
        let mut oversized = false;
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = (&mut *reader)
                .take(self.limits.max_report_bytes.saturating_add(1))
                .read_until(b'\n', &mut line);
            let at_end = match read {
                Ok(0) => true,
                Ok(_) => false,
                Err(error) => {
                    self.problem(origin, format!("the mbox cannot be read further: {error}"));
                    true
                }
            };
            let starts_message = !at_end && line.starts_with(b"From ");
            if (at_end || starts_message) && number > 0 {
                let at = within(origin, &format!("message {number}"));
                if oversized {
                    self.problem(
                        &at,
                        format!(
                            "the message is larger than {} bytes, the limit for one report; not read",
                            self.limits.max_report_bytes
                        ),
                    );
                } else {
                    self.any(&message, at, depth + 1, Strictness::Must);
                }
                message.clear();
                oversized = false;
            }
            if at_end {
                break;
            }
            if starts_message {
                number += 1;
                if number > self.limits.max_members {
                    self.problem(
                        origin,
                        format!(
                            "more than {} messages in the mbox; the rest were not read",
                            self.limits.max_members
                        ),
                    );
                    break;
                }
                continue;
            }
            if number == 0 || oversized {
                continue;
            }
            let unquoted = match line.iter().position(|&b| b != b'>') {
                Some(at) if at > 0 && line[at..].starts_with(b"From ") => &line[1..],
                _ => &line[..],
            };
            if (message.len() + unquoted.len()) as u64 > self.limits.max_report_bytes {
                oversized = true;
                message.clear();
            } else {
                message.extend_from_slice(unquoted);
            }
        }
    }
}

/// Runs third-party decoding code so that a bug in it (a panic) becomes a problem with one
/// input instead of the end of the run.
fn guard<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(work)).map_err(|_| {
        "the decoder failed on this input (a bug in mtasts or a library it uses)".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn collect(bytes: &[u8], limits: &Limits) -> Vec<Item> {
        let mut items = Vec::new();
        extract(bytes, limits, &mut |item| items.push(item));
        items
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn sniffs_formats_from_bytes() {
        assert_eq!(sniff(b"  {\"a\":1}"), Kind::Json);
        assert_eq!(sniff(b"\xEF\xBB\xBF{}"), Kind::Json);
        assert_eq!(sniff(&gzip(b"{}")), Kind::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(sniff(b"From a@b Thu Jan  1 00:00:00 2024\n"), Kind::Mbox);
        assert_eq!(sniff(b"Return-Path: <a@b>\r\nSubject: x\r\n"), Kind::Email);
        assert_eq!(sniff(b"hello world\n"), Kind::Unknown);
        assert_eq!(sniff(b""), Kind::Unknown);
    }

    #[test]
    fn gzip_bomb_is_refused_within_the_bound() {
        let bomb = gzip(&vec![b' '; 4 * 1024 * 1024]);
        let limits = Limits {
            max_report_bytes: 1024 * 1024,
            ..Limits::default()
        };
        let items = collect(&bomb, &limits);
        assert!(
            matches!(&items[..], [Item::Problem { reason, .. }] if reason.contains("more than 1048576 bytes")),
            "{items:?}"
        );
    }

    #[test]
    fn truncated_gzip_is_a_problem() {
        let whole = gzip(br#"{"organization-name":"x"}"#);
        let items = collect(&whole[..whole.len() - 6], &Limits::default());
        assert!(
            matches!(&items[..], [Item::Problem { reason, .. }] if reason.contains("truncated")),
            "{items:?}"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut bytes = b"{}".to_vec();
        for _ in 0..8 {
            bytes = gzip(&bytes);
        }
        let items = collect(&bytes, &Limits::default());
        assert!(
            matches!(&items[..], [Item::Problem { reason, .. }] if reason.contains("nested")),
            "{items:?}"
        );
    }

    #[test]
    fn text_parts_of_an_email_are_not_taken_for_containers() {
        let email = b"Subject: r\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFrom 1 May to 2 May, 3 sessions.\r\n--b\r\nContent-Type: text/plain\r\n\r\nNote: nothing failed\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n{\"a\":1}\r\n--b--\r\n";
        let items = collect(email, &Limits::default());
        assert!(
            matches!(&items[..], [Item::Json { origin, .. }] if origin == "part 3"),
            "{items:?}"
        );
    }

    #[test]
    fn mbox_splits_on_from_lines_and_unquotes() {
        let mbox = b"From a Thu Jan  1 00:00:00 2024\nContent-Type: application/json\n\n{\"n\":1,\n>From here\"}\n\nFrom b Thu Jan  1 00:00:00 2024\nSubject: two\n\n{\"n\":2}\n";
        let items = collect(mbox, &Limits::default());
        let origins: Vec<&str> = items
            .iter()
            .map(|item| match item {
                Item::Json { origin, .. } | Item::Problem { origin, .. } => origin.as_str(),
            })
            .collect();
        assert_eq!(
            origins,
            ["message 1, part 0", "message 2, part 0"],
            "{items:?}"
        );
        let Item::Json { bytes, .. } = &items[0] else {
            panic!("{items:?}")
        };
        assert!(String::from_utf8_lossy(bytes).contains("\nFrom here"));
    }
}
