//! SARIF 2.1.0 (`--format sarif`), shaped for GitHub code scanning (docs/report-sarif.md): one
//! rule per check of the catalog, one result per finding that is a problem (fail, warn, info,
//! could not determine), each with a stable `partialFingerprints` entry so that an alert is
//! tracked across runs, and located at the domain's line of the `--file` list it came from.
//!
//! GitHub refuses a whole upload when one result lacks a physical location ("expected a
//! physical location", github/codeql-action#1738), so a domain given on the command line is
//! located at a pseudo-file named after the domain; the domain and the subject are also given
//! as a logical location, which is what they are.
//!
//! The log is one document: the sink keeps the results (problems only, not passes) until the
//! run finishes, and writes nothing before, as `json` does.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use clap::ValueEnum as _;
use serde::Serialize;

use super::ci;
use super::stream::{RunHeader, RunSummary, Sink};
use crate::catalog::{CheckSpec, Severity, CATALOG};
use crate::input::InputLocation;
use crate::model::{DomainReport, Finding, Outcome, Subject, Verdict};

/// The JSON schema the log names (the OASIS 2.1.0 errata schema, as GitHub documents it).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of mtasts's entry in `partialFingerprints`: a hash of the check, the domain and the
/// subject. Not `primaryLocationLineHash`, which GitHub's uploader computes itself from the
/// file's content and warns about when a tool's value differs.
pub const FINGERPRINT_KEY: &str = "mtastsFinding/v1";

/// Where relative artifact paths start: the root of the checkout the run started in.
pub const SRCROOT: &str = "%SRCROOT%";

/// Collects the problems of every domain and writes the log at the end of the run.
pub(super) struct SarifSink<'a> {
    out: Box<dyn Write + Send + 'a>,
    header: RunHeader,
    results: Vec<SarifResult>,
}

impl<'a> SarifSink<'a> {
    pub(super) fn new(out: Box<dyn Write + Send + 'a>, header: RunHeader) -> Self {
        Self {
            out,
            header,
            results: Vec::new(),
        }
    }
}

impl Sink for SarifSink<'_> {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()> {
        self.domain_from(report, None)
    }

    fn domain_from(
        &mut self,
        report: &DomainReport,
        source: Option<&InputLocation>,
    ) -> io::Result<()> {
        let results = report
            .findings
            .iter()
            .filter(|finding| ci::is_reported(&finding.outcome))
            .map(|finding| SarifResult::new(finding, &report.domain, source));
        self.results.extend(results);
        Ok(())
    }

    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        let log = SarifLog {
            schema: SCHEMA_URI,
            version: "2.1.0",
            runs: [SarifRun::new(&self.header, summary, &self.results)],
        };
        serde_json::to_writer_pretty(&mut self.out, &log)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// The security-severity GitHub ranks an alert by (a CVSS-like score: 7.0 and up is "high",
/// 4.0 to 6.9 "medium", 0.1 to 3.9 "low"), from the check's severity under the run's profile:
/// a failure means senders act as if the domain had no MTA-STS (or mail is not delivered), a
/// warning weakens the protection, a note is for information.
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Fail => "7.5",
        Severity::Warn => "5.0",
        Severity::Info => "2.0",
    }
}

/// The SARIF level of an outcome; could-not-determine is a note: nothing is known to be wrong.
pub fn level(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Fail => "error",
        Outcome::Warn => "warning",
        Outcome::Info | Outcome::CouldNotDetermine { .. } => "note",
        Outcome::Pass | Outcome::Skipped { .. } => "none",
    }
}

fn severity_level(severity: Severity) -> &'static str {
    level(&Outcome::from_severity(severity))
}

#[derive(Serialize)]
struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun<'a>; 1],
}

#[derive(Serialize)]
struct SarifRun<'a> {
    tool: Tool,
    invocations: [Invocation<'a>; 1],
    results: &'a [SarifResult],
    properties: RunProperties,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: String,
    semantic_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    start_time_utc: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
    properties: InvocationProperties<'a>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvocationProperties<'a> {
    profile: &'static str,
    fail_on: String,
    /// Settings that differ from the defaults, as the JSON report's `settings`.
    settings: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
struct RunProperties {
    domains: usize,
    verdicts: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    /// An ignored finding (mtasts.toml, `--ignore`) is still a result, suppressed with the
    /// reason it was accepted for: code scanning shows it as dismissed, not as open.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    logical_locations: [LogicalLocation; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct ResultProperties {
    domain: String,
    outcome: &'static str,
}

impl<'a> SarifRun<'a> {
    fn new(header: &'a RunHeader, summary: &RunSummary, results: &'a [SarifResult]) -> Self {
        let version = header.tool_version.clone();
        let mut notifications = Vec::new();
        if summary.input_errors > 0 {
            notifications.push(Notification {
                level: "error",
                message: Text {
                    text: format!(
                        "{} input line(s) are not domain names and were not audited (they are \
                         listed on standard error)",
                        summary.input_errors
                    ),
                },
            });
        }
        let verdicts = [
            Verdict::Pass,
            Verdict::Warn,
            Verdict::CouldNotDetermine,
            Verdict::Fail,
        ]
        .into_iter()
        .map(|verdict| (verdict.as_str(), summary.count(verdict)))
        .collect();
        Self {
            tool: Tool {
                driver: Driver {
                    name: "mtasts",
                    semantic_version: version.clone(),
                    version,
                    information_uri: super::repository_url(),
                    rules: CATALOG.iter().map(|spec| Rule::new(spec, header)).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                start_time_utc: rfc3339(header.generated_at),
                tool_execution_notifications: notifications,
                properties: InvocationProperties {
                    profile: header.profile.as_str(),
                    fail_on: header
                        .fail_on
                        .to_possible_value()
                        .map(|value| value.get_name().to_owned())
                        .unwrap_or_default(),
                    settings: header
                        .settings
                        .iter()
                        .map(|(key, value)| (key.as_str(), value.as_str()))
                        .collect(),
                },
            }],
            results,
            properties: RunProperties {
                domains: summary.domains,
                verdicts,
            },
        }
    }
}

impl Rule {
    fn new(spec: &'static CheckSpec, header: &RunHeader) -> Self {
        let severity = spec.severity(header.profile);
        let sources: Vec<String> = spec.sources.iter().map(ToString::to_string).collect();
        let sources = sources.join(", ");
        let rules = spec.rules.join(", ");
        let docs = super::docs_url(spec.id);
        let docs_text = docs.clone().unwrap_or_else(|| super::docs_anchor(spec.id));
        let mut markdown = format!("{}\n\n**Sources:** {sources}", spec.fix);
        if !rules.is_empty() {
            let quoted: Vec<String> = spec.rules.iter().map(|rule| format!("`{rule}`")).collect();
            let _ = write!(markdown, "\n\n**Digest rules:** {}", quoted.join(", "));
        }
        let _ = match &docs {
            Some(url) => write!(
                markdown,
                "\n\n[Documentation of `{}`]({url})",
                spec.id.as_str()
            ),
            None => write!(markdown, "\n\nDocumented in `{docs_text}` of mtasts."),
        };
        Self {
            id: spec.id.as_str(),
            name: pascal_case(spec.id.as_str()),
            short_description: Text {
                text: spec.title.to_owned(),
            },
            full_description: Text {
                text: format!(
                    "{}. Stage: {}. Sources: {sources}.",
                    spec.title,
                    spec.stage.title()
                ),
            },
            help: Help {
                text: format!(
                    "{}\n\nSources: {sources}.{}\nDocumentation: {docs_text}",
                    spec.fix,
                    if rules.is_empty() {
                        String::new()
                    } else {
                        format!(" Digest rules: {rules}.")
                    }
                ),
                markdown,
            },
            help_uri: docs,
            default_configuration: Configuration {
                level: severity_level(severity),
            },
            properties: RuleProperties {
                tags: vec!["security", "email", spec.stage.as_str()],
                // The checks are deterministic rules over what was observed.
                precision: "very-high",
                security_severity: security_severity(severity),
            },
        }
    }
}

impl SarifResult {
    fn new(finding: &Finding, domain: &str, source: Option<&InputLocation>) -> Self {
        let rule_index = CATALOG
            .iter()
            .position(|spec| spec.id == finding.check)
            .unwrap_or_default();
        let mut text = format!("{domain}: {}", ci::headline(finding, domain));
        for line in ci::detail_lines(finding) {
            text.push('\n');
            text.push_str(&line);
        }
        Self {
            rule_id: finding.check.as_str(),
            rule_index,
            level: level(&finding.outcome),
            message: Text { text },
            locations: [Location {
                physical_location: physical_location(domain, source),
                logical_locations: [logical_location(domain, &finding.subject)],
            }],
            partial_fingerprints: BTreeMap::from([(
                FINGERPRINT_KEY,
                ci::fingerprint(finding, domain),
            )]),
            suppressions: finding
                .ignored
                .iter()
                .map(|ignored| Suppression {
                    kind: "external",
                    status: "accepted",
                    justification: ci::ignored_phrase(ignored),
                })
                .collect(),
            properties: ResultProperties {
                domain: domain.to_owned(),
                outcome: finding.outcome.label(),
            },
        }
    }
}

/// The domain's line of its list; a domain given on the command line is located at a
/// pseudo-file named after it (GitHub accepts no result without a physical location).
fn physical_location(domain: &str, source: Option<&InputLocation>) -> PhysicalLocation {
    let (uri, uri_base_id, line) = match source {
        Some(source) if source.path.starts_with('/') => (
            format!("file://{}", uri_path(&source.path)),
            None,
            source.line,
        ),
        Some(source) => (uri_path(&source.path), Some(SRCROOT), source.line),
        None => (uri_path(domain), None, 1),
    };
    PhysicalLocation {
        artifact_location: ArtifactLocation { uri, uri_base_id },
        region: Region { start_line: line },
    }
}

/// The domain, or the host (and address) within it, the finding is about.
fn logical_location(domain: &str, subject: &Subject) -> LogicalLocation {
    let (name, qualified) = match subject {
        Subject::Domain => (domain.to_owned(), domain.to_owned()),
        Subject::Host { name } => (name.clone(), format!("{domain}/{name}")),
        Subject::Endpoint { host, ip } => (ip.to_string(), format!("{domain}/{host}/{ip}")),
    };
    LogicalLocation {
        name,
        fully_qualified_name: qualified,
        kind: "resource",
    }
}

/// A path as a URI reference: every byte but the unreserved characters and `/` percent-encoded
/// (RFC 3986 §2.1), so spaces, `#` and non-ASCII names survive.
fn uri_path(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

/// `sts-record.present` as `StsRecordPresent`: SARIF's rule `name` is an identifier.
fn pascal_case(id: &str) -> String {
    id.split(['.', '-'])
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

/// RFC 3339 in UTC (`2023-11-14T22:13:20Z`) from Unix seconds.
fn rfc3339(unix: i64) -> String {
    let day = crate::tlsrpt_report::date::Day::of_unix(unix);
    let seconds = unix.rem_euclid(86_400);
    format!(
        "{day}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            uri_path("lists/gov domains#1.txt"),
            "lists/gov%20domains%231.txt"
        );
        assert_eq!(uri_path("ü.txt"), "%C3%BC.txt");
        let source = InputLocation {
            path: Arc::from("/srv/lists/a.txt"),
            line: 4,
        };
        let absolute = physical_location("a.example", Some(&source));
        assert_eq!(absolute.artifact_location.uri, "file:///srv/lists/a.txt");
        assert_eq!(absolute.artifact_location.uri_base_id, None);
        assert_eq!(absolute.region.start_line, 4);
        let pseudo = physical_location("a.example", None);
        assert_eq!(pseudo.artifact_location.uri, "a.example");
        assert_eq!(pseudo.region.start_line, 1);
    }

    #[test]
    fn names_times_and_levels() {
        assert_eq!(pascal_case("sts-record.present"), "StsRecordPresent");
        assert_eq!(pascal_case("mx.covered"), "MxCovered");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(level(&Outcome::Warn), "warning");
        assert_eq!(
            level(&Outcome::CouldNotDetermine {
                reason: String::new()
            }),
            "note"
        );
        assert_eq!(severity_level(Severity::Info), "note");
    }
}
