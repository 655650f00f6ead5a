//! What the `tlsrpt_report` fuzz target does with one input, and the invariants it asserts;
//! shared by `fuzz/fuzz_targets/tlsrpt_report.rs` (which includes this file by path) and the
//! property tests in `tests/tlsrpt_reports.rs`.
//!
//! The first byte picks the mode: 0 mod 3 treats the rest as a whole input file (containers,
//! then each report found is parsed); 1 as one report's JSON; 2 splices the rest into a valid
//! report at a position given by the next byte, to reach deep parser states.

#![allow(dead_code)]
// A broken invariant must panic: that is how the fuzzer and the tests see it.
#![allow(clippy::expect_used)]

use mtasts::tlsrpt_report::container::{extract, Item, Limits};
use mtasts::tlsrpt_report::parse::parse_report;
use mtasts::tlsrpt_report::render::render;
use mtasts::tlsrpt_report::render::ReportsFormat;
use mtasts::tlsrpt_report::summary::{Collector, Window};

/// A valid report that mode 2 splices into.
pub const SEED: &str = r#"{"organization-name":"Org","date-range":{"start-datetime":"2025-03-01T00:00:00Z","end-datetime":"2025-03-02T00:00:00Z"},"contact-info":null,"report-id":"r","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: enforce"],"policy-domain":"example.com","mx-host":["mx.example.com"]},"summary":{"total-successful-session-count":5,"total-failure-session-count":2},"failure-details":[{"result-type":"certificate-expired","receiving-mx-hostname":"mx.example.com","failed-session-count":2,"failure-reason-code":"expired"}]}]}"#;

/// Small bounds, so that the fuzzer meets them.
pub const LIMITS: Limits = Limits {
    max_report_bytes: 64 * 1024,
    max_total_bytes: 256 * 1024,
    max_nesting: 4,
    max_members: 64,
};

pub fn tlsrpt_report(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut collector = Collector::new(Window::default());
    match mode % 3 {
        0 => {
            let mut total = 0usize;
            extract(rest, &LIMITS, &mut |item| {
                if let Item::Json { bytes, .. } = &item {
                    total += bytes.len();
                    assert!(bytes.len() as u64 <= LIMITS.max_report_bytes);
                }
                mtasts::tlsrpt_report::add_item(&mut collector, "input", item);
            });
            assert!(total as u64 <= LIMITS.max_total_bytes);
        }
        1 => check_parse(rest, &mut collector),
        _ => {
            let Some((&at, insert)) = rest.split_first() else {
                return;
            };
            let at = usize::from(at) * SEED.len() / 256;
            let mut spliced = SEED.as_bytes()[..at].to_vec();
            spliced.extend_from_slice(insert);
            spliced.extend_from_slice(&SEED.as_bytes()[at..]);
            check_parse(&spliced, &mut collector);
        }
    }
    let summary = collector.finish();
    for format in [
        ReportsFormat::Human,
        ReportsFormat::Json,
        ReportsFormat::Jsonl,
        ReportsFormat::Csv,
    ] {
        let mut out = Vec::new();
        render(&summary, format, &mut out).expect("rendering into memory cannot fail");
        if format == ReportsFormat::Json {
            serde_json::from_slice::<serde_json::Value>(&out).expect("the JSON output is JSON");
        }
    }
}

fn check_parse(bytes: &[u8], collector: &mut Collector) {
    match parse_report(bytes) {
        Ok(parsed) => {
            for policy in &parsed.report.policies {
                if !policy.failed_stated {
                    assert_eq!(policy.failed_sessions, policy.details_sum());
                }
            }
            assert!(parsed.report.end.unix >= parsed.report.start.unix);
            collector.add("input", &parsed);
        }
        Err(error) => {
            assert!(!error.0.is_empty());
            assert!(!error.0.ends_with('.'), "{error}");
        }
    }
}
