//! `mtasts reports`: the report parser against its quirk fixtures (`fixtures/tlsrpt-report/`,
//! one file per quirk with its `.expected`), the containers against theirs
//! (`fixtures/tlsrpt-report/containers/`), the 28 public samples of `shared/tlsrpt-samples`
//! against their `expected.json`, the summary's counting rules, property tests over the fuzz
//! harness, and the real binary over a folder mixing every format, read back through
//! `deny_unknown_fields` structs.

// Test code drives real servers, files and clocks: the other side of the seam.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]
// Test code: a failed setup step should panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mime.rs"]
mod mime;
mod tlsrpt_report_harness;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use mtasts::tlsrpt_report::container::{extract, Item, Limits};
use mtasts::tlsrpt_report::date::{Day, Timestamp};
use mtasts::tlsrpt_report::model::{PolicyType, ResultType};
use mtasts::tlsrpt_report::parse::{parse_report, Parsed};
use mtasts::tlsrpt_report::render::render;
use mtasts::tlsrpt_report::render::ReportsFormat;
use mtasts::tlsrpt_report::summary::{report_days, Collector, Summary, Window};
use serde::Deserialize;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("fixtures/tlsrpt-report")
}

fn samples() -> PathBuf {
    root().join("../shared/tlsrpt-samples")
}

/// Every report (or problem) inside `bytes`, parsed.
fn read_all(bytes: &[u8]) -> (Vec<Parsed>, Vec<String>) {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    extract(bytes, &Limits::default(), &mut |item| match item {
        Item::Json { origin, bytes } => match parse_report(&bytes) {
            Ok(report) => parsed.push(report),
            Err(error) => problems.push(format!("{origin}: {error}")),
        },
        Item::Problem { origin, reason } => problems.push(format!("{origin}: {reason}")),
    });
    (parsed, problems)
}

// ---------------------------------------------------------------------------------------------
// Quirk fixtures.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    #[serde(default)]
    notes: Vec<String>,
    error: Option<String>,
    first_day: Option<String>,
    last_day: Option<String>,
    #[serde(default)]
    policies: Vec<ExpectedPolicy>,
    #[serde(default)]
    result_types: Vec<String>,
    #[serde(default)]
    reasons: Vec<String>,
    /// `Some(None)` is a JSON `null`: the field is present and empty.
    #[serde(default, deserialize_with = "present")]
    contact_info: Option<Option<String>>,
    mx_of_failures: Option<Vec<Option<String>>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedPolicy {
    policy_type: String,
    policy_domain: Option<String>,
    mx_host: Vec<String>,
    successful: u64,
    failed: u64,
    policy_string: Option<Vec<String>>,
}

fn check_fixture(json: &Path) -> Result<(), String> {
    let bytes = fs::read(json).map_err(|e| e.to_string())?;
    let expected_path = json.with_extension("expected");
    let expected: Expected = serde_json::from_slice(
        &fs::read(&expected_path).map_err(|e| format!("{}: {e}", expected_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", expected_path.display()))?;
    let parsed = match (parse_report(&bytes), &expected.error) {
        (Err(error), Some(wanted)) if error.0.contains(wanted.as_str()) => return Ok(()),
        (Err(error), _) => return Err(format!("error {error:?}, expected {:?}", expected.error)),
        (Ok(_), Some(wanted)) => return Err(format!("parsed, expected the error {wanted:?}")),
        (Ok(parsed), None) => parsed,
    };
    let mut notes: Vec<&str> = parsed.notes.iter().map(|note| note.kind.code()).collect();
    notes.sort_unstable();
    let mut wanted: Vec<&str> = expected.notes.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    if notes != wanted {
        return Err(format!(
            "notes {notes:?}, expected {wanted:?}: {:?}",
            parsed.notes
        ));
    }
    let report = &parsed.report;
    let (first, last) = report_days(report);
    for (got, want, what) in [
        (first, &expected.first_day, "first day"),
        (last, &expected.last_day, "last day"),
    ] {
        if let Some(want) = want {
            if got.to_string() != *want {
                return Err(format!("{what} {got}, expected {want}"));
            }
        }
    }
    if let Some(contact) = &expected.contact_info {
        if report.contact_info != *contact {
            return Err(format!("contact-info {:?}", report.contact_info));
        }
    }
    if report.policies.len() != expected.policies.len() {
        return Err(format!("{} policies", report.policies.len()));
    }
    for (got, want) in report.policies.iter().zip(&expected.policies) {
        let actual = (
            got.policy_type.as_str(),
            got.policy_domain.as_deref(),
            &got.mx_host,
            got.successful_sessions,
            got.failed_sessions,
        );
        let wanted = (
            want.policy_type.as_str(),
            want.policy_domain.as_deref(),
            &want.mx_host,
            want.successful,
            want.failed,
        );
        if actual != wanted {
            return Err(format!("policy {actual:?}, expected {wanted:?}"));
        }
        if let Some(lines) = &want.policy_string {
            if got.policy_string != *lines {
                return Err(format!("policy-string {:?}", got.policy_string));
            }
        }
    }
    let details: Vec<_> = report
        .policies
        .iter()
        .flat_map(|p| &p.failure_details)
        .collect();
    let result_types: Vec<&str> = details.iter().map(|d| d.result_type.as_str()).collect();
    if result_types != expected.result_types {
        return Err(format!("result types {result_types:?}"));
    }
    let reasons: Vec<&str> = details
        .iter()
        .filter_map(|d| d.failure_reason_code.as_deref())
        .collect();
    if reasons != expected.reasons {
        return Err(format!("reasons {reasons:?}"));
    }
    if let Some(mx) = &expected.mx_of_failures {
        let got: Vec<Option<String>> = details
            .iter()
            .map(|d| d.receiving_mx_hostname.clone())
            .collect();
        if got != *mx {
            return Err(format!("failure MX hosts {got:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_quirk_fixture_parses_as_expected() {
    let mut failures = Vec::new();
    let mut count = 0;
    let mut entries: Vec<PathBuf> = fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                assert!(
                    name.len() > 4 && name[..3].bytes().all(|b| b.is_ascii_digit()),
                    "{name}: fixtures are named NNN-quirk.json"
                );
                count += 1;
                if let Err(error) = check_fixture(&path) {
                    failures.push(format!("{name}: {error}"));
                }
            }
            Some("expected") => {
                assert!(path.with_extension("json").exists(), "{name} has no .json")
            }
            _ => {}
        }
    }
    assert!(count >= 35, "only {count} fixtures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Container fixtures.

#[test]
fn every_container_fixture_yields_its_reports_and_problems() {
    // (file, report ids found, a problem expected to contain)
    let cases: &[(&str, &[&str], Option<&str>)] = &[
        ("gzip-report.json.gz", &["c-gzip"], None),
        (
            "gzip-with-misleading-name.json",
            &["c-gzip-named-json"],
            None,
        ),
        (
            "zip-of-json-and-gzip.zip",
            &["c-zip-json", "c-zip-gzip"],
            None,
        ),
        ("eml-tlsrpt-gzip.eml", &["c-eml-gzip"], None),
        ("eml-html-first-octet-stream.eml", &["c-eml-octet"], None),
        ("eml-tlsrpt-json-lf.eml", &["c-eml-json"], None),
        (
            "eml-application-gzip-zip.eml",
            &["c-eml-appgzip", "c-zip-json", "c-zip-gzip"],
            None,
        ),
        ("mbox-two-messages.mbox", &["c-mbox-1", "c-mbox-2"], None),
        (
            "eml-without-report.eml",
            &[],
            Some("no TLS-RPT report in it"),
        ),
        (
            "eml-declared-tlsrpt-but-junk.eml",
            &[],
            Some("not a TLS-RPT report"),
        ),
        ("gzip-truncated.json.gz", &[], Some("truncated")),
        ("zip-truncated.zip", &[], Some("not a readable zip archive")),
        ("not-a-report.txt", &[], Some("neither JSON, gzip, zip")),
    ];
    let dir = fixtures().join("containers");
    let mut listed: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    let mut named: Vec<String> = cases.iter().map(|(name, ..)| (*name).to_owned()).collect();
    named.sort();
    assert_eq!(listed, named, "every container fixture has a case");
    for (name, ids, problem) in cases {
        let (parsed, problems) = read_all(&fs::read(dir.join(name)).unwrap());
        let got: Vec<&str> = parsed.iter().map(|p| p.report.report_id.as_str()).collect();
        assert_eq!(got, *ids, "{name}: {problems:?}");
        match problem {
            Some(wanted) => assert!(
                problems.len() == 1 && problems[0].contains(wanted),
                "{name}: {problems:?}"
            ),
            None => assert!(problems.is_empty(), "{name}: {problems:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The public samples.

fn expected_samples() -> Value {
    serde_json::from_slice(&fs::read(samples().join("expected.json")).unwrap()).unwrap()
}

#[test]
fn every_public_sample_reads_as_expected_json_says() {
    let expected = expected_samples();
    let files = expected["files"].as_array().unwrap();
    assert_eq!(files.len(), 28);
    for file in files {
        let name = file["file"].as_str().unwrap();
        let (parsed, problems) = read_all(&fs::read(samples().join(name)).unwrap());
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let reports = file["reports"].as_array().unwrap();
        assert_eq!(parsed.len(), reports.len(), "{name}");
        for (got, want) in parsed.iter().zip(reports) {
            let report = &got.report;
            assert_eq!(
                report.organization_name, want["organization-name"],
                "{name}"
            );
            assert_eq!(report.report_id, want["report-id"], "{name}");
            for (stamp, key) in [
                (report.start, "start-datetime"),
                (report.end, "end-datetime"),
            ] {
                let literal = want["date-range"][key].as_str().unwrap();
                assert_eq!(
                    stamp.unix,
                    Timestamp::parse(literal).unwrap().unix,
                    "{name} {key}"
                );
            }
            match &want["contact-info"] {
                Value::String(text) if text == "<absent>" => assert_eq!(report.contact_info, None),
                Value::String(text) => {
                    assert_eq!(report.contact_info.as_deref(), Some(text.as_str()))
                }
                _ => assert_eq!(report.contact_info, None, "{name}"),
            }
            let policies = want["policies"].as_array().unwrap();
            assert_eq!(report.policies.len(), policies.len(), "{name}");
            for (policy, want) in report.policies.iter().zip(policies) {
                assert_eq!(
                    policy.policy_domain.as_deref(),
                    want["policy-domain"].as_str(),
                    "{name}"
                );
                assert_eq!(policy.policy_type.as_str(), want["policy-type"], "{name}");
                assert_eq!(
                    policy.successful_sessions,
                    want["total-successful-session-count"].as_u64().unwrap(),
                    "{name}"
                );
                let sum = want["failure-details-sum"].as_u64().unwrap();
                let stated = want["total-failure-session-count"].as_u64();
                assert_eq!(policy.failed_sessions, stated.unwrap_or(sum), "{name}");
                assert_eq!(policy.details_sum(), sum, "{name}");
                let details: Vec<(String, u64)> = policy
                    .failure_details
                    .iter()
                    .map(|d| (d.result_type.as_str().to_owned(), d.failed_session_count))
                    .collect();
                let wanted: Vec<(String, u64)> = want["failure-details"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|pair| {
                        (
                            pair[0].as_str().unwrap().to_owned(),
                            pair[1].as_u64().unwrap(),
                        )
                    })
                    .collect();
                assert_eq!(details, wanted, "{name}");
                if let Some(hosts) = want["receiving-mx-hostnames"].as_array() {
                    let got: Vec<&str> = policy
                        .failure_details
                        .iter()
                        .filter_map(|d| d.receiving_mx_hostname.as_deref())
                        .collect();
                    let hosts: Vec<String> = hosts
                        .iter()
                        .filter_map(|h| h.as_str())
                        .filter(|h| !h.is_empty())
                        .map(|h| h.to_ascii_lowercase())
                        .collect();
                    let mut got_sorted: Vec<String> = got.iter().map(|h| (*h).to_owned()).collect();
                    got_sorted.sort();
                    got_sorted.dedup();
                    let mut hosts_sorted = hosts.clone();
                    hosts_sorted.sort();
                    hosts_sorted.dedup();
                    assert_eq!(got_sorted, hosts_sorted, "{name}");
                }
                if let Some(decoded) = want.get("policy-string-decoded").and_then(Value::as_array) {
                    let decoded: Vec<&str> = decoded.iter().map(|l| l.as_str().unwrap()).collect();
                    assert_eq!(policy.policy_string, decoded, "{name}");
                }
                if let Some(mode) = want.get("mode").and_then(Value::as_str) {
                    assert!(
                        policy
                            .policy_string
                            .iter()
                            .any(|l| l.replace(' ', "") == format!("mode:{mode}")),
                        "{name}: {:?}",
                        policy.policy_string
                    );
                }
            }
        }
    }
}

fn summarise_dir(dir: &Path, window: Window) -> Summary {
    mtasts::tlsrpt_report::read_and_summarise(
        &[dir.to_path_buf()],
        &Default::default(),
        &Limits::default(),
        window,
    )
}

/// A copy of the samples without README.md and expected.json.
fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(samples()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json") && name != "expected.json" || name.ends_with(".eml") {
            fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    dir
}

#[test]
fn the_sample_folder_deduplicates_and_totals_as_expected() {
    let expected = expected_samples();
    let copy = sample_copy();
    let summary = summarise_dir(copy.path(), Window::default());
    assert!(summary.unreadable.is_empty(), "{:?}", summary.unreadable);
    assert_eq!(summary.files_read, 28);
    assert_eq!(summary.reports_read, 28);
    assert_eq!(
        summary.reports_counted,
        expected["unique-reports"].as_u64().unwrap()
    );
    assert_eq!(summary.duplicates.len(), 7);

    let totals = expected["folder-totals-after-dedup"].as_object().unwrap();
    assert_eq!(summary.domains.len(), totals.len());
    for domain in &summary.domains {
        let key = domain.policy_domain.as_deref().unwrap_or("<absent>");
        let want = &totals[key];
        // expected.json adds every policy entry; the summary keeps them apart by type.
        let all = domain.by_policy_type.values();
        let (policies, successful, failed) = all.fold((0, 0, 0), |(p, s, f), t| {
            (p + t.policies, s + t.successful, f + t.failed)
        });
        assert_eq!(policies, want["policy-entries"].as_u64().unwrap(), "{key}");
        assert_eq!(successful, want["successful"].as_u64().unwrap(), "{key}");
        assert_eq!(failed, want["failed"].as_u64().unwrap(), "{key}");
        let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
        for tally in domain.by_policy_type.values() {
            for (result_type, failure) in &tally.failures {
                *by_type.entry(result_type.as_str().to_owned()).or_default() += failure.count;
            }
        }
        let wanted: BTreeMap<String, u64> = want["failed-by-result-type"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(by_type, wanted, "{key}");
    }
    // Microsoft's random.net report has an sts and a tlsa policy for the same sessions.
    let random = summary
        .domains
        .iter()
        .find(|d| d.policy_domain.as_deref() == Some("random.net"))
        .unwrap();
    assert_eq!(random.totals.successful, 2);
    assert_eq!(random.by_policy_type[&PolicyType::Tlsa].successful, 2);
    // The duplicate groups of expected.json.
    for group in expected["duplicate-reports"].as_array().unwrap() {
        let copies = summary
            .duplicates
            .iter()
            .filter(|d| d.report_id == group["report-id"].as_str().unwrap())
            .count();
        assert_eq!(copies + 1, group["files"].as_array().unwrap().len());
    }
}

// ---------------------------------------------------------------------------------------------
// Summary rules on synthetic reports.

fn report_json(
    org: &str,
    id: &str,
    day: &str,
    domain: &str,
    ok: u64,
    fails: &[(&str, &str, u64)],
) -> String {
    let details: Vec<Value> = fails
        .iter()
        .map(|(rt, mx, n)| {
            serde_json::json!({"result-type": rt, "receiving-mx-hostname": mx, "failed-session-count": n})
        })
        .collect();
    let failed: u64 = fails.iter().map(|f| f.2).sum();
    serde_json::json!({
        "organization-name": org, "report-id": id, "contact-info": "x@y",
        "date-range": {"start-datetime": format!("{day}T00:00:00Z"), "end-datetime": format!("{day}T23:59:59Z")},
        "policies": [{"policy": {"policy-type": "sts", "policy-domain": domain},
                      "summary": {"total-successful-session-count": ok, "total-failure-session-count": failed},
                      "failure-details": details}]
    })
    .to_string()
}

fn collect(reports: &[String], window: Window) -> Summary {
    let mut collector = Collector::new(window);
    for (index, report) in reports.iter().enumerate() {
        collector.add(
            &format!("r{index}"),
            &parse_report(report.as_bytes()).unwrap(),
        );
    }
    collector.finish()
}

fn day(text: &str) -> Day {
    Day::parse(text).unwrap()
}

#[test]
fn window_domain_and_dedup_rules() {
    let reports = vec![
        report_json("Google", "g1", "2025-03-01", "a.example", 10, &[]),
        report_json(
            "Google",
            "g2",
            "2025-03-02",
            "a.example",
            10,
            &[("certificate-expired", "mx1.a.example", 2)],
        ),
        report_json(
            "Microsoft",
            "m1",
            "2025-03-02",
            "a.example",
            5,
            &[("validation-failure", "mx2.a.example", 1)],
        ),
        report_json(
            "Google",
            "g2",
            "2025-03-02",
            "a.example",
            10,
            &[("certificate-expired", "mx1.a.example", 2)],
        ),
        report_json("Google", "g3", "2025-03-03", "b.example", 7, &[]),
        // Same report-id, another organisation: a different report.
        report_json("Microsoft", "g1", "2025-03-03", "a.example", 1, &[]),
    ];
    let all = collect(&reports, Window::default());
    assert_eq!(
        (all.reports_read, all.reports_counted, all.duplicates.len()),
        (6, 5, 1)
    );
    let a = &all.domains[0];
    assert_eq!(a.policy_domain.as_deref(), Some("a.example"));
    assert_eq!(
        (a.first_day(), a.last_day(), a.distinct_days()),
        (Some(day("2025-03-01")), Some(day("2025-03-03")), 3)
    );
    assert_eq!(
        a.organizations().collect::<Vec<_>>(),
        ["Google", "Microsoft"]
    );
    assert_eq!((a.totals.successful, a.totals.failed), (26, 3));
    assert_eq!(a.totals.failures[&ResultType::CertificateExpired].count, 2);
    assert_eq!(
        a.totals.failures_by_mx[&Some("mx2.a.example".to_owned())],
        1
    );
    assert_eq!(a.daily[&day("2025-03-02")].failed, 3);
    assert_eq!(a.totals.failures_by_organization["Google"], 2);

    let recent = collect(&reports, Window::last_days(day("2025-03-03"), 2));
    assert_eq!(recent.outside_window, 1);
    assert_eq!(recent.domains[0].first_day(), Some(day("2025-03-02")));

    let since = collect(
        &reports,
        Window {
            since: Some(day("2025-03-03")),
            domain: None,
        },
    );
    assert_eq!(since.reports_counted, 2);

    let only_b = collect(
        &reports,
        Window {
            since: None,
            domain: Some("b.example".to_owned()),
        },
    );
    assert_eq!(only_b.domains.len(), 1);
    assert_eq!(only_b.domains[0].totals.successful, 7);
    assert_eq!(only_b.other_domains, 4);
}

#[test]
fn renderers_show_the_summary() {
    let reports = vec![
        report_json("Google", "g1", "2025-03-01", "a.example", 10, &[]),
        report_json(
            "Google",
            "g2",
            "2025-03-02",
            "a.example",
            10,
            &[("certificate-expired", "mx1.a.example", 4)],
        ),
        report_json(
            "Evil\u{1b}[31m",
            "e1",
            "2025-03-02",
            "a.example",
            1,
            &[("=HYPERLINK(1)", "mx1.a.example", 1)],
        ),
    ];
    let summary = collect(&reports, Window::default());
    let text = |format| {
        let mut out = Vec::new();
        render(&summary, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let human = text(ReportsFormat::Human);
    assert!(human.contains("check smtp.certificate-expiry: "), "{human}");
    assert!(
        human.contains(mtasts::catalog::CheckId::SmtpCertExpiry.spec().fix),
        "{human}"
    );
    assert!(
        human.contains("2025-03-02           11          5  |########################"),
        "{human}"
    );
    assert!(
        human.contains("2025-03-01           10          0  |\n"),
        "{human}"
    );
    assert!(!human.contains('\u{1b}'), "{human}");
    assert!(human.contains("Evil\\x1B[31m"), "{human}");

    let csv = text(ReportsFormat::Csv);
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "policy_domain,first_day,last_day,days,reports,organizations,successful_sessions,failed_sessions,failure_rate,failures,failed_mx_hosts,tlsa_successful_sessions,tlsa_failed_sessions,modes"
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("a.example,2025-03-01,2025-03-02,2,3,Evil\\x1B[31m; Google,21,5,0.192308,"),
        "{row}"
    );
    assert!(
        row.contains(",certificate-expired=4 =HYPERLINK(1)=1,mx1.a.example=5,,,\r")
            || row.ends_with(",certificate-expired=4 =HYPERLINK(1)=1,mx1.a.example=5,,,"),
        "{row}"
    );
    // A cell that starts like a formula is neutralised, as in `mtasts check --format csv`.
    let formula = collect(
        &[report_json(
            "O",
            "f",
            "2025-03-01",
            "a.example",
            1,
            &[("=cmd|' /C calc'!A0", "mx", 1)],
        )],
        Window::default(),
    );
    let mut out = Vec::new();
    render(&formula, ReportsFormat::Csv, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains(",'=cmd|'\\x20/C\\x20calc'!A0=1,"), "{out}");

    let jsonl = text(ReportsFormat::Jsonl);
    let first: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "domain");
    assert_eq!(first["policy_domain"], "a.example");
}

// ---------------------------------------------------------------------------------------------
// Property tests over the fuzz harness.

/// SplitMix64, as tests/properties.rs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[test]
fn mutated_reports_and_containers_never_panic() {
    let mut rng = Rng(8460);
    let mut seeds: Vec<Vec<u8>> = vec![tlsrpt_report_harness::SEED.as_bytes().to_vec()];
    for dir in [fixtures(), fixtures().join("containers")] {
        let mut paths: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "expected"))
        {
            seeds.push(fs::read(path).unwrap());
        }
    }
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b",",
        b":",
        b"null",
        b"-1",
        b"1e999",
        b"\"\"",
        b"\x1f\x8b",
        b"PK\x03\x04",
        b"From ",
        b"\n",
        b"\\u0000",
    ];
    for round in 0..3000 {
        let seed = &seeds[(rng.next() % seeds.len() as u64) as usize];
        let mut input = seed.clone();
        for _ in 0..=(rng.next() % 4) {
            let at = (rng.next() % (input.len() as u64 + 1)) as usize;
            match rng.next() % 4 {
                0 => input.truncate(at),
                1 => {
                    let token = TOKENS[(rng.next() % TOKENS.len() as u64) as usize];
                    input.splice(at..at, token.iter().copied());
                }
                2 if at < input.len() => input[at] ^= 1 << (rng.next() % 8),
                _ => {
                    let end = (at + (rng.next() % 16) as usize).min(input.len());
                    input.drain(at..end);
                }
            }
        }
        let mode = u8::try_from(round % 2).unwrap();
        let mut data = vec![mode];
        data.extend_from_slice(&input);
        tlsrpt_report_harness::tlsrpt_report(&data);
        let mut spliced = vec![2, u8::try_from(rng.next() % 256).unwrap()];
        spliced.extend_from_slice(&input[..input.len().min(24)]);
        tlsrpt_report_harness::tlsrpt_report(&spliced);
    }
}

#[test]
fn counts_survive_any_valid_report() {
    let mut rng = Rng(6241);
    for _ in 0..500 {
        let ok = rng.next() % 1_000_000;
        let n = rng.next() % 5;
        let fails: Vec<(String, u64)> = (0..n)
            .map(|i| {
                (
                    ResultType::REGISTERED[(rng.next() % 11) as usize]
                        .as_str()
                        .to_owned(),
                    rng.next() % 1000 + i,
                )
            })
            .collect();
        let refs: Vec<(&str, &str, u64)> = fails
            .iter()
            .map(|(rt, n)| (rt.as_str(), "mx.a.example", *n))
            .collect();
        let json = report_json(
            "Org",
            &format!("id{}", rng.next()),
            "2025-01-31",
            "a.example",
            ok,
            &refs,
        );
        let parsed = parse_report(json.as_bytes()).unwrap();
        // The generated sts policies carry no policy-string; nothing else is lenient.
        assert!(
            parsed
                .notes
                .iter()
                .all(|n| n.kind == mtasts::tlsrpt_report::model::NoteKind::PolicyStringMissing),
            "{:?}",
            parsed.notes
        );
        let policy = &parsed.report.policies[0];
        assert_eq!(policy.successful_sessions, ok);
        assert_eq!(
            policy.failed_sessions,
            fails.iter().map(|f| f.1).sum::<u64>()
        );
        assert_eq!(policy.failure_details.len(), fails.len());
    }
}

// ---------------------------------------------------------------------------------------------
// The binary over a folder mixing every format.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    schema_version: u32,
    tool: Tool,
    window: WindowWire,
    files_read: usize,
    reports_read: u64,
    reports_counted: u64,
    duplicates: usize,
    outside_window: u64,
    other_domains: u64,
    domains: Vec<DomainWire>,
    duplicate_reports: Vec<DuplicateWire>,
    unreadable: Vec<UnreadableWire>,
    notes: Vec<NoteWire>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tool {
    name: String,
    version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowWire {
    since: Option<String>,
    domain: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainWire {
    policy_domain: Option<String>,
    first_day: Option<String>,
    last_day: Option<String>,
    days: usize,
    reports: u64,
    organizations: Vec<String>,
    reports_by_organization: Vec<OrganizationReports>,
    successful_sessions: u64,
    failed_sessions: u64,
    failure_rate: Option<f64>,
    unattributed_failures: u64,
    failures: Vec<FailureWire>,
    failures_by_mx: Vec<MxCount>,
    failures_by_organization: Vec<OrganizationCount>,
    policy_types: Vec<PolicyTypeWire>,
    daily: Vec<DayWire>,
    modes: Vec<String>,
    mx_patterns: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganizationReports {
    organization: String,
    reports: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FailureWire {
    result_type: String,
    count: u64,
    registered: bool,
    meaning: String,
    checks: Vec<String>,
    fix: Option<String>,
    by_mx: Vec<MxCount>,
    reasons: Vec<ReasonCount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MxCount {
    mx_host: Option<String>,
    count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganizationCount {
    organization: String,
    count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonCount {
    reason: String,
    count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyTypeWire {
    policy_type: String,
    in_totals: bool,
    policies: u64,
    successful_sessions: u64,
    failed_sessions: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DayWire {
    day: String,
    policies: u64,
    successful_sessions: u64,
    failed_sessions: u64,
    failures: Vec<ResultCount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultCount {
    result_type: String,
    count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DuplicateWire {
    source: String,
    first_source: String,
    organization_name: String,
    report_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnreadableWire {
    path: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteWire {
    code: String,
    description: String,
    count: u64,
    example_source: String,
    example_detail: String,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn email(subject: &str, content_type: &str, attachment: &[u8]) -> Vec<u8> {
    format!(
        "From: noreply-smtp-tls-reporting@sender.example\r\nTo: tlsrpt@mixed.example\r\n\
         Subject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"XYZ\"\r\n\r\n\
         --XYZ\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Report</p>\r\n\
         --XYZ\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"report\"\r\n\r\n{}\r\n--XYZ--\r\n",
        mime::base64_lines(attachment)
    )
    .into_bytes()
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn the_binary_reads_a_folder_mixing_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let r = |org: &str, id: &str, day: &str, ok: u64, fails: &[(&str, &str, u64)]| {
        report_json(org, id, day, "mixed.example", ok, fails).into_bytes()
    };
    fs::write(
        root.join("plain.json"),
        r("Google", "json-1", "2025-05-01", 100, &[]),
    )
    .unwrap();
    fs::write(
        root.join("report.json.gz"),
        gzip(&r("Google", "gz-1", "2025-05-02", 100, &[])),
    )
    .unwrap();
    fs::write(
        root.join("bare.gz"),
        gzip(&r(
            "Google",
            "gz-2",
            "2025-05-03",
            100,
            &[("certificate-expired", "mx1.mixed.example", 5)],
        )),
    )
    .unwrap();
    fs::write(
        root.join("bundle.zip"),
        zip(&[
            ("a.json", &r("Microsoft", "zip-1", "2025-05-04", 50, &[])),
            (
                "b.json.gz",
                &gzip(&r(
                    "Microsoft",
                    "zip-2",
                    "2025-05-05",
                    50,
                    &[("validation-failure", "mx2.mixed.example", 2)],
                )),
            ),
        ]),
    )
    .unwrap();
    fs::write(
        root.join("one.eml"),
        email(
            "Report",
            "application/tlsrpt+gzip",
            &gzip(&r("Google", "eml-1", "2025-05-06", 100, &[])),
        ),
    )
    .unwrap();
    // An mbox of three messages, the last a duplicate of plain.json.
    let mut mbox = Vec::new();
    for (index, bytes) in [
        gzip(&r(
            "Mail.ru",
            "mbox-1",
            "2025-05-07",
            10,
            &[("sts-policy-fetch-error", "", 1)],
        )),
        gzip(&r("Mail.ru", "mbox-2", "2025-05-08", 10, &[])),
        r("Google", "json-1", "2025-05-01", 100, &[]),
    ]
    .iter()
    .enumerate()
    {
        mbox.extend_from_slice(
            format!("From sender@example Thu May  8 0{index}:00:00 2025\n").as_bytes(),
        );
        mbox.extend_from_slice(&email("mbox", "application/octet-stream", bytes));
        mbox.push(b'\n');
    }
    fs::create_dir(root.join("archive")).unwrap();
    fs::write(root.join("archive/tlsrpt.mbox"), mbox).unwrap();
    // A Maildir, with server files that are not messages beside cur/ and new/.
    let maildir = root.join("Maildir");
    for sub in [
        "cur",
        "new",
        "tmp",
        ".Reports/cur",
        ".Reports/new",
        ".Reports/tmp",
    ] {
        fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    fs::write(maildir.join("dovecot-uidlist"), "3 V1 N1\n").unwrap();
    fs::write(maildir.join("tmp/1.half"), "half a message").unwrap();
    fs::write(
        maildir.join("cur/1.host:2,S"),
        email(
            "m1",
            "application/gzip",
            &gzip(&r("Microsoft", "maildir-1", "2025-05-09", 20, &[])),
        ),
    )
    .unwrap();
    fs::write(
        maildir.join("new/2.host"),
        email(
            "m2",
            "application/tlsrpt+json",
            &r("Microsoft", "maildir-2", "2025-05-10", 20, &[]),
        ),
    )
    .unwrap();
    fs::write(
        maildir.join(".Reports/new/3.host"),
        email(
            "m3",
            "application/tlsrpt+gzip",
            &gzip(&r("Google", "gz-1", "2025-05-02", 100, &[])),
        ),
    )
    .unwrap();
    // Junk and truncated files.
    fs::write(root.join("notes.txt"), "shopping list\n").unwrap();
    let whole = gzip(&r("Google", "cut", "2025-05-11", 1, &[]));
    fs::write(root.join("cut.json.gz"), &whole[..whole.len() / 2]).unwrap();
    let json = r("Google", "cut-json", "2025-05-11", 1, &[]);
    fs::write(root.join("cut.json"), &json[..json.len() / 2]).unwrap();
    let zipped = zip(&[("x.json", &json)]);
    fs::write(root.join("cut.zip"), &zipped[..zipped.len() - 30]).unwrap();

    let path = root.to_str().unwrap();
    let (code, stdout, stderr) = run(&["reports", "--format", "json", path]);
    assert_eq!(code, Some(1), "{stderr}");
    let doc: Document = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc.schema_version, 1);
    assert_eq!(doc.tool.name, "mtasts");
    assert!(!doc.tool.version.is_empty());
    assert_eq!((doc.window.since, doc.window.domain), (None, None));
    // plain, report.json.gz, bare.gz, bundle.zip, one.eml, mbox, 3 Maildir messages, 4 junk.
    assert_eq!(doc.files_read, 13, "{:?}", doc.unreadable);
    assert_eq!(doc.reports_read, 12);
    assert_eq!((doc.reports_counted, doc.duplicates), (10, 2));
    assert_eq!((doc.outside_window, doc.other_domains), (0, 0));
    let mut unreadable: Vec<String> = doc
        .unreadable
        .iter()
        .map(|u| {
            format!(
                "{} | {}",
                Path::new(&u.path).file_name().unwrap().to_string_lossy(),
                u.reason
            )
        })
        .collect();
    unreadable.sort();
    assert_eq!(unreadable.len(), 4, "{unreadable:#?}");
    assert!(
        unreadable[0].starts_with("cut.json | the JSON ends early"),
        "{unreadable:#?}"
    );
    assert!(
        unreadable[1].starts_with("cut.json.gz | the gzip data is truncated"),
        "{unreadable:#?}"
    );
    assert!(
        unreadable[2].starts_with("cut.zip | not a readable zip archive"),
        "{unreadable:#?}"
    );
    assert!(
        unreadable[3].starts_with("notes.txt | not a TLS-RPT report"),
        "{unreadable:#?}"
    );
    let mut duplicate_ids: Vec<&str> = doc
        .duplicate_reports
        .iter()
        .map(|d| d.report_id.as_str())
        .collect();
    duplicate_ids.sort_unstable();
    assert_eq!(duplicate_ids, ["gz-1", "json-1"]);
    assert!(doc.duplicate_reports.iter().all(|d| !d.source.is_empty()
        && !d.first_source.is_empty()
        && !d.organization_name.is_empty()));

    assert_eq!(doc.domains.len(), 1);
    let domain = &doc.domains[0];
    assert_eq!(domain.policy_domain.as_deref(), Some("mixed.example"));
    assert_eq!(
        (
            domain.first_day.as_deref(),
            domain.last_day.as_deref(),
            domain.days
        ),
        (Some("2025-05-01"), Some("2025-05-10"), 10)
    );
    assert_eq!(domain.reports, 10);
    assert_eq!(domain.organizations, ["Google", "Mail.ru", "Microsoft"]);
    assert_eq!(
        domain
            .reports_by_organization
            .iter()
            .map(|o| (o.organization.as_str(), o.reports))
            .collect::<Vec<_>>(),
        [("Google", 4), ("Mail.ru", 2), ("Microsoft", 4)]
    );
    assert_eq!(
        (domain.successful_sessions, domain.failed_sessions),
        (560, 8)
    );
    assert!((domain.failure_rate.unwrap() - 8.0 / 568.0).abs() < 1e-12);
    assert_eq!(domain.unattributed_failures, 0);
    let failures: Vec<(&str, u64)> = domain
        .failures
        .iter()
        .map(|f| (f.result_type.as_str(), f.count))
        .collect();
    assert_eq!(
        failures,
        [
            ("certificate-expired", 5),
            ("validation-failure", 2),
            ("sts-policy-fetch-error", 1)
        ]
    );
    let expired = &domain.failures[0];
    assert!(expired.registered && !expired.meaning.is_empty());
    assert_eq!(expired.checks[0], "smtp.certificate-expiry");
    assert_eq!(
        expired.fix.as_deref(),
        Some(mtasts::catalog::CheckId::SmtpCertExpiry.spec().fix)
    );
    assert_eq!(
        expired.by_mx[0].mx_host.as_deref(),
        Some("mx1.mixed.example")
    );
    assert!(expired.reasons.is_empty());
    assert!(domain.failures.iter().all(|f| f
        .reasons
        .iter()
        .all(|r| !r.reason.is_empty() && r.count > 0)));
    assert_eq!(domain.failures[1].checks[0], "mx.covered");
    assert!(domain.failures[2]
        .checks
        .iter()
        .any(|c| c.starts_with("policy-fetch.")));
    let mx: Vec<(Option<&str>, u64)> = domain
        .failures_by_mx
        .iter()
        .map(|m| (m.mx_host.as_deref(), m.count))
        .collect();
    assert_eq!(
        mx,
        [
            (Some("mx1.mixed.example"), 5),
            (Some("mx2.mixed.example"), 2),
            (None, 1)
        ]
    );
    let orgs: Vec<(&str, u64)> = domain
        .failures_by_organization
        .iter()
        .map(|o| (o.organization.as_str(), o.count))
        .collect();
    assert_eq!(orgs, [("Google", 5), ("Microsoft", 2), ("Mail.ru", 1)]);
    assert_eq!(domain.policy_types.len(), 1);
    let sts = &domain.policy_types[0];
    assert_eq!(
        (
            sts.policy_type.as_str(),
            sts.in_totals,
            sts.policies,
            sts.successful_sessions,
            sts.failed_sessions
        ),
        ("sts", true, 10, 560, 8)
    );
    assert_eq!(domain.daily.len(), 10);
    let third = &domain.daily[2];
    assert_eq!(
        (
            third.day.as_str(),
            third.policies,
            third.successful_sessions,
            third.failed_sessions
        ),
        ("2025-05-03", 1, 100, 5)
    );
    assert_eq!(
        (
            third.failures[0].result_type.as_str(),
            third.failures[0].count
        ),
        ("certificate-expired", 5)
    );
    assert!(domain.modes.is_empty() && domain.mx_patterns.is_empty());
    // The empty receiving-mx-hostname of the Mail.ru report is noted.
    assert!(
        doc.notes.iter().any(|n| n.code == "empty-string"
            && n.count == 1
            && !n.description.is_empty()
            && !n.example_source.is_empty()
            && !n.example_detail.is_empty()),
        "{:?}",
        doc.notes
    );

    // --days with a fixed today, --domain, and the other formats.
    let (code, stdout, _) = run(&[
        "reports",
        "--format",
        "json",
        "--today",
        "2025-05-10",
        "--days",
        "3",
        path,
    ]);
    assert_eq!(code, Some(1));
    let doc: Document = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc.window.since.as_deref(), Some("2025-05-08"));
    assert_eq!((doc.reports_counted, doc.outside_window), (3, 7));
    assert_eq!(doc.domains[0].days, 3);

    let (_, stdout, _) = run(&[
        "reports",
        "--format",
        "json",
        "--since",
        "2025-05-09",
        "--domain",
        "Other.Example",
        path,
    ]);
    let doc: Document = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc.window.domain.as_deref(), Some("other.example"));
    assert!(doc.domains.is_empty());
    assert_eq!(doc.other_domains, 2);

    let (code, stdout, stderr) = run(&["reports", "--format", "csv", path]);
    assert_eq!(code, Some(1));
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("mtasts: ")).count(),
        4,
        "{stderr}"
    );

    let (_, stdout, _) = run(&["reports", "--format", "jsonl", path]);
    let kinds: Vec<String> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "domain",
            "unreadable",
            "unreadable",
            "unreadable",
            "unreadable"
        ]
    );

    let (_, stdout, _) = run(&["reports", path]);
    assert!(stdout.contains("mixed.example\n"), "{stdout}");
    assert!(
        stdout.contains("check smtp.certificate-expiry:"),
        "{stdout}"
    );
    assert!(stdout.contains("Unreadable (4):"), "{stdout}");
}

#[test]
fn the_binary_exit_status_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json.gz");
    fs::write(
        &good,
        gzip(&report_json("Google", "x", "2025-01-01", "a.example", 1, &[]).into_bytes()),
    )
    .unwrap();
    let (code, stdout, stderr) = run(&["reports", "--format", "json", good.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"policy_domain\": \"a.example\""));

    let output = Command::new(env!("CARGO_BIN_EXE_mtasts"))
        .args(["reports", "--format", "csv", "-"])
        .stdin(fs::File::open(&good).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("\r\na.example,2025-01-01,"));

    let missing = dir.path().join("missing");
    let (code, stdout, _) = run(&["reports", "--format", "json", missing.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("cannot be read"), "{stdout}");

    for usage in [
        &["reports"][..],
        &["reports", "--since", "2025-13-01", "x"],
        &["reports", "--days", "0", "x"],
        &["reports", "--days", "3", "--since", "2025-01-01", "x"],
        &["reports", "--format", "xml", "x"],
    ] {
        assert_eq!(run(usage).0, Some(2), "{usage:?}");
    }

    // --max-files stops the walk and says so.
    for index in 0..3 {
        fs::write(
            dir.path().join(format!("r{index}.json")),
            report_json("O", &format!("r{index}"), "2025-01-02", "a.example", 1, &[]),
        )
        .unwrap();
    }
    let (code, stdout, _) = run(&[
        "reports",
        "--format",
        "json",
        "--max-files",
        "2",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    let doc: Document = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc.files_read, 2);
    assert!(
        doc.unreadable[0].reason.contains("more than 2 files"),
        "{:?}",
        doc.unreadable
    );
}
