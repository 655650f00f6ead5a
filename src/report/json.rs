//! The JSON report (`--format json`) and the domain object that JSON Lines (`--format jsonl`)
//! writes one per line: serialisation-only wire structs, kept apart from the domain types so that
//! a refactor of the model cannot change the output by accident. docs/report-json.md documents
//! every field; a field changes only together with [`SCHEMA_VERSION`].
//!
//! The document is written whole at the end of the run, so its sink keeps every report in
//! memory until then; JSON Lines does not.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::IpAddr;

use serde::Serialize;

use super::stream::{RunHeader, RunSummary, Sink};
use super::Detail;
use crate::catalog::Profile;
use crate::model::{DomainReport, Facts, Finding, Outcome, Subject, Verdict};

/// The version of the report's shape. 2 (issue 11): the checks' fixed text moved from every
/// finding into the document's `checks` catalog; passes carry id, outcome and subject only
/// (all of it with `--detail full`); the `run` object. 3 (issue 11): compact detail groups the
/// passes (`passed`) and the skips (`skipped`) by subject, so `findings` holds only what a
/// person has to read; a passing endpoint's subject is written once, not once per check.
pub const SCHEMA_VERSION: u32 = 3;

/// Collects the domains of a run and writes them as one pretty-printed JSON document and a
/// newline when the run finishes; nothing is written before, so a run that stops on an error
/// leaves no half document behind.
pub(super) struct JsonSink<'a> {
    out: Box<dyn Write + Send + 'a>,
    header: RunHeader,
    domains: Vec<DomainReport>,
}

impl<'a> JsonSink<'a> {
    pub(super) fn new(out: Box<dyn Write + Send + 'a>, header: RunHeader) -> Self {
        Self {
            out,
            header,
            domains: Vec::new(),
        }
    }
}

impl Sink for JsonSink<'_> {
    fn domain(&mut self, report: &DomainReport) -> io::Result<()> {
        self.domains.push(report.clone());
        Ok(())
    }

    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        let document = WireReport::new(&self.header, &self.domains, summary);
        // The catalog once, ahead of the domains' findings that refer to it by id.
        let text = serde_json::to_vec_pretty(&document)?;
        self.out.write_all(&escape_separators(text))?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// Writes `domain` as one line of JSON Lines: compact, the same object as an element of the
/// document's `domains`, then `\n`, in one write so that a reader never sees half a line.
pub(super) fn write_domain_line(
    domain: &DomainReport,
    profile: Profile,
    detail: Detail,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut line = escape_separators(serde_json::to_vec(&WireDomain::from_domain(
        domain, profile, detail,
    ))?);
    line.push(b'\n');
    out.write_all(&line)
}

/// U+2028 and U+2029 written as `\u2028` and `\u2029`, as `docs/report-json.md` promises:
/// valid JSON either way, but JavaScript before ES2019 and some line-oriented tools treat them
/// as line ends. serde_json leaves them raw, and they can only occur inside strings, so the
/// serialised bytes are rewritten.
fn escape_separators(json: Vec<u8>) -> Vec<u8> {
    const LS: &[u8] = "\u{2028}".as_bytes();
    const PS: &[u8] = "\u{2029}".as_bytes();
    if !json.windows(3).any(|w| w == LS || w == PS) {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 16);
    let mut index = 0;
    while index < json.len() {
        let rest = &json[index..];
        if rest.starts_with(LS) {
            out.extend_from_slice(b"\\u2028");
            index += 3;
        } else if rest.starts_with(PS) {
            out.extend_from_slice(b"\\u2029");
            index += 3;
        } else {
            out.push(json[index]);
            index += 1;
        }
    }
    out
}

#[derive(Serialize)]
struct WireReport<'a> {
    schema_version: u32,
    tool: WireTool<'a>,
    profile: &'static str,
    generated_at: i64,
    settings: BTreeMap<&'a str, &'a str>,
    /// Every check of the catalog, keyed by id: the fixed text findings refer to.
    checks: BTreeMap<&'static str, WireCheck>,
    domains: Vec<WireDomain<'a>>,
    summary: WireSummary<'a>,
    /// How the network side of the run went; only in `check` runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<WireRun<'a>>,
}

#[derive(Serialize)]
struct WireRun<'a> {
    dns: WireRunDns<'a>,
    smtp: WireRunSmtp,
}

#[derive(Serialize)]
struct WireRunDns<'a> {
    lookups: u64,
    retried: u64,
    throttled: u64,
    failed: u64,
    window_smallest: u64,
    window_limit: u64,
    resolver_bottleneck: bool,
    resolver_down: Option<&'a str>,
}

#[derive(Serialize)]
struct WireRunSmtp {
    requests: u64,
    sessions: u64,
    shared: u64,
}

#[derive(Serialize)]
struct WireCheck {
    title: &'static str,
    stage: &'static str,
    severity: &'static str,
    sources: Vec<String>,
    rules: &'static [&'static str],
    fix: &'static str,
    docs: String,
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct WireDomain<'a> {
    domain: &'a str,
    verdict: &'static str,
    facts: WireFacts<'a>,
    counts: WireCounts,
    /// The findings an ignore accepted, per outcome; absent when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<WireCounts>,
    /// Every finding with `--detail full`; otherwise those that are neither a pass nor a skip.
    findings: Vec<WireFinding<'a>>,
    /// Compact detail: the passing checks, grouped by subject in order of first appearance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    passed: Vec<WirePassed<'a>>,
    /// Compact detail: the skipped checks, grouped by subject and blocker.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<WireSkipped<'a>>,
}

/// The checks that passed for one subject (compact detail).
#[derive(Serialize)]
struct WirePassed<'a> {
    subject: WireSubject<'a>,
    ids: Vec<&'static str>,
}

/// The checks skipped for one subject because of one blocker (compact detail).
#[derive(Serialize)]
struct WireSkipped<'a> {
    subject: WireSubject<'a>,
    blocked_by: &'a str,
    ids: Vec<&'static str>,
}

#[derive(Serialize)]
struct WireFacts<'a> {
    sts_id: Option<&'a str>,
    mode: Option<&'a str>,
    max_age: Option<u64>,
    mx_hosts: &'a [String],
    policy_mx: &'a [String],
    tlsrpt_rua: &'a [String],
}

#[derive(Default, Serialize)]
struct WireCounts {
    pass: usize,
    fail: usize,
    warn: usize,
    info: usize,
    skipped: usize,
    could_not_determine: usize,
}

/// One finding. With [`Detail::Compact`], the check's fixed text (title, stage, sources,
/// rules, fix, docs) is left to the document's `checks`, and a pass carries only id, outcome and
/// subject (a skip also its `blocked_by`).
#[derive(Serialize)]
struct WireFinding<'a> {
    id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage: Option<&'static str>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<&'static [&'static str]>,
    subject: WireSubject<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Vec<WireEvidence<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    docs: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// Accepted by an ignore (mtasts.toml or --ignore): it counts toward neither the verdict
    /// nor the exit status.
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<WireIgnored<'a>>,
}

#[derive(Serialize)]
struct WireIgnored<'a> {
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum WireSubject<'a> {
    Domain,
    Host { name: &'a str },
    Endpoint { host: &'a str, ip: IpAddr },
}

#[derive(Serialize)]
struct WireEvidence<'a> {
    label: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct WireSummary<'a> {
    domains: usize,
    verdict: &'static str,
    verdicts: WireVerdicts,
    counts: WireCounts,
    // Additions to schema 1 for bulk runs: absent when zero, so a run without them (and every
    // `lint`) writes exactly what it did before.
    #[serde(skip_serializing_if = "is_zero")]
    input_errors: usize,
    #[serde(skip_serializing_if = "is_zero")]
    resumed: usize,
    #[serde(skip_serializing_if = "is_zero")]
    other_shards: usize,
    /// Domains of the `--baseline` this run did not audit; absent without any.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    baseline_absent: &'a [String],
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

#[derive(Default, Serialize)]
struct WireVerdicts {
    pass: usize,
    warn: usize,
    could_not_determine: usize,
    fail: usize,
}

impl<'a> WireReport<'a> {
    fn new(header: &'a RunHeader, domains: &'a [DomainReport], run: &'a RunSummary) -> Self {
        let wire_domains: Vec<WireDomain<'a>> = domains
            .iter()
            .map(|domain| WireDomain::from_domain(domain, header.profile, header.detail))
            .collect();
        let checks = crate::catalog::CATALOG
            .iter()
            .map(|spec| {
                (
                    spec.id.as_str(),
                    WireCheck {
                        title: spec.title,
                        stage: spec.stage.as_str(),
                        severity: spec.severity(header.profile).as_str(),
                        sources: spec.sources.iter().map(ToString::to_string).collect(),
                        rules: spec.rules,
                        fix: spec.fix,
                        docs: super::docs_anchor(spec.id),
                    },
                )
            })
            .collect();
        // Counted from the domains in the document, so the document agrees with itself.
        let mut summary = WireSummary {
            domains: domains.len(),
            verdict: Verdict::Pass.as_str(),
            verdicts: WireVerdicts::default(),
            counts: WireCounts::default(),
            input_errors: run.input_errors,
            resumed: run.resumed,
            other_shards: run.other_shards,
            baseline_absent: &run.baseline_absent,
        };
        let mut worst = Verdict::Pass;
        for domain in domains {
            let verdict = domain.verdict();
            worst = worst.max(verdict);
            match verdict {
                Verdict::Pass => summary.verdicts.pass += 1,
                Verdict::Warn => summary.verdicts.warn += 1,
                Verdict::CouldNotDetermine => summary.verdicts.could_not_determine += 1,
                Verdict::Fail => summary.verdicts.fail += 1,
            }
            summary.counts.add(&WireCounts::of(domain.findings.iter()));
        }
        summary.verdict = worst.as_str();
        Self {
            schema_version: SCHEMA_VERSION,
            tool: WireTool {
                name: "mtasts",
                version: &header.tool_version,
            },
            profile: header.profile.as_str(),
            generated_at: header.generated_at,
            settings: header
                .settings
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect(),
            checks,
            domains: wire_domains,
            summary,
            run: run.network.as_ref().map(|network| WireRun {
                dns: WireRunDns {
                    lookups: network.dns_questions,
                    retried: network.dns_retried,
                    throttled: network.dns_throttled,
                    failed: network.dns_failed,
                    window_smallest: network.dns_window_smallest,
                    window_limit: network.dns_window_limit,
                    resolver_bottleneck: network.resolver_bottleneck,
                    resolver_down: network.resolver_down.as_deref(),
                },
                smtp: WireRunSmtp {
                    requests: network.smtp_requests,
                    sessions: network.smtp_probes,
                    shared: network.smtp_shared,
                },
            }),
        }
    }
}

impl<'a> WireDomain<'a> {
    fn from_domain(domain: &'a DomainReport, profile: Profile, detail: Detail) -> Self {
        let mut wire = Self {
            domain: &domain.domain,
            verdict: domain.verdict().as_str(),
            facts: WireFacts::from_facts(&domain.facts),
            counts: WireCounts::of(domain.findings.iter()),
            ignored: domain
                .ignored()
                .next()
                .is_some()
                .then(|| WireCounts::of(domain.ignored())),
            findings: Vec::new(),
            passed: Vec::new(),
            skipped: Vec::new(),
        };
        // Groups are few per domain (one per subject), so a linear search stays cheap.
        for finding in &domain.findings {
            let id = finding.check.as_str();
            match (&finding.outcome, detail) {
                (Outcome::Pass, Detail::Compact) => {
                    match wire
                        .passed
                        .iter_mut()
                        .find(|group| group.subject.is(&finding.subject))
                    {
                        Some(group) => group.ids.push(id),
                        None => wire.passed.push(WirePassed {
                            subject: WireSubject::from_subject(&finding.subject),
                            ids: vec![id],
                        }),
                    }
                }
                (Outcome::Skipped { blocked_by }, Detail::Compact) => {
                    let blocked_by = blocked_by.as_str();
                    match wire.skipped.iter_mut().find(|group| {
                        group.blocked_by == blocked_by && group.subject.is(&finding.subject)
                    }) {
                        Some(group) => group.ids.push(id),
                        None => wire.skipped.push(WireSkipped {
                            subject: WireSubject::from_subject(&finding.subject),
                            blocked_by,
                            ids: vec![id],
                        }),
                    }
                }
                _ => wire
                    .findings
                    .push(WireFinding::from_finding(finding, profile, detail)),
            }
        }
        wire
    }
}

impl<'a> WireFacts<'a> {
    fn from_facts(facts: &'a Facts) -> Self {
        Self {
            sts_id: facts.sts_id.as_deref(),
            mode: facts.mode.as_deref(),
            max_age: facts.max_age,
            mx_hosts: &facts.mx_hosts,
            policy_mx: &facts.policy_mx,
            tlsrpt_rua: &facts.tlsrpt_rua,
        }
    }
}

impl WireCounts {
    fn of<'f>(findings: impl Iterator<Item = &'f Finding>) -> Self {
        let mut counts = Self::default();
        for finding in findings {
            match finding.outcome {
                Outcome::Pass => counts.pass += 1,
                Outcome::Fail => counts.fail += 1,
                Outcome::Warn => counts.warn += 1,
                Outcome::Info => counts.info += 1,
                Outcome::Skipped { .. } => counts.skipped += 1,
                Outcome::CouldNotDetermine { .. } => counts.could_not_determine += 1,
            }
        }
        counts
    }

    fn add(&mut self, other: &Self) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.warn += other.warn;
        self.info += other.info;
        self.skipped += other.skipped;
        self.could_not_determine += other.could_not_determine;
    }
}

impl<'a> WireFinding<'a> {
    fn from_finding(finding: &'a Finding, profile: Profile, detail: Detail) -> Self {
        let spec = finding.check.spec();
        let (blocked_by, reason) = match &finding.outcome {
            Outcome::Skipped { blocked_by } => (Some(blocked_by.as_str()), None),
            Outcome::CouldNotDetermine { reason } => (None, Some(reason.as_str())),
            _ => (None, None),
        };
        let full = detail == Detail::Full;
        // A pass or a skip says nothing the id and outcome do not (compact detail).
        let said = full || !matches!(finding.outcome, Outcome::Pass | Outcome::Skipped { .. });
        Self {
            id: finding.check.as_str(),
            title: full.then_some(spec.title),
            stage: full.then(|| spec.stage.as_str()),
            outcome: finding.outcome.label(),
            severity: said.then(|| spec.severity(profile).as_str()),
            sources: full.then(|| spec.sources.iter().map(ToString::to_string).collect()),
            rules: full.then_some(spec.rules),
            subject: WireSubject::from_subject(&finding.subject),
            summary: said.then_some(finding.summary.as_str()),
            evidence: said.then(|| {
                finding
                    .evidence
                    .iter()
                    .map(|evidence| WireEvidence {
                        label: &evidence.label,
                        value: &evidence.value,
                    })
                    .collect()
            }),
            fix: full.then_some(spec.fix),
            docs: full.then(|| super::docs_anchor(finding.check)),
            blocked_by,
            reason,
            ignored: finding.ignored.as_ref().map(|ignored| WireIgnored {
                reason: &ignored.reason,
                until: ignored.until.as_deref(),
            }),
        }
    }
}

impl<'a> WireSubject<'a> {
    /// Whether this is the wire form of `subject`.
    fn is(&self, subject: &Subject) -> bool {
        match (self, subject) {
            (Self::Domain, Subject::Domain) => true,
            (Self::Host { name }, Subject::Host { name: other }) => name == other,
            (Self::Endpoint { host, ip }, Subject::Endpoint { host: h, ip: i }) => {
                host == h && ip == i
            }
            _ => false,
        }
    }

    fn from_subject(subject: &'a Subject) -> Self {
        match subject {
            Subject::Domain => Self::Domain,
            Subject::Host { name } => Self::Host { name },
            Subject::Endpoint { host, ip } => Self::Endpoint { host, ip: *ip },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::model::Evidence;
    use crate::report::{AuditReport, Format, Style};

    /// Issue 12: serde_json leaves U+2028 and U+2029 raw; the reports do not.
    #[test]
    fn line_and_paragraph_separators_are_escaped() {
        let json = serde_json::to_vec(&"a\u{2028}b\u{2029}c é").unwrap();
        let escaped = escape_separators(json);
        assert_eq!(
            String::from_utf8(escaped.clone()).unwrap(),
            r#""a\u2028b\u2029c é""#
        );
        assert_eq!(
            serde_json::from_slice::<String>(&escaped).unwrap(),
            "a\u{2028}b\u{2029}c é"
        );
    }

    fn report() -> AuditReport {
        let finding = |check, outcome| Finding {
            check,
            subject: Subject::Domain,
            outcome,
            summary: "seen".to_owned(),
            evidence: vec![Evidence::new("record", "v=STSv1;\\x1B")],
            ignored: None,
        };
        AuditReport {
            tool_version: "9.9.9".to_owned(),
            profile: Profile::Sge,
            generated_at: 1_700_000_000,
            settings: vec![("resolver".to_owned(), "127.0.0.1:53".to_owned())],
            domains: vec![
                DomainReport {
                    domain: "a.example".to_owned(),
                    facts: Facts::default(),
                    findings: vec![
                        finding(CheckId::StsRecordPresent, Outcome::Pass),
                        finding(CheckId::TlsRptPresent, Outcome::Fail),
                    ],
                },
                DomainReport {
                    domain: "b.example".to_owned(),
                    facts: Facts::default(),
                    findings: vec![finding(
                        CheckId::SmtpConnect,
                        Outcome::CouldNotDetermine {
                            reason: "port 25 blocked".to_owned(),
                        },
                    )],
                },
            ],
        }
    }

    fn rendered() -> serde_json::Value {
        let mut out = Vec::new();
        crate::report::render(&report(), Format::Json, Style::default(), &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    fn streamed(run: &RunSummary) -> serde_json::Value {
        let report = report();
        let mut out = Vec::new();
        {
            let mut sink = JsonSink::new(Box::new(&mut out), RunHeader::of(&report));
            for domain in &report.domains {
                sink.domain(domain).unwrap();
            }
            sink.finish(run).unwrap();
        }
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn summary_counts_domains_and_findings() {
        let value = rendered();
        assert_eq!(value["summary"]["domains"], 2);
        assert_eq!(value["summary"]["verdict"], "fail");
        assert_eq!(value["summary"]["verdicts"]["fail"], 1);
        assert_eq!(value["summary"]["verdicts"]["could_not_determine"], 1);
        assert_eq!(value["summary"]["counts"]["pass"], 1);
        assert_eq!(value["summary"]["counts"]["could_not_determine"], 1);
    }

    #[test]
    fn findings_carry_catalog_data_under_the_profile() {
        // Schema 2: the fixed text once, in `checks`, with severities under the profile.
        let value = rendered();
        assert_eq!(value["schema_version"], 3);
        let check = &value["checks"]["tlsrpt.present"];
        assert_eq!(check["severity"], "fail"); // warn under rfc, fail under sge
        assert_eq!(check["stage"], "tlsrpt");
        assert_eq!(
            check["docs"],
            crate::report::docs_link("docs/checks.md#tlsrpt.present")
        );
        assert_eq!(
            value["checks"].as_object().unwrap().len(),
            crate::catalog::CATALOG.len()
        );
        let finding = &value["domains"][0]["findings"][0];
        assert_eq!(finding["id"], "tlsrpt.present");
        assert_eq!(finding["severity"], "fail");
        assert_eq!(finding["summary"], "seen");
        assert_eq!(finding["subject"]["kind"], "domain");
        for key in [
            "title", "stage", "sources", "rules", "fix", "docs", "reason",
        ] {
            assert!(finding.get(key).is_none(), "{key}");
        }
        // Passes: grouped by subject, ids only.
        assert_eq!(
            value["domains"][0]["passed"],
            serde_json::json!([{"subject": {"kind": "domain"}, "ids": ["sts-record.present"]}])
        );
        assert_eq!(value["domains"][0]["findings"].as_array().unwrap().len(), 1);
        let undetermined = &value["domains"][1]["findings"][0];
        assert_eq!(undetermined["outcome"], "could-not-determine");
        assert_eq!(undetermined["reason"], "port 25 blocked");
        assert_eq!(value["settings"]["resolver"], "127.0.0.1:53");
    }

    #[test]
    fn compact_detail_groups_passes_by_subject_and_skips_by_subject_and_blocker() {
        use crate::model::Blocker;
        let endpoint = |ip: &str| Subject::Endpoint {
            host: "mx.a.example".to_owned(),
            ip: ip.parse().unwrap(),
        };
        let finding = |check, subject, outcome| Finding {
            check,
            subject,
            outcome,
            summary: "seen".to_owned(),
            evidence: Vec::new(),
            ignored: None,
        };
        let skipped = Outcome::Skipped {
            blocked_by: Blocker::Check(CheckId::SmtpConnect),
        };
        let domain = DomainReport {
            domain: "a.example".to_owned(),
            facts: Facts::default(),
            findings: vec![
                finding(CheckId::SmtpConnect, endpoint("192.0.2.1"), Outcome::Pass),
                finding(CheckId::SmtpConnect, endpoint("192.0.2.2"), Outcome::Fail),
                finding(
                    CheckId::SmtpStarttlsOffered,
                    endpoint("192.0.2.1"),
                    Outcome::Pass,
                ),
                finding(
                    CheckId::SmtpStarttlsOffered,
                    endpoint("192.0.2.2"),
                    skipped.clone(),
                ),
                finding(
                    CheckId::SmtpStarttlsAccepted,
                    endpoint("192.0.2.2"),
                    skipped,
                ),
            ],
        };
        let mut line = Vec::new();
        write_domain_line(&domain, Profile::Rfc, Detail::Compact, &mut line).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        let subject =
            |ip: &str| serde_json::json!({"kind": "endpoint", "host": "mx.a.example", "ip": ip});
        assert_eq!(
            value["passed"],
            serde_json::json!([{"subject": subject("192.0.2.1"),
                                "ids": ["smtp.connect", "smtp.starttls-offered"]}])
        );
        assert_eq!(
            value["skipped"],
            serde_json::json!([{"subject": subject("192.0.2.2"), "blocked_by": "smtp.connect",
                                "ids": ["smtp.starttls-offered", "smtp.starttls-accepted"]}])
        );
        assert_eq!(value["findings"].as_array().unwrap().len(), 1);
        assert_eq!(value["counts"]["pass"], 2);
        assert_eq!(value["counts"]["skipped"], 2);
        // With full detail every finding is in `findings`, and there are no groups.
        let mut full = Vec::new();
        write_domain_line(&domain, Profile::Rfc, Detail::Full, &mut full).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&full).unwrap();
        assert_eq!(value["findings"].as_array().unwrap().len(), 5);
        assert!(value.get("passed").is_none() && value.get("skipped").is_none());
    }

    #[test]
    fn full_detail_repeats_the_catalog_in_every_finding_passes_included() {
        let mut out = Vec::new();
        crate::report::render_with_detail(
            &report(),
            Format::Json,
            Style::default(),
            Detail::Full,
            &mut out,
        )
        .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let pass = &value["domains"][0]["findings"][0];
        assert_eq!(pass["outcome"], "pass");
        assert_eq!(pass["stage"], "sts-record");
        assert_eq!(
            pass["docs"],
            crate::report::docs_link("docs/checks.md#sts-record.present")
        );
        assert_eq!(pass["evidence"][0]["label"], "record");
        assert!(pass["fix"].is_string() && pass["title"].is_string());
    }

    #[test]
    fn run_counts_appear_in_the_summary_only_when_not_zero() {
        let quiet = streamed(&RunSummary::default());
        for key in ["input_errors", "resumed", "other_shards"] {
            assert!(quiet["summary"].get(key).is_none(), "{key}");
        }
        let bulk = streamed(&RunSummary {
            input_errors: 2,
            resumed: 3,
            other_shards: 0,
            ..RunSummary::default()
        });
        assert_eq!(bulk["summary"]["input_errors"], 2);
        assert_eq!(bulk["summary"]["resumed"], 3);
        assert!(bulk["summary"].get("other_shards").is_none());
        // The summary counts the domains of the document, whatever the run summary says.
        assert_eq!(bulk["summary"]["domains"], 2);
    }

    #[test]
    fn the_run_object_carries_the_network_figures_of_a_check_run() {
        assert!(
            rendered().get("run").is_none(),
            "none without figures (lint)"
        );
        let network = crate::report::stream::NetworkNotes {
            dns_questions: 700,
            dns_retried: 120,
            dns_throttled: 300,
            dns_failed: 0,
            dns_window_smallest: 8,
            dns_window_limit: 100,
            resolver_bottleneck: true,
            resolver_down: None,
            smtp_requests: 40,
            smtp_probes: 4,
            smtp_shared: 36,
        };
        let document = streamed(&RunSummary {
            network: Some(network),
            ..RunSummary::default()
        });
        assert_eq!(
            document["run"],
            serde_json::json!({
                "dns": {"lookups": 700, "retried": 120, "throttled": 300, "failed": 0,
                        "window_smallest": 8, "window_limit": 100,
                        "resolver_bottleneck": true, "resolver_down": null},
                "smtp": {"requests": 40, "sessions": 4, "shared": 36}
            })
        );
    }

    #[test]
    fn a_domain_line_is_the_documents_domain_object() {
        let report = report();
        let document = rendered();
        for (index, domain) in report.domains.iter().enumerate() {
            let mut line = Vec::new();
            write_domain_line(domain, report.profile, Detail::Compact, &mut line).unwrap();
            assert_eq!(line.iter().filter(|byte| **byte == b'\n').count(), 1);
            assert_eq!(line.last(), Some(&b'\n'));
            let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(value, document["domains"][index]);
        }
    }
}
