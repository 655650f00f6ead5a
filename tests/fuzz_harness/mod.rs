//! What each fuzz target does with one input, and the invariants it asserts. Shared by the
//! cargo-fuzz targets in `fuzz/` (which include this file by path), by
//! `tests/fuzz_regressions.rs` (which replays every input the fuzzers once crashed on) and by
//! `tests/properties.rs`, so that a regression test runs exactly what the fuzzer ran.
//!
//! Record inputs: the first byte chooses raw bytes (even) or projection onto a small alphabet
//! (odd), which lets the fuzzer reach deep grammar states (as mail-auth's fuzzers do); records
//! are split on 0x00 and the strings of a record on 0x01. Policy input: raw, or one token per
//! byte. SMTP input: the first byte gives small bounds, the rest is the buffer.

#![allow(dead_code)]

use mtasts::catalog::{Profile, Severity};
use mtasts::input::{interpret, normalize_domain, parse_list, Shard};
use mtasts::observe::TxtRecord;
use mtasts::parse::policy::parse_policy;
use mtasts::parse::smtp_reply::{parse_reply, ReplyParse};
use mtasts::parse::{sts_record, tlsrpt_record};
use mtasts::probe::Limits;
use mtasts::verdict::policy::lint;

/// One fuzz target: what it does with one input.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, for the regression directory layout.
pub const TARGETS: [(&str, Target); 6] = [
    ("sts_record", sts_record),
    ("tlsrpt_record", tlsrpt_record),
    ("policy", policy),
    ("smtp_reply", smtp_reply),
    ("domain_list", domain_list),
    ("evidence", evidence),
];

const RECORD_SEPARATOR: u8 = 0x00;
const STRING_SEPARATOR: u8 = 0x01;

pub const STS_ALPHABET: &[u8] = b"v=STSv1;id= \t:abcXYZ0123-_.,!";
pub const TLSRPT_ALPHABET: &[u8] = b"v=TLSRPTv1;rua=mailto:https:/@,!%? \tabcXYZ0123-_.";

pub const POLICY_VOCABULARY: &[&[u8]] = &[
    b"version",
    b"STSv1",
    b"mode",
    b"enforce",
    b"testing",
    b"none",
    b"max_age",
    b"mx",
    b":",
    b" ",
    b"\t",
    b"\r\n",
    b"\n",
    b"\r",
    b"*.",
    b"example",
    b".",
    b"com",
    b"0",
    b"1",
    b"9",
    b"86400",
    b"31557600",
    b"-",
    b"_",
    b"\xef\xbb\xbf",
    b"\xc3\xa9",
    b"\xff",
    b"<html>",
    b"a",
    b"Z",
    b"xn--",
];

/// TXT records from fuzz input (see the module doc).
pub fn txt_records(data: &[u8], alphabet: &[u8]) -> Vec<TxtRecord> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    let project = mode & 1 == 1;
    rest.split(|&b| b == RECORD_SEPARATOR)
        .map(|record| TxtRecord {
            strings: record
                .split(|&b| b == STRING_SEPARATOR)
                .map(|string| {
                    if project {
                        string
                            .iter()
                            .map(|&b| alphabet[usize::from(b) % alphabet.len()])
                            .collect()
                    } else {
                        string.to_vec()
                    }
                })
                .collect(),
        })
        .collect()
}

/// A body from fuzz input: raw (first byte even) or one token per byte (odd).
pub fn tokens(data: &[u8], vocabulary: &[&[u8]]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    if mode & 1 == 0 {
        return rest.to_vec();
    }
    rest.iter()
        .flat_map(|&b| {
            vocabulary[usize::from(b) % vocabulary.len()]
                .iter()
                .copied()
        })
        .collect()
}

pub fn sts_record(data: &[u8]) {
    let records = txt_records(data, STS_ALPHABET);
    let analysis = sts_record::analyse(&records);
    if let Some(record) = &analysis.record {
        // `sts-id = 1*32(ALPHA / DIGIT)`.
        assert!(
            (1..=32).contains(&record.id.len()),
            "id length {}",
            record.id.len()
        );
        assert!(
            record.id.bytes().all(|b| b.is_ascii_alphanumeric()),
            "id {:?}",
            record.id
        );
        assert_eq!(analysis.candidates, 1);
    }
    assert_eq!(analysis.parsed, analysis.candidates == 1);
}

pub fn tlsrpt_record(data: &[u8]) {
    let records = txt_records(data, TLSRPT_ALPHABET);
    let analysis = tlsrpt_record::analyse(&records);
    if let Some(record) = &analysis.record {
        assert_eq!(analysis.candidates, 1);
        for domain in record.mailto_domains() {
            assert!(!domain.is_empty());
            assert!(
                !domain.bytes().any(|b| b.is_ascii_uppercase()),
                "domain {domain:?} not lower-case"
            );
        }
    }
    assert_eq!(analysis.parsed, analysis.candidates == 1);
}

pub fn policy(data: &[u8]) {
    let body = tokens(data, POLICY_VOCABULARY);
    let (parsed, problems) = parse_policy(&body);
    if parsed.valid {
        // A policy a strict sender accepts breaks no MUST.
        for problem in &problems {
            let mut severity = problem.check.spec().severity(Profile::Rfc);
            if let Some(cap) = problem.cap {
                severity = severity.min(cap);
            }
            assert!(
                severity != Severity::Fail,
                "valid policy with a failing problem {:?}: {}",
                problem.check,
                problem.summary
            );
        }
    }
    for profile in [Profile::Rfc, Profile::Sge, Profile::Ncsc] {
        assert!(!lint(&body, profile).findings.is_empty());
    }
}

pub fn smtp_reply(data: &[u8]) {
    let Some((&bounds, buf)) = data.split_first() else {
        return;
    };
    let defaults = Limits::default();
    let small = (usize::from(bounds & 0x0f), usize::from(bounds >> 4));
    for (max_line, max_lines) in [
        small,
        (512, 100),
        (defaults.max_smtp_line, defaults.max_smtp_lines),
    ] {
        let parsed = parse_reply(buf, max_line, max_lines);
        if let ReplyParse::Complete { reply, consumed } = &parsed {
            let consumed = *consumed;
            assert!(
                consumed <= buf.len(),
                "consumed {consumed} of {}",
                buf.len()
            );
            assert!(consumed > 0);
            assert_eq!(buf[consumed - 1], b'\n');
            assert!((200..=559).contains(&reply.code), "code {}", reply.code);
            assert!(!reply.lines.is_empty() && reply.lines.len() <= max_lines);
            // The reply is the same whatever follows it.
            assert_eq!(parse_reply(&buf[..consumed], max_line, max_lines), parsed);
        }
    }
}

/// A name [`normalize_domain`] returns is lower-case ASCII, at most 253 bytes, and a fixed point.
pub fn check_normalised(name: &str) {
    assert!(name.is_ascii(), "{name:?} not ASCII");
    assert!(
        !name.bytes().any(|b| b.is_ascii_uppercase()),
        "{name:?} not lower-case"
    );
    assert!(name.len() <= 253, "{name:?} longer than 253");
    assert_eq!(
        normalize_domain(name).as_deref(),
        Ok(name),
        "normalising again changes it"
    );
}

pub fn domain_list(data: &[u8]) {
    if let Ok(list) = parse_list(data, "fuzz") {
        for name in &list.names {
            check_normalised(name);
        }
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(name) = normalize_domain(&text) {
        check_normalised(&name);
    }
    // Whatever a pasted form is taken for is a normalised mail domain.
    if let Ok(interpreted) = interpret(&text) {
        check_normalised(&interpreted.domain);
    }
    if let Ok(shard) = Shard::parse(&text) {
        assert!(shard.index() < shard.count());
        assert_eq!(Shard::parse(&shard.to_string()), Ok(shard));
        let _ = shard.contains(&text);
    }
}

/// Saved evidence (`replay FILE`, `--baseline FILE`): every line read by both parsers, every
/// error a sentence naming its line; observations that read are judged under every profile,
/// round-trip, and compared with themselves as a baseline without a change.
pub fn evidence(data: &[u8]) {
    use mtasts::evidence::{BaselineLine, BaselineParser, Line, Parser};
    use mtasts::verdict::changes::{compare, Baseline, BaselineDomain};
    use mtasts::verdict::{judge, Context};

    let mut parser = Parser::new();
    let mut baseline = BaselineParser::new();
    for (index, line) in data.split(|&byte| byte == b'\n').enumerate() {
        match parser.line(line) {
            Ok(Line::Observations(obs)) => {
                for profile in [Profile::Rfc, Profile::Sge, Profile::Ncsc] {
                    let ctx = Context::new(profile, 1_790_000_000);
                    let mut report = judge(&obs, &ctx);
                    // Read observations always serialise and read back (the contract).
                    let json = serde_json::to_string(&*obs);
                    let back = json
                        .as_deref()
                        .map(serde_json::from_str::<mtasts::observe::Observations>);
                    assert!(matches!(&back, Ok(Ok(back)) if judge(back, &ctx) == report));
                    let base = BaselineDomain::from_observations(&obs, &ctx, ctx.now);
                    compare(&mut report, &obs, Baseline::Known(&base), profile);
                    for finding in &report.findings {
                        if finding.check.spec().stage == mtasts::catalog::Stage::Changes {
                            assert!(
                                !finding.outcome.is_problem(),
                                "{} changed against itself: {}",
                                finding.check,
                                finding.summary
                            );
                        }
                    }
                }
            }
            Ok(_) => {}
            Err(error) => {
                assert_eq!(error.line, index + 1);
                assert!(error
                    .to_string()
                    .starts_with(&format!("line {}: ", index + 1)));
            }
        }
        if let Ok(BaselineLine::Report(report)) = baseline.line(line) {
            let _ = report.1.outcomes.len();
        }
    }
}
