//! JSON Lines (`--format jsonl`, <https://jsonlines.org>): one domain object per line, the same
//! object as an element of the JSON report's `domains` (docs/report-json.md; the checks' fixed
//! text is in `mtasts checks --format json`, not repeated on every line), written and flushed
//! as soon as the domain is judged. Nothing else is written: no header, no summary, so the
//! outputs of several shards or resumed runs concatenate into one valid file, and `--resume`
//! can read back which domains are done.

use std::io::{self, Write};

use super::json::write_domain_line;
use super::stream::{RunSummary, Sink};
use super::Detail;
use crate::catalog::Profile;
use crate::model::DomainReport;

/// Writes each domain as one line.
pub(super) struct JsonlSink<'a> {
    out: Box<dyn Write + Send + 'a>,
    /// Severities in the domain object are the profile's.
    profile: Profile,
    detail: Detail,
}

impl<'a> JsonlSink<'a> {
    pub(super) fn new(out: Box<dyn Write + Send + 'a>, profile: Profile, detail: Detail) -> Self {
        Self {
            out,
            profile,
            detail,
        }
    }
}

impl Sink for JsonlSink<'_> {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()> {
        write_domain_line(report, self.profile, self.detail, &mut self.out)?;
        self.out.flush()
    }

    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Facts;

    #[test]
    fn writes_one_line_per_domain_in_call_order_and_nothing_at_the_end() {
        let mut out = Vec::new();
        {
            let mut sink = JsonlSink::new(Box::new(&mut out), Profile::Rfc, Detail::Compact);
            for name in ["b.example", "a.example", "c.example"] {
                let report = DomainReport {
                    domain: name.to_owned(),
                    facts: Facts::default(),
                    findings: Vec::new(),
                };
                sink.domain(&report).unwrap();
            }
            sink.finish(&RunSummary::default()).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        let names: Vec<String> = text
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                value["domain"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(names, ["b.example", "a.example", "c.example"]);
        assert!(text.ends_with("}\n"));
    }
}
