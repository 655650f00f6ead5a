//! `mtasts check DOMAIN --reports DIR` in the end-to-end world: real TLS-RPT report files (plain
//! JSON, gzip, and an mbox of report emails) with dates relative to today, written into the
//! world's temporary directory, judged together with the live audit of the same domain.
//!
//! One case for a domain that is ready for enforce, and one for each reason a domain is not.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use mtasts::tlsrpt_report::date::Day;

use crate::scenarios::{is, Expect};

/// Failed sessions of one result type, `days_ago` days before today.
#[derive(Clone, Copy, Debug)]
pub struct Failures {
    pub days_ago: i64,
    pub result_type: &'static str,
    /// `receiving-mx-hostname`; empty when the sender did not give it.
    pub mx: &'static str,
    pub sessions: u64,
}

/// What the report files of a case say.
#[derive(Clone, Copy, Debug)]
pub struct Reports {
    /// One report per organisation per day, for each of these days before today.
    pub days_ago: (i64, i64),
    pub organizations: &'static [&'static str],
    /// The `mx-host` patterns of the reported policy.
    pub mx: &'static [&'static str],
    pub mode: &'static str,
    pub failures: &'static [Failures],
}

/// One run of `check --reports`.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub domain: &'static str,
    pub profile: &'static str,
    pub reports: Reports,
    pub exit: i32,
    /// Every `reports.*` finding that is not a pass or a skip, no more, no less; passes may be
    /// listed too.
    pub expect: &'static [Expect],
}

const TWO: &[&str] = &["Google Inc.", "Microsoft Corporation"];
const GOOD_MX: &[&str] = &["mx.good.test"];
/// Three weeks of clean reports up to yesterday, from two organisations, for `testing.test`.
const CLEAN: Reports = Reports {
    days_ago: (1, 21),
    organizations: TWO,
    mx: GOOD_MX,
    mode: "testing",
    failures: &[],
};
const ALL_PASS: [Expect; 5] = [
    is("reports.coverage", "pass"),
    is("reports.organizations", "pass"),
    is("reports.policy-errors", "pass"),
    is("reports.failure-rate", "pass"),
    is("reports.mx", "pass"),
];

/// Every case's reports sit next to a file that is not a report (see [`files`]), which
/// `reports.bounds` names (issue 12).
const NOT_A_REPORT: Expect = is("reports.bounds", "info").mentioning("not-a-report.txt");

pub const CASES: &[Case] = &[
    Case {
        name: "ready",
        domain: "testing.test",
        profile: "rfc",
        reports: CLEAN,
        exit: 0,
        expect: &[
            NOT_A_REPORT,
            ALL_PASS[0],
            ALL_PASS[1],
            ALL_PASS[2],
            ALL_PASS[3],
            ALL_PASS[4],
            is("reports.coverage", "pass").mentioning("not-a-report.txt"),
            is("reports.ready", "info").mentioning("ready to switch to enforce"),
            is("reports.ready", "info").mentioning("mode: enforce"),
            is("reports.ready", "info").mentioning("_mta-sts.testing.test"),
        ],
    },
    Case {
        name: "ready-sge",
        domain: "testing.test",
        profile: "sge",
        reports: CLEAN,
        exit: 1,
        expect: &[
            NOT_A_REPORT,
            ALL_PASS[0],
            ALL_PASS[1],
            ALL_PASS[2],
            ALL_PASS[3],
            ALL_PASS[4],
            is("reports.ready", "fail").mentioning("would allow the switch to enforce today"),
        ],
    },
    Case {
        name: "one-week",
        domain: "testing.test",
        profile: "rfc",
        reports: Reports {
            days_ago: (1, 7),
            ..CLEAN
        },
        exit: 0,
        expect: &[
            NOT_A_REPORT,
            is("reports.coverage", "warn").mentioning("7 distinct day(s)"),
            is("reports.ready", "info").mentioning("reports.coverage did not pass"),
        ],
    },
    Case {
        name: "stale",
        domain: "testing.test",
        profile: "rfc",
        reports: Reports {
            days_ago: (6, 26),
            ..CLEAN
        },
        exit: 0,
        expect: &[
            NOT_A_REPORT,
            is("reports.coverage", "warn").mentioning("6 days ago"),
            is("reports.ready", "info").mentioning("not ready"),
        ],
    },
    Case {
        name: "one-organisation",
        domain: "testing.test",
        profile: "rfc",
        reports: Reports {
            organizations: &["Google Inc."],
            ..CLEAN
        },
        exit: 0,
        expect: &[
            NOT_A_REPORT,
            is("reports.organizations", "warn").mentioning("Google Inc."),
            is("reports.ready", "info").mentioning("reports.organizations did not pass"),
        ],
    },
    Case {
        name: "policy-fetch-error",
        domain: "testing.test",
        profile: "rfc",
        reports: Reports {
            failures: &[Failures {
                days_ago: 2,
                result_type: "sts-policy-fetch-error",
                mx: "",
                sessions: 1,
            }],
            ..CLEAN
        },
        exit: 0,
        expect: &[
            NOT_A_REPORT,
            is("reports.policy-errors", "warn").mentioning("sts-policy-fetch-error"),
            is("reports.ready", "info").mentioning("reports.policy-errors did not pass"),
        ],
    },
    Case {
        name: "failing-mx",
        domain: "testing.test",
        profile: "rfc",
        reports: Reports {
            failures: &[Failures {
                days_ago: 1,
                result_type: "starttls-not-supported",
                mx: "mx.good.test",
                sessions: 500,
            }],
            ..CLEAN
        },
        exit: 0,
        expect: &[
            NOT_A_REPORT,
            is("reports.failure-rate", "warn").mentioning("under 50 %"),
            is("reports.failure-rate", "warn").mentioning("failed on mx.good.test"),
            is("reports.mx", "warn")
                .on("mx.good.test")
                .mentioning("starttls-not-supported"),
            is("reports.ready", "info").mentioning("reports.failure-rate did not pass"),
        ],
    },
    Case {
        name: "mx-not-in-reported-policy",
        domain: "testing.test",
        profile: "rfc",
        reports: Reports {
            mx: &["mx.old.test"],
            ..CLEAN
        },
        exit: 0,
        expect: &[
            NOT_A_REPORT,
            is("reports.mx", "warn")
                .on("mx.good.test")
                .mentioning("does not list mx.good.test"),
            is("reports.ready", "info").mentioning("reports.mx did not pass"),
        ],
    },
    Case {
        name: "certificate-renewed",
        domain: "good.test",
        profile: "rfc",
        reports: Reports {
            mode: "enforce",
            failures: &[Failures {
                days_ago: 5,
                result_type: "certificate-expired",
                mx: "mx.good.test",
                sessions: 40,
            }],
            ..CLEAN
        },
        exit: 0,
        expect: &[
            NOT_A_REPORT,
            is("reports.mx", "warn")
                .on("mx.good.test")
                .mentioning("renewed on or after"),
            is("reports.failure-rate", "warn"),
            is("reports.ready", "warn").mentioning("hurting delivery"),
        ],
    },
    Case {
        name: "certificate-still-expired",
        domain: "mx-expired.test",
        profile: "rfc",
        reports: Reports {
            mx: &["mx.mx-expired.test"],
            mode: "enforce",
            failures: &[Failures {
                days_ago: 1,
                result_type: "certificate-expired",
                mx: "mx.mx-expired.test",
                sessions: 40,
            }],
            ..CLEAN
        },
        exit: 1,
        expect: &[
            NOT_A_REPORT,
            is("reports.mx", "warn")
                .on("mx.mx-expired.test")
                .mentioning("still broken"),
            is("reports.failure-rate", "warn"),
            is("reports.ready", "warn").mentioning("hurting delivery"),
        ],
    },
];

/// Today (UTC), as the binary will see it.
fn today() -> Day {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    Day::of_unix(i64::try_from(now).expect("a clock before 2262"))
}

/// The report files of `reports` for `domain`: the first organisation's as plain JSON files,
/// the others' as gzip files, except their last three days, which arrive as emails in one mbox.
/// A file that is not a report sits among them.
pub fn files(domain: &str, reports: &Reports) -> Vec<(String, Vec<u8>)> {
    let today = today();
    let mut files = vec![("not-a-report.txt".to_owned(), b"hello\n".to_vec())];
    let mut mbox = Vec::new();
    let (newest, oldest) = reports.days_ago;
    for (index, organization) in reports.organizations.iter().enumerate() {
        for days_ago in newest..=oldest {
            let day = today.plus(-days_ago);
            let failures: Vec<&Failures> = reports
                .failures
                .iter()
                .filter(|failure| failure.days_ago == days_ago && index == 0)
                .collect();
            let json = report(organization, domain, day, reports, &failures);
            let name = format!("{organization}!{domain}!{day}");
            if index == 0 {
                files.push((format!("json/{name}.json"), json.into_bytes()));
            } else if days_ago - newest < 3 {
                mbox.extend_from_slice(b"From noreply@sender.example Mon Jan  1 00:00:00 2024\n");
                mbox.extend_from_slice(&email(domain, &gzip(json.as_bytes())));
                mbox.push(b'\n');
            } else {
                files.push((format!("gz/{name}.json.gz"), gzip(json.as_bytes())));
            }
        }
    }
    if !mbox.is_empty() {
        files.push(("mail/tlsrpt.mbox".to_owned(), mbox));
    }
    files
}

fn report(
    organization: &str,
    domain: &str,
    day: Day,
    reports: &Reports,
    failures: &[&Failures],
) -> String {
    let failed: u64 = failures.iter().map(|failure| failure.sessions).sum();
    let details: Vec<String> = failures
        .iter()
        .map(|failure| {
            let mx = if failure.mx.is_empty() {
                String::new()
            } else {
                format!(r#","receiving-mx-hostname":"{}""#, failure.mx)
            };
            format!(
                r#"{{"result-type":"{}","sending-mta-ip":"192.0.2.9"{mx},"failed-session-count":{}}}"#,
                failure.result_type, failure.sessions
            )
        })
        .collect();
    let policy_lines: Vec<String> = [
        "version: STSv1".to_owned(),
        format!("mode: {}", reports.mode),
    ]
    .into_iter()
    .chain(reports.mx.iter().map(|mx| format!("mx: {mx}")))
    .chain(["max_age: 86401".to_owned()])
    .map(|line| format!("\"{line}\""))
    .collect();
    let mx_hosts: Vec<String> = reports.mx.iter().map(|mx| format!("\"{mx}\"")).collect();
    format!(
        r#"{{"organization-name":"{organization}","date-range":{{"start-datetime":"{day}T00:00:00Z","end-datetime":"{}T00:00:00Z"}},"contact-info":"tlsrpt@sender.example","report-id":"{organization}-{domain}-{day}","policies":[{{"policy":{{"policy-type":"sts","policy-string":[{}],"policy-domain":"{domain}","mx-host":[{}]}},"summary":{{"total-successful-session-count":100,"total-failure-session-count":{failed}}},"failure-details":[{}]}}]}}"#,
        day.plus(1),
        policy_lines.join(","),
        mx_hosts.join(","),
        details.join(",")
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// A report email (RFC 8460 §5.3): multipart/report with the gzip report as base64.
fn email(domain: &str, gzipped: &[u8]) -> Vec<u8> {
    format!(
        "From: noreply-smtp-tls-reporting@sender.example\r\nTo: tlsrpt@{domain}\r\n\
         Subject: Report Domain: {domain}\r\nTLS-Report-Domain: {domain}\r\n\
         TLS-Report-Submitter: sender.example\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nThis is a TLS report.\r\n\
         --B\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"report.json.gz\"\r\n\r\n{}\r\n--B--\r\n",
        crate::common::mime::base64_lines(gzipped)
    )
    .into_bytes()
}
