//! The policy file (RFC 8461 §3.2), parsed strictly, with line numbers.
//!
//! The body is checked against the §3.2 ABNF (string literals are case-sensitive `%s` tokens,
//! RFC 7405). Every departure becomes a [`Problem`] whose evidence names the 1-based line and shows
//! the escaped raw line; where a widely deployed sender treats the input differently (digest §8)
//! the summary says so. To report each mistake once, the parser then reads past it the way a
//! lenient sender would (a BOM is dropped, a bare CR ends a line, surrounding blanks are trimmed),
//! but anything it read past still makes the policy invalid.

use std::collections::{HashMap, HashSet};

use super::mx_pattern::MxPattern;
use crate::catalog::{CheckFlag, CheckId};
use crate::escape::escape_bytes;
use crate::model::Problem;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Testing,
    None,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Testing => "testing",
            Self::None => "none",
        }
    }
}

/// The fields found; with `valid == false` a strict sender rejects the policy as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// The value of the first `version` field, escaped, whatever it says.
    pub version: Option<String>,
    /// The first `mode` field, if its value is valid.
    pub mode: Option<Mode>,
    /// The first `max_age` field, if its value is valid.
    pub max_age: Option<u64>,
    /// Every valid `mx` value, in file order.
    pub mx: Vec<MxPattern>,
    /// Fields the RFC does not define, with their 1-based line numbers (key and value escaped).
    pub extensions: Vec<(usize, String, String)>,
    pub valid: bool,
}

/// The keys RFC 8461 §3.2 defines, spelt as the `%s` literals of its grammar.
pub const KNOWN_KEYS: [&str; 4] = ["version", "mode", "mx", "max_age"];

/// Largest `max_age` (RFC 8461 §3.2, one year; errata 7282 on the 10-digit grammar).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// `sts-policy-ext-name` is one alphanumeric and up to 31 more characters.
const EXT_NAME_MAX: usize = 32;
/// Bytes of a line shown in evidence; a 64 KiB line would drown the report.
const EVIDENCE_LINE_BYTES: usize = 200;
/// Lines listed as evidence of one file-wide problem.
const EVIDENCE_LINES: usize = 10;
/// Problems of one check reported line by line before the rest are summed up.
const PROBLEMS_PER_CHECK: usize = 20;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether the body is an HTML page (a catch-all web app, a login or error page served with 200)
/// rather than a policy (POL-20).
pub fn looks_like_html(body: &[u8]) -> bool {
    let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    let start = body
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(body.len());
    if body[start..].starts_with(b"<") {
        return true;
    }
    let lower = body.to_ascii_lowercase();
    contains(&lower, b"<html") || contains(&lower, b"<!doctype")
}

/// Parses a policy body and reports every problem of the `policy.*` RFC checks.
pub fn parse_policy(body: &[u8]) -> (Policy, Vec<Problem>) {
    let mut policy = Policy::default();
    if looks_like_html(body) {
        let first = split_lines(body).into_iter().next();
        let mut problem = Problem::new(
            CheckId::PolicySyntax,
            "the body is an HTML page, not a policy: the web server answers this URL with a page of its own",
        );
        if let Some(line) = first {
            problem = problem.with(line.label(), line.shown());
        }
        return (policy, vec![problem]);
    }

    let mut problems = Vec::new();
    let mut bom = false;
    let text = match body.strip_prefix(UTF8_BOM) {
        Some(rest) => {
            bom = true;
            rest
        }
        None => body,
    };
    let lines = split_lines(text);
    if bom {
        let mut problem = Problem::new(
            CheckId::PolicyBom,
            "the policy starts with a UTF-8 byte-order mark: the first key then starts with U+FEFF, so strict senders see no valid first field and reject the policy, and lenient ones lose that field",
        );
        if let Some(first) = lines.first() {
            problem = problem.with(first.label(), format!("\\u{{feff}}{}", first.shown()));
        }
        problems.push(problem);
    }

    check_encoding_and_layout(&lines, &mut problems);

    let mut fields = Fields {
        first_line: lines.first().copied(),
        ..Fields::default()
    };
    for line in &lines {
        read_line(line, &mut fields, &mut problems);
    }
    if fields.count == 0 {
        let mut problem = Problem::new(CheckId::PolicySyntax, "the policy has no fields at all");
        if let Some(first) = lines.first() {
            problem = problem.with(first.label(), first.shown());
        }
        problems.push(problem);
    }

    judge_version(&fields, &mut policy, &mut problems);
    judge_mode(&fields, &mut policy, &mut problems);
    judge_max_age(&fields, &mut policy, &mut problems);
    judge_mx(&fields, &mut policy, &mut problems);
    judge_duplicates(&fields, &mut problems);
    judge_extensions(&fields, &mut policy, &mut problems);

    let problems = cap_problems(problems);
    policy.valid = !problems
        .iter()
        .any(|problem| problem.check.spec().has(CheckFlag::Rejects));
    (policy, problems)
}

// ---- Lines ----

/// How a line ends (RFC 8461 §3.2 `sts-policy-term = LF / CRLF`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Lf,
    CrLf,
    /// A CR not followed by LF: not a line end in the grammar.
    BareCr,
    /// The last line, without a terminator (allowed).
    Eof,
}

#[derive(Clone, Copy, Debug)]
struct Line<'a> {
    /// 1-based.
    number: usize,
    /// Without the line end.
    content: &'a [u8],
    ending: Ending,
}

impl Line<'_> {
    fn label(&self) -> String {
        format!("line {}", self.number)
    }

    /// The raw line, escaped, with its CR (if any) so that CRLF and bare CR show; long lines cut.
    fn shown(&self) -> String {
        let cut = utf8_cut(self.content, EVIDENCE_LINE_BYTES);
        let mut shown = escape_bytes(&self.content[..cut]);
        if cut < self.content.len() {
            shown.push_str(&format!("… ({} bytes in all)", self.content.len()));
        }
        if matches!(self.ending, Ending::CrLf | Ending::BareCr) {
            shown.push_str("\\r");
        }
        shown
    }

    fn is_blank(&self) -> bool {
        self.content.iter().all(|&byte| is_wsp(byte))
    }
}

/// Splits at LF, CRLF and (so that one mistake is reported once) bare CR.
fn split_lines(body: &[u8]) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut index = 0;
    while index < body.len() {
        let ending = match body[index] {
            b'\n' => Some((Ending::Lf, 1)),
            b'\r' if body.get(index + 1) == Some(&b'\n') => Some((Ending::CrLf, 2)),
            b'\r' => Some((Ending::BareCr, 1)),
            _ => None,
        };
        if let Some((ending, width)) = ending {
            lines.push(Line {
                number: lines.len() + 1,
                content: &body[start..index],
                ending,
            });
            index += width;
            start = index;
        } else {
            index += 1;
        }
    }
    if start < body.len() {
        lines.push(Line {
            number: lines.len() + 1,
            content: &body[start..],
            ending: Ending::Eof,
        });
    }
    lines
}

/// UTF-8, line ends, blank lines and trailing whitespace: properties of the file as a whole.
fn check_encoding_and_layout(lines: &[Line<'_>], problems: &mut Vec<Problem>) {
    problems.extend(
        [
            utf8_problem(lines),
            bare_cr_problem(lines),
            crlf_problem(lines),
            blank_lines_problem(lines),
            trailing_whitespace_problem(lines),
        ]
        .into_iter()
        .flatten(),
    );
}

/// Lines that are not UTF-8.
fn utf8_problem(lines: &[Line<'_>]) -> Option<Problem> {
    let not_utf8: Vec<&Line<'_>> = lines
        .iter()
        .filter(|line| std::str::from_utf8(line.content).is_err())
        .collect();
    if not_utf8.is_empty() {
        return None;
    }
    Some(lines_problem(
        CheckId::PolicyUtf8,
        format!(
            "{} not valid UTF-8 (shown as \\xNN): senders that decode the body as UTF-8 reject the policy",
            describe_lines(&not_utf8, "is", "are")
        ),
        &not_utf8,
    ))
}

/// Lines ending in a bare CR, which the grammar does not take for a line end.
fn bare_cr_problem(lines: &[Line<'_>]) -> Option<Problem> {
    let bare_cr: Vec<&Line<'_>> = lines
        .iter()
        .filter(|line| line.ending == Ending::BareCr)
        .collect();
    if bare_cr.is_empty() {
        return None;
    }
    Some(lines_problem(
        CheckId::PolicyLineEndings,
        format!(
            "{} in a bare CR, which is not a line end in the policy grammar: go-mtasts reads one long line, only postfix-mta-sts-resolver accepts it (the other checks here read CR as a line end)",
            describe_lines(&bare_cr, "ends", "end")
        ),
        &bare_cr,
    ))
}

/// LF line ends, alone or mixed with CRLF: valid, but NCSC asks for CRLF.
fn crlf_problem(lines: &[Line<'_>]) -> Option<Problem> {
    let lf: Vec<&Line<'_>> = lines
        .iter()
        .filter(|line| line.ending == Ending::Lf)
        .collect();
    let crlf: Vec<&Line<'_>> = lines
        .iter()
        .filter(|line| line.ending == Ending::CrLf)
        .collect();
    if lf.is_empty() {
        return None;
    }
    let summary = if crlf.is_empty() {
        "lines end in LF, not CRLF: valid (RFC 8461 §3.2 allows LF or CRLF; errata 6253) and accepted by every inspected sender, but NCSC asks for CRLF".to_owned()
    } else {
        format!(
            "mixed line endings: {} lines end in CRLF and {} in bare LF; valid, but NCSC asks for CRLF throughout",
            crlf.len(),
            lf.len()
        )
    };
    let mut problem = Problem::new(CheckId::PolicyCrlf, summary);
    for line in crlf.iter().take(1).chain(lf.iter().take(1)) {
        problem = problem.with(line.label(), line.shown());
    }
    Some(problem)
}

/// Blank lines, which the grammar does not have.
fn blank_lines_problem(lines: &[Line<'_>]) -> Option<Problem> {
    let blank: Vec<&Line<'_>> = lines.iter().filter(|line| line.is_blank()).collect();
    if blank.is_empty() {
        return None;
    }
    let at_end = blank
        .iter()
        .rev()
        .zip(lines.iter().rev())
        .all(|(blank, line)| blank.number == line.number);
    let place = if at_end {
        " (a second line break after the last field)"
    } else {
        ""
    };
    Some(lines_problem(
        CheckId::PolicyBlankLines,
        format!(
            "{} blank{place}: the grammar has no blank lines, so mox and go-mtasts reject the policy (postfix-mta-sts-resolver, Stalwart, chasquid and mailauth skip them)",
            describe_lines(&blank, "is", "are")
        ),
        &blank,
    ))
}

/// Trailing whitespace: valid, but NCSC asks for none.
fn trailing_whitespace_problem(lines: &[Line<'_>]) -> Option<Problem> {
    let trailing: Vec<&Line<'_>> = lines
        .iter()
        .filter(|line| !line.is_blank() && line.content.last().is_some_and(|&b| is_wsp(b)))
        .collect();
    if trailing.is_empty() {
        return None;
    }
    Some(lines_problem(
        CheckId::PolicyTrailingWhitespace,
        format!(
            "{} trailing whitespace: valid (the grammar allows it), but NCSC asks for no extra spaces",
            describe_lines(&trailing, "has", "have")
        ),
        &trailing,
    ))
}

// ---- Fields ----

/// One `key: value` line, with blanks around the delimiter already dealt with.
#[derive(Clone, Debug)]
struct Field<'a> {
    line: Line<'a>,
    key: &'a [u8],
    value: &'a [u8],
}

impl Field<'_> {
    fn value_text(&self) -> String {
        escape_bytes(self.value)
    }
}

/// The fields of the policy, by key, in file order.
#[derive(Default)]
struct Fields<'a> {
    /// Lines that held a field (valid or not); 0 means the policy is empty.
    count: usize,
    /// Line 1 of the file, for evidence.
    first_line: Option<Line<'a>>,
    version: Vec<Field<'a>>,
    mode: Vec<Field<'a>>,
    max_age: Vec<Field<'a>>,
    mx: Vec<Field<'a>>,
    /// Well-formed extension fields, in file order.
    extensions: Vec<Field<'a>>,
    /// Keys that look like a known key: (known key, field, why).
    misspelt: Vec<(&'static str, Field<'a>, String)>,
}

impl<'a> Fields<'a> {
    fn all(&self) -> impl Iterator<Item = &Field<'a>> {
        self.version
            .iter()
            .chain(&self.mode)
            .chain(&self.max_age)
            .chain(&self.mx)
            .chain(&self.extensions)
    }

    fn misspellings_of(&self, known: &str) -> Vec<&(&'static str, Field<'a>, String)> {
        self.misspelt
            .iter()
            .filter(|(key, _, _)| *key == known)
            .collect()
    }
}

/// Reads one line into `fields`, reporting what is wrong with its layout and key.
fn read_line<'a>(line: &Line<'a>, fields: &mut Fields<'a>, problems: &mut Vec<Problem>) {
    if line.is_blank() {
        return; // Reported as a blank line.
    }
    fields.count += 1;
    let Some((key, value)) = key_and_value(line, problems) else {
        return;
    };
    let field = Field {
        line: *line,
        key,
        value,
    };
    if let Some(slot) = match key {
        b"version" => Some(&mut fields.version),
        b"mode" => Some(&mut fields.mode),
        b"max_age" => Some(&mut fields.max_age),
        b"mx" => Some(&mut fields.mx),
        _ => None,
    } {
        slot.push(field);
        return;
    }
    read_other_field(field, fields, problems);
}

/// The key and value of a `key: value` line, reporting whitespace where the grammar has none
/// and a line without `:`.
fn key_and_value<'a>(line: &Line<'a>, problems: &mut Vec<Problem>) -> Option<(&'a [u8], &'a [u8])> {
    let leading = line.content.iter().take_while(|&&b| is_wsp(b)).count();
    if leading > 0 {
        problems.push(
            Problem::new(
                CheckId::PolicyWhitespace,
                format!(
                    "line {} starts with whitespace: a field must start the line; Stalwart, chasquid and mailauth trim it, the other senders do not see the key",
                    line.number
                ),
            )
            .with(line.label(), line.shown()),
        );
    }
    let rest = &line.content[leading..];
    let Some(colon) = rest.iter().position(|&b| b == b':') else {
        let first_word: Vec<u8> = rest.iter().copied().take_while(|&b| !is_wsp(b)).collect();
        let hint = match known_key(&first_word) {
            Some(known) => format!(": write `{known}: value`"),
            None => String::new(),
        };
        problems.push(
            Problem::new(
                CheckId::PolicySyntax,
                format!(
                    "line {} has no `:`, so it is not a `key: value` field{hint}",
                    line.number
                ),
            )
            .with(line.label(), line.shown()),
        );
        return None;
    };
    let raw_key = &rest[..colon];
    let key = trim_end_wsp(raw_key);
    if key.len() < raw_key.len() && !key.is_empty() {
        problems.push(
            Problem::new(
                CheckId::PolicyWhitespace,
                format!(
                    "line {} has whitespace between the key `{}` and `:`: strict senders do not see the key; Stalwart, chasquid and mailauth trim it",
                    line.number,
                    escape_bytes(key)
                ),
            )
            .with(line.label(), line.shown()),
        );
    }
    // `sts-policy-field-delim = ":" *WSP` takes any blanks after the colon; blanks after the value
    // are the record's `*WSP` (reported as trailing whitespace).
    let value = trim_end_wsp(trim_start_wsp(&rest[colon + 1..]));
    Some((key, value))
}

/// A field that is not one of the four the policy defines: a misspelling of one, or an
/// extension, which must be well formed.
fn read_other_field<'a>(field: Field<'a>, fields: &mut Fields<'a>, problems: &mut Vec<Problem>) {
    let (line, key, value) = (field.line, field.key, field.value);
    let misspelling = misspelt_key(key);
    if let Some((known, why)) = &misspelling {
        problems.push(
            Problem::new(
                CheckId::PolicyMisspelledKey,
                format!(
                    "line {}: {why}, and senders ignore a key that is not spelt exactly, so this line does not count as `{known}`: did you mean `{known}`?",
                    line.number
                ),
            )
            .with(line.label(), line.shown()),
        );
        fields.misspelt.push((known, field.clone(), why.clone()));
    }
    match ext_name_error(key) {
        Some(error) => problems.push(
            Problem::new(
                CheckId::PolicySyntax,
                format!("line {} is not a valid field: {error}", line.number),
            )
            .with(line.label(), line.shown()),
        ),
        None => match ext_value_error(value) {
            Some(error) => problems.push(
                Problem::new(
                    CheckId::PolicySyntax,
                    format!(
                        "line {}: the value of `{}` {error}",
                        line.number,
                        escape_bytes(key)
                    ),
                )
                .with(line.label(), line.shown()),
            ),
            None => fields.extensions.push(field),
        },
    }
}

/// What is wrong with a key that is not one of the four defined ones, as an `sts-policy-ext-name`.
fn ext_name_error(key: &[u8]) -> Option<String> {
    let shown = escape_bytes(key);
    let first = match key.first() {
        None => return Some("there is no key before the `:`".into()),
        Some(&first) => first,
    };
    if key.iter().any(|&b| is_wsp(b)) {
        return Some(format!(
            "the key `{shown}` contains whitespace, which no key may (the line is not even an extension)"
        ));
    }
    if !first.is_ascii_alphanumeric() {
        return Some(format!(
            "the key `{shown}` starts with `{}`; keys start with a letter or digit",
            escape_bytes(&key[..utf8_char_len(key)])
        ));
    }
    if let Some(position) = key
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
    {
        let len = utf8_char_len(&key[position..]);
        return Some(format!(
            "the key `{shown}` contains `{}`; keys have only letters, digits, `_`, `-` and `.`",
            escape_bytes(&key[position..position + len])
        ));
    }
    if key.len() > EXT_NAME_MAX {
        return Some(format!(
            "the key `{shown}` is {} characters long, more than {EXT_NAME_MAX} (mox rejects such a policy)",
            key.len()
        ));
    }
    None
}

/// What is wrong with an extension value (`sts-policy-ext-value`), blanks already trimmed.
fn ext_value_error(value: &[u8]) -> Option<String> {
    if value.is_empty() {
        return Some("is empty; an extension needs a value".into());
    }
    // Bytes >= 0x80 are UTF-8, judged by `policy.utf8`; tabs and controls are not allowed inside.
    value.iter().find(|&&b| b < 0x20 || b == 0x7f).map(|&b| {
        format!(
            "contains the control character `{}`; only visible characters and spaces are allowed",
            escape_bytes(&[b])
        )
    })
}

// ---- The four defined fields ----

fn judge_version(fields: &Fields<'_>, policy: &mut Policy, problems: &mut Vec<Problem>) {
    let Some(first) = fields.version.first() else {
        let mut problem = Problem::new(
            CheckId::PolicyVersion,
            format!(
                "the policy has no `version` field{}; Stalwart does not need it, every other sender rejects the policy",
                misspelling_hint(fields, "version")
            ),
        );
        for (_, field, _) in fields.misspellings_of("version") {
            problem = problem.with(field.line.label(), field.line.shown());
        }
        problems.push(problem);
        return;
    };
    policy.version = Some(first.value_text());
    if first.line.number != 1 {
        problems.push(
            Problem::new(
                CheckId::PolicyVersionFirst,
                format!(
                    "`version` is on line {}, not the first line: the RFC puts no order on fields, but Google's help and NCSC say `version` must come first",
                    first.line.number
                ),
            )
            .with("line 1", fields.first_line.map(|line| line.shown()).unwrap_or_default())
            .with(first.line.label(), first.line.shown()),
        );
    }
    if first.value != b"STSv1" {
        let why = if first.value.eq_ignore_ascii_case(b"STSv1") {
            "the value is case-sensitive".to_owned()
        } else {
            format!(
                "it must be exactly `STSv1`{}",
                embedded_field_hint(first.value)
            )
        };
        problems.push(
            Problem::new(
                CheckId::PolicyVersion,
                format!(
                    "line {}: `version: {}` is not `version: STSv1`: {why}",
                    first.line.number,
                    first.value_text()
                ),
            )
            .with(first.line.label(), first.line.shown()),
        );
    }
}

fn judge_mode(fields: &Fields<'_>, policy: &mut Policy, problems: &mut Vec<Problem>) {
    let Some(first) = fields.mode.first() else {
        let mut problem = Problem::new(
            CheckId::PolicyMode,
            format!(
                "the policy has no `mode` field{}; Stalwart and mailauth then act as if mode were none, every other sender rejects the policy",
                misspelling_hint(fields, "mode")
            ),
        );
        for (_, field, _) in fields.misspellings_of("mode") {
            problem = problem.with(field.line.label(), field.line.shown());
        }
        problems.push(problem);
        return;
    };
    let mode = match first.value {
        b"enforce" => Some(Mode::Enforce),
        b"testing" => Some(Mode::Testing),
        b"none" => Some(Mode::None),
        _ => None,
    };
    policy.mode = mode;
    if mode.is_some() {
        return;
    }
    let lower = first.value.to_ascii_lowercase();
    let why = if matches!(lower.as_slice(), b"enforce" | b"testing" | b"none") {
        format!(
            "the value is case-sensitive (write `{}`); mailauth lower-cases it, every other sender rejects the policy",
            escape_bytes(&lower)
        )
    } else if first.value.is_empty() {
        "the value is empty; write `enforce`, `testing` or `none`".to_owned()
    } else {
        format!(
            "the value must be `enforce`, `testing` or `none`{}",
            embedded_field_hint(first.value)
        )
    };
    problems.push(
        Problem::new(
            CheckId::PolicyMode,
            format!(
                "line {}: `mode: {}` is not a valid mode: {why}",
                first.line.number,
                first.value_text()
            ),
        )
        .with(first.line.label(), first.line.shown()),
    );
}

fn judge_max_age(fields: &Fields<'_>, policy: &mut Policy, problems: &mut Vec<Problem>) {
    let Some(first) = fields.max_age.first() else {
        let mut problem = Problem::new(
            CheckId::PolicyMaxAge,
            format!(
                "the policy has no `max_age` field{}; senders reject a policy without it",
                misspelling_hint(fields, "max_age")
            ),
        );
        for (_, field, _) in fields.misspellings_of("max_age") {
            problem = problem.with(field.line.label(), field.line.shown());
        }
        problems.push(problem);
        return;
    };
    let value = first.value;
    let error = if value.is_empty() {
        Some("the value is empty".to_owned())
    } else if !value.iter().all(u8::is_ascii_digit) {
        let lenient = if value.len() > 1
            && matches!(value[0], b'+' | b'0'..=b'9')
            && value[1..].iter().all(|&b| b.is_ascii_digit() || b == b'_')
            && value.last().is_some_and(u8::is_ascii_digit)
            && value.get(1) != Some(&b'_')
            && !contains(value, b"__")
        {
            " (postfix-mta-sts-resolver accepts it through Python's int(), other senders reject the policy)"
        } else {
            ""
        };
        Some(format!(
            "the value must be digits only, no sign, separator, unit or decimal point{lenient}{}",
            embedded_field_hint(value)
        ))
    } else if value.len() > 10 {
        Some(format!(
            "the value has {} digits, more than 10 (and at most {MAX_AGE_LIMIT} is allowed)",
            value.len()
        ))
    } else {
        // At most 10 ASCII digits always fit in a u64.
        let seconds = std::str::from_utf8(value)
            .ok()
            .and_then(|text| text.parse::<u64>().ok());
        match seconds {
            Some(seconds) if seconds <= MAX_AGE_LIMIT => {
                policy.max_age = Some(seconds);
                None
            }
            Some(seconds) => Some(format!(
                "{seconds} is more than {MAX_AGE_LIMIT} (one year, RFC 8461 §3.2): postfix-mta-sts-resolver, chasquid and mailauth reject the policy, mox and go-mtasts accept it, Stalwart caches it for a day"
            )),
            None => Some("the value is not a number".to_owned()),
        }
    };
    if let Some(error) = error {
        problems.push(
            Problem::new(
                CheckId::PolicyMaxAge,
                format!(
                    "line {}: `max_age: {}` is not valid: {error}",
                    first.line.number,
                    first.value_text()
                ),
            )
            .with(first.line.label(), first.line.shown()),
        );
    }
}

fn judge_mx(fields: &Fields<'_>, policy: &mut Policy, problems: &mut Vec<Problem>) {
    for field in &fields.mx {
        let parsed = std::str::from_utf8(field.value)
            .map_err(|_| "the value is not valid UTF-8".to_owned())
            .and_then(MxPattern::parse);
        match parsed {
            Ok(pattern) => policy.mx.push(pattern),
            Err(error) => problems.push(
                Problem::new(
                    CheckId::PolicyMxSyntax,
                    format!("line {}: {error}", field.line.number),
                )
                .with(field.line.label(), field.line.shown()),
            ),
        }
    }
    if !policy.mx.is_empty() {
        return;
    }
    let invalid = if fields.mx.is_empty() {
        String::new()
    } else {
        format!(
            " ({} `mx` line{} invalid, see policy.mx-syntax)",
            fields.mx.len(),
            if fields.mx.len() == 1 { " is" } else { "s are" }
        )
    };
    match policy.mode {
        Some(mode @ (Mode::Enforce | Mode::Testing)) => {
            let mut problem = Problem::new(
                CheckId::PolicyMx,
                format!(
                    "the policy has no valid `mx` field{invalid}{}, but mode `{}` requires at least one",
                    misspelling_hint(fields, "mx"),
                    mode.as_str()
                ),
            );
            for field in &fields.mx {
                problem = problem.with(field.line.label(), field.line.shown());
            }
            for (_, field, _) in fields.misspellings_of("mx") {
                problem = problem.with(field.line.label(), field.line.shown());
            }
            problems.push(problem);
        }
        Some(Mode::None) => problems.push(Problem::new(
            CheckId::PolicyMxInNoneMode,
            format!(
                "the `mode: none` policy has no valid `mx` field{invalid}: valid, but Stalwart and chasquid reject it, so it cannot replace a cached enforce policy there"
            ),
        )),
        None => {} // Without a mode the rule cannot be applied; the verdict skips it.
    }
}

/// `version`, `mode`, `max_age` and extensions may appear once each; the first one counts.
fn judge_duplicates(fields: &Fields<'_>, problems: &mut Vec<Problem>) {
    let mut groups: Vec<(String, Vec<&Field<'_>>)> = Vec::new();
    for (key, list) in [
        ("version", &fields.version),
        ("mode", &fields.mode),
        ("max_age", &fields.max_age),
    ] {
        if list.len() > 1 {
            groups.push((key.to_owned(), list.iter().collect()));
        }
    }
    for (key, same) in group_by_key(&fields.extensions) {
        if same.len() > 1 {
            groups.push((escape_bytes(key), same));
        }
    }
    for (key, list) in groups {
        let (Some(first), Some(last)) = (list.first(), list.last()) else {
            continue;
        };
        let effect = if first.value == last.value {
            String::new()
        } else {
            format!(
                ": a strict sender (and mox) uses `{}`, while postfix-mta-sts-resolver, Stalwart, go-mtasts, chasquid and mailauth use `{}`",
                first.value_text(),
                last.value_text()
            )
        };
        let mut problem = Problem::new(
            CheckId::PolicyDuplicateField,
            format!(
                "`{key}` appears {} times; RFC 8461 §3.2 says the first counts, but most senders use the last{effect}",
                list.len()
            ),
        );
        for field in list {
            problem = problem.with(field.line.label(), field.line.shown());
        }
        problems.push(problem);
    }
}

fn judge_extensions(fields: &Fields<'_>, policy: &mut Policy, problems: &mut Vec<Problem>) {
    for field in &fields.extensions {
        policy.extensions.push((
            field.line.number,
            escape_bytes(field.key),
            field.value_text(),
        ));
    }
    // Sets, not scans: a 64 KiB policy of distinct keys took quadratic time.
    let misspelt: HashSet<usize> = fields
        .misspelt
        .iter()
        .map(|(_, field, _)| field.line.number)
        .collect();
    for (key, same) in group_by_key(&fields.extensions) {
        // A key is reported from its first line that is not a misspelling of a known key.
        if same
            .iter()
            .all(|field| misspelt.contains(&field.line.number))
        {
            continue;
        }
        let colon = if same.iter().any(|other| other.value.contains(&b':')) {
            "; its value contains `:`, and go-mtasts (maddy) rejects the whole policy for a line with a second `:`"
        } else {
            ""
        };
        let mut problem = Problem::new(
            CheckId::PolicyExtension,
            format!(
                "`{}` is not a field RFC 8461 defines: senders ignore it{colon}",
                escape_bytes(key)
            ),
        );
        for other in same {
            problem = problem.with(other.line.label(), other.line.shown());
        }
        problems.push(problem);
    }
}

/// The fields grouped by key, groups in order of first appearance, fields in file order; linear,
/// so that a hostile policy of thousands of distinct keys costs no more than a plain one.
fn group_by_key<'f, 'a>(fields: &'f [Field<'a>]) -> Vec<(&'a [u8], Vec<&'f Field<'a>>)> {
    let mut index: HashMap<&'a [u8], usize> = HashMap::new();
    let mut groups: Vec<(&'a [u8], Vec<&'f Field<'a>>)> = Vec::new();
    for field in fields {
        let slot = *index.entry(field.key).or_insert_with(|| {
            groups.push((field.key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(field);
    }
    groups
}

// ---- Misspelt keys ----

/// The defined key `key` resembles, and why, when it is not one itself.
fn misspelt_key(key: &[u8]) -> Option<(&'static str, String)> {
    if key.len() < 2 || !key.is_ascii() || key.len() > 40 {
        return None;
    }
    let shown = escape_bytes(key);
    let lower = key.to_ascii_lowercase();
    if let Some(known) = KNOWN_KEYS.iter().find(|known| known.as_bytes() == lower) {
        return Some((
            known,
            format!("`{shown}` looks like `{known}` in the wrong case (keys are case-sensitive)"),
        ));
    }
    let normalised: Vec<u8> = lower
        .iter()
        .map(|&b| {
            if matches!(b, b' ' | b'\t' | b'-') {
                b'_'
            } else {
                b
            }
        })
        .collect();
    if let Some(known) = KNOWN_KEYS
        .iter()
        .find(|known| known.as_bytes() == normalised)
    {
        return Some((
            known,
            format!("`{shown}` looks like `{known}` with a space or `-` instead of `_`"),
        ));
    }
    let (known, distance) = KNOWN_KEYS
        .iter()
        .map(|known| (*known, edit_distance(&normalised, known.as_bytes())))
        .min_by_key(|(_, distance)| *distance)?;
    // Two edits on a two-letter key would match almost any short key.
    let limit = if known.len() <= 2 { 1 } else { 2 };
    (distance <= limit).then(|| {
        (
            known,
            format!("`{shown}` looks like a misspelling of `{known}`"),
        )
    })
}

/// A defined key, exactly, for hints on lines without a colon.
fn known_key(word: &[u8]) -> Option<&'static str> {
    KNOWN_KEYS
        .iter()
        .copied()
        .find(|known| known.as_bytes() == word)
}

fn misspelling_hint(fields: &Fields<'_>, known: &str) -> String {
    if let Some((_, field, _)) = fields.misspellings_of(known).first() {
        return format!(
            " (line {} has `{}` instead: did you mean `{known}`?)",
            field.line.number,
            escape_bytes(field.key)
        );
    }
    // `version: STSv1 mode: enforce`: the field is there, inside another field's value.
    let needle = format!("{known}:");
    fields
        .all()
        .find(|field| contains(&field.value.to_ascii_lowercase(), needle.as_bytes()))
        .map(|field| {
            format!(
                " (line {} holds `{needle}` inside the value of `{}`: put each field on its own line)",
                field.line.number,
                escape_bytes(field.key)
            )
        })
        .unwrap_or_default()
}

/// Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    for (i, row) in table.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1)
                .min(table[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[a.len() * width + b.len()]
}

/// A hint when a value holds another field (`version: STSv1 mode: enforce` on one line).
fn embedded_field_hint(value: &[u8]) -> String {
    let lower = value.to_ascii_lowercase();
    KNOWN_KEYS
        .iter()
        .find(|known| contains(&lower, format!("{known}:").as_bytes()))
        .map(|known| format!(" (the line also holds `{known}:`: put each field on its own line)"))
        .unwrap_or_default()
}

// ---- Helpers ----

/// One problem for a set of lines, listing the first few as evidence.
fn lines_problem(check: CheckId, summary: String, lines: &[&Line<'_>]) -> Problem {
    let mut problem = Problem::new(check, summary);
    for line in lines.iter().take(EVIDENCE_LINES) {
        problem = problem.with(line.label(), line.shown());
    }
    if lines.len() > EVIDENCE_LINES {
        problem = problem.with(
            "more",
            format!("{} more lines", lines.len() - EVIDENCE_LINES),
        );
    }
    problem
}

/// "line 3 is" / "lines 3, 5 and 9 are" (the list cut after a few).
fn describe_lines(lines: &[&Line<'_>], one: &str, many: &str) -> String {
    let numbers: Vec<String> = lines
        .iter()
        .take(EVIDENCE_LINES)
        .map(|line| line.number.to_string())
        .collect();
    match numbers.as_slice() {
        [single] => format!("line {single} {one}"),
        _ => {
            let more = if lines.len() > EVIDENCE_LINES {
                format!(" and {} more", lines.len() - EVIDENCE_LINES)
            } else {
                String::new()
            };
            format!("lines {}{more} {many}", numbers.join(", "))
        }
    }
}

/// Keeps the first [`PROBLEMS_PER_CHECK`] problems of each check and sums up the rest, so that a
/// 64 KiB file of junk gives a readable report.
fn cap_problems(problems: Vec<Problem>) -> Vec<Problem> {
    let mut kept: Vec<Problem> = Vec::with_capacity(problems.len());
    let mut dropped: Vec<(CheckId, usize)> = Vec::new();
    for problem in problems {
        let count = kept.iter().filter(|p| p.check == problem.check).count();
        if count < PROBLEMS_PER_CHECK {
            kept.push(problem);
        } else if let Some(entry) = dropped
            .iter_mut()
            .find(|(check, _)| *check == problem.check)
        {
            entry.1 += 1;
        } else {
            dropped.push((problem.check, 1));
        }
    }
    for (check, count) in dropped {
        kept.push(Problem::new(
            check,
            format!("{count} more lines have problems of this kind (not listed)"),
        ));
    }
    kept
}

fn is_wsp(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn trim_start_wsp(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().take_while(|&&b| is_wsp(b)).count();
    &bytes[start..]
}

fn trim_end_wsp(bytes: &[u8]) -> &[u8] {
    let end = bytes.len() - bytes.iter().rev().take_while(|&&b| is_wsp(b)).count();
    &bytes[..end]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// The largest cut at or below `max` that does not split a UTF-8 sequence.
fn utf8_cut(bytes: &[u8], max: usize) -> usize {
    if bytes.len() <= max {
        return bytes.len();
    }
    let mut cut = max;
    // Step back over at most three continuation bytes.
    while cut > max.saturating_sub(3) && cut > 0 && (bytes[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    cut
}

/// Length of the (possibly invalid) UTF-8 character at the start of `bytes`, for messages.
fn utf8_char_len(bytes: &[u8]) -> usize {
    let Some(&first) = bytes.first() else {
        return 0;
    };
    let expected = match first {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    };
    let len = expected.min(bytes.len());
    if std::str::from_utf8(&bytes[..len]).is_ok() {
        len
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(problems: &[Problem]) -> Vec<&'static str> {
        let mut ids: Vec<&'static str> = problems.iter().map(|p| p.check.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    const GOOD: &[u8] =
        b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n";

    #[test]
    fn a_perfect_policy_has_no_problems() {
        let (policy, problems) = parse_policy(GOOD);
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(policy.valid);
        assert_eq!(policy.version.as_deref(), Some("STSv1"));
        assert_eq!(policy.mode, Some(Mode::Enforce));
        assert_eq!(policy.max_age, Some(604_800));
        let mx: Vec<String> = policy.mx.iter().map(ToString::to_string).collect();
        assert_eq!(mx, ["mail.example.com", "*.example.net"]);
    }

    #[test]
    fn final_line_end_is_optional_and_trailing_wsp_is_info() {
        let (policy, problems) =
            parse_policy(b"version: STSv1\r\nmode:\tenforce  \r\nmx: a.example\r\nmax_age: 1");
        assert!(policy.valid);
        assert_eq!(checks(&problems), ["policy.trailing-whitespace"]);
    }

    #[test]
    fn each_mistake_is_reported_by_its_check() {
        let base = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 604800\n";
        let cases: &[(&str, &[&str], bool)] = &[
            // (body, expected non-crlf problem ids, valid)
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax age: 604800\n",
                &["policy.max-age", "policy.misspelled-key", "policy.syntax"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax-age: 604800\n",
                &["policy.max-age", "policy.misspelled-key"],
                false,
            ),
            (
                "version: STSv1\nMODE: ENFORCE\nmx: a.example\nmax_age: 604800\n",
                &["policy.misspelled-key", "policy.mode"],
                false,
            ),
            (
                "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 604800\n",
                &["policy.mode"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
                &["policy.max-age"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: +604800\n",
                &["policy.max-age"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 604_800\n",
                &["policy.max-age"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
                &["policy.max-age"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 0604800\n",
                &[],
                true,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557600\n",
                &[],
                true,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 0\n",
                &[],
                true,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmx: b.example\nmax_age: 1\n",
                &[],
                true,
            ),
            (
                "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 1\n",
                &["policy.duplicate-field"],
                true,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example, b.example\nmax_age: 1\n",
                &["policy.mx", "policy.mx-syntax"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example.\nmx: b.example\nmax_age: 1\n",
                &["policy.mx-syntax"],
                false,
            ),
            (
                "version: STSv1\nmode: none\nmax_age: 1\n",
                &["policy.mx-in-none-mode"],
                true,
            ),
            (
                "version: STSv1\nmode: testing\nmax_age: 1\n",
                &["policy.mx"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nfoo: bar\n",
                &["policy.extension"],
                true,
            ),
            (
                "mode: enforce\nversion: STSv1\nmx: a.example\nmax_age: 1\n",
                &["policy.version-first"],
                true,
            ),
            (
                "version: STSv1\n  mode: enforce\nmx: a.example\nmax_age: 1\n",
                &["policy.whitespace"],
                false,
            ),
            (
                "version: STSv1\nmode : enforce\nmx: a.example\nmax_age: 1\n",
                &["policy.whitespace"],
                false,
            ),
            (
                "version: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 1\n",
                &["policy.blank-lines"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n\n",
                &["policy.blank-lines"],
                false,
            ),
            (
                "version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
                &["policy.version"],
                false,
            ),
            (
                "mode: enforce\nmx: a.example\nmax_age: 1\n",
                &["policy.version"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nfoo:\n",
                &["policy.syntax"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nfoo: a\tb\n",
                &["policy.syntax"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n-foo: b\n",
                &["policy.syntax"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nno colon here\n",
                &["policy.syntax"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n: x\n",
                &["policy.syntax"],
                false,
            ),
            (
                "version: STSv1\nmode: enforce\nnmx: a.example\nmax_age: 1\n",
                &["policy.misspelled-key", "policy.mx"],
                false,
            ),
            (
                "",
                &[
                    "policy.max-age",
                    "policy.mode",
                    "policy.syntax",
                    "policy.version",
                ],
                false,
            ),
        ];
        assert!(parse_policy(base.as_bytes()).0.valid);
        for (body, expected, valid) in cases {
            let (policy, problems) = parse_policy(body.as_bytes());
            let problems: Vec<Problem> = problems
                .into_iter()
                .filter(|p| p.check != CheckId::PolicyCrlf)
                .collect();
            assert_eq!(checks(&problems), *expected, "{body:?}: {problems:#?}");
            assert_eq!(policy.valid, *valid, "{body:?}");
        }
    }

    #[test]
    fn evidence_names_the_line_and_shows_its_cr() {
        let (_, problems) =
            parse_policy(b"version: STSv1\r\nmode: enforce\r\nmx: a.example\r\nmax age: 1\r\n");
        let syntax = problems
            .iter()
            .find(|p| p.check == CheckId::PolicySyntax)
            .unwrap();
        assert_eq!(syntax.evidence[0].label, "line 4");
        assert_eq!(syntax.evidence[0].value, "max age: 1\\r");
        let misspelt = problems
            .iter()
            .find(|p| p.check == CheckId::PolicyMisspelledKey)
            .unwrap();
        assert!(
            misspelt.summary.contains("did you mean `max_age`?"),
            "{}",
            misspelt.summary
        );
    }

    #[test]
    fn first_of_a_duplicate_wins() {
        let (policy, problems) = parse_policy(
            b"version: STSv1\nmode: testing\nmode: enforce\nmax_age: 5\nmax_age: 6\nmx: a.example\n",
        );
        assert_eq!(policy.mode, Some(Mode::Testing));
        assert_eq!(policy.max_age, Some(5));
        let duplicates: Vec<&Problem> = problems
            .iter()
            .filter(|p| p.check == CheckId::PolicyDuplicateField)
            .collect();
        assert_eq!(duplicates.len(), 2);
        assert_eq!(duplicates[0].evidence.len(), 2);
        assert!(
            duplicates[0].summary.contains("use `enforce`"),
            "{}",
            duplicates[0].summary
        );
    }

    #[test]
    fn layout_problems() {
        let (policy, problems) =
            parse_policy(b"\xEF\xBB\xBFversion: STSv1\rmode: enforce\rmx: a.example\rmax_age: 1");
        assert_eq!(checks(&problems), ["policy.bom", "policy.line-endings"]);
        assert_eq!(policy.mode, Some(Mode::Enforce));
        assert!(!policy.valid);

        let (_, problems) =
            parse_policy(b"version: STSv1\r\nmode: enforce\nmx: a.example\r\nmax_age: 1\r\n");
        assert_eq!(checks(&problems), ["policy.crlf"]);
        assert!(problems[0].summary.contains("mixed"));

        let (policy, problems) =
            parse_policy(b"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: \xFF\n");
        assert_eq!(
            checks(&problems),
            ["policy.crlf", "policy.extension", "policy.utf8"]
        );
        assert!(!policy.valid);
        let utf8 = problems
            .iter()
            .find(|p| p.check == CheckId::PolicyUtf8)
            .unwrap();
        assert_eq!(utf8.evidence[0].value, "x: \\xFF");
    }

    #[test]
    fn html_is_one_problem() {
        for body in [
            &b"<!DOCTYPE html>\n<html><body>Not found</body></html>\n"[..],
            b"  <html>",
            b"version: STSv1\n<HTML>",
        ] {
            let (policy, problems) = parse_policy(body);
            assert_eq!(checks(&problems), ["policy.syntax"]);
            assert!(problems[0].summary.contains("HTML page"));
            assert!(!policy.valid);
        }
        assert!(!looks_like_html(GOOD));
    }

    #[test]
    fn extension_key_length_and_colon_values() {
        let key32 = "a".repeat(32);
        let key33 = "a".repeat(33);
        let body = format!("version: STSv1\nmode: none\nmx: a.example\nmax_age: 1\n{key32}: x\n");
        assert!(parse_policy(body.as_bytes()).0.valid);
        let body = format!("version: STSv1\nmode: none\nmx: a.example\nmax_age: 1\n{key33}: x\n");
        let (policy, problems) = parse_policy(body.as_bytes());
        assert!(!policy.valid);
        assert!(problems.iter().any(|p| p.summary.contains("more than 32")));

        let (_, problems) = parse_policy(
            b"version: STSv1\nmode: none\nmx: a.example\nmax_age: 1\npolicy_url: https://x/y\n",
        );
        let ext = problems
            .iter()
            .find(|p| p.check == CheckId::PolicyExtension)
            .unwrap();
        assert!(ext.summary.contains("go-mtasts"), "{}", ext.summary);
    }

    #[test]
    fn misspellings() {
        let cases = [
            ("MODE", Some("mode")),
            ("Max_Age", Some("max_age")),
            ("max age", Some("max_age")),
            ("max-age", Some("max_age")),
            ("max_ag", Some("max_age")),
            ("maxage", Some("max_age")),
            ("nmx", Some("mx")),
            ("mode s", Some("mode")),
            ("verison", Some("version")),
            ("foo", None),
            ("x", None),
            ("m", None),
            ("policy_url", None),
            ("id", None),
            ("mx", None),
        ];
        for (key, expected) in cases {
            let found = if known_key(key.as_bytes()).is_some() {
                None
            } else {
                misspelt_key(key.as_bytes()).map(|(known, _)| known)
            };
            assert_eq!(found, expected, "{key}");
        }
    }

    #[test]
    fn edit_distance_counts_swaps_once() {
        assert_eq!(edit_distance(b"mode", b"mode"), 0);
        assert_eq!(edit_distance(b"mdoe", b"mode"), 1);
        assert_eq!(edit_distance(b"", b"mx"), 2);
        assert_eq!(edit_distance(b"max_ag", b"max_age"), 1);
    }

    #[test]
    fn never_panics_on_generated_bodies() {
        // A small linear congruential generator over an alphabet of the policy's own tokens, so
        // that the inputs hit the interesting paths (a poor man's fuzzer; the fuzz target is
        // the real one).
        let alphabet: [&[u8]; 16] = [
            b"version",
            b"mode",
            b"mx",
            b"max_age",
            b":",
            b" ",
            b"\t",
            b"\r",
            b"\n",
            b"STSv1",
            b"enforce",
            b"*.",
            b"a.example",
            b"604800",
            b"\xEF\xBB\xBF",
            b"\xC3",
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3000 {
            let mut body = Vec::new();
            for _ in 0..(state % 24) {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                body.extend_from_slice(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            state = state.wrapping_add(0x9E37_79B9);
            let (policy, problems) = parse_policy(&body);
            assert_eq!(
                policy.valid,
                !problems
                    .iter()
                    .any(|p| p.check.spec().has(CheckFlag::Rejects)),
                "{body:?}"
            );
        }
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        let inputs: [&[u8]; 9] = [
            b"",
            b"\r",
            b"\n\n\n",
            b":",
            b"\xEF\xBB\xBF",
            b"\xF0\x9F",
            b"mx: \xF0\x9F\x98",
            b"version:\r\r\n\r",
            b"\x00\x01: \x7f",
        ];
        for input in inputs {
            let (policy, _) = parse_policy(input);
            assert!(!policy.valid, "{input:?}");
        }
        let long = vec![b'a'; 70_000];
        let (_, problems) = parse_policy(&long);
        assert!(problems
            .iter()
            .all(|p| p.evidence.iter().all(|e| e.value.len() < 400)));
        let many = "x\n".repeat(1000);
        let (_, problems) = parse_policy(many.as_bytes());
        assert!(problems.len() < 40, "{}", problems.len());
    }
}
