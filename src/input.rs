//! Where the domains of a run come from: arguments, `--file` lists and standard input, each name
//! normalised and validated (UTS #46 A-labels, lower case, no trailing dot, RFC 1035 §2.3.4
//! lengths, RFC 952/1123 letters-digits-hyphen labels); then `--shard` and `--resume` pick which
//! of them this run audits.
//!
//! Names are taken as people paste them ([`interpret`]): a URL, `host:port`, a mail address or
//! `mailto:` URI, or a record name such as `_mta-sts.example.com` is taken for the mail domain it
//! names, with an [`InputNote`] saying so; what names no domain is rejected saying what it was
//! recognised as.
//!
//! Parsing is pure ([`parse_list`], [`interpret`], [`normalize_domain`], [`dedup`], [`Shard`],
//! [`completed_domains`] over any reader); [`gather`] does the file reading. A line that is not a
//! domain name is an [`InputError`] and the run goes on; what makes the input unusable (an
//! invalid name typed as an argument, an unreadable or oversized file, a bad `--shard`, no valid
//! name at all) stops it.

use std::collections::HashSet;
use std::fmt;
#[allow(clippy::disallowed_types, reason = "only gather opens files")]
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::escape::{escape_bytes, escape_str};
use crate::name::{DomainName, NameError};

pub use crate::name::{NameError as DomainError, MAX_LABEL_LEN, MAX_NAME_LEN};

/// Normalises a domain name given by a user (see [`DomainName::parse`]).
pub fn normalize_domain(input: &str) -> Result<String, DomainError> {
    DomainName::parse(input).map(String::from)
}

/// What a line or argument was taken for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interpreted {
    pub domain: DomainName,
    /// What the text was taken for when it was not the domain alone ("a URL: audited as its
    /// host name example.org"); said on standard error.
    pub note: Option<String>,
}

impl Interpreted {
    fn noted(domain: DomainName, note: String) -> Self {
        Self {
            domain,
            note: Some(note),
        }
    }
}

/// Takes `text` as people paste it for the mail domain it names:
///
/// * a domain name (`example.org`, `Example.ORG.`, `bücher.example`) as itself;
/// * a URL (`https://example.org/`) as its host name, and a URL of the policy host
///   (`https://mta-sts.example.org/.well-known/mta-sts.txt`) as the domain whose policy it is;
/// * `host:port` (`example.org:25`) as the host name;
/// * a mail address (`postmaster@example.org`, `Name <postmaster@example.org>`) or a `mailto:`
///   URI as the address's domain;
/// * a record name (`_mta-sts.example.org`, `_smtp._tls.example.org`) as the domain it belongs to.
///
/// Anything but the domain alone comes with a note saying what it was taken for (a bare
/// `mta-sts.D` is audited as given, with a note that it is D's policy host). `Err` says why
/// the text names no mail domain, and what it was recognised as when that helps.
pub fn interpret(text: &str) -> Result<Interpreted, String> {
    let text = text.trim();
    let plain = match DomainName::parse(text) {
        Ok(domain) => {
            let note = policy_host_parent(&domain).map(|parent| {
                format!(
                    "`{domain}` is the policy host of {parent}; it is audited as given (give \
                     {parent} to audit that domain)"
                )
            });
            return Ok(Interpreted { domain, note });
        }
        Err(err) => err,
    };
    pasted_form(text).unwrap_or_else(|| Err(plain.to_string()))
}

/// The domain whose policy host (`mta-sts.D`) `domain` is, if it is one.
fn policy_host_parent(domain: &DomainName) -> Option<DomainName> {
    let parent = domain.as_str().strip_prefix("mta-sts.")?;
    DomainName::parse(parent).ok()
}

/// The forms of [`interpret`] other than a bare domain name; `None` when `text` is none of them.
fn pasted_form(text: &str) -> Option<Result<Interpreted, String>> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("mailto:") {
        let address = &text["mailto:".len()..];
        let address = address.split_once('?').map_or(address, |(to, _)| to);
        if address.contains(',') {
            return Some(Err(
                "a mailto: URI with several addresses: give one domain per line".to_owned(),
            ));
        }
        return Some(address_domain(address, "a mailto: URI"));
    }
    if let Some((scheme, rest)) = text.split_once("://") {
        if is_url_scheme(scheme) {
            return Some(url_domain(rest));
        }
    }
    if text.contains('@') {
        return Some(address_domain(text, "a mail address"));
    }
    for (prefix, record) in [
        ("_mta-sts.", "MTA-STS record"),
        ("_smtp._tls.", "TLS-RPT record"),
    ] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            if let Ok(domain) = DomainName::parse(rest) {
                let note = format!("the name of {domain}'s {record}: audited as {domain}");
                return Some(Ok(Interpreted::noted(domain, note)));
            }
        }
    }
    let (host, port) = text.rsplit_once(':')?;
    if host.contains(':') || host.starts_with('[') {
        return None;
    }
    if host.parse::<IpAddr>().is_ok() {
        return Some(Err(
            "an IP address and port; a mail domain is a name (example.com)".to_owned(),
        ));
    }
    let domain = DomainName::parse(host).ok()?;
    Some(
        if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) {
            let note = format!(
                "a host name and port: audited as {domain} (the audit uses ports 443 and 25 \
                 whatever the port given)"
            );
            Ok(Interpreted::noted(domain, note))
        } else {
            Err(format!(
                "{domain} followed by `:{}`, which is not a port number; give the domain alone",
                escape_str(port)
            ))
        },
    )
}

/// RFC 3986 §3.1: a letter, then letters, digits, `+`, `-` and `.`.
fn is_url_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '-' | '.'))
}

/// The domain of the URL whose part after `scheme://` is `rest`.
fn url_domain(rest: &str) -> Result<Interpreted, String> {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host_port.starts_with('[') {
        return Err("a URL whose host is an IP address; a mail domain is a name".to_owned());
    }
    let host = host_port
        .split_once(':')
        .map_or(host_port, |(host, _)| host);
    if host.parse::<IpAddr>().is_ok() {
        return Err("a URL whose host is an IP address; a mail domain is a name".to_owned());
    }
    let domain = DomainName::parse(host).map_err(|err| {
        format!(
            "a URL, but its host `{}` is not a mail domain: {err}",
            escape_str(host)
        )
    })?;
    if let Some(parent) = policy_host_parent(&domain) {
        let what = if path.starts_with("/.well-known/mta-sts.txt") {
            "the URL of the MTA-STS policy of"
        } else {
            "a URL of the policy host of"
        };
        let note = format!("{what} {parent}: audited as {parent}");
        return Ok(Interpreted::noted(parent, note));
    }
    let note = format!("a URL: audited as its host name {domain}");
    Ok(Interpreted::noted(domain, note))
}

/// The domain of a mail address (`local@domain`, or `Name <local@domain>`); `what` names the
/// form for the note.
fn address_domain(text: &str, what: &str) -> Result<Interpreted, String> {
    let address = match (text.rfind('<'), text.strip_suffix('>')) {
        (Some(start), Some(inner)) if start < inner.len() => &inner[start + 1..],
        _ => text,
    };
    let Some((_, domain)) = address.trim().rsplit_once('@') else {
        return Err(format!("{what} without a domain (no `@`)"));
    };
    match DomainName::parse(domain) {
        Ok(domain) => {
            let note = format!("{what}: audited as {domain}, the domain of the address");
            Ok(Interpreted::noted(domain, note))
        }
        Err(NameError::IpLiteral) => Err(format!(
            "{what} whose domain is an IP address; a mail domain is a name"
        )),
        Err(err) => Err(format!(
            "{what}, but its domain `{}` is not a mail domain: {err}",
            escape_str(domain)
        )),
    }
}

/// A line or argument taken for a domain it names rather than given as the domain alone; the
/// run goes on with the domain. Its `reason` says what the text was taken for; displayed as
/// `domains.txt:3: "https://example.org/": a URL: audited as its host name example.org`.
pub type InputNote = InputError;

/// The origin of a note about a domain given as an argument.
pub const ARGUMENT_ORIGIN: &str = "argument";

/// A line of input that is not a domain name; the run goes on without it. (The same shape says
/// what a line was taken for: an [`InputNote`].)
///
/// Displayed as `domains.txt:12: "ex ample.com": <reason>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file name (escaped), `<stdin>`, or [`ARGUMENT_ORIGIN`] (notes only).
    pub origin: String,
    /// 1-based line number within `origin`, for lists.
    pub line: Option<usize>,
    /// The offending text, escaped; empty for the note that counts errors not listed.
    pub text: String,
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.text.is_empty() {
            write!(f, ": \"{}\"", self.text)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for InputError {}

/// Where a domain of the run was read: a line of a `--file` list. The formats CI tools read
/// (SARIF, GitHub annotations) point the domain's findings at it, so an alert lands on the line
/// to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputLocation {
    /// The list's path as given, made relative to the working directory when it lies below it,
    /// components joined with `/` (a repository-relative path when the run starts at the root
    /// of a checkout, as CI runs do). Shared by every domain of the list.
    pub path: Arc<str>,
    /// 1-based.
    pub line: usize,
}

/// The origin of `--file -`.
pub const STDIN_ORIGIN: &str = "<stdin>";

/// Bounds on one domain list. A list past `max_bytes` or `max_lines` stops the run; a line past
/// `max_line_bytes` is an input error; past `max_listed_errors` errors, the rest are only counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListLimits {
    pub max_bytes: usize,
    pub max_lines: usize,
    pub max_line_bytes: usize,
    pub max_listed_errors: usize,
}

impl ListLimits {
    pub const DEFAULT: Self = Self {
        max_bytes: 64 * 1024 * 1024,
        max_lines: 1_000_000,
        max_line_bytes: 1024,
        max_listed_errors: 1000,
    };
}

impl Default for ListLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a whole list was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListError {
    TooManyBytes { limit: usize },
    TooManyLines { lines: usize, limit: usize },
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyBytes { limit } => write!(
                f,
                "the list is larger than {} MiB; split it into several files",
                limit / (1024 * 1024)
            ),
            Self::TooManyLines { lines, limit } => write!(
                f,
                "the list has {lines} lines (at most {limit}); split it into several files"
            ),
        }
    }
}

impl std::error::Error for ListError {}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What one domain list holds; `N` is a name, or a name with its line number
/// ([`parse_list_numbered`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedList<N = DomainName> {
    /// The domains in order, duplicates kept (see [`dedup`]).
    pub names: Vec<N>,
    /// The lines that name no domain.
    pub errors: Vec<InputError>,
    /// The lines taken for a domain they name rather than given as it ([`interpret`]).
    pub notes: Vec<InputNote>,
}

/// Parses a domain list with [`ListLimits::DEFAULT`]; see [`parse_list_with`].
pub fn parse_list(bytes: &[u8], origin: &str) -> Result<ParsedList, ListError> {
    parse_list_with(bytes, origin, &ListLimits::DEFAULT)
}

/// Parses a domain list: one name per line (LF or CRLF), a BOM at the start dropped, `#`
/// starting a comment at the start of a line or after whitespace, blank lines ignored, each line
/// through [`interpret`]. Returns the names in order, the lines that were not names and the
/// lines taken for the name they hold, `origin` and line number attached. Notes past
/// `max_listed_errors` are dropped (the domains are kept).
pub fn parse_list_with(
    bytes: &[u8],
    origin: &str,
    limits: &ListLimits,
) -> Result<ParsedList, ListError> {
    let numbered = parse_list_numbered(bytes, origin, limits)?;
    Ok(ParsedList {
        names: numbered.names.into_iter().map(|(name, _)| name).collect(),
        errors: numbered.errors,
        notes: numbered.notes,
    })
}

/// Names of a list, each with its 1-based line number.
pub type NumberedNames = Vec<(DomainName, usize)>;

/// [`parse_list_with`], each name with its line number.
pub fn parse_list_numbered(
    bytes: &[u8],
    origin: &str,
    limits: &ListLimits,
) -> Result<ParsedList<(DomainName, usize)>, ListError> {
    if bytes.len() > limits.max_bytes {
        return Err(ListError::TooManyBytes {
            limit: limits.max_bytes,
        });
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let newlines = bytes.iter().filter(|b| **b == b'\n').count();
    let lines = newlines + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    if lines > limits.max_lines {
        return Err(ListError::TooManyLines {
            lines,
            limit: limits.max_lines,
        });
    }
    let mut names = Vec::new();
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let mut unlisted = 0usize;
    for (index, raw) in bytes.split(|b| *b == b'\n').take(lines).enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let rejected = if raw.len() > limits.max_line_bytes {
            // Show a prefix only: the line may be anything, and long.
            Some(LineError {
                text: format!("{}…", escape_bytes(prefix(raw, 40))),
                reason: format!(
                    "the line is {} bytes long (at most {})",
                    raw.len(),
                    limits.max_line_bytes
                ),
            })
        } else {
            match parse_line(raw) {
                None => None,
                Some(Ok((text, interpreted))) => {
                    if let Some(note) = interpreted.note {
                        if notes.len() < limits.max_listed_errors {
                            notes.push(InputNote {
                                origin: origin.to_owned(),
                                line: Some(index + 1),
                                text,
                                reason: note,
                            });
                        }
                    }
                    names.push((interpreted.domain, index + 1));
                    None
                }
                Some(Err(err)) => Some(err),
            }
        };
        if let Some(LineError { text, reason }) = rejected {
            if errors.len() < limits.max_listed_errors {
                errors.push(InputError {
                    origin: origin.to_owned(),
                    line: Some(index + 1),
                    text,
                    reason,
                });
            } else {
                unlisted += 1;
            }
        }
    }
    if unlisted > 0 {
        errors.push(InputError {
            origin: origin.to_owned(),
            line: None,
            text: String::new(),
            reason: format!(
                "{unlisted} more lines are not domain names (only the first {} are listed)",
                limits.max_listed_errors
            ),
        });
    }
    Ok(ParsedList {
        names,
        errors,
        notes,
    })
}

struct LineError {
    text: String,
    reason: String,
}

/// At most `max` bytes of `bytes`.
fn prefix(bytes: &[u8], max: usize) -> &[u8] {
    &bytes[..bytes.len().min(max)]
}

/// One line without its end: `None` for a blank or comment line; the text (escaped) with what
/// it was taken for.
fn parse_line(raw: &[u8]) -> Option<Result<(String, Interpreted), LineError>> {
    // `#` and ASCII whitespace never occur inside a UTF-8 sequence, so comments are cut on
    // bytes, and a comment in another encoding does not spoil the line.
    let content = raw
        .iter()
        .enumerate()
        .find(|(i, b)| **b == b'#' && (*i == 0 || raw[*i - 1].is_ascii_whitespace()))
        .map_or(raw, |(i, _)| &raw[..i]);
    let Ok(text) = std::str::from_utf8(content) else {
        return Some(Err(LineError {
            text: escape_bytes(content.trim_ascii()),
            reason: "the line is not valid UTF-8".to_owned(),
        }));
    };
    let name = text.trim();
    if name.is_empty() {
        return None;
    }
    Some(match interpret(name) {
        Ok(interpreted) => Ok((escape_str(name), interpreted)),
        Err(reason) => Err(LineError {
            text: escape_str(name),
            reason,
        }),
    })
}

/// Keeps the first occurrence of each name, in order.
pub fn dedup(names: Vec<DomainName>) -> Vec<DomainName> {
    let mut seen = HashSet::with_capacity(names.len());
    names
        .into_iter()
        .filter(|name| seen.insert(name.clone()))
        .collect()
}

/// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3): the hash that assigns
/// names to shards. Part of the `--shard` interface: it must never change, so that machines
/// running different versions split a list the same way.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One of N slices of a list (`--shard K/N`): a name belongs to shard
/// `fnv1a64(normalised name as bytes) mod N`. The normalised name is lower-case, in A-labels,
/// without a trailing dot, so a list split this way is split the same on every machine and by
/// every version, and the N shards together hold every name exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// Why a `--shard` value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardError {
    /// Not of the form `K/N`.
    Syntax {
        text: String,
    },
    /// `K` or `N` is not a decimal number.
    NotANumber {
        text: String,
    },
    ZeroCount,
    IndexTooLarge {
        index: u64,
        count: u64,
    },
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { text } => {
                write!(f, "`{text}` is not of the form K/N (for example 0/4)")
            }
            Self::NotANumber { text } => write!(f, "`{text}` is not a whole number"),
            Self::ZeroCount => f.write_str("the number of shards N must be at least 1"),
            Self::IndexTooLarge { index, count } => write!(
                f,
                "shard {index} does not exist: with {count} shards, K goes from 0 to {}",
                count - 1
            ),
        }
    }
}

impl std::error::Error for ShardError {}

impl Shard {
    /// Shard `index` of `count`; `0 <= index < count`.
    pub fn new(index: u64, count: u64) -> Result<Self, ShardError> {
        if count == 0 {
            return Err(ShardError::ZeroCount);
        }
        if index >= count {
            return Err(ShardError::IndexTooLarge { index, count });
        }
        Ok(Self { index, count })
    }

    /// Parses `K/N`, decimal digits only.
    pub fn parse(text: &str) -> Result<Self, ShardError> {
        let text = text.trim();
        let Some((index, count)) = text.split_once('/') else {
            return Err(ShardError::Syntax {
                text: escape_str(text),
            });
        };
        Self::new(parse_number(index)?, parse_number(count)?)
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the normalised `domain` belongs to this shard.
    pub fn contains(&self, domain: &str) -> bool {
        // `count` is at least 1 by construction.
        fnv1a64(domain.as_bytes()) % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn parse_number(text: &str) -> Result<u64, ShardError> {
    // `u64::from_str` also takes `+3`; K/N is digits only.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ShardError::NotANumber {
            text: escape_str(text),
        });
    }
    text.parse().map_err(|_| ShardError::NotANumber {
        text: escape_str(text),
    })
}

/// Bounds on reading a `--resume` file, which streams: it may be far larger than memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumeLimits {
    /// A longer line is skipped (and counted as unparsed) without being stored.
    pub max_line_bytes: usize,
    /// Past this, the file is refused (it is not an output of ours, e.g. a device).
    pub max_bytes: u64,
}

impl ResumeLimits {
    pub const DEFAULT: Self = Self {
        max_line_bytes: 16 * 1024 * 1024,
        max_bytes: 64 * 1024 * 1024 * 1024,
    };
}

impl Default for ResumeLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a `--resume` file says is done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completed {
    /// Candidates that the file reports on.
    pub domains: HashSet<String>,
    /// Non-blank lines that are not JSON objects (an interrupted run cuts its last line).
    pub unparsed_lines: usize,
    /// Lines longer than [`ResumeLimits::max_line_bytes`], which are not read: the first
    /// [`MAX_LISTED_LONG_LINES`] of them. Their domains are audited again.
    pub long_lines: Vec<LongLine>,
    /// How many lines were too long, listed or not.
    pub long_line_count: usize,
    /// What the skipped domains' findings were, together, so that a resumed run's exit status
    /// covers them too.
    pub outcomes: ResumedOutcomes,
}

/// Over-long lines of a `--resume` file listed one by one; the others are only counted.
pub const MAX_LISTED_LONG_LINES: usize = 20;

/// A `--resume` line past the line bound: not read, so its domain is not taken as done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongLine {
    /// 1-based.
    pub line: usize,
    /// The line's length without its end.
    pub bytes: usize,
    /// The domain the line reports on, when it is one of the candidates and its start says so
    /// (`{"domain":"…"` is how every line of ours begins).
    pub domain: Option<String>,
}

/// Reads an earlier `--format jsonl` output: every line that is a JSON object with a string
/// `domain` field marks that domain done. Only names in `candidates` are kept, so memory follows
/// the list, not the file. Objects without `domain` (a header or summary) are ignored; lines
/// that do not parse are counted.
pub fn completed_domains<R: BufRead>(
    mut reader: R,
    candidates: &HashSet<&str>,
    limits: &ResumeLimits,
) -> io::Result<Completed> {
    let mut completed = Completed::default();
    let mut line = Vec::new();
    let mut total: u64 = 0;
    let mut number = 0usize;
    while let Some(len) = read_line_bounded(&mut reader, &mut line, limits.max_line_bytes)? {
        number += 1;
        total = total.saturating_add(len as u64 + 1);
        if total > limits.max_bytes.saturating_add(1) {
            return Err(io::Error::other(format!(
                "larger than {} GiB: not an output of mtasts",
                limits.max_bytes / (1024 * 1024 * 1024)
            )));
        }
        if len > limits.max_line_bytes {
            // A valid line may be this long (a pathological domain's findings): say so rather
            // than drop it unnoticed, and audit its domain again, which is the safe side.
            completed.long_line_count += 1;
            if completed.long_lines.len() < MAX_LISTED_LONG_LINES {
                let domain = leading_domain(&line)
                    .and_then(|domain| normalize_domain(&domain).ok())
                    .filter(|name| candidates.contains(name.as_str()));
                completed.long_lines.push(LongLine {
                    line: number,
                    bytes: len,
                    domain,
                });
            }
            continue;
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<DomainField>(&line) {
            Ok(DomainField(Some(domain), counts)) => {
                if let Ok(name) = normalize_domain(&domain) {
                    if candidates.contains(name.as_str()) {
                        completed.domains.insert(name);
                        completed.outcomes.merge(counts);
                    }
                }
            }
            Ok(DomainField(None, _)) => {}
            Err(_) => completed.unparsed_lines += 1,
        }
    }
    Ok(completed)
}

/// The `domain` string at the very start of a JSON object (`{"domain":"example.org",…`), read
/// from a line's first bytes when the whole line is too long to parse.
fn leading_domain(start: &[u8]) -> Option<String> {
    let rest = start
        .trim_ascii_start()
        .strip_prefix(b"{")?
        .trim_ascii_start()
        .strip_prefix(b"\"domain\"")?
        .trim_ascii_start()
        .strip_prefix(b":")?;
    serde_json::Deserializer::from_slice(rest)
        .into_iter::<String>()
        .next()?
        .ok()
}

/// Reads one line into `line` (without its `\n`), keeping at most `limit` bytes of it. Returns
/// the line's full length, or `None` at the end of input.
fn read_line_bounded<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    limit: usize,
) -> io::Result<Option<usize>> {
    line.clear();
    let mut len = 0usize;
    let mut started = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if available.is_empty() {
            return Ok(started.then_some(len));
        }
        started = true;
        let newline = available.iter().position(|b| *b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        let room = limit.saturating_sub(line.len());
        line.extend_from_slice(prefix(chunk, room));
        len = len.saturating_add(chunk.len());
        let used = newline.map_or(chunk.len(), |at| at + 1);
        reader.consume(used);
        if newline.is_some() {
            return Ok(Some(len));
        }
    }
}

/// The top-level `domain` string of a JSON object, if any, and what its `counts` say; other
/// fields are skipped unbuilt.
struct DomainField(Option<String>, ResumedOutcomes);

/// What a domain line of a `--resume` file says about its findings, for the exit status: whether
/// any that counts (not ignored) failed, warned, or could not be determined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResumedOutcomes {
    pub fail: bool,
    pub warn: bool,
    pub could_not_determine: bool,
}

/// A domain line's `counts` (or `ignored`) object, as far as the exit status needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
struct OutcomeCounts {
    #[serde(default)]
    fail: u64,
    #[serde(default)]
    warn: u64,
    #[serde(default)]
    could_not_determine: u64,
}

impl OutcomeCounts {
    /// What counts once the `ignored` findings are taken out.
    fn counted(&self, ignored: &Self) -> ResumedOutcomes {
        ResumedOutcomes {
            fail: self.fail > ignored.fail,
            warn: self.warn > ignored.warn,
            could_not_determine: self.could_not_determine > ignored.could_not_determine,
        }
    }
}

impl ResumedOutcomes {
    fn merge(&mut self, other: Self) {
        self.fail |= other.fail;
        self.warn |= other.warn;
        self.could_not_determine |= other.could_not_determine;
    }
}

impl<'de> Deserialize<'de> for DomainField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = DomainField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DomainField, A::Error> {
                let mut domain = None;
                let mut counts = OutcomeCounts::default();
                let mut ignored = OutcomeCounts::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "domain" && domain.is_none() {
                        domain = Some(map.next_value::<String>()?);
                    } else if key == "counts" {
                        counts = map.next_value::<OutcomeCounts>()?;
                    } else if key == "ignored" {
                        ignored = map.next_value::<OutcomeCounts>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(DomainField(domain, counts.counted(&ignored)))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// Where a run's domains come from, as the command line gave them (`--file`, `--shard`,
/// `--resume` and the arguments).
#[derive(Clone, Copy, Debug)]
pub struct Sources<'a> {
    pub files: &'a [PathBuf],
    pub shard: Option<&'a str>,
    pub resume: Option<&'a Path>,
    pub domains: &'a [String],
}

/// The domains a run audits, in input order without duplicates, and the input it rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gathered {
    pub domains: Vec<DomainName>,
    /// Where each of `domains` was read, by the same index: `None` for an argument or a name
    /// read from standard input (the first occurrence counts when a name is given twice).
    pub locations: Vec<Option<InputLocation>>,
    pub errors: Vec<InputError>,
    /// Arguments and lines taken for the domain they name; said on standard error, not errors.
    pub notes: Vec<InputNote>,
    /// Domains left out because `--resume` found them already done.
    pub resumed: usize,
    /// What those domains' findings were (for the exit status).
    pub resumed_outcomes: ResumedOutcomes,
    /// Domains left out because they belong to another `--shard`.
    pub other_shards: usize,
    /// Lines of the `--resume` file that did not parse and were ignored (an interrupted run
    /// leaves its last line cut).
    pub resume_unparsed_lines: usize,
    /// Lines of the `--resume` file past its line bound, not read (their domains are audited).
    pub resume_long_lines: usize,
    /// What standard error says about the `--resume` file: lines not read, and why.
    pub resume_notes: Vec<InputNote>,
}

/// No valid name in the whole input: the run stops (exit 2). Its message lists the input errors,
/// since the caller never gets a [`Gathered`] to print them from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoValidDomain {
    pub errors: Vec<InputError>,
}

impl fmt::Display for NoValidDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no valid domain given")?;
        if self.errors.is_empty() {
            return f.write_str(" (the lists hold no names)");
        }
        write!(
            f,
            "; {} input error{}:",
            self.errors.len(),
            if self.errors.len() == 1 { "" } else { "s" }
        )?;
        for err in &self.errors {
            write!(f, "\n  {err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NoValidDomain {}

/// Reads every input named in `sources`: the arguments first, then each `--file` in order; then
/// normalises, deduplicates (first occurrence wins), keeps this `--shard`'s names and drops the
/// ones `--resume` finds done. A bad line in a list is an [`InputError`] in the result; errors
/// are only for what stops the run: an invalid name given as an argument, a bad `--shard`, an
/// unreadable or oversized list, an unreadable `--resume` file, or no valid name at all
/// ([`NoValidDomain`]). An empty result because of `--shard` or `--resume` is not an error.
#[allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "gather reads the domain lists named on the command line; parsing stays pure"
)]
pub fn gather(sources: &Sources<'_>) -> anyhow::Result<Gathered> {
    let shard = sources
        .shard
        .map(Shard::parse)
        .transpose()
        .map_err(|err| anyhow!("--shard: {err}"))?;
    let limits = ListLimits::DEFAULT;
    let mut listed: Vec<(DomainName, Option<InputLocation>)> = Vec::new();
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    // A name typed on the command line is checked strictly: a typo there is a usage error, as
    // it always was; only lists, often exported from elsewhere, are worked through regardless.
    // What is pasted (a URL, an address) is taken for its domain in both, with a note.
    for arg in sources.domains {
        match interpret(arg) {
            Ok(interpreted) => {
                if let Some(note) = interpreted.note {
                    notes.push(InputNote {
                        origin: ARGUMENT_ORIGIN.to_owned(),
                        line: None,
                        text: escape_str(arg.trim()),
                        reason: note,
                    });
                }
                listed.push((interpreted.domain, None));
            }
            Err(reason) => bail!("invalid domain \"{}\": {reason}", escape_str(arg)),
        }
    }
    let mut read_stdin = false;
    for path in sources.files {
        let (origin, bytes, location_path) = if path == Path::new("-") {
            if read_stdin {
                bail!("--file - (standard input) is given more than once");
            }
            read_stdin = true;
            let bytes = read_at_most(io::stdin().lock(), limits.max_bytes)
                .context("cannot read the domain list from standard input")?;
            // Standard input is no file a report could point at.
            (STDIN_ORIGIN.to_owned(), bytes, None)
        } else {
            let origin = escape_str(&path.to_string_lossy());
            let bytes = File::open(path)
                .and_then(|file| read_at_most(file, limits.max_bytes))
                .with_context(|| format!("cannot read the domain list {origin}"))?;
            let working_dir = std::env::current_dir().ok();
            let shown = location_path(path, working_dir.as_deref());
            (origin, bytes, Some(Arc::<str>::from(shown)))
        };
        let list = parse_list_numbered(&bytes, &origin, &limits)
            .with_context(|| format!("domain list {origin}"))?;
        listed.extend(list.names.into_iter().map(|(name, line)| {
            let location = location_path
                .clone()
                .map(|path| InputLocation { path, line });
            (name, location)
        }));
        errors.extend(list.errors);
        notes.extend(list.notes);
    }
    let mut seen = HashSet::with_capacity(listed.len());
    listed.retain(|(name, _)| seen.insert(name.clone()));
    drop(seen);
    if listed.is_empty() {
        return Err(NoValidDomain { errors }.into());
    }

    let before_shard = listed.len();
    if let Some(shard) = shard {
        listed.retain(|(name, _)| shard.contains(name));
    }
    let other_shards = before_shard - listed.len();

    let mut gathered = Gathered {
        errors,
        notes,
        other_shards,
        ..Gathered::default()
    };
    if let Some(path) = sources.resume {
        let origin = escape_str(&path.to_string_lossy());
        let candidates: HashSet<&str> = listed.iter().map(|(name, _)| name.as_str()).collect();
        let completed = File::open(path)
            .and_then(|file| {
                completed_domains(BufReader::new(file), &candidates, &ResumeLimits::DEFAULT)
            })
            .with_context(|| format!("cannot read the --resume file {origin}"))?;
        listed.retain(|(name, _)| !completed.domains.contains(name.as_str()));
        gathered.resumed = completed.domains.len();
        gathered.resumed_outcomes = completed.outcomes;
        gathered.resume_unparsed_lines = completed.unparsed_lines;
        gathered.resume_long_lines = completed.long_line_count;
        gathered.resume_notes = resume_notes(&origin, &completed, &ResumeLimits::DEFAULT);
    }
    (gathered.domains, gathered.locations) = listed.into_iter().unzip();
    Ok(gathered)
}

/// One sentence per over-long line of the `--resume` file `origin` (then how many more), and
/// one for the lines that are not JSON objects.
fn resume_notes(origin: &str, completed: &Completed, limits: &ResumeLimits) -> Vec<InputNote> {
    let note = |line: Option<usize>, note: String| InputNote {
        origin: format!("--resume {origin}"),
        line,
        text: String::new(),
        reason: note,
    };
    let bound = if limits.max_line_bytes >= 1024 * 1024 {
        format!("{} MiB", limits.max_line_bytes / (1024 * 1024))
    } else {
        format!("{} bytes", limits.max_line_bytes)
    };
    let mut notes: Vec<InputNote> = completed
        .long_lines
        .iter()
        .map(|long| {
            let what = match &long.domain {
                Some(domain) => format!("{domain} is audited again"),
                None => "the domain it reports on, if it is one of this run's, is audited again"
                    .to_owned(),
            };
            note(
                Some(long.line),
                format!(
                    "the line is {} bytes long, more than the {bound} a line is read to, so it \
                     was not read: {what}",
                    long.bytes
                ),
            )
        })
        .collect();
    let unlisted = completed.long_line_count - completed.long_lines.len();
    if unlisted > 0 {
        notes.push(note(
            None,
            format!(
                "{unlisted} more lines are longer than {bound} and were not read; their \
                 domains are audited again"
            ),
        ));
    }
    if completed.unparsed_lines > 0 {
        notes.push(note(
            None,
            format!(
                "{} line{} not a JSON object and {} ignored (an interrupted run leaves its last \
                 line cut)",
                completed.unparsed_lines,
                if completed.unparsed_lines == 1 {
                    " is"
                } else {
                    "s are"
                },
                if completed.unparsed_lines == 1 {
                    "was"
                } else {
                    "were"
                },
            ),
        ));
    }
    notes
}

/// `path` as a report shows a list's location: relative to `working_dir` when it lies below it
/// (CI runs start at the root of the checkout, so that is the repository-relative path code
/// scanning wants), without `.` components, components joined with `/`.
fn location_path(path: &Path, working_dir: Option<&Path>) -> String {
    let relative = working_dir
        .filter(|_| path.is_absolute())
        .and_then(|dir| path.strip_prefix(dir).ok())
        .unwrap_or(path);
    let mut shown = String::new();
    for component in relative.components() {
        let part = match component {
            Component::CurDir => continue,
            Component::RootDir => {
                shown.push('/');
                continue;
            }
            Component::Prefix(prefix) => prefix.as_os_str().to_string_lossy(),
            Component::ParentDir => "..".into(),
            Component::Normal(part) => part.to_string_lossy(),
        };
        if !shown.is_empty() && !shown.ends_with('/') {
            shown.push('/');
        }
        shown.push_str(&part);
    }
    shown
}

/// Reads up to `max + 1` bytes, so that the parser can tell "exactly max" from "more".
fn read_at_most<R: Read>(reader: R, max: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn normalizes_accepted_names() {
        let cases = [
            ("example.com", "example.com"),
            ("  Example.COM.  ", "example.com"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("XN--BCHER-KVA.Example", "xn--bcher-kva.example"),
            ("bücher.example", "xn--bcher-kva.example"),
            ("BÜCHER.example.", "xn--bcher-kva.example"),
            ("ÉXAMPLE.com", "xn--xample-9ua.com"),
            // UTS #46 maps the ideographic full stop and full-width letters.
            ("bücher\u{3002}example", "xn--bcher-kva.example"),
            ("ｅｘａｍｐｌｅ.com", "example.com"),
            ("mail.xn--fiqs8s", "mail.xn--fiqs8s"),
            ("中国.example", "xn--fiqs8s.example"),
            // Hyphens in the third and fourth positions occur in real names.
            ("r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"),
            ("1.example", "1.example"),
            ("example.c0m", "example.c0m"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_domain(input).as_deref(),
                Ok(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_names() {
        let long_label = "a".repeat(64);
        let long_name = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63),
        ]
        .join(".");
        let huge = "a.".repeat(600) + "example";
        let long_idn = "ü".repeat(60) + ".example";
        let cases: Vec<(&str, DomainError)> = vec![
            ("", DomainError::Empty),
            ("  ", DomainError::Empty),
            (".", DomainError::Empty),
            ("example.com..", DomainError::EmptyLabel),
            ("a..b", DomainError::EmptyLabel),
            (".example.com", DomainError::EmptyLabel),
            (
                &long_label,
                DomainError::LabelTooLong {
                    label: long_label.clone(),
                },
            ),
            (&long_name, DomainError::TooLong { len: 255 }),
            (&huge, DomainError::TooLong { len: 1207 }),
            (
                &long_idn,
                DomainError::LabelTooLong {
                    label: "xn--tdaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        .to_owned(),
                },
            ),
            ("exa mple.com", DomainError::BadCharacter { ch: ' ' }),
            ("a/b.com", DomainError::BadCharacter { ch: '/' }),
            ("mx\r\nQUIT.example", DomainError::BadCharacter { ch: '\r' }),
            ("bü cher.example", DomainError::BadCharacter { ch: ' ' }),
            (
                "_mta-sts.example.com",
                DomainError::BadCharacter { ch: '_' },
            ),
            ("mail_host.example", DomainError::BadCharacter { ch: '_' }),
            ("example.com#x", DomainError::BadCharacter { ch: '#' }),
            (
                "-example.com",
                DomainError::EdgeHyphen {
                    label: "-example".to_owned(),
                },
            ),
            (
                "example-.com",
                DomainError::EdgeHyphen {
                    label: "example-".to_owned(),
                },
            ),
            ("192.0.2.1", DomainError::IpLiteral),
            ("192.0.2.1.", DomainError::IpLiteral),
            ("10", DomainError::IpLiteral),
            ("::1", DomainError::IpLiteral),
            ("2001:db8::1", DomainError::IpLiteral),
            ("[192.0.2.1]", DomainError::IpLiteral),
            ("[IPv6:2001:db8::1]", DomainError::IpLiteral),
            (
                "localhost",
                DomainError::SingleLabel {
                    name: "localhost".to_owned(),
                },
            ),
            (
                "COM.",
                DomainError::SingleLabel {
                    name: "com".to_owned(),
                },
            ),
            (
                "bücher",
                DomainError::SingleLabel {
                    name: "xn--bcher-kva".to_owned(),
                },
            ),
            (
                "mail.xn--a.example",
                DomainError::InvalidALabel {
                    label: "xn--a".to_owned(),
                },
            ),
            (
                "XN--ABC.example",
                DomainError::InvalidALabel {
                    label: "xn--abc".to_owned(),
                },
            ),
            (
                "ex\u{202e}ample.com",
                DomainError::InvalidIdn {
                    label: Some("ex\\u{202e}ample".to_owned()),
                },
            ),
            (
                "\u{0300}a.example",
                DomainError::InvalidIdn {
                    label: Some("\u{0300}a".to_owned()),
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_domain(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn domain_errors_explain_themselves() {
        let cases = [
            ("_mta-sts.example.com", "not a record name such as _mta-sts"),
            ("localhost", "`localhost` has a single label"),
            ("192.0.2.1", "an IP address is not a mail domain"),
            ("a b.example", "a space is not allowed in a mail domain"),
            ("a\tb.example", "`\\t` is not allowed"),
            ("a\x1bb.example", "`\\x1B` is not allowed"),
            ("ex\u{202e}ample.com", "`ex\\u{202e}ample` is not a valid"),
        ];
        for (input, expected) in cases {
            let message = normalize_domain(input).unwrap_err().to_string();
            assert!(message.contains(expected), "{input:?}: {message}");
        }
    }

    /// Issue 12: what people paste is taken for the domain it names, saying so.
    #[test]
    fn takes_pasted_forms_for_the_domain_they_name() {
        let cases = [
            (
                "https://example.org/",
                "example.org",
                "a URL: audited as its host name example.org",
            ),
            (
                "HTTP://Example.ORG",
                "example.org",
                "a URL: audited as its host name example.org",
            ),
            (
                "https://user@example.org:8443/path?q#f",
                "example.org",
                "a URL: audited as its host name example.org",
            ),
            (
                "https://mta-sts.example.org/.well-known/mta-sts.txt",
                "example.org",
                "the URL of the MTA-STS policy of example.org: audited as example.org",
            ),
            (
                "https://mta-sts.example.org/",
                "example.org",
                "a URL of the policy host of example.org: audited as example.org",
            ),
            (
                "example.org:25",
                "example.org",
                "a host name and port: audited as example.org (the audit uses ports 443 and 25 \
                 whatever the port given)",
            ),
            (
                "mailto:postmaster@example.org",
                "example.org",
                "a mailto: URI: audited as example.org, the domain of the address",
            ),
            (
                "MAILTO:tls-reports@Example.org?subject=x",
                "example.org",
                "a mailto: URI: audited as example.org, the domain of the address",
            ),
            (
                "postmaster@example.org",
                "example.org",
                "a mail address: audited as example.org, the domain of the address",
            ),
            (
                "Post Master <postmaster@bücher.example>",
                "xn--bcher-kva.example",
                "a mail address: audited as xn--bcher-kva.example, the domain of the address",
            ),
            (
                "_mta-sts.example.org",
                "example.org",
                "the name of example.org's MTA-STS record: audited as example.org",
            ),
            (
                "_smtp._tls.Example.org.",
                "example.org",
                "the name of example.org's TLS-RPT record: audited as example.org",
            ),
            (
                "mta-sts.example.org",
                "mta-sts.example.org",
                "`mta-sts.example.org` is the policy host of example.org; it is audited as given \
                 (give example.org to audit that domain)",
            ),
        ];
        for (text, domain, note) in cases {
            let interpreted = interpret(text).unwrap_or_else(|err| panic!("{text}: {err}"));
            assert_eq!(interpreted.domain, domain, "{text}");
            assert_eq!(interpreted.note.as_deref(), Some(note), "{text}");
        }
        // The domain alone, a trailing dot included (the DNS form of the same name), needs no
        // note.
        for text in ["example.org", " Example.ORG. ", "bücher.example"] {
            assert_eq!(interpret(text).unwrap().note, None, "{text}");
        }
    }

    #[test]
    fn rejects_pasted_forms_saying_what_they_were_recognised_as() {
        let cases = [
            ("https://192.0.2.1/", "a URL whose host is an IP address"),
            (
                "https://[2001:db8::1]:443/",
                "a URL whose host is an IP address",
            ),
            (
                "https://ex_ample.org/",
                "a URL, but its host `ex_ample.org` is not a mail domain: `_`",
            ),
            (
                "192.0.2.1:25",
                "an IP address and port; a mail domain is a name",
            ),
            (
                "example.org:smtp",
                "example.org followed by `:smtp`, which is not a port number",
            ),
            (
                "postmaster@[192.0.2.1]",
                "a mail address whose domain is an IP address",
            ),
            (
                "postmaster@localhost",
                "a mail address, but its domain `localhost` is not a mail domain",
            ),
            (
                "mailto:a@example.org,b@example.net",
                "a mailto: URI with several addresses",
            ),
            (
                "mailto:postmaster",
                "a mailto: URI without a domain (no `@`)",
            ),
            // An IPv6 address keeps the message it always had.
            ("2001:db8::1", "an IP address is not a mail domain"),
            ("[IPv6:2001:db8::1]", "an IP address is not a mail domain"),
        ];
        for (text, expected) in cases {
            let reason = interpret(text).unwrap_err();
            assert!(reason.starts_with(expected), "{text}: {reason}");
        }
    }

    #[test]
    fn notes_name_the_line_and_count_as_no_error() {
        let list = b"https://example.org/\nexample.net\nmailto:a@example.com\n192.0.2.1:25\n";
        let list = parse_list(list, "pasted.txt").unwrap();
        assert_eq!(list.names, ["example.org", "example.net", "example.com"]);
        let notes: Vec<String> = list.notes.iter().map(ToString::to_string).collect();
        assert_eq!(
            notes,
            [
                "pasted.txt:1: \"https://example.org/\": a URL: audited as its host name example.org",
                "pasted.txt:3: \"mailto:a@example.com\": a mailto: URI: audited as example.com, \
                 the domain of the address",
            ]
        );
        assert_eq!(list.errors.len(), 1);
        assert_eq!(
            list.errors[0].to_string(),
            "pasted.txt:4: \"192.0.2.1:25\": an IP address and port; a mail domain is a name \
             (example.com)"
        );
    }

    fn names(list: &[u8]) -> Vec<DomainName> {
        let list = parse_list(list, "t.txt").unwrap();
        assert_eq!(list.errors, [], "{list:?}");
        assert_eq!(list.notes, [], "{list:?}");
        list.names
    }

    #[test]
    fn parses_lists() {
        let cases: [(&[u8], &[&str]); 12] = [
            (b"", &[]),
            (b"\n\n  \n\t\n", &[]),
            (b"# a comment\n#another\n   # indented\n", &[]),
            (b"example.com", &["example.com"]),
            (b"example.com\n", &["example.com"]),
            (b"  Example.COM.\t\n", &["example.com"]),
            (
                b"example.com # why\nexample.org\t#tab too\n",
                &["example.com", "example.org"],
            ),
            (b"a.example\r\nb.example\r\n", &["a.example", "b.example"]),
            (b"\xEF\xBB\xBFa.example\n", &["a.example"]),
            ("bücher.example\n".as_bytes(), &["xn--bcher-kva.example"]),
            // Duplicates stay for `dedup`, which sees every source.
            (b"a.example\nA.example.\n", &["a.example", "a.example"]),
            // A comment in Latin-1 does not spoil the name before it.
            (b"a.example # caf\xE9\n", &["a.example"]),
        ];
        for (list, expected) in cases {
            assert_eq!(names(list), expected, "{:?}", String::from_utf8_lossy(list));
        }
    }

    #[test]
    fn reports_bad_lines_with_their_numbers() {
        let list = b"# header\nok.example\nex ample.com\n\nlocalhost # no dot\nok.example#x\n\
                     \xEF\xBB\xBFbom.example\nbad\xFF.example\n\x1b[31m.example\nlast.example";
        let ParsedList { names, errors, .. } = parse_list(list, "domains.txt").unwrap();
        // A BOM later in a list (files joined with `cat`) is ignored by UTS #46 mapping.
        assert_eq!(names, ["ok.example", "bom.example", "last.example"]);
        let got: Vec<(Option<usize>, &str)> = errors
            .iter()
            .map(|err| (err.line, err.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(3), "ex ample.com"),
                (Some(5), "localhost"),
                (Some(6), "ok.example#x"),
                (Some(8), "bad\\xFF.example"),
                (Some(9), "\\x1B[31m.example"),
            ]
        );
        assert!(errors.iter().all(|err| err.origin == "domains.txt"));
        assert_eq!(errors[3].reason, "the line is not valid UTF-8");
        assert_eq!(
            errors[0].to_string(),
            "domains.txt:3: \"ex ample.com\": a space is not allowed in a mail domain (only \
             letters, digits and hyphens)"
        );
    }

    #[test]
    fn parses_the_crlf_fixture() {
        let ParsedList {
            names,
            errors,
            notes,
        } = parse_list(include_bytes!("../fixtures/input/mixed-crlf.txt"), "mixed").unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].line, Some(9));
        assert_eq!(
            names,
            [
                "example.com",
                "example.org",
                "xn--bcher-kva.example",
                "xn--xample-9ua.com",
                "example.com",
                // `_mta-sts.example.net`, taken for the domain whose record name it is.
                "example.net",
                "last.example",
            ]
        );
        let lines: Vec<Option<usize>> = errors.iter().map(|err| err.line).collect();
        assert_eq!(lines, [Some(8), Some(10), Some(11)]);
        assert!(errors.iter().all(|err| !err.text.contains('\r')));
    }

    #[test]
    fn bounds_lines_and_lists() {
        let limits = ListLimits {
            max_bytes: 80,
            max_lines: 4,
            max_line_bytes: 20,
            max_listed_errors: 2,
        };
        let long = format!("{}.example\nok.example\n", "a".repeat(50));
        let ParsedList { names, errors, .. } =
            parse_list_with(long.as_bytes(), "l", &limits).unwrap();
        assert_eq!(names, ["ok.example"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, Some(1));
        assert_eq!(errors[0].text, format!("{}…", "a".repeat(40)));
        assert_eq!(errors[0].reason, "the line is 58 bytes long (at most 20)");
        // The limit counts the line without its CRLF.
        let exact = format!("{}.example\r\n", "a".repeat(12));
        assert_eq!(exact.len(), 22);
        assert!(parse_list_with(exact.as_bytes(), "l", &limits)
            .unwrap()
            .errors
            .is_empty());

        let four = b"a.example\nb.example\n\n#\n";
        assert_eq!(parse_list_with(four, "l", &limits).unwrap().names.len(), 2);
        assert_eq!(
            parse_list_with(b"a.example\nb.example\n\n#\nx", "l", &limits),
            Err(ListError::TooManyLines { lines: 5, limit: 4 })
        );
        assert!(parse_list_with(&[b'#'; 80], "l", &limits).is_ok());
        assert_eq!(
            parse_list_with(&[b'#'; 81], "l", &limits),
            Err(ListError::TooManyBytes { limit: 80 })
        );
        let message = ListError::TooManyBytes {
            limit: ListLimits::DEFAULT.max_bytes,
        }
        .to_string();
        assert!(message.contains("larger than 64 MiB"), "{message}");

        let errors = parse_list_with(b"x\ny\nz\nw\n", "l", &limits)
            .unwrap()
            .errors;
        assert_eq!(errors.len(), 3);
        assert_eq!(
            errors[2].to_string(),
            "l: 2 more lines are not domain names (only the first 2 are listed)"
        );
    }

    #[test]
    fn displays_input_errors() {
        let err = InputError {
            origin: "domains.txt".to_owned(),
            line: Some(12),
            text: "ex ample.com".to_owned(),
            reason: "bad".to_owned(),
        };
        assert_eq!(err.to_string(), "domains.txt:12: \"ex ample.com\": bad");
        let err = InputError {
            origin: "<stdin>".to_owned(),
            line: None,
            text: String::new(),
            reason: "3 more".to_owned(),
        };
        assert_eq!(err.to_string(), "<stdin>: 3 more");
    }

    #[test]
    fn dedup_keeps_the_first_occurrence_in_order() {
        let input = [
            "b.example",
            "a.example",
            "b.example",
            "c.example",
            "a.example",
        ]
        .map(|name| DomainName::parse(name).unwrap())
        .to_vec();
        assert_eq!(dedup(input), ["b.example", "a.example", "c.example"]);
    }

    #[test]
    fn fnv1a64_matches_the_published_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn shard_assignment_is_stable() {
        // Pinned (computed independently): changing these splits existing lists differently,
        // which breaks the `--shard` interface.
        let cases = [
            ("example.com", 0x5768_4663_4e27_14c6, 6),
            ("example.org", 0xee71_6063_1269_bf51, 1),
            ("xn--bcher-kva.example", 0x7b26_5097_24e3_d0d4, 4),
            ("a.example", 0x278d_a7d1_20d2_ac28, 0),
        ];
        for (name, hash, index_of_8) in cases {
            assert_eq!(fnv1a64(name.as_bytes()), hash, "{name}");
            for index in 0..8 {
                let shard = Shard::new(index, 8).unwrap();
                assert_eq!(
                    shard.contains(name),
                    index == index_of_8,
                    "{name} {index}/8"
                );
            }
        }
    }

    #[test]
    fn parses_shards() {
        for (text, index, count) in [("0/1", 0, 1), ("3/8", 3, 8), (" 7/8 ", 7, 8)] {
            let shard = Shard::parse(text).unwrap();
            assert_eq!((shard.index(), shard.count()), (index, count), "{text}");
        }
        assert_eq!(Shard::parse("3/8").unwrap().to_string(), "3/8");
        let cases = [
            ("3", ShardError::Syntax { text: "3".into() }),
            ("", ShardError::Syntax { text: "".into() }),
            ("3/", ShardError::NotANumber { text: "".into() }),
            ("/8", ShardError::NotANumber { text: "".into() }),
            ("+3/8", ShardError::NotANumber { text: "+3".into() }),
            ("-1/8", ShardError::NotANumber { text: "-1".into() }),
            ("3/8/9", ShardError::NotANumber { text: "8/9".into() }),
            ("a/8", ShardError::NotANumber { text: "a".into() }),
            (
                "1/99999999999999999999",
                ShardError::NotANumber {
                    text: "99999999999999999999".into(),
                },
            ),
            ("0/0", ShardError::ZeroCount),
            ("8/8", ShardError::IndexTooLarge { index: 8, count: 8 }),
        ];
        for (text, expected) in cases {
            assert_eq!(Shard::parse(text), Err(expected), "{text:?}");
        }
        assert_eq!(
            ShardError::IndexTooLarge { index: 8, count: 8 }.to_string(),
            "shard 8 does not exist: with 8 shards, K goes from 0 to 7"
        );
    }

    /// A small deterministic generator (xorshift64), so the property test needs no crate.
    fn generated_names(count: usize, mut seed: u64) -> Vec<DomainName> {
        (0..count)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                DomainName::parse(&format!("d{:x}.example", seed % 1_000_000)).unwrap()
            })
            .collect()
    }

    #[test]
    fn shards_partition_any_list() {
        for (seed, size) in [(1, 0), (2, 1), (3, 17), (0x9e37_79b9, 2000)] {
            let list = dedup(generated_names(size, seed));
            for count in 1..=9 {
                let mut seen = HashSet::new();
                let mut total = 0;
                for index in 0..count {
                    let shard = Shard::new(index, count).unwrap();
                    for name in list.iter().filter(|name| shard.contains(name)) {
                        total += 1;
                        assert!(seen.insert(name.clone()), "{name} in two shards");
                    }
                }
                assert_eq!(total, list.len(), "seed {seed}, {count} shards");
            }
            if size >= 2000 {
                // Roughly even: no shard of 4 is more than twice another.
                let sizes: Vec<usize> = (0..4)
                    .map(|index| {
                        let shard = Shard::new(index, 4).unwrap();
                        list.iter().filter(|name| shard.contains(name)).count()
                    })
                    .collect();
                let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(max < &(2 * min), "{sizes:?}");
            }
        }
    }

    fn candidates<'a>(names: &[&'a str]) -> HashSet<&'a str> {
        names.iter().copied().collect()
    }

    #[test]
    fn resume_reads_a_cut_jsonl_file() {
        let wanted = candidates(&[
            "done-1.example",
            "done-2.example",
            "done-3.example",
            "todo.example",
        ]);
        let completed = completed_domains(
            &include_bytes!("../fixtures/input/resume-cut.jsonl")[..],
            &wanted,
            &ResumeLimits::DEFAULT,
        )
        .unwrap();
        let mut done: Vec<&str> = completed.domains.iter().map(String::as_str).collect();
        done.sort_unstable();
        // done-3 appears only in an array and in the cut last line; other.example is no
        // candidate; the summary object has no domain.
        assert_eq!(done, ["done-1.example", "done-2.example"]);
        // "not json at all", the array and the cut line.
        assert_eq!(completed.unparsed_lines, 3);
    }

    #[test]
    fn resume_reading_is_bounded_and_chunk_safe() {
        let long = format!(
            "{{\"domain\":\"long.example\",\"pad\":\"{}\"}}\n",
            "x".repeat(100)
        );
        let text = format!("{long}\n  \n{{\"domain\":\"a.example\"}}\r\n{{\"domain\":7}}\n");
        let limits = ResumeLimits {
            max_line_bytes: 64,
            max_bytes: 1024,
        };
        let wanted = candidates(&["long.example", "a.example"]);
        // A tiny buffer makes lines span many `fill_buf` calls.
        let reader = BufReader::with_capacity(3, text.as_bytes());
        let completed = completed_domains(reader, &wanted, &limits).unwrap();
        assert_eq!(completed.domains, HashSet::from(["a.example".to_owned()]));
        // The numeric domain; the over-long line is reported apart, naming its domain, which
        // is not taken as done.
        assert_eq!(completed.unparsed_lines, 1);
        assert_eq!(completed.long_line_count, 1);
        assert_eq!(
            completed.long_lines,
            [LongLine {
                line: 1,
                bytes: long.len() - 1,
                domain: Some("long.example".to_owned()),
            }]
        );
        let notes: Vec<String> = resume_notes("done.jsonl", &completed, &limits)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            notes,
            [
                format!(
                    "--resume done.jsonl:1: the line is {} bytes long, more than the 64 bytes a \
                     line is read to, so it was not read: long.example is audited again",
                    long.len() - 1
                ),
                "--resume done.jsonl: 1 line is not a JSON object and was ignored (an \
                 interrupted run leaves its last line cut)"
                    .to_owned(),
            ]
        );

        let limits = ResumeLimits {
            max_line_bytes: 64,
            max_bytes: 100,
        };
        let err = completed_domains(text.as_bytes(), &wanted, &limits).unwrap_err();
        assert!(err.to_string().contains("not an output of mtasts"), "{err}");
    }

    #[test]
    fn reads_bounded_lines() {
        let mut reader = BufReader::with_capacity(2, &b"abcdef\n\nxy"[..]);
        let mut line = Vec::new();
        let mut got = Vec::new();
        while let Some(len) = read_line_bounded(&mut reader, &mut line, 4).unwrap() {
            got.push((len, String::from_utf8(line.clone()).unwrap()));
        }
        assert_eq!(
            got,
            [
                (6, "abcd".to_owned()),
                (0, String::new()),
                (2, "xy".to_owned())
            ]
        );
    }

    /// The command line's view of the inputs, owned, as the tests change it field by field.
    struct InputArgs {
        file: Vec<PathBuf>,
        shard: Option<String>,
        resume: Option<PathBuf>,
        domains: Vec<String>,
    }

    fn gather(args: &InputArgs) -> anyhow::Result<Gathered> {
        super::gather(&Sources {
            files: &args.file,
            shard: args.shard.as_deref(),
            resume: args.resume.as_deref(),
            domains: &args.domains,
        })
    }

    fn args(domains: &[&str], files: &[&Path]) -> InputArgs {
        InputArgs {
            file: files.iter().map(|path| path.to_path_buf()).collect(),
            shard: None,
            resume: None,
            domains: domains.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    fn temp_file(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(contents).unwrap();
        file
    }

    #[test]
    fn gathers_arguments_then_files_in_order() {
        let first = temp_file(b"c.example\nB.example\nbad name\n");
        let second = temp_file(b"d.example\na.example\n");
        let gathered = gather(&args(
            &["a.example", "b.example"],
            &[first.path(), second.path()],
        ))
        .unwrap();
        assert_eq!(
            gathered.domains,
            ["a.example", "b.example", "c.example", "d.example"]
        );
        let origins: Vec<(&str, Option<usize>)> = gathered
            .errors
            .iter()
            .map(|err| (err.origin.as_str(), err.line))
            .collect();
        let first_name = first.path().to_string_lossy().into_owned();
        assert_eq!(origins, [(first_name.as_str(), Some(3))]);
        assert_eq!((gathered.resumed, gathered.other_shards), (0, 0));
    }

    #[test]
    fn each_listed_domain_keeps_the_line_it_was_read_from() {
        let list = temp_file(b"# audited daily\nc.example\n\nA.example # duplicate\nd.example\n");
        let gathered = gather(&args(&["a.example"], &[list.path()])).unwrap();
        assert_eq!(gathered.domains, ["a.example", "c.example", "d.example"]);
        let path = location_path(list.path(), None);
        let lines: Vec<Option<(&str, usize)>> = gathered
            .locations
            .iter()
            .map(|location| location.as_ref().map(|at| (&*at.path, at.line)))
            .collect();
        // The argument came first, so a.example has no line; the duplicate on line 4 is dropped.
        assert_eq!(
            lines,
            [None, Some((path.as_str(), 2)), Some((path.as_str(), 5))]
        );
    }

    #[test]
    fn location_paths_are_relative_to_the_working_directory_below_it() {
        let cwd = Path::new("/work/repo");
        let cases = [
            ("domains.txt", "domains.txt"),
            ("./lists/./gov.txt", "lists/gov.txt"),
            ("../other/list.txt", "../other/list.txt"),
            ("/work/repo/lists/gov.txt", "lists/gov.txt"),
            ("/elsewhere/list.txt", "/elsewhere/list.txt"),
        ];
        for (given, shown) in cases {
            assert_eq!(location_path(Path::new(given), Some(cwd)), shown, "{given}");
        }
        assert_eq!(
            location_path(Path::new("/work/repo/a.txt"), None),
            "/work/repo/a.txt"
        );
    }

    #[test]
    fn gather_applies_shard_then_resume() {
        let list = generated_names(200, 7)
            .iter()
            .map(DomainName::as_str)
            .collect::<Vec<_>>()
            .join("\n");
        let file = temp_file(list.as_bytes());
        let all = dedup(generated_names(200, 7));
        let shard = Shard::new(1, 3).unwrap();
        let mine: Vec<&DomainName> = all.iter().filter(|name| shard.contains(name)).collect();
        assert!(mine.len() > 2);
        // Two of this shard's names are done, and one of another shard's (not counted).
        let other = all.iter().find(|name| !shard.contains(name)).unwrap();
        let resume = temp_file(
            format!(
                "{{\"domain\":\"{}\"}}\n{{\"domain\":\"{}\"}}\n{{\"domain\":\"{other}\"}}\n{{\"dom",
                mine[0], mine[1]
            )
            .as_bytes(),
        );
        let mut input = args(&[], &[file.path()]);
        input.shard = Some("1/3".to_owned());
        input.resume = Some(resume.path().to_path_buf());
        let gathered = gather(&input).unwrap();
        let expected: Vec<DomainName> = mine[2..].iter().map(|name| (*name).clone()).collect();
        assert_eq!(gathered.domains, expected);
        assert_eq!(gathered.other_shards, all.len() - mine.len());
        assert_eq!(gathered.resumed, 2);
        assert_eq!(gathered.resume_unparsed_lines, 1);
    }

    #[test]
    fn an_empty_shard_or_a_finished_list_is_a_normal_empty_run() {
        let name = "a.example";
        let count = 2;
        let elsewhere = 1 - fnv1a64(name.as_bytes()) % count;
        let mut input = args(&[name], &[]);
        input.shard = Some(format!("{elsewhere}/{count}"));
        let gathered = gather(&input).unwrap();
        assert_eq!((gathered.domains.len(), gathered.other_shards), (0, 1));

        let resume = temp_file(b"{\"domain\":\"a.example\"}\n");
        let mut input = args(&[name], &[]);
        input.resume = Some(resume.path().to_path_buf());
        let gathered = gather(&input).unwrap();
        assert_eq!((gathered.domains.len(), gathered.resumed), (0, 1));
    }

    #[test]
    fn gather_stops_on_what_makes_the_input_unusable() {
        let invalid = temp_file(b"# only bad names\nlocalhost\nex ample.com\n");
        let err = gather(&args(&[], &[invalid.path()])).unwrap_err();
        let no_valid = err.downcast_ref::<NoValidDomain>().unwrap();
        assert_eq!(no_valid.errors.len(), 2);
        let message = format!("{err:#}");
        assert!(
            message.starts_with("no valid domain given; 2 input errors:"),
            "{message}"
        );
        assert!(message.contains(":3: \"ex ample.com\""), "{message}");

        let message = format!(
            "{:#}",
            gather(&args(&["a.example", "a\x1b"], &[])).unwrap_err()
        );
        assert!(
            message.starts_with("invalid domain \"a\\x1B\": `\\x1B` is not allowed"),
            "{message}"
        );

        let empty = temp_file(b"# nothing\n\n");
        let message = format!("{:#}", gather(&args(&[], &[empty.path()])).unwrap_err());
        assert_eq!(message, "no valid domain given (the lists hold no names)");

        let missing = Path::new("/nonexistent/mtasts-input-test.txt");
        let message = format!(
            "{:#}",
            gather(&args(&["a.example"], &[missing])).unwrap_err()
        );
        assert!(
            message.starts_with("cannot read the domain list /nonexistent/mtasts-input-test.txt:"),
            "{message}"
        );

        let mut input = args(&["a.example"], &[]);
        input.shard = Some("4/4".to_owned());
        let message = format!("{:#}", gather(&input).unwrap_err());
        assert!(
            message.starts_with("--shard: shard 4 does not exist"),
            "{message}"
        );

        let mut input = args(&["a.example"], &[]);
        input.resume = Some(missing.to_path_buf());
        let message = format!("{:#}", gather(&input).unwrap_err());
        assert!(
            message.starts_with("cannot read the --resume file /nonexistent/"),
            "{message}"
        );

        let too_many = temp_file(&b"#\n".repeat(ListLimits::DEFAULT.max_lines + 1));
        let message = format!(
            "{:#}",
            gather(&args(&["a.example"], &[too_many.path()])).unwrap_err()
        );
        assert!(
            message.contains("1000001 lines (at most 1000000)"),
            "{message}"
        );
    }
}
