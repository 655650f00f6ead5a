//! JUnit XML (`--format junit`, docs/report-junit.md) for the test reporters of GitLab, Jenkins
//! and GitHub: one `testsuite` per domain, one `testcase` per check and subject.
//!
//! A failing check is a `failure`, and so is a warning when `--fail-on warn` makes warnings
//! fail the run; a skipped check is `skipped` with what blocked it; a check that could not be
//! determined is an `error`, the JUnit word for "the test could not reach a verdict", which
//! keeps "broken" apart from "could not check from here" in every reporter. Passes, and
//! warnings or notes that do not fail the run, are passing test cases whose `system-out` says
//! what was seen.
//!
//! Written with `quick-junit`, the serializer cargo-nextest uses; the document is written whole
//! at the end of the run, so the sink keeps every test suite until then.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::ci;
use super::stream::{RunHeader, RunSummary, Sink};
use crate::cli::FailOn;
use crate::input::InputLocation;
use crate::model::{DomainReport, Finding, Outcome, Subject};

/// Collects one test suite per domain and writes the report when the run finishes.
pub(super) struct JunitSink<'a> {
    out: Box<dyn Write + Send + 'a>,
    header: RunHeader,
    report: Report,
}

impl<'a> JunitSink<'a> {
    pub(super) fn new(out: Box<dyn Write + Send + 'a>, header: RunHeader) -> Self {
        Self {
            out,
            header,
            report: Report::new("mtasts"),
        }
    }
}

impl Sink for JunitSink<'_> {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()> {
        self.domain_from(report, None)
    }

    fn domain_from(
        &mut self,
        report: &DomainReport,
        source: Option<&InputLocation>,
    ) -> io::Result<()> {
        let mut suite = TestSuite::new(report.domain.as_str());
        suite.add_property(Property::new("profile", self.header.profile.as_str()));
        suite.add_property(Property::new("verdict", report.verdict().as_str()));
        if let Some(source) = source {
            let at = format!("{}:{}", source.path, source.line);
            suite.add_property(Property::new("source", at));
        }
        suite.add_test_cases(
            report
                .findings
                .iter()
                .map(|finding| test_case(finding, &report.domain, self.header.fail_on)),
        );
        self.report.add_test_suite(suite);
        Ok(())
    }

    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        self.report
            .serialize(&mut self.out)
            .map_err(io::Error::other)?;
        self.out.flush()
    }
}

/// The test case of one finding: named after the check and, when it is not the domain, the
/// subject; its class is `DOMAIN.STAGE`, which Jenkins shows as package DOMAIN, class STAGE.
fn test_case(finding: &Finding, domain: &str, fail_on: FailOn) -> TestCase {
    let spec = finding.check.spec();
    let headline = ci::headline(finding, domain);
    let details = ci::detail_lines(finding).join("\n");
    let status = match &finding.outcome {
        // Accepted as known (mtasts.toml, `--ignore`): not a failure, and still said.
        _ if finding.ignored.is_some() && ci::is_reported(&finding.outcome) => {
            let mut status = TestCaseStatus::skipped();
            status
                .set_message(format!("{}: {headline}", finding.outcome.label()))
                .set_description(details.as_str());
            status
        }
        Outcome::Pass | Outcome::Info => TestCaseStatus::success(),
        Outcome::Warn if fail_on != FailOn::Warn => TestCaseStatus::success(),
        Outcome::Fail | Outcome::Warn => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(headline.as_str())
                .set_type(finding.outcome.label())
                .set_description(details.as_str());
            status
        }
        Outcome::CouldNotDetermine { .. } => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(headline.as_str())
                .set_type(finding.outcome.label())
                .set_description(details.as_str());
            status
        }
        Outcome::Skipped { blocked_by } => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!("not checked: needs {blocked_by}"));
            status
        }
    };
    let mut case = TestCase::new(case_name(finding), status);
    case.set_classname(format!("{domain}.{}", spec.stage.as_str()));
    // A warning or note that passes still says what was seen.
    if matches!(finding.outcome, Outcome::Warn | Outcome::Info)
        && matches!(case.status, TestCaseStatus::Success { .. })
    {
        case.set_system_out(format!(
            "{}: {headline}\n{details}",
            finding.outcome.label()
        ));
    }
    case
}

/// `mx.covered (mx2.example.com)`, `smtp.connect (mx1.example.com 192.0.2.25)`, or the check's
/// ID alone for the domain.
fn case_name(finding: &Finding) -> String {
    let id = finding.check.as_str();
    match &finding.subject {
        Subject::Domain => id.to_owned(),
        Subject::Host { name } => format!("{id} ({name})"),
        Subject::Endpoint { host, ip } => format!("{id} ({host} {ip})"),
    }
}
