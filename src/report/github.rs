//! GitHub Actions workflow commands (`--format github`, docs/report-github.md): one annotation
//! per finding that is a problem, so the findings appear on the run's summary page (and on the
//! line of the `--file` list the domain came from) without any upload step.
//!
//! ```text
//! ::error file=domains.txt,line=3,title=example.com%3A mx.covered::example.com: mx2… — mx2…%0Afix: …
//! ```
//!
//! A fail is `::error`, a warning `::warning`, a note or a check that could not be determined
//! `::notice`. The message and the properties are escaped as the Actions runner unescapes them
//! (`%` `\r` `\n` in both, `:` and `,` in properties too), after every control or bidi character
//! was made visible (as the human report does): evidence from a hostile server cannot end the
//! line and start a command of its own. Each domain also gets one plain line with its verdict,
//! and the run a plain summary line at the end; written as each domain finishes.

use std::io::{self, Write};

use super::ci;
use super::stream::{RunSummary, Sink};
use crate::input::InputLocation;
use crate::model::{DomainReport, Finding, Outcome, Verdict};

pub(super) struct GithubSink<'a> {
    out: Box<dyn Write + Send + 'a>,
    /// Annotations written, for the summary line.
    annotations: usize,
}

impl<'a> GithubSink<'a> {
    pub(super) fn new(out: Box<dyn Write + Send + 'a>) -> Self {
        Self {
            out,
            annotations: 0,
        }
    }
}

impl Sink for GithubSink<'_> {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()> {
        self.domain_from(report, None)
    }

    fn domain_from(
        &mut self,
        report: &DomainReport,
        source: Option<&InputLocation>,
    ) -> io::Result<()> {
        let mut text = String::new();
        for finding in &report.findings {
            if ci::is_reported(&finding.outcome) {
                text.push_str(&command(finding, &report.domain, source));
                text.push('\n');
                self.annotations += 1;
            }
        }
        text.push_str(&format!(
            "mtasts: {}: {}\n",
            report.domain,
            report.verdict().as_str()
        ));
        // One write per domain, so a reader never sees half a command.
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        writeln!(
            self.out,
            "mtasts: {} domain(s): {} pass, {} warn, {} fail, {} could not be determined; {} \
             annotation(s)",
            summary.domains,
            summary.count(Verdict::Pass),
            summary.count(Verdict::Warn),
            summary.count(Verdict::Fail),
            summary.count(Verdict::CouldNotDetermine),
            self.annotations
        )?;
        self.out.flush()
    }
}

/// The workflow command of an outcome.
pub fn command_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Fail => "error",
        Outcome::Warn => "warning",
        _ => "notice",
    }
}

/// One finding as one line: `::error file=…,line=…,title=…::message`.
fn command(finding: &Finding, domain: &str, source: Option<&InputLocation>) -> String {
    let mut properties = Vec::new();
    if let Some(source) = source {
        properties.push(format!("file={}", escape_property(&source.path)));
        properties.push(format!("line={}", source.line));
    }
    let mut title = format!("{domain}: {}", finding.check.as_str());
    if finding.ignored.is_some() {
        title.push_str(" (ignored)");
    }
    properties.push(format!("title={}", escape_property(&title)));
    let mut message = format!("{domain}: {}", ci::headline(finding, domain));
    for line in ci::detail_lines(finding) {
        message.push('\n');
        message.push_str(&line);
    }
    // An ignored finding is still shown, as a notice: it no longer fails anything.
    let name = if finding.ignored.is_some() {
        "notice"
    } else {
        command_name(&finding.outcome)
    };
    format!(
        "::{} {}::{}",
        name,
        properties.join(","),
        escape_data(&message)
    )
}

/// A command's message, escaped as the runner unescapes it: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command's property value: as [`escape_data`], and `:` and `,`, which end a property.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(escape_data("100% a\r\nb::c"), "100%25 a%0D%0Ab::c");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
