//! Saved evidence (`check --save-evidence FILE`, `replay FILE`, `check --baseline FILE`): what a
//! run observed, as JSON Lines, complete enough to be judged again offline by this or a newer
//! `mtasts`. The format is described in docs/evidence.md.
//!
//! - A **header line** `{"mtasts_evidence": 1, "tool_version", "generated_at", "profile",
//!   "settings"}` starts the file; it may appear again further down (files of several shards or
//!   runs concatenated), and applies to the lines after it.
//! - Every other line is one domain's [`Observations`], exactly their serde form.
//!
//! Sans-I/O: the writer makes lines, the parser takes one line at a time and keeps the header
//! in force; `app.rs` does the reading and writing. Every error is a sentence naming the line,
//! and evidence of another schema version is read (when older and still understood) or refused
//! with both versions named, never misread.
//!
//! [`BaselineLine`] also reads a line of an earlier `--format jsonl` report, which `--baseline`
//! accepts in place of evidence: the facts and outcomes it holds, without certificates.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalog::{CheckId, Profile};
use crate::model::{Facts, Subject};
use crate::observe::{Observations, OBSERVATIONS_SCHEMA_VERSION, OLDEST_READABLE_SCHEMA_VERSION};
use crate::verdict::changes::BaselineDomain;

/// The version of the file format itself (the header and the one-domain-per-line layout);
/// the observations carry their own [`OBSERVATIONS_SCHEMA_VERSION`].
pub const EVIDENCE_FORMAT_VERSION: u32 = 1;

/// The longest line read (a domain with 20 MX hosts of 8 addresses, each with a full chain, is
/// a few MiB at most).
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// The first line of an evidence file: the run the observations below it come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceHeader {
    /// [`EVIDENCE_FORMAT_VERSION`].
    pub mtasts_evidence: u32,
    pub tool_version: String,
    /// When the run started (Unix seconds): the `now` a replay judges at.
    pub generated_at: i64,
    /// The profile the run reported under (a replay may choose another).
    pub profile: Profile,
    /// The settings of the run that differ from the defaults, as in the report header.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

impl EvidenceHeader {
    pub fn new(
        tool_version: &str,
        generated_at: i64,
        profile: Profile,
        settings: &[(String, String)],
    ) -> Self {
        Self {
            mtasts_evidence: EVIDENCE_FORMAT_VERSION,
            tool_version: tool_version.to_owned(),
            generated_at,
            profile,
            settings: settings.iter().cloned().collect(),
        }
    }
}

/// The header as one line, newline included.
pub fn header_line(header: &EvidenceHeader) -> Vec<u8> {
    let mut line = serde_json::to_vec(header).unwrap_or_default();
    line.push(b'\n');
    line
}

/// One domain's observations as one line, newline included.
pub fn observations_line(obs: &Observations) -> Vec<u8> {
    let mut line = serde_json::to_vec(obs).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Why a line of evidence could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for EvidenceError {}

/// What one line held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Blank.
    Empty,
    Header(EvidenceHeader),
    Observations(Box<Observations>),
}

/// Reads evidence one line at a time, keeping the header in force.
#[derive(Debug, Default)]
pub struct Parser {
    line: usize,
    header: Option<EvidenceHeader>,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The header in force (the last one read).
    pub fn header(&self) -> Option<&EvidenceHeader> {
        self.header.as_ref()
    }

    /// The number of the line last read (1-based).
    pub fn line_number(&self) -> usize {
        self.line
    }

    /// Reads the next line (without its newline; a trailing `\r` is allowed).
    pub fn line(&mut self, bytes: &[u8]) -> Result<Line, EvidenceError> {
        self.line += 1;
        let line = self.line;
        let fail = |message: String| EvidenceError { line, message };
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Line::Empty);
        }
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
            fail(format!(
                "not a JSON object ({error}); an evidence file has one JSON object per line"
            ))
        })?;
        let Some(object) = value.as_object() else {
            return Err(fail(
                "not a JSON object; an evidence file has one JSON object per line".to_owned(),
            ));
        };
        if let Some(version) = object.get("mtasts_evidence") {
            let header = read_header(version, value.clone()).map_err(fail)?;
            self.header = Some(header.clone());
            return Ok(Line::Header(header));
        }
        if self.header.is_none() {
            let what = if object.contains_key("findings") {
                "this is a report (--format jsonl), not saved evidence: replay needs the file \
                 written by --save-evidence (--baseline accepts either)"
            } else {
                "the evidence header ({\"mtasts_evidence\": 1, ...}) must come first"
            };
            return Err(fail(what.to_owned()));
        }
        read_observations(value)
            .map(|obs| Line::Observations(Box::new(obs)))
            .map_err(fail)
    }
}

fn read_header(
    version: &serde_json::Value,
    value: serde_json::Value,
) -> Result<EvidenceHeader, String> {
    match version.as_u64() {
        Some(version) if version == u64::from(EVIDENCE_FORMAT_VERSION) => {}
        Some(version) => {
            return Err(format!(
                "evidence format version {version} is not one this mtasts reads (version \
                 {EVIDENCE_FORMAT_VERSION}); {}",
                if version > u64::from(EVIDENCE_FORMAT_VERSION) {
                    "it was written by a newer mtasts"
                } else {
                    "it is from an unknown older format"
                }
            ))
        }
        None => return Err("`mtasts_evidence` is not a version number".to_owned()),
    }
    serde_json::from_value(value).map_err(|error| format!("not a valid evidence header: {error}"))
}

/// Reads one domain's observations, checking their schema version first.
fn read_observations(value: serde_json::Value) -> Result<Observations, String> {
    let version = value
        .get("schema_version")
        .ok_or("not observations: no `schema_version`")?;
    let Some(version) = version.as_u64() else {
        return Err("`schema_version` is not a number".to_owned());
    };
    let current = u64::from(OBSERVATIONS_SCHEMA_VERSION);
    let oldest = u64::from(OLDEST_READABLE_SCHEMA_VERSION);
    if version > current {
        return Err(format!(
            "the observations are of schema version {version}, newer than this mtasts reads \
             (schema version {OBSERVATIONS_SCHEMA_VERSION}); judge them with a newer mtasts"
        ));
    }
    if version < oldest {
        return Err(format!(
            "the observations are of schema version {version}, older than this mtasts reads \
             (schema versions {OLDEST_READABLE_SCHEMA_VERSION} to {OBSERVATIONS_SCHEMA_VERSION})"
        ));
    }
    let domain = value
        .get("domain")
        .and_then(|domain| domain.as_str())
        .map(crate::escape::escape_str);
    serde_json::from_value(value).map_err(|error| {
        let of = domain.map(|name| format!(" of {name}")).unwrap_or_default();
        format!("the observations{of} (schema version {version}) do not read: {error}")
    })
}

/// One line of a baseline: saved evidence or a report line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaselineLine {
    Empty,
    Header(EvidenceHeader),
    Observations(Box<Observations>),
    /// A domain of an earlier `--format jsonl` report.
    Report(Box<(String, BaselineDomain)>),
}

/// Reads a baseline one line at a time: evidence lines through [`Parser`], report lines as
/// what they hold.
#[derive(Debug, Default)]
pub struct BaselineParser {
    evidence: Parser,
}

impl BaselineParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The header in force, when the baseline is evidence.
    pub fn header(&self) -> Option<&EvidenceHeader> {
        self.evidence.header()
    }

    pub fn line(&mut self, bytes: &[u8]) -> Result<BaselineLine, EvidenceError> {
        let trimmed = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let is_report = self.evidence.header().is_none()
            && serde_json::from_slice::<ReportLine>(trimmed).is_ok();
        if !is_report {
            return Ok(match self.evidence.line(bytes)? {
                Line::Empty => BaselineLine::Empty,
                Line::Header(header) => BaselineLine::Header(header),
                Line::Observations(obs) => BaselineLine::Observations(obs),
            });
        }
        // Counted like any other line, so errors further down name the right line.
        self.evidence.line += 1;
        let line = self.evidence.line;
        let report: ReportLine =
            serde_json::from_slice(trimmed).map_err(|error| EvidenceError {
                line,
                message: format!("not a report line: {error}"),
            })?;
        Ok(BaselineLine::Report(Box::new(report.into_baseline())))
    }
}

/// What `--baseline` reads of a line of `--format jsonl` (docs/report-json.md); the rest of
/// the line is ignored.
#[derive(Deserialize)]
struct ReportLine {
    domain: String,
    facts: ReportFacts,
    findings: Vec<ReportFinding>,
    /// Schema 3's compact groups of passes and skips (absent with `--detail full`).
    #[serde(default)]
    passed: Vec<ReportGroup>,
    #[serde(default)]
    skipped: Vec<ReportGroup>,
}

/// A `passed` or `skipped` group: checks of one subject with one outcome.
#[derive(Deserialize)]
struct ReportGroup {
    subject: Subject,
    ids: Vec<String>,
}

#[derive(Deserialize)]
struct ReportFacts {
    sts_id: Option<String>,
    mode: Option<String>,
    max_age: Option<u64>,
    #[serde(default)]
    mx_hosts: Vec<String>,
    #[serde(default)]
    policy_mx: Vec<String>,
    #[serde(default)]
    tlsrpt_rua: Vec<String>,
}

#[derive(Deserialize)]
struct ReportFinding {
    id: String,
    outcome: String,
    subject: Subject,
}

impl ReportLine {
    fn into_baseline(self) -> (String, BaselineDomain) {
        let grouped = |groups: Vec<ReportGroup>, outcome: &'static str| {
            groups.into_iter().flat_map(move |group| {
                let subject = group.subject;
                group
                    .ids
                    .into_iter()
                    .map(move |id| (id, subject.clone(), outcome))
            })
        };
        let outcomes = self
            .findings
            .into_iter()
            .filter_map(|finding| {
                let outcome = outcome_label(&finding.outcome)?;
                Some((finding.id, finding.subject, outcome))
            })
            .chain(grouped(self.passed, "pass"))
            .chain(grouped(self.skipped, "skipped"))
            .filter_map(|(id, subject, outcome)| {
                // Checks this version does not know (retired, or from a newer one) are left out.
                let check = CheckId::from_wire(&id)?;
                Some(((check, subject), outcome))
            })
            .filter(|((check, _), _)| check.spec().stage != crate::catalog::Stage::Changes)
            .collect();
        let facts = Facts {
            sts_id: self.facts.sts_id,
            mode: self.facts.mode,
            max_age: self.facts.max_age,
            mx_hosts: self.facts.mx_hosts,
            policy_mx: self.facts.policy_mx,
            tlsrpt_rua: self.facts.tlsrpt_rua,
            ..Facts::default()
        };
        (
            self.domain,
            BaselineDomain {
                generated_at: None,
                facts,
                outcomes,
                certificates: None,
            },
        )
    }
}

fn outcome_label(wire: &str) -> Option<&'static str> {
    Some(match wire {
        "pass" => "pass",
        "fail" => "fail",
        "warn" => "warn",
        "info" => "info",
        "skipped" => "skipped",
        "could-not-determine" => "could-not-determine",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Observations;

    fn obs(name: &str) -> Observations {
        Observations::empty(&name.parse().unwrap())
    }

    fn header() -> EvidenceHeader {
        EvidenceHeader::new(
            "0.1.0",
            1_790_000_000,
            Profile::Sge,
            &[("no-smtp".into(), String::new())],
        )
    }

    fn parse_all(text: &[u8]) -> Result<Vec<Line>, EvidenceError> {
        let mut parser = Parser::new();
        text.split(|&byte| byte == b'\n')
            .map(|line| parser.line(line))
            .collect()
    }

    #[test]
    fn lines_round_trip() {
        let mut file = header_line(&header());
        file.extend(observations_line(&obs("a.example")));
        file.extend(observations_line(&obs("b.example")));
        let lines = parse_all(&file).unwrap();
        assert_eq!(lines[0], Line::Header(header()));
        assert_eq!(lines[1], Line::Observations(Box::new(obs("a.example"))));
        assert_eq!(lines[2], Line::Observations(Box::new(obs("b.example"))));
        assert_eq!(lines[3], Line::Empty);
    }

    #[test]
    fn concatenated_files_switch_headers() {
        let mut later = header();
        later.generated_at += 60;
        let mut file = header_line(&header());
        file.extend(observations_line(&obs("a.example")));
        file.extend(header_line(&later));
        file.extend(observations_line(&obs("b.example")));
        let mut parser = Parser::new();
        let mut times = Vec::new();
        for line in file.split(|&byte| byte == b'\n') {
            if let Line::Observations(_) = parser.line(line).unwrap() {
                times.push(parser.header().unwrap().generated_at);
            }
        }
        assert_eq!(times, [1_790_000_000, 1_790_000_060]);
    }

    #[test]
    fn errors_name_the_line_and_the_versions() {
        let observations = String::from_utf8(observations_line(&obs("a.example"))).unwrap();
        let head = String::from_utf8(header_line(&header())).unwrap();
        let newer = observations.replace("\"schema_version\":2", "\"schema_version\":9");
        let older = observations.replace("\"schema_version\":2", "\"schema_version\":0");
        let cases: Vec<(String, &str)> = vec![
            (observations.clone(), "line 1: the evidence header"),
            (format!("{head}{newer}"), "line 2: the observations are of schema version 9, newer than this mtasts reads (schema version 2)"),
            (format!("{head}{older}"), "line 2: the observations are of schema version 0, older"),
            (format!("{head}\n\n{{\"schema_version\": 2}}"), "line 4: the observations (schema version 2) do not read"),
            (format!("{head}[1,2]"), "line 2: not a JSON object"),
            (format!("{head}{{\"a\":"), "line 2: not a JSON object ("),
            ("{\"mtasts_evidence\": 7}".to_owned(), "line 1: evidence format version 7 is not one this mtasts reads (version 1)"),
            ("{\"domain\":\"a\",\"findings\":[]}".to_owned(), "line 1: this is a report"),
            (format!("{head}{}", observations.replace("\"sts_txt\"", "\"surprise\":1,\"sts_txt\"")), "line 2: the observations of a.example (schema version 2) do not read"),
        ];
        for (text, expected) in cases {
            let error = parse_all(text.as_bytes()).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{error:?} for {text:?}");
        }
    }

    #[test]
    fn schema_one_evidence_is_read() {
        let line = String::from_utf8(observations_line(&obs("a.example")))
            .unwrap()
            .replace("\"schema_version\":2", "\"schema_version\":1");
        let mut parser = Parser::new();
        parser.line(&header_line(&header())[..]).unwrap();
        let Line::Observations(read) = parser.line(line.trim_end().as_bytes()).unwrap() else {
            panic!("not observations");
        };
        assert_eq!(read.schema_version, 1);
    }

    #[test]
    fn a_report_line_is_a_baseline() {
        let line = r#"{"domain":"a.example","verdict":"pass","facts":{"sts_id":"1","mode":"enforce","max_age":86400,"mx_hosts":["mx.a.example"],"policy_mx":["mx.a.example"],"tlsrpt_rua":[]},"counts":{},"findings":[{"id":"policy.mode","outcome":"pass","subject":{"kind":"domain"}},{"id":"no.such-check","outcome":"fail","subject":{"kind":"domain"}}]}"#;
        let mut parser = BaselineParser::new();
        let BaselineLine::Report(report) = parser.line(line.as_bytes()).unwrap() else {
            panic!("not a report line");
        };
        let (name, base) = *report;
        assert_eq!(name, "a.example");
        assert_eq!(base.facts.sts_id.as_deref(), Some("1"));
        assert_eq!(base.outcomes.len(), 1);
        assert!(base.certificates.is_none());
    }

    #[test]
    fn a_compact_report_line_is_read_with_its_passed_and_skipped_groups() {
        let line = r#"{"domain":"a.example","verdict":"fail","facts":{"sts_id":null,"mode":null,"max_age":null},"counts":{},"findings":[{"id":"policy.syntax","outcome":"fail","subject":{"kind":"domain"}}],"passed":[{"subject":{"kind":"domain"},"ids":["sts-record.present","sts-record.id"]},{"subject":{"kind":"host","name":"mx.a.example"},"ids":["mx.covered"]}],"skipped":[{"subject":{"kind":"domain"},"blocked_by":"policy.fetch","ids":["policy.mode"]}]}"#;
        let BaselineLine::Report(report) = BaselineParser::new().line(line.as_bytes()).unwrap()
        else {
            panic!("not a report line");
        };
        let outcomes = report.1.outcomes;
        assert_eq!(outcomes.len(), 5);
        let host = Subject::Host {
            name: "mx.a.example".to_owned(),
        };
        assert_eq!(outcomes[&(CheckId::MxCovered, host)], "pass");
        assert_eq!(outcomes[&(CheckId::PolicyMode, Subject::Domain)], "skipped");
        assert_eq!(outcomes[&(CheckId::PolicySyntax, Subject::Domain)], "fail");
    }
}
