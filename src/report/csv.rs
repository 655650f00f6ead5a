//! CSV (`--format csv`): one row per domain with stable columns ([`COLUMNS`], documented in
//! docs/report-csv.md), a header row first, each row written and flushed as the domain is judged.
//!
//! Rows follow RFC 4180 (CRLF line ends; a field holding `,`, `"`, CR or LF is quoted, with
//! inner quotes doubled). Because the file is meant to be opened in a spreadsheet, every cell
//! that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, TAB or CR) is
//! neutralised with a leading `'`, as the OWASP CSV-injection guidance advises: the values come
//! from the domains audited and their policies, which an attacker may control.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{self, Write};

use super::stream::{RunSummary, Sink};
use crate::model::{DomainReport, Outcome};

/// The columns, in order. A column is never renamed or reordered; new ones are only appended.
pub const COLUMNS: [&str; 13] = [
    "domain",
    "verdict",
    "mode",
    "policy_id",
    "max_age",
    "mx_count",
    "mx_covered",
    "starttls_ok",
    "tlsrpt_ok",
    "failures",
    "warnings",
    "failed_checks",
    "ignored_checks",
];

/// Writes the header row before the first domain (or at the end of an empty run), then a row
/// per domain.
pub(super) struct CsvSink<'a> {
    out: Box<dyn Write + Send + 'a>,
    header_written: bool,
}

impl<'a> CsvSink<'a> {
    pub(super) fn new(out: Box<dyn Write + Send + 'a>) -> Self {
        Self {
            out,
            header_written: false,
        }
    }

    fn write_header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.header_written = true;
            self.out
                .write_all(row(&COLUMNS.map(Cow::Borrowed)).as_bytes())?;
        }
        Ok(())
    }
}

impl Sink for CsvSink<'_> {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()> {
        self.write_header()?;
        // One write per row, so a reader never sees half a row.
        self.out.write_all(row(&cells(report)).as_bytes())?;
        self.out.flush()
    }

    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        self.write_header()?;
        self.out.flush()
    }
}

/// The cells of one domain, in [`COLUMNS`] order, before quoting.
fn cells(report: &DomainReport) -> [Cow<'_, str>; 13] {
    let facts = &report.facts;
    let count = |wanted: &Outcome| {
        report
            .findings
            .iter()
            .filter(|finding| finding.outcome == *wanted)
            .count()
    };
    [
        Cow::Borrowed(report.domain.as_str()),
        Cow::Borrowed(report.verdict().as_str()),
        Cow::Borrowed(facts.mode.as_deref().unwrap_or("")),
        Cow::Borrowed(facts.sts_id.as_deref().unwrap_or("")),
        Cow::Owned(facts.max_age.map(|age| age.to_string()).unwrap_or_default()),
        Cow::Owned(facts.mx_hosts.len().to_string()),
        Cow::Owned(facts.mx_covered.map(|n| n.to_string()).unwrap_or_default()),
        Cow::Borrowed(yes_no(facts.starttls_ok)),
        Cow::Borrowed(yes_no(facts.tlsrpt_ok)),
        Cow::Owned(count(&Outcome::Fail).to_string()),
        Cow::Owned(count(&Outcome::Warn).to_string()),
        Cow::Owned(failed_checks(report)),
        Cow::Owned(ignored_checks(report)),
    ]
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

/// The IDs of the failed checks, sorted, each once, separated by spaces.
fn failed_checks(report: &DomainReport) -> String {
    let ids: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|finding| finding.outcome == Outcome::Fail)
        .map(|finding| finding.check.as_str())
        .collect();
    ids.into_iter().collect::<Vec<_>>().join(" ")
}

/// The IDs of the checks with a finding an ignore accepted, sorted, each once.
fn ignored_checks(report: &DomainReport) -> String {
    let ids: BTreeSet<&str> = report
        .ignored()
        .map(|finding| finding.check.as_str())
        .collect();
    ids.into_iter().collect::<Vec<_>>().join(" ")
}

/// One CSV record with its CRLF.
pub(crate) fn row(cells: &[Cow<'_, str>]) -> String {
    let mut line = String::new();
    for (index, cell) in cells.iter().enumerate() {
        if index > 0 {
            line.push(',');
        }
        line.push_str(&field(cell));
    }
    line.push_str("\r\n");
    line
}

/// A cell made safe for a spreadsheet, then quoted as RFC 4180 requires.
fn field(cell: &str) -> Cow<'_, str> {
    let neutral = neutralise(cell);
    if !neutral.contains([',', '"', '\r', '\n']) {
        return neutral;
    }
    Cow::Owned(format!("\"{}\"", neutral.replace('"', "\"\"")))
}

/// Prefixes `'` to a cell a spreadsheet would take for a formula (OWASP: CSV injection).
fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::model::{Facts, Finding, Subject};

    fn finding(check: CheckId, subject: Subject, outcome: Outcome) -> Finding {
        Finding {
            check,
            subject,
            outcome,
            summary: String::new(),
            evidence: Vec::new(),
            ignored: None,
        }
    }

    fn report(findings: Vec<Finding>) -> DomainReport {
        DomainReport {
            domain: "example.com".to_owned(),
            facts: Facts::default(),
            findings,
        }
    }

    fn undetermined() -> Outcome {
        Outcome::CouldNotDetermine {
            reason: "timeout".to_owned(),
        }
    }

    #[test]
    fn quotes_and_neutralises_fields() {
        let cases = [
            ("example.com", "example.com"),
            ("", ""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("cr\rinside", "\"cr\rinside\""),
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("a=b", "a=b"),
            ("'already", "'already"),
        ];
        for (cell, expected) in cases {
            assert_eq!(field(cell), expected, "{cell:?}");
        }
    }

    #[test]
    fn row_ends_with_crlf() {
        let cells = [Cow::Borrowed("a"), Cow::Borrowed("b,c"), Cow::Borrowed("")];
        assert_eq!(row(&cells), "a,\"b,c\",\r\n");
    }

    #[test]
    fn failed_checks_are_sorted_and_unique() {
        let findings = vec![
            finding(CheckId::TlsRptPresent, Subject::Domain, Outcome::Fail),
            finding(CheckId::MxCovered, Subject::host("mx1"), Outcome::Fail),
            finding(CheckId::MxCovered, Subject::host("mx2"), Outcome::Fail),
            finding(CheckId::PolicyModeEnforce, Subject::Domain, Outcome::Warn),
            finding(CheckId::SmtpConnect, Subject::Domain, undetermined()),
        ];
        assert_eq!(
            failed_checks(&report(findings)),
            "mx.covered tlsrpt.present"
        );
        assert_eq!(failed_checks(&report(Vec::new())), "");
    }

    #[test]
    fn an_empty_run_still_has_the_header() {
        let mut out = Vec::new();
        {
            let mut sink = CsvSink::new(Box::new(&mut out));
            sink.finish(&RunSummary::default()).unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{}\r\n", COLUMNS.join(","))
        );
    }
}
