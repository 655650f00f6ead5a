//! The renderers against hand-built reports: the human checklist's shape (grouping, evidence, fix,
//! no ANSI unless asked, no control bytes from evidence), its run summary, the JSON read back
//! through this file's own `deny_unknown_fields` structs, so that any drift of the wire schema
//! fails here, JSON Lines against the JSON document, and CSV's columns, quoting and
//! spreadsheet-formula neutralisation; all through the streaming sinks a bulk run uses.
//!
//! The formats CI tools read are read back with a real parser for each: SARIF validated against
//! the SARIF 2.1.0 schema (`../shared/schemas`), JUnit through an XML parser, GitHub workflow
//! commands through a parser written to the runner's unescaping rules.
//!
//! `fixtures/reports/two-domains.{human.txt,json,jsonl,csv,sarif,junit.xml,github.txt}` hold the
//! expected output of the sample report; regenerate them after an intended change with
//! `MTASTS_BLESS=1 cargo test --test render`.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use mtasts::catalog::{CheckId, Profile, Stage};
use mtasts::cli::FailOn;
use mtasts::input::InputLocation;
use mtasts::model::{DomainReport, Evidence, Facts, Finding, Ignored, Outcome, Subject};
use mtasts::report::progress::Progress;
use mtasts::report::stream::{self, RunHeader, RunSummary};
use mtasts::report::{self, AuditReport, Format, Style};
use serde::Deserialize;

const MX1_IP: &str = "192.0.2.25";

fn finding(check: CheckId, subject: Subject, outcome: Outcome, summary: &str) -> Finding {
    Finding {
        check,
        subject,
        outcome,
        summary: summary.to_owned(),
        evidence: Vec::new(),
        ignored: None,
    }
}

fn with_evidence(mut finding: Finding, label: &str, value: &str) -> Finding {
    finding.evidence.push(Evidence::new(label, value));
    finding
}

/// A report with every outcome, every kind of subject, and evidence that still holds a raw
/// escape sequence and a bidi override (as if a capture had forgotten to escape them).
fn sample_report() -> AuditReport {
    let mx1: IpAddr = MX1_IP.parse().unwrap();
    let pass = |check: CheckId| finding(check, Subject::Domain, Outcome::Pass, check.spec().title);
    let example_com = DomainReport {
        domain: "example.com".to_owned(),
        facts: Facts {
            sts_id: Some("20250101T000000".to_owned()),
            mode: Some("testing".to_owned()),
            max_age: Some(604_800),
            mx_hosts: vec!["mx1.example.com".to_owned(), "mx2.example.com".to_owned()],
            policy_mx: vec!["mx1.example.com".to_owned()],
            tlsrpt_rua: vec!["mailto:tls@example.com".to_owned()],
            ..Facts::default()
        },
        findings: vec![
            pass(CheckId::StsRecordPresent),
            with_evidence(
                finding(
                    CheckId::StsRecordId,
                    Subject::Domain,
                    Outcome::Fail,
                    "the id has 33 characters",
                ),
                "record",
                "v=STSv1; id=abc\x1b[2J\u{202e}def",
            ),
            pass(CheckId::PolicyHostResolves),
            finding(
                CheckId::PolicyModeEnforce,
                Subject::Domain,
                Outcome::Warn,
                "the policy is in testing mode",
            ),
            with_evidence(
                finding(
                    CheckId::MxCovered,
                    Subject::host("mx2.example.com"),
                    Outcome::Fail,
                    "mx2.example.com matches no mx pattern",
                ),
                "policy mx",
                "mx1.example.com",
            ),
            with_evidence(
                finding(
                    CheckId::SmtpConnect,
                    Subject::endpoint("mx1.example.com", mx1),
                    Outcome::CouldNotDetermine {
                        reason: "connection timed out after 10 s".to_owned(),
                    },
                    "could not determine: connection timed out after 10 s",
                ),
                "connect",
                "192.0.2.25:25 timed out",
            ),
            finding(
                CheckId::SmtpStarttlsOffered,
                Subject::endpoint("mx1.example.com", mx1),
                Outcome::Skipped {
                    blocked_by: CheckId::SmtpConnect.into(),
                },
                "not checked: needs smtp.connect",
            ),
            with_evidence(
                finding(
                    CheckId::TlsRptExtension,
                    Subject::Domain,
                    Outcome::Info,
                    "the record has an extension field",
                ),
                "field",
                "ruf=mailto:x@example.com",
            ),
        ],
    };
    let example_org = DomainReport {
        domain: "example.org".to_owned(),
        facts: Facts::default(),
        findings: vec![
            pass(CheckId::StsRecordPresent),
            pass(CheckId::TlsRptPresent),
            // Accepted in mtasts.toml: shown, marked, and left out of the verdict.
            Finding {
                ignored: Some(Ignored {
                    reason: "reports also go to our own mailbox (ticket 7)".to_owned(),
                    until: Some("2026-12-31".to_owned()),
                }),
                ..with_evidence(
                    finding(
                        CheckId::TlsRptRuaRetired,
                        Subject::Domain,
                        Outcome::Warn,
                        "a rua points at NCSC Mail Check, which has closed",
                    ),
                    "rua",
                    "mailto:tls-rua@mailcheck.service.ncsc.gov.uk",
                )
            },
        ],
    };
    AuditReport {
        tool_version: "0.0.0-test".to_owned(),
        profile: Profile::Ncsc,
        generated_at: 1_700_000_000,
        settings: vec![
            ("ca-file".to_owned(), "lab.pem".to_owned()),
            ("resolver".to_owned(), "127.0.0.1:5353".to_owned()),
        ],
        // The summary facts are the verdict's conclusions from the findings, as in a real run.
        domains: vec![concluded(example_com), concluded(example_org)],
    }
}

fn render(report: &AuditReport, format: Format, colour: bool) -> Vec<u8> {
    render_styled(
        report,
        format,
        Style {
            colour,
            verbose: false,
        },
    )
}

fn render_styled(report: &AuditReport, format: Format, style: Style) -> Vec<u8> {
    let mut out = Vec::new();
    report::render(report, format, style, &mut out).unwrap();
    out
}

/// The default human report: problems first.
fn human(colour: bool) -> String {
    String::from_utf8(render(&sample_report(), Format::Human, colour)).unwrap()
}

/// `--verbose`: the whole checklist.
fn human_verbose(colour: bool) -> String {
    let style = Style {
        colour,
        verbose: true,
    };
    String::from_utf8(render_styled(&sample_report(), Format::Human, style)).unwrap()
}

/// The lines from the one containing `needle` up to the next finding or heading.
fn block_after<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|line| !line.contains(needle));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no line with {needle}\n{text}"));
    let mut block = vec![first];
    block.extend(lines.take_while(|line| line.starts_with("        ")));
    block
}

#[test]
fn human_shows_the_verdict_then_the_problems_in_fixing_order_then_a_line_per_stage() {
    let text = human(false);
    let first_domain: Vec<&str> = text
        .split("\nexample.org: ")
        .next()
        .unwrap()
        .lines()
        .collect();
    let start = first_domain
        .iter()
        .position(|line| line.starts_with("example.com: "))
        .unwrap();
    assert_eq!(
        first_domain[start],
        "example.com: FAIL (2 pass, 2 fail, 1 warn, 1 info, 1 skipped, 1 could not determine)"
    );
    // The problems, in the order to fix them: failures, warnings, could not determine, info.
    let headlines: Vec<&str> = first_domain
        .iter()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| {
            line.rsplit_once("  [")
                .map(|(_, id)| id.trim_end_matches(']'))
        })
        .collect();
    assert_eq!(
        headlines,
        [
            "sts-record.id",
            "mx.covered",
            "policy.mode-enforce",
            "smtp.connect",
            "tlsrpt.extension"
        ],
        "{text}"
    );
    // No pass or skip is listed on its own line ...
    let domains = text.split("\nSummary:").next().unwrap();
    assert!(
        !domains.contains("  PASS  ") && !domains.contains("  SKIP  "),
        "{text}"
    );
    // ... each stage with findings gets one line, in catalog order.
    let stage_lines: Vec<&str> = first_domain
        .iter()
        .copied()
        .filter(|line| {
            Stage::ALL
                .iter()
                .any(|stage| line.starts_with(&format!("  {}: ", stage.title())))
        })
        .collect();
    assert_eq!(
        stage_lines,
        [
            "  MTA-STS TXT record (_mta-sts): 1 passed, 1 failed",
            "  Policy host (mta-sts.DOMAIN): 1 passed",
            "  Policy file: 1 warned",
            "  MX hosts against the policy: 1 failed",
            "  STARTTLS on every MX: 1 could not be determined, 1 skipped (needs smtp.connect)",
            "  TLS reporting (_smtp._tls): 1 info",
        ],
        "{text}"
    );
}

#[test]
fn human_orders_a_failure_that_blocks_other_checks_first() {
    use mtasts::model::Blocker;
    let failure = |check, subject| Finding {
        check,
        subject,
        outcome: Outcome::Fail,
        summary: format!("{} failed", CheckId::as_str(check)),
        evidence: Vec::new(),
        ignored: None,
    };
    let skipped = |check| Finding {
        check,
        subject: Subject::Domain,
        outcome: Outcome::Skipped {
            blocked_by: Blocker::Check(CheckId::PolicySyntax),
        },
        summary: String::new(),
        evidence: Vec::new(),
        ignored: None,
    };
    let mut report = sample_report();
    report.domains = vec![DomainReport {
        domain: "blocked.example".to_owned(),
        facts: Facts::default(),
        findings: vec![
            failure(CheckId::StsRecordId, Subject::Domain),
            failure(CheckId::PolicySyntax, Subject::Domain),
            skipped(CheckId::PolicyModeEnforce),
        ],
    }];
    let text = String::from_utf8(render(&report, Format::Human, false)).unwrap();
    let syntax = text.find("[policy.syntax]").unwrap();
    let id = text.find("[sts-record.id]").unwrap();
    assert!(
        syntax < id,
        "the failure that blocks a check comes first:\n{text}"
    );
}

#[test]
fn human_bounds_the_evidence_of_one_finding_and_says_what_it_left_out() {
    let mut report = sample_report();
    report.domains.truncate(1);
    let finding = &mut report.domains[0].findings[1];
    assert_eq!(finding.check, CheckId::StsRecordId);
    finding.evidence = (0..10_000)
        .map(|line| Evidence::new("line", format!("bad line {line}")))
        .collect();
    finding.evidence[0] = Evidence::new("record", "x".repeat(5_000));
    assert_eq!(
        (
            report::human::MAX_EVIDENCE_LINES,
            report::human::MAX_EVIDENCE_CHARS
        ),
        (8, 300),
        "the expected counts below assume them"
    );
    for verbose in [false, true] {
        let style = Style {
            colour: false,
            verbose,
        };
        let text = String::from_utf8(render_styled(&report, Format::Human, style)).unwrap();
        let block = block_after(&text, "[sts-record.id]");
        assert_eq!(
            block.len(),
            1 + report::human::MAX_EVIDENCE_LINES + 3,
            "{block:?}"
        );
        assert!(
            block[1].ends_with(&format!("… ({} more characters)", "4,700")),
            "{}",
            block[1]
        );
        assert_eq!(block[2], "        line: bad line 1");
        assert_eq!(
            block[1 + report::human::MAX_EVIDENCE_LINES],
            "        … and 9,992 more (all of them: --format json)"
        );
        assert!(text.lines().count() < 100, "{} lines", text.lines().count());
    }
}

#[test]
fn human_verbose_groups_findings_by_stage_in_catalog_order() {
    let text = human_verbose(false);
    let first_domain = text.split("== example.org ==").next().unwrap();
    let positions: Vec<usize> = Stage::ALL
        .iter()
        .filter_map(|stage| first_domain.find(&format!("\n{}\n", stage.title())))
        .collect();
    // Every stage but the policy fetch, the reports (no --reports) and the changes (no
    // --baseline) has a finding in the sample.
    assert_eq!(positions.len(), Stage::ALL.len() - 3, "{text}");
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    assert!(!first_domain.contains(Stage::PolicyFetch.title()));
    assert!(!first_domain.contains(Stage::Reports.title()));
    assert!(!first_domain.contains(Stage::Changes.title()));
    // A finding sits under its own stage.
    let smtp = first_domain.find(Stage::Smtp.title()).unwrap();
    let tlsrpt = first_domain.find(Stage::TlsRpt.title()).unwrap();
    let connect = first_domain.find("[smtp.connect]").unwrap();
    assert!(smtp < connect && connect < tlsrpt);
}

#[test]
fn human_shows_evidence_fix_and_rule_under_problems() {
    for text in [human(false), human_verbose(false)] {
        let spec = CheckId::MxCovered.spec();
        let block = block_after(&text, "[mx.covered]");
        assert!(
            block[0].starts_with("  FAIL  mx2.example.com matches no mx pattern — mx2.example.com")
        );
        assert_eq!(
            block[1..],
            [
                "        policy mx: mx1.example.com".to_owned(),
                format!("        fix: {}", spec.fix),
                "        rule: RFC 8461 §4.1, RFC 8461 §8.4, SGE step 2".to_owned(),
            ]
        );

        let block = block_after(&text, "[smtp.connect]");
        assert!(
            block[0].starts_with("  UNKNOWN  could not determine"),
            "{block:?}"
        );
        assert!(
            block[0].contains("— mx1.example.com [192.0.2.25]"),
            "{block:?}"
        );
        assert_eq!(block[1], "        connect: 192.0.2.25:25 timed out");
        // Issue 12: the fix speaks to the person running the audit, not to the domain's owner.
        assert_eq!(
            block[2],
            format!("        fix: {}", Stage::Smtp.undetermined_fix())
        );
        assert!(block[2].contains("outbound port 25 is open from here"));

        let block = block_after(&text, "[tlsrpt.extension]");
        assert!(block[0].starts_with("  INFO  "));
        assert_eq!(block[1], "        field: ruf=mailto:x@example.com");

        let block = block_after(&text, "[policy.mode-enforce]");
        assert!(block[0].starts_with("  WARN  the policy is in testing mode  "));
        assert_eq!(
            block.len(),
            3,
            "a warning without evidence still has fix and rule"
        );
    }
}

#[test]
fn human_verbose_keeps_passes_and_skips_to_one_line() {
    let text = human_verbose(false);
    let block = block_after(&text, "[sts-record.present]");
    assert_eq!(block.len(), 1, "{block:?}");
    assert!(block[0].starts_with("  PASS  An MTA-STS TXT record is published"));
    // The domain itself is not repeated as a subject.
    assert!(!block[0].contains("—"));

    let block = block_after(&text, "[smtp.starttls-offered]");
    assert_eq!(block.len(), 1, "{block:?}");
    assert!(block[0].starts_with("  SKIP  not checked: needs smtp.connect"));
}

#[test]
fn human_verbose_header_and_footer() {
    let text = human_verbose(false);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "mtasts 0.0.0-test · profile ncsc · 2023-11-14 22:13:20 UTC"
    );
    assert_eq!(lines[1], "  extra trust anchors from --ca-file lab.pem");
    assert_eq!(lines[2], "  DNS questions go to --resolver 127.0.0.1:5353");
    assert!(text.contains(
        "== example.com ==\n  policy: mode testing, id 20250101T000000, max_age 604800 (7 days)\n  \
         MX: mx1.example.com, mx2.example.com · policy mx: mx1.example.com\n  \
         TLS-RPT rua: mailto:tls@example.com\n"
    ));
    assert!(text.contains(
        "example.com: FAIL (2 pass, 2 fail, 1 warn, 1 info, 1 skipped, 1 could not determine)"
    ));
    assert!(text.contains(
        "example.org: PASS (2 pass, 0 fail, 1 warn, 0 info, 0 skipped, 0 could not determine; \
         1 ignored)"
    ));
    assert!(text.contains(
        "  WARN  a rua points at NCSC Mail Check, which has closed  [tlsrpt.rua-retired]\n        \
         ignored: reports also go to our own mailbox (ticket 7) (until 2026-12-31)\n"
    ));
    let expected_end = format!(
        "\nSummary: 2 domains — 1 pass, 0 warn, 1 fail, 0 could not be determined\n  \
         FAIL  example.com  2 pass, 2 fail, 1 warn, 1 info, 1 skipped, 1 could not determine\n  \
         PASS  example.org  2 pass, 1 warn; 1 ignored\n\n\
         Most common failing checks (domains):\n  \
         1  sts-record.id  {}\n  \
         1  mx.covered  {}\n",
        CheckId::StsRecordId.spec().title,
        CheckId::MxCovered.spec().title,
    );
    assert!(text.ends_with(&expected_end), "{text}");
}

#[test]
fn human_single_domain_has_no_summary() {
    let mut report = sample_report();
    report.domains.truncate(1);
    let text = String::from_utf8(render(&report, Format::Human, false)).unwrap();
    assert!(!text.contains("Summary:"));
    assert!(!text.contains("Most common"));
    // The one domain: header, verdict line, problems, a line per stage, and nothing after.
    assert!(
        text.starts_with("mtasts 0.0.0-test · profile ncsc"),
        "{text}"
    );
    assert!(
        text.contains(
            "\n\nexample.com: FAIL (2 pass, 2 fail, 1 warn, 1 info, 1 skipped, \
             1 could not determine)\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("\n  TLS reporting (_smtp._tls): 1 info\n"),
        "{text}"
    );
}

#[test]
fn human_without_colour_has_no_escape_bytes() {
    let text = human(false);
    assert!(!text.contains('\x1b'), "{text}");
    assert!(!text.contains('\u{202e}'));
    // The raw bytes were escaped rather than dropped.
    assert!(text.contains("id=abc\\x1B[2J\\u{202e}def"), "{text}");
}

#[test]
fn human_with_colour_never_lets_evidence_bytes_through() {
    let text = human(true);
    assert!(
        text.contains("\x1b[1;31mFAIL\x1b[0m"),
        "colour was asked for"
    );
    assert!(!text.contains("\x1b[2J"));
    assert!(!text.contains('\u{202e}'));
    for line in text.lines() {
        assert!(
            !line.chars().any(|ch| ch.is_control() && ch != '\x1b'),
            "{line:?}"
        );
    }
}

// ---- JSON, read back through structs that reject unknown fields ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonReport {
    schema_version: u32,
    tool: JsonTool,
    profile: String,
    generated_at: i64,
    settings: BTreeMap<String, String>,
    checks: BTreeMap<String, JsonCheck>,
    domains: Vec<JsonDomain>,
    summary: JsonSummary,
}

/// One check of the document's catalog (schema 2 and 3): the fixed text findings refer to by id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCheck {
    title: String,
    stage: String,
    severity: String,
    sources: Vec<String>,
    rules: Vec<String>,
    fix: String,
    docs: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonTool {
    name: String,
    version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDomain {
    domain: String,
    verdict: String,
    facts: JsonFacts,
    counts: JsonCounts,
    // Only when an ignore accepted a finding.
    #[serde(default)]
    ignored: Option<JsonCounts>,
    findings: Vec<JsonFinding>,
    // Schema 3, compact detail: passes and skips grouped by subject.
    #[serde(default)]
    passed: Vec<JsonGroup>,
    #[serde(default)]
    skipped: Vec<JsonGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonGroup {
    subject: JsonSubject,
    #[serde(default)]
    blocked_by: Option<String>,
    ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFacts {
    sts_id: Option<String>,
    mode: Option<String>,
    max_age: Option<u64>,
    mx_hosts: Vec<String>,
    policy_mx: Vec<String>,
    tlsrpt_rua: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct JsonCounts {
    pass: usize,
    fail: usize,
    warn: usize,
    info: usize,
    skipped: usize,
    could_not_determine: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFinding {
    id: String,
    outcome: String,
    subject: JsonSubject,
    // Not on a pass or a skip (schema 2, compact detail).
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    evidence: Option<Vec<JsonEvidence>>,
    // Only with --detail full.
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    sources: Option<Vec<String>>,
    #[serde(default)]
    rules: Option<Vec<String>>,
    #[serde(default)]
    fix: Option<String>,
    #[serde(default)]
    docs: Option<String>,
    #[serde(default)]
    blocked_by: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    // Only on a finding an ignore accepted.
    #[serde(default)]
    ignored: Option<JsonIgnored>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct JsonIgnored {
    reason: String,
    #[serde(default)]
    until: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum JsonSubject {
    Domain,
    Host { name: String },
    Endpoint { host: String, ip: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEvidence {
    label: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSummary {
    domains: usize,
    verdict: String,
    verdicts: JsonVerdicts,
    counts: JsonCounts,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct JsonVerdicts {
    pass: usize,
    warn: usize,
    could_not_determine: usize,
    fail: usize,
}

fn json_bytes() -> Vec<u8> {
    render(&sample_report(), Format::Json, false)
}

fn json() -> JsonReport {
    serde_json::from_slice(&json_bytes()).unwrap()
}

#[test]
fn json_top_level() {
    let report = json();
    assert_eq!(report.schema_version, 3);
    assert_eq!(
        (report.tool.name.as_str(), report.tool.version.as_str()),
        ("mtasts", "0.0.0-test")
    );
    assert_eq!(report.profile, "ncsc");
    assert_eq!(report.generated_at, 1_700_000_000);
    assert_eq!(report.settings["ca-file"], "lab.pem");
    assert_eq!(report.settings["resolver"], "127.0.0.1:5353");
    assert_eq!(report.summary.domains, 2);
    assert_eq!(report.summary.verdict, "fail");
    assert_eq!(
        report.summary.verdicts,
        JsonVerdicts {
            pass: 1,
            warn: 0,
            could_not_determine: 0,
            fail: 1
        }
    );
    assert_eq!(
        report.summary.counts,
        // Ignored findings are counted too; the verdicts leave them out.
        JsonCounts {
            pass: 4,
            fail: 2,
            warn: 2,
            info: 1,
            skipped: 1,
            could_not_determine: 1
        }
    );
}

#[test]
fn json_domains_and_facts() {
    let report = json();
    let names: Vec<&str> = report.domains.iter().map(|d| d.domain.as_str()).collect();
    assert_eq!(names, ["example.com", "example.org"], "input order is kept");
    let domain = &report.domains[0];
    assert_eq!(domain.verdict, "fail");
    assert_eq!(domain.facts.sts_id.as_deref(), Some("20250101T000000"));
    assert_eq!(domain.facts.mode.as_deref(), Some("testing"));
    assert_eq!(domain.facts.max_age, Some(604_800));
    assert_eq!(domain.facts.mx_hosts.len(), 2);
    assert_eq!(domain.facts.policy_mx, ["mx1.example.com"]);
    assert_eq!(domain.facts.tlsrpt_rua, ["mailto:tls@example.com"]);
    assert_eq!(
        domain.counts,
        JsonCounts {
            pass: 2,
            fail: 2,
            warn: 1,
            info: 1,
            skipped: 1,
            could_not_determine: 1
        }
    );
    assert_eq!(report.domains[1].facts.sts_id, None);
    // Its only warning is ignored: it is reported, marked, counted apart, and does not count.
    let org = &report.domains[1];
    assert_eq!(org.verdict, "pass");
    assert_eq!(org.counts.warn, 1);
    assert_eq!(org.ignored.as_ref().map(|counts| counts.warn), Some(1));
    assert!(report.domains[0].ignored.is_none());
    let ignored: Vec<(&str, &JsonIgnored)> = org
        .findings
        .iter()
        .filter_map(|finding| Some((finding.id.as_str(), finding.ignored.as_ref()?)))
        .collect();
    assert_eq!(
        ignored,
        [(
            "tlsrpt.rua-retired",
            &JsonIgnored {
                reason: "reports also go to our own mailbox (ticket 7)".to_owned(),
                until: Some("2026-12-31".to_owned()),
            }
        )]
    );
}

#[test]
fn json_carries_the_catalog_once_and_findings_refer_to_it() {
    let report = json();
    assert_eq!(report.checks.len(), mtasts::catalog::CATALOG.len());
    for (id, check) in &report.checks {
        let spec = CheckId::from_wire(id).unwrap().spec();
        assert_eq!(check.title, spec.title);
        assert_eq!(check.stage, spec.stage.as_str());
        assert_eq!(check.severity, spec.severity(Profile::Ncsc).as_str());
        assert_eq!(check.fix, spec.fix);
        assert_eq!(check.rules, spec.rules);
        assert_eq!(check.sources.len(), spec.sources.len());
        assert_eq!(
            check.docs,
            report::docs_link(&format!("docs/checks.md#{id}"))
        );
    }
    let domain = &report.domains[0];
    let findings = &domain.findings;
    let grouped = |groups: &[JsonGroup]| groups.iter().map(|group| group.ids.len()).sum::<usize>();
    assert_eq!(
        findings.len() + grouped(&domain.passed) + grouped(&domain.skipped),
        sample_report().domains[0].findings.len()
    );
    assert_eq!(grouped(&domain.passed), domain.counts.pass);
    assert_eq!(grouped(&domain.skipped), domain.counts.skipped);
    for group in domain.passed.iter().chain(&domain.skipped) {
        for id in &group.ids {
            assert!(report.checks.contains_key(id), "{id}");
        }
    }
    for finding in findings {
        assert!(report.checks.contains_key(&finding.id), "{}", finding.id);
        // The fixed text is not repeated, and passes and skips are in their groups.
        assert!(finding.title.is_none() && finding.fix.is_none() && finding.docs.is_none());
        assert!(
            !matches!(finding.outcome.as_str(), "pass" | "skipped"),
            "{finding:?}"
        );
        assert!(
            finding.summary.is_some() && finding.evidence.is_some(),
            "{finding:?}"
        );
        if let Some(severity) = &finding.severity {
            assert_eq!(severity, &report.checks[&finding.id].severity);
        }
    }

    let by_id = |id: &str| findings.iter().find(|f| f.id == id).unwrap();
    let covered = by_id("mx.covered");
    assert_eq!(covered.outcome, "fail");
    assert_eq!(
        covered.subject,
        JsonSubject::Host {
            name: "mx2.example.com".to_owned()
        }
    );
    assert_eq!(report.checks["mx.covered"].sources[0], "RFC 8461 §4.1");
    assert_eq!(
        covered.summary.as_deref(),
        Some("mx2.example.com matches no mx pattern")
    );
    let evidence = covered.evidence.as_ref().unwrap();
    assert_eq!(
        (evidence[0].label.as_str(), evidence[0].value.as_str()),
        ("policy mx", "mx1.example.com")
    );
    assert_eq!(
        (covered.blocked_by.as_deref(), covered.reason.as_deref()),
        (None, None)
    );

    let connect = by_id("smtp.connect");
    assert_eq!(connect.outcome, "could-not-determine");
    assert_eq!(
        connect.reason.as_deref(),
        Some("connection timed out after 10 s")
    );
    assert_eq!(
        connect.subject,
        JsonSubject::Endpoint {
            host: "mx1.example.com".to_owned(),
            ip: MX1_IP.to_owned()
        }
    );

    let skipped = &domain.skipped[0];
    assert_eq!(skipped.ids, ["smtp.starttls-offered"]);
    assert_eq!(skipped.blocked_by.as_deref(), Some("smtp.connect"));
    assert_eq!(
        skipped.subject,
        JsonSubject::Endpoint {
            host: "mx1.example.com".to_owned(),
            ip: MX1_IP.to_owned()
        }
    );
    let passed_at_the_domain = domain
        .passed
        .iter()
        .find(|group| group.subject == JsonSubject::Domain)
        .unwrap();
    assert!(passed_at_the_domain
        .ids
        .contains(&"sts-record.present".to_owned()));
}

#[test]
fn json_full_detail_keeps_the_catalog_in_every_finding() {
    let mut out = Vec::new();
    report::render_with_detail(
        &sample_report(),
        Format::Json,
        Style {
            colour: false,
            verbose: false,
        },
        report::Detail::Full,
        &mut out,
    )
    .unwrap();
    let report: JsonReport = serde_json::from_slice(&out).unwrap();
    for finding in &report.domains[0].findings {
        let spec = CheckId::from_wire(&finding.id).unwrap().spec();
        assert_eq!(finding.title.as_deref(), Some(spec.title));
        assert_eq!(finding.stage.as_deref(), Some(spec.stage.as_str()));
        assert_eq!(finding.fix.as_deref(), Some(spec.fix));
        assert_eq!(finding.rules.as_ref().unwrap(), &spec.rules);
        assert_eq!(finding.sources.as_ref().unwrap().len(), spec.sources.len());
        assert_eq!(
            finding.docs.as_deref(),
            Some(report::docs_link(&format!("docs/checks.md#{}", finding.id)).as_str())
        );
        assert!(finding.summary.is_some() && finding.evidence.is_some());
    }
}

#[test]
fn json_never_carries_raw_control_bytes() {
    let bytes = json_bytes();
    assert!(!bytes.contains(&0x1b), "ESC must be escaped as \\u001b");
    let report = json();
    let record = &report.domains[0].findings[0].evidence.as_ref().unwrap()[0];
    assert_eq!(
        record.value, "v=STSv1; id=abc\x1b[2J\u{202e}def",
        "the value round-trips"
    );
}

// ---- JSON Lines ----

fn jsonl_text() -> String {
    String::from_utf8(render(&sample_report(), Format::Jsonl, false)).unwrap()
}

#[test]
fn jsonl_lines_are_the_json_documents_domain_objects() {
    let text = jsonl_text();
    let document: serde_json::Value = serde_json::from_slice(&json_bytes()).unwrap();
    let domains = document["domains"].as_array().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), domains.len(), "{text}");
    for (line, expected) in lines.iter().zip(domains) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(&value, expected);
        // And it has exactly the documented shape.
        let _: JsonDomain = serde_json::from_str(line).unwrap();
    }
    assert!(text.ends_with("}\n"));
    assert!(!text.contains('\x1b'), "ESC is escaped as \\u001b");
}

// ---- CSV ----

const CSV_HEADER: &str = "domain,verdict,mode,policy_id,max_age,mx_count,mx_covered,\
                          starttls_ok,tlsrpt_ok,failures,warnings,failed_checks,ignored_checks";

/// An RFC 4180 reader, strict enough to catch a quoting mistake: records end in CRLF, a quoted
/// field ends at a lone `"`, and nothing follows it but a comma or the record's end.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars
                    .next()
                    .unwrap_or_else(|| panic!("unterminated quoted field"))
                {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    other => field.push(other),
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch == ',' || ch == '\r' {
                    break;
                }
                assert!(ch != '"' && ch != '\n', "unquoted {ch:?} in {text:?}");
                field.push(ch);
                chars.next();
            }
        }
        record.push(field);
        match chars.next() {
            Some(',') => {}
            Some('\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                records.push(std::mem::take(&mut record));
            }
            other => panic!("{other:?} after a field in {text:?}"),
        }
    }
    assert!(record.is_empty(), "the last record has no CRLF");
    records
}

/// Issue 13: the CSV reads back with the `csv` crate as with the strict parser above, record for
/// record, so a spreadsheet or a script using a standard reader sees the same columns.
#[test]
fn csv_reads_back_with_a_standard_csv_reader() {
    let text = csv_text(&sample_report());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let read: Vec<Vec<String>> = reader
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(read, parse_csv(&text));
    assert_eq!(read[0][0], "domain");
    assert_eq!(read.len(), 3);
}

fn csv_text(report: &AuditReport) -> String {
    String::from_utf8(render(report, Format::Csv, false)).unwrap()
}

#[test]
fn csv_header_is_stable() {
    let text = csv_text(&sample_report());
    assert_eq!(text.split("\r\n").next().unwrap(), CSV_HEADER);
    let records = parse_csv(&text);
    assert_eq!(records[0].len(), 13);
    assert!(records.iter().all(|record| record.len() == 13));
}

#[test]
fn csv_rows_of_the_sample() {
    let records = parse_csv(&csv_text(&sample_report()));
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[1],
        [
            "example.com",
            "fail",
            "testing",
            "20250101T000000",
            "604800",
            "2",
            "0",  // mx.covered was evaluated and matched no host
            "",   // STARTTLS was never reached
            "no", // no tlsrpt.present pass
            "2",
            "1",
            "mx.covered sts-record.id",
            "",
        ]
    );
    assert_eq!(
        records[2],
        [
            "example.org",
            "pass",
            "",
            "",
            "",
            "0",
            "",
            "",
            "yes",
            "0",
            "1", // the ignored warning is still a warning
            "",
            "tlsrpt.rua-retired",
        ]
    );
}

#[test]
fn csv_quotes_and_neutralises_hostile_values() {
    let mut report = sample_report();
    report.domains.truncate(1);
    let domain = &mut report.domains[0];
    domain.domain = "=cmd|' /C calc'!A0".to_owned();
    domain.facts.mode = Some("+enforce,\"x\"".to_owned());
    domain.facts.sts_id = Some("@SUM(1)\r\n-2".to_owned());
    domain.findings[1]
        .evidence
        .push(Evidence::new("=evil", "-1+1\",\"@x"));
    let text = csv_text(&report);
    let records = parse_csv(&text);
    assert_eq!(records.len(), 2, "{text:?}");
    let row = &records[1];
    assert_eq!(row[0], "'=cmd|' /C calc'!A0");
    assert_eq!(row[2], "'+enforce,\"x\"");
    assert_eq!(row[3], "'@SUM(1)\r\n-2");
    for cell in row {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell:?} would be read as a formula"
        );
    }
    // Evidence has no column: nothing of it reaches the file.
    assert!(!text.contains("evil"), "{text:?}");
    // The raw text: the quoted cells as RFC 4180 writes them.
    assert!(
        text.contains("\r\n'=cmd|' /C calc'!A0,fail,\"'+enforce,\"\"x\"\"\",\"'@SUM(1)\r\n-2\",")
    );
}

// ---- Streaming: the sinks a bulk run uses ----

/// A writer the test can read while the sink still owns it; `flushed` is how much had been
/// written at the last flush.
#[derive(Clone, Default)]
struct SharedBuffer {
    bytes: Arc<Mutex<Vec<u8>>>,
    flushed: Arc<Mutex<usize>>,
}

impl SharedBuffer {
    fn text(&self) -> String {
        String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap()
    }
    fn all_flushed(&self) -> bool {
        *self.flushed.lock().unwrap() == self.bytes.lock().unwrap().len()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        *self.flushed.lock().unwrap() = self.bytes.lock().unwrap().len();
        Ok(())
    }
}

fn header() -> RunHeader {
    RunHeader::of(&sample_report())
}

fn concluded(mut report: DomainReport) -> DomainReport {
    mtasts::verdict::facts::conclude(&report.findings, &mut report.facts);
    report
}

fn named(name: &str, findings: Vec<Finding>) -> DomainReport {
    DomainReport {
        domain: name.to_owned(),
        facts: Facts::default(),
        findings,
    }
}

fn failing(checks: &[CheckId]) -> Vec<Finding> {
    checks
        .iter()
        .map(|check| finding(*check, Subject::Domain, Outcome::Fail, "broken"))
        .collect()
}

/// Streams `reports` through the sink of `format`, then finishes with `summary` plus their counts.
fn stream_all(format: Format, reports: &[DomainReport], mut summary: RunSummary) -> String {
    let buffer = SharedBuffer::default();
    let mut sink = stream::sink(format, Style::default(), header(), Box::new(buffer.clone()));
    for report in reports {
        sink.domain(report).unwrap();
        summary.add(report);
    }
    sink.finish(&summary).unwrap();
    assert!(buffer.all_flushed(), "{format:?} left output unflushed");
    buffer.text()
}

#[test]
fn sinks_write_domains_in_call_order() {
    let reports = [
        named("c.example", Vec::new()),
        named("a.example", failing(&[CheckId::MxCovered])),
        named("b.example", Vec::new()),
    ];
    for format in [
        Format::Human,
        Format::Json,
        Format::Jsonl,
        Format::Csv,
        Format::Junit,
        Format::Github,
    ] {
        let text = stream_all(format, &reports, RunSummary::default());
        let positions: Vec<usize> = ["c.example", "a.example", "b.example"]
            .iter()
            .map(|name| {
                text.find(name)
                    .unwrap_or_else(|| panic!("{format:?}: {name}"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{format:?}\n{text}"
        );
    }
}

#[test]
fn streaming_sinks_write_and_flush_each_domain_at_once() {
    for format in [Format::Human, Format::Jsonl, Format::Csv, Format::Github] {
        let buffer = SharedBuffer::default();
        let mut sink = stream::sink(format, Style::default(), header(), Box::new(buffer.clone()));
        assert_eq!(
            buffer.text(),
            "",
            "{format:?} wrote before the first domain"
        );
        sink.domain(&named("first.example", Vec::new())).unwrap();
        assert!(buffer.text().contains("first.example"), "{format:?}");
        assert!(buffer.all_flushed(), "{format:?}");
        sink.domain(&named("second.example", Vec::new())).unwrap();
        assert!(buffer.text().contains("second.example"), "{format:?}");
        assert!(buffer.all_flushed(), "{format:?}");
    }
    // JSON is one document: nothing until the end.
    let buffer = SharedBuffer::default();
    let mut sink = stream::sink(
        Format::Json,
        Style::default(),
        header(),
        Box::new(buffer.clone()),
    );
    sink.domain(&named("first.example", Vec::new())).unwrap();
    assert_eq!(buffer.text(), "");
    sink.finish(&RunSummary::default()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&buffer.text()).unwrap();
    assert_eq!(value["domains"][0]["domain"], "first.example");
}

#[test]
fn jsonl_stream_concatenates_with_nothing_but_domains() {
    let reports = [
        named("a.example", Vec::new()),
        named("b.example", Vec::new()),
    ];
    let summary = RunSummary {
        input_errors: 3,
        ..RunSummary::default()
    };
    let text = stream_all(Format::Jsonl, &reports, summary);
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn human_summary_of_a_bulk_run() {
    let reports = [
        named(
            "a.example",
            failing(&[CheckId::MxCovered, CheckId::TlsRptPresent]),
        ),
        named("bb.example", failing(&[CheckId::TlsRptPresent])),
        named(
            "c.example",
            vec![finding(
                CheckId::SmtpConnect,
                Subject::Domain,
                Outcome::CouldNotDetermine {
                    reason: "timeout".to_owned(),
                },
                "timeout",
            )],
        ),
        named("d.example", Vec::new()),
    ];
    let summary = RunSummary {
        input_errors: 2,
        resumed: 1,
        ..RunSummary::default()
    };
    let text = stream_all(Format::Human, &reports, summary);
    let summary_text = &text[text.find("\nSummary: ").unwrap() + 1..];
    let tlsrpt = CheckId::TlsRptPresent.spec().title;
    let covered = CheckId::MxCovered.spec().title;
    assert_eq!(
        summary_text,
        format!(
            "Summary: 4 domains — 1 pass, 0 warn, 2 fail, 1 could not be determined\n  \
             not audited: 2 input lines that are not domain names, \
             1 domain done in an earlier run (--resume)\n  \
             FAIL     a.example   2 fail\n  \
             FAIL     bb.example  1 fail\n  \
             UNKNOWN  c.example   1 could not determine\n  \
             PASS     d.example\n\n\
             Most common failing checks (domains):\n  \
             2  tlsrpt.present  {tlsrpt}\n  \
             1  mx.covered  {covered}\n"
        )
    );
    // Every domain block came before the summary, in order.
    let blocks: Vec<usize> = ["\na.example: ", "\nbb.example: ", "\nc.example: "]
        .iter()
        .map(|heading| text.find(heading).unwrap())
        .collect();
    assert!(blocks.windows(2).all(|w| w[0] < w[1]));
    assert!(blocks[2] < text.find("Summary:").unwrap());
}

#[test]
fn human_summary_of_one_domain_with_input_errors() {
    let summary = RunSummary {
        input_errors: 1,
        ..RunSummary::default()
    };
    let text = stream_all(Format::Human, &[named("a.example", Vec::new())], summary);
    assert!(
        text.contains(
            "\nSummary: 1 domain — 1 pass, 0 warn, 0 fail, 0 could not be determined\n  \
         not audited: 1 input line that is not a domain name\n"
        ),
        "{text}"
    );
}

#[test]
fn human_summary_of_an_empty_run() {
    let summary = RunSummary {
        other_shards: 7,
        ..RunSummary::default()
    };
    let text = stream_all(Format::Human, &[], summary);
    assert!(
        text.starts_with("mtasts 0.0.0-test · profile ncsc"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "\nSummary: 0 domains — 0 pass, 0 warn, 0 fail, 0 could not be determined\n  \
         not audited: 7 domains left to other shards (--shard)\n"
        ),
        "{text}"
    );
}

#[test]
fn human_summary_lists_domains_only_for_small_runs() {
    let reports: Vec<DomainReport> = (0..51)
        .map(|index| named(&format!("d{index}.example"), Vec::new()))
        .collect();
    let small = stream_all(Format::Human, &reports[..50], RunSummary::default());
    let summary = &small[small.find("Summary:").unwrap()..];
    assert_eq!(summary.matches("  PASS  d").count(), 50, "{summary}");
    let large = stream_all(Format::Human, &reports, RunSummary::default());
    let summary = &large[large.find("Summary:").unwrap()..];
    assert_eq!(summary.matches("PASS").count(), 0, "{summary}");
    assert!(summary.starts_with("Summary: 51 domains — 51 pass, 0 warn, 0 fail,"));
}

#[test]
fn human_summary_lists_the_ten_most_common_failing_checks() {
    let checks: Vec<CheckId> = mtasts::catalog::CATALOG
        .iter()
        .map(|spec| spec.id)
        .take(12)
        .collect();
    // The last check fails for two domains, the others for one.
    let reports = [
        named("a.example", failing(&checks)),
        named("b.example", failing(&checks[11..])),
    ];
    let text = stream_all(Format::Human, &reports, RunSummary::default());
    let top = &text[text.find("Most common failing checks").unwrap()..];
    let listed: Vec<&str> = top
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().nth(1).unwrap())
        .collect();
    let mut expected = vec![checks[11].as_str()];
    expected.extend(checks[..9].iter().map(|check| check.as_str()));
    assert_eq!(listed, expected);
    assert!(top.lines().nth(1).unwrap().starts_with("  2  "));
    assert!(top.lines().nth(2).unwrap().starts_with("  1  "));
}

#[test]
fn progress_disabled_writes_nothing() {
    let progress = Progress::new(1000, false);
    assert!(progress.is_hidden());
    for index in 0..1000 {
        progress.domain_done(&format!("d{index}.example"));
    }
    progress.finish();
    assert!(progress.is_hidden());
}

// ---- The formats CI tools read: SARIF, JUnit, GitHub workflow commands ----

/// Where `check --file lists/domains.txt` would have read example.com.
fn listed_at_line_3() -> InputLocation {
    InputLocation {
        path: Arc::from("lists/domains.txt"),
        line: 3,
    }
}

/// `reports` streamed through `format` as a `check` run hands them over: each domain with the
/// line it was read from (`None`: given on the command line).
fn stream_located(
    format: Format,
    fail_on: FailOn,
    reports: &[(DomainReport, Option<InputLocation>)],
) -> String {
    let header = RunHeader {
        fail_on,
        ..header()
    };
    let buffer = SharedBuffer::default();
    let mut sink = stream::sink(format, Style::default(), header, Box::new(buffer.clone()));
    let mut summary = RunSummary::default();
    for (report, source) in reports {
        sink.domain_from(report, source.as_ref()).unwrap();
        summary.add(report);
    }
    sink.finish(&summary).unwrap();
    assert!(buffer.all_flushed(), "{format:?} left output unflushed");
    buffer.text()
}

/// The sample: example.com from line 3 of a list, example.org from the command line.
fn ci_text(format: Format, fail_on: FailOn) -> String {
    let [listed, argument] = sample_report().domains.try_into().unwrap();
    stream_located(
        format,
        fail_on,
        &[(listed, Some(listed_at_line_3())), (argument, None)],
    )
}

/// The sample's findings that the CI formats report as problems (not a pass, not a skip).
fn problems(report: &DomainReport) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| !matches!(f.outcome, Outcome::Pass | Outcome::Skipped { .. }))
        .collect()
}

#[test]
fn sarif_is_valid_against_the_sarif_2_1_0_schema() {
    common::sarif::assert_valid(&ci_text(Format::Sarif, FailOn::Fail));
    // A run with nothing to report is a valid log too.
    let empty = stream_located(Format::Sarif, FailOn::Fail, &[]);
    let log = common::sarif::assert_valid(&empty);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn the_sarif_schema_check_can_fail() {
    let mut log: serde_json::Value =
        serde_json::from_str(&ci_text(Format::Sarif, FailOn::Fail)).unwrap();
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "docs/checks.md#x y".into();
    let errors = common::sarif::validator().iter_errors(&log).count();
    assert_eq!(errors, 2, "a bad level and a relative helpUri");
}

#[test]
fn sarif_has_one_rule_per_check_under_the_profile() {
    let log = common::sarif::assert_valid(&ci_text(Format::Sarif, FailOn::Fail));
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(
        (&driver["name"], &driver["version"]),
        (&"mtasts".into(), &"0.0.0-test".into())
    );
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), mtasts::catalog::CATALOG.len());
    for (rule, spec) in rules.iter().zip(mtasts::catalog::CATALOG) {
        assert_eq!(rule["id"], spec.id.as_str());
        assert_eq!(rule["shortDescription"]["text"], spec.title);
        assert!(rule["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .starts_with(spec.title));
        assert!(rule["help"]["text"].as_str().unwrap().starts_with(spec.fix));
        assert!(rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .starts_with(spec.fix));
        let expected = match spec.severity(Profile::Ncsc) {
            mtasts::catalog::Severity::Fail => ("7.5", "error"),
            mtasts::catalog::Severity::Warn => ("5.0", "warning"),
            mtasts::catalog::Severity::Info => ("2.0", "note"),
        };
        assert_eq!(
            (
                rule["properties"]["security-severity"].as_str().unwrap(),
                rule["defaultConfiguration"]["level"].as_str().unwrap()
            ),
            expected,
            "{}",
            spec.id.as_str()
        );
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(tags.contains(&"security".into()) && tags.contains(&spec.stage.as_str().into()));
    }
    // tlsrpt.present warns under rfc but fails under ncsc, the sample's profile.
    let tlsrpt = rules.iter().find(|r| r["id"] == "tlsrpt.present").unwrap();
    assert_eq!(tlsrpt["properties"]["security-severity"], "7.5");

    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    assert_eq!(invocation["startTimeUtc"], "2023-11-14T22:13:20Z");
    assert_eq!(invocation["properties"]["profile"], "ncsc");
    assert_eq!(invocation["properties"]["failOn"], "fail");
    assert_eq!(invocation["properties"]["settings"]["ca-file"], "lab.pem");
    assert_eq!(run["properties"]["domains"], 2);
    assert_eq!(run["properties"]["verdicts"]["fail"], 1);
}

#[test]
fn sarif_has_one_result_per_problem_located_at_its_line() {
    let log = common::sarif::assert_valid(&ci_text(Format::Sarif, FailOn::Fail));
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let sample = sample_report();
    let expected = problems(&sample.domains[0]);
    // example.org's one problem is ignored (accepted in mtasts.toml): still a result, suppressed.
    let accepted = problems(&sample.domains[1]);
    assert_eq!(accepted.len(), 1);
    assert!(accepted[0].ignored.is_some());
    assert_eq!(results.len(), expected.len() + 1);
    let suppressed = results.last().unwrap();
    assert_eq!(suppressed["ruleId"], "tlsrpt.rua-retired");
    assert_eq!(
        suppressed["suppressions"],
        serde_json::json!([{"kind": "external", "status": "accepted",
            "justification": "reports also go to our own mailbox (ticket 7) (until 2026-12-31)"}])
    );
    assert!(results[..expected.len()]
        .iter()
        .all(|result| result.get("suppressions").is_none()));
    let mut fingerprints = std::collections::BTreeSet::new();
    for (result, finding) in results.iter().zip(&expected) {
        assert_eq!(result["ruleId"], finding.check.as_str());
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let level = match finding.outcome {
            Outcome::Fail => "error",
            Outcome::Warn => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], level, "{}", finding.check.as_str());
        let location = &result["locations"][0];
        let physical = &location["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "lists/domains.txt");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(physical["region"]["startLine"], 3);
        assert!(location["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .starts_with("example.com"));
        let fingerprint = result["partialFingerprints"]["mtastsFinding/v1"]
            .as_str()
            .unwrap();
        assert!(fingerprints.insert(fingerprint.to_owned()), "{fingerprint}");
        let text = result["message"]["text"].as_str().unwrap();
        assert!(text.starts_with("example.com: "), "{text}");
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
    }
    let by_id = |id: &str| results.iter().find(|r| r["ruleId"] == id).unwrap();
    let covered = by_id("mx.covered");
    assert_eq!(
        covered["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "example.com/mx2.example.com"
    );
    assert!(covered["message"]["text"]
        .as_str()
        .unwrap()
        .contains("\npolicy mx: mx1.example.com\nfix: "));
    let id = by_id("sts-record.id")["message"]["text"].as_str().unwrap();
    assert!(id.contains("id=abc\\x1B[2J\\u{202e}def"), "{id}");
    let connect = by_id("smtp.connect")["message"]["text"].as_str().unwrap();
    assert!(connect.contains(
        "could not be determined from where mtasts ran: connection timed out after 10 s"
    ));
    assert!(connect.contains(&format!("fix: {}", Stage::Smtp.undetermined_fix())));
}

#[test]
fn sarif_fingerprints_follow_the_finding_not_its_evidence_or_profile() {
    let fingerprints = |text: &str| -> Vec<String> {
        let log: serde_json::Value = serde_json::from_str(text).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["mtastsFinding/v1"].to_string())
            .collect()
    };
    let mut before = fingerprints(&ci_text(Format::Sarif, FailOn::Fail));
    // The last result is example.org's; only example.com's are compared below.
    before.pop();
    let mut changed = sample_report().domains.remove(0);
    for finding in &mut changed.findings {
        finding.summary.push_str(" (reworded)");
        finding
            .evidence
            .push(Evidence::new("seen", "something else"));
    }
    // Another line of the list, another profile: the same alerts.
    let moved = InputLocation {
        line: 40,
        ..listed_at_line_3()
    };
    let after = fingerprints(&stream_located(
        Format::Sarif,
        FailOn::Warn,
        &[(changed, Some(moved))],
    ));
    assert_eq!(before, after);
}

#[test]
fn sarif_locates_a_domain_from_the_command_line_at_a_file_named_after_it() {
    let report = named(
        "cli.example",
        vec![finding(
            CheckId::MxCovered,
            Subject::endpoint("mx.cli.example", MX1_IP.parse().unwrap()),
            Outcome::Fail,
            "not covered",
        )],
    );
    let log = common::sarif::assert_valid(&stream_located(
        Format::Sarif,
        FailOn::Fail,
        &[(report, None)],
    ));
    let location = &log["runs"][0]["results"][0]["locations"][0];
    // GitHub rejects a result without a physical location (github/codeql-action#1738).
    let artifact = &location["physicalLocation"]["artifactLocation"];
    assert_eq!(artifact["uri"], "cli.example");
    assert!(artifact.get("uriBaseId").is_none());
    assert_eq!(
        location["logicalLocations"][0],
        serde_json::json!({
            "name": MX1_IP,
            "fullyQualifiedName": format!("cli.example/mx.cli.example/{MX1_IP}"),
            "kind": "resource"
        })
    );
}

/// Child elements of `node` named `name`.
fn children<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    name: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'input>> {
    node.children()
        .filter(move |child| child.has_tag_name(name))
}

fn count_attribute(node: roxmltree::Node<'_, '_>, name: &str) -> usize {
    node.attribute(name)
        .unwrap_or_else(|| panic!("no {name} on <{}>", node.tag_name().name()))
        .parse()
        .unwrap()
}

/// (tests, failures, errors, skipped) of the test cases under `node`, counted from the
/// elements, after checking that `node`'s own count attributes say the same.
fn junit_counts(node: roxmltree::Node<'_, '_>) -> (usize, usize, usize, usize) {
    let cases: Vec<_> = node
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let with = |tag: &'static str| {
        cases
            .iter()
            .filter(|c| children(**c, tag).count() > 0)
            .count()
    };
    let counts = (cases.len(), with("failure"), with("error"), with("skipped"));
    let attributes = (
        count_attribute(node, "tests"),
        count_attribute(node, "failures"),
        count_attribute(node, "errors"),
        count_attribute(node, "skipped"),
    );
    assert_eq!(attributes, counts, "<{}>", node.tag_name().name());
    counts
}

#[test]
fn junit_has_a_suite_per_domain_and_a_case_per_finding() {
    let sample = sample_report();
    for (fail_on, warn_fails) in [(FailOn::Fail, 0), (FailOn::Warn, 1)] {
        let text = ci_text(Format::Junit, fail_on);
        let document = roxmltree::Document::parse(&text).unwrap();
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let suites: Vec<_> = children(root, "testsuite").collect();
        let names: Vec<&str> = suites
            .iter()
            .map(|s| s.attribute("name").unwrap())
            .collect();
        assert_eq!(names, ["example.com", "example.org"]);
        let mut total = (0, 0, 0, 0);
        for (suite, report) in suites.iter().zip(&sample.domains) {
            // Ignored findings are skipped cases, whatever their outcome.
            let count = |label: &str| {
                report
                    .findings
                    .iter()
                    .filter(|f| f.ignored.is_none() && f.outcome.label() == label)
                    .count()
            };
            let expected = (
                report.findings.len(),
                count("fail") + warn_fails * count("warn"),
                count("could-not-determine"),
                count("skipped") + report.ignored().count(),
            );
            let counted = junit_counts(*suite);
            assert_eq!(counted, expected, "{} {fail_on:?}", report.domain);
            total = (
                total.0 + counted.0,
                total.1 + counted.1,
                total.2 + counted.2,
                total.3 + counted.3,
            );
        }
        assert_eq!(junit_counts(root), total);
        assert_eq!(total, (11, 2 + warn_fails, 1, 2));
    }
}

#[test]
fn junit_cases_name_the_check_subject_and_reason() {
    let text = ci_text(Format::Junit, FailOn::Fail);
    let document = roxmltree::Document::parse(&text).unwrap();
    let case = |name: &str| {
        document
            .descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no test case {name}\n{text}"))
    };
    let covered = case("mx.covered (mx2.example.com)");
    assert_eq!(covered.attribute("classname"), Some("example.com.mx"));
    let failure = children(covered, "failure").next().unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("mx2.example.com matches no mx pattern — mx2.example.com")
    );
    assert_eq!(failure.attribute("type"), Some("fail"));
    assert!(failure
        .text()
        .unwrap()
        .starts_with("policy mx: mx1.example.com\nfix: "));

    let connect = case(&format!("smtp.connect (mx1.example.com {MX1_IP})"));
    let error = children(connect, "error").next().unwrap();
    assert_eq!(error.attribute("type"), Some("could-not-determine"));
    assert!(error
        .text()
        .unwrap()
        .contains("could not be determined from where mtasts ran: connection timed out"));

    let skipped = case(&format!("smtp.starttls-offered (mx1.example.com {MX1_IP})"));
    let skip = children(skipped, "skipped").next().unwrap();
    assert_eq!(
        skip.attribute("message"),
        Some("not checked: needs smtp.connect")
    );

    // A warning that does not fail the run passes, and says what was seen.
    let enforce = case("policy.mode-enforce");
    assert_eq!(enforce.children().filter(|n| n.is_element()).count(), 1);
    let out = children(enforce, "system-out")
        .next()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        out.starts_with("warn: the policy is in testing mode\n"),
        "{out}"
    );

    let record = case("sts-record.id");
    let failure = children(record, "failure").next().unwrap();
    assert!(failure
        .text()
        .unwrap()
        .contains("id=abc\\x1B[2J\\u{202e}def"));

    let listed = document
        .descendants()
        .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("source"))
        .unwrap();
    assert_eq!(listed.attribute("value"), Some("lists/domains.txt:3"));
}

#[test]
fn github_annotates_each_problem_at_its_line() {
    let text = ci_text(Format::Github, FailOn::Fail);
    let commands: Vec<common::workflow::Command> =
        text.lines().filter_map(common::workflow::parse).collect();
    let sample = sample_report();
    let expected = problems(&sample.domains[0]);
    // And example.org's ignored warning, as a notice that says so.
    assert_eq!(commands.len(), expected.len() + 1, "{text}");
    let accepted = commands.last().unwrap();
    assert_eq!(accepted.name, "notice");
    assert!(accepted.properties["title"].ends_with("tlsrpt.rua-retired (ignored)"));
    assert!(accepted
        .message
        .contains("\nignored: reports also go to our own mailbox (ticket 7) (until 2026-12-31)\n"));
    for (command, finding) in commands.iter().zip(&expected) {
        let name = match finding.outcome {
            Outcome::Fail => "error",
            Outcome::Warn => "warning",
            _ => "notice",
        };
        assert_eq!(command.name, name);
        assert_eq!(command.properties["file"], "lists/domains.txt");
        assert_eq!(command.properties["line"], "3");
        assert_eq!(
            command.properties["title"],
            format!("example.com: {}", finding.check.as_str())
        );
        assert!(command.message.starts_with("example.com: "));
        assert!(command.message.contains("\nfix: "), "{command:?}");
    }
    // Every other line is plain text: a verdict per domain and the run's summary.
    let plain: Vec<&str> = text.lines().filter(|l| !l.starts_with("::")).collect();
    assert_eq!(
        plain,
        [
            "mtasts: example.com: fail",
            "mtasts: example.org: pass",
            "mtasts: 2 domain(s): 1 pass, 0 warn, 1 fail, 0 could not be determined; \
             6 annotation(s)"
        ]
    );
}

#[test]
fn github_commands_survive_hostile_text() {
    let hostile = "100% sure\r\n::error file=x::forged, or: %0A";
    let mut report = named(
        "hostile.example",
        vec![with_evidence(
            finding(
                CheckId::StsRecordSyntax,
                Subject::Domain,
                Outcome::Fail,
                "50% of the record: a,b::c",
            ),
            "record",
            hostile,
        )],
    );
    report.findings.push(finding(
        CheckId::PolicyModeEnforce,
        Subject::Domain,
        Outcome::Warn,
        "second",
    ));
    let source = InputLocation {
        path: Arc::from("lists/a,b:c%.txt"),
        line: 7,
    };
    let text = stream_located(Format::Github, FailOn::Fail, &[(report, Some(source))]);
    let lines: Vec<&str> = text.lines().collect();
    // Two commands, the verdict and the summary: nothing forged a line of its own.
    assert_eq!(lines.len(), 4, "{text}");
    let commands: Vec<common::workflow::Command> = lines
        .iter()
        .filter_map(|l| common::workflow::parse(l))
        .collect();
    assert_eq!(commands.len(), 2, "{text}");
    let first = &commands[0];
    assert_eq!(first.name, "error");
    assert_eq!(first.properties["file"], "lists/a,b:c%.txt");
    assert_eq!(first.properties["line"], "7");
    assert_eq!(
        first.properties["title"],
        "hostile.example: sts-record.syntax"
    );
    assert_eq!(first.properties.len(), 3, "{first:?}");
    let spec = CheckId::StsRecordSyntax.spec();
    let sources: Vec<String> = spec.sources.iter().map(ToString::to_string).collect();
    assert_eq!(
        first.message,
        format!(
            "hostile.example: 50% of the record: a,b::c\n\
             record: 100% sure\\x0D\\x0A::error file=x::forged, or: %0A\n\
             fix: {}\nrule: {}",
            spec.fix,
            sources.join(", ")
        )
    );
    assert_eq!(commands[1].name, "warning");
}

// ---- Golden files ----

fn check_golden(name: &str, actual: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/reports")
        .join(name);
    if std::env::var_os("MTASTS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs from the renderer's output:\n{}\n\
         If the change is intended, regenerate with: MTASTS_BLESS=1 cargo test --test render",
        path.display(),
        String::from_utf8_lossy(actual)
    );
}

#[test]
fn human_output_matches_golden_file() {
    check_golden("two-domains.human.txt", human(false).as_bytes());
    check_golden(
        "two-domains.human-verbose.txt",
        human_verbose(false).as_bytes(),
    );
}

#[test]
fn json_output_matches_golden_file() {
    check_golden("two-domains.json", &json_bytes());
}

#[test]
fn jsonl_output_matches_golden_file() {
    check_golden("two-domains.jsonl", jsonl_text().as_bytes());
}

#[test]
fn csv_output_matches_golden_file() {
    check_golden("two-domains.csv", csv_text(&sample_report()).as_bytes());
}

#[test]
fn sarif_output_matches_golden_file() {
    check_golden(
        "two-domains.sarif",
        ci_text(Format::Sarif, FailOn::Fail).as_bytes(),
    );
}

#[test]
fn junit_output_matches_golden_file() {
    check_golden(
        "two-domains.junit.xml",
        ci_text(Format::Junit, FailOn::Fail).as_bytes(),
    );
}

#[test]
fn github_output_matches_golden_file() {
    check_golden(
        "two-domains.github.txt",
        ci_text(Format::Github, FailOn::Fail).as_bytes(),
    );
}
