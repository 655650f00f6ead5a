//! Property tests for the parsers, with a small deterministic PRNG (no extra dependency, and the
//! same cases on every run): random and grammar-shaped input never panics and keeps the fuzz
//! targets' invariants; values rendered from random valid fields parse back to those fields;
//! shards partition any list. The fuzzers in `fuzz/` explore further; these keep the basics in
//! every `cargo test`, in well under a second.

// Test code: helpers outside #[test] functions unwrap too; a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod fuzz_harness;

use mtasts::catalog::Profile;
use mtasts::input::{normalize_domain, Shard};
use mtasts::observe::TxtRecord;
use mtasts::parse::mx_pattern::MxPattern;
use mtasts::parse::policy::{parse_policy, Mode};
use mtasts::parse::smtp_reply::{parse_reply, ReplyParse};
use mtasts::parse::{sts_record, tlsrpt_record};

/// SplitMix64: tiny, fast, and good enough to spread test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound > 0`).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.index(max_len + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// A string of `1..=max_len` characters from `alphabet`.
    fn word(&mut self, alphabet: &[u8], max_len: usize) -> String {
        let len = 1 + self.index(max_len);
        (0..len).map(|_| char::from(*self.pick(alphabet))).collect()
    }
}

const CASES: usize = 3_000;
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A host name such as `k3x.mail9.ab`: LDH labels starting with a letter, a letters-only TLD.
fn host_name(rng: &mut Rng) -> String {
    let mut labels: Vec<String> = (0..1 + rng.index(3))
        .map(|_| {
            let first = char::from(*rng.pick(b"abcdefghijklmnopqrstuvwxyz"));
            format!("{first}{}", rng.word(LOWER_ALNUM, 8))
        })
        .collect();
    labels.push(rng.word(b"abcdefghijklmnopqrstuvwxyz", 3) + "x");
    labels.join(".")
}

#[test]
fn random_bytes_keep_every_fuzz_invariant() {
    let mut rng = Rng(1);
    for _ in 0..CASES {
        let data = rng.bytes(200);
        for (_, target) in fuzz_harness::TARGETS {
            target(&data);
        }
    }
}

#[test]
fn grammar_shaped_input_keeps_every_fuzz_invariant() {
    // Odd first byte: the harness projects onto each grammar's alphabet or vocabulary.
    let mut rng = Rng(2);
    for _ in 0..CASES {
        let mut data = rng.bytes(120);
        if let Some(first) = data.first_mut() {
            *first |= 1;
        }
        for (_, target) in fuzz_harness::TARGETS {
            target(&data);
        }
    }
}

#[test]
fn rendered_policy_parses_back_to_its_fields() {
    let mut rng = Rng(3);
    for _ in 0..500 {
        let mode = *rng.pick(&[Mode::Enforce, Mode::Testing, Mode::None]);
        let max_age = rng.below(31_557_601);
        let mx: Vec<String> = (0..1 + rng.index(4))
            .map(|_| {
                let host = host_name(&mut rng);
                if rng.chance(30) {
                    format!("*.{host}")
                } else {
                    host
                }
            })
            .collect();
        let mut fields = vec![
            format!("mode: {}", mode.as_str()),
            format!("max_age: {max_age}"),
        ];
        fields.extend(mx.iter().map(|pattern| format!("mx: {pattern}")));
        // `version` must come first; the others may come in any order.
        for i in (1..fields.len()).rev() {
            fields.swap(i, rng.index(i + 1));
        }
        fields.insert(0, "version: STSv1".to_owned());
        let ending = if rng.chance(50) { "\r\n" } else { "\n" };
        let body: String = fields
            .iter()
            .map(|line| format!("{line}{ending}"))
            .collect();

        let (policy, problems) = parse_policy(body.as_bytes());
        assert!(policy.valid, "{body:?}: {problems:#?}");
        assert_eq!(policy.version.as_deref(), Some("STSv1"), "{body:?}");
        assert_eq!(policy.mode, Some(mode), "{body:?}");
        assert_eq!(policy.max_age, Some(max_age), "{body:?}");
        // In file order, which the shuffle changed.
        let in_order: Vec<&str> = fields
            .iter()
            .filter_map(|line| line.strip_prefix("mx: "))
            .collect();
        let expected: Vec<MxPattern> = in_order
            .iter()
            .map(|pattern| MxPattern::parse(pattern).unwrap())
            .collect();
        assert_eq!(policy.mx, expected, "{body:?}");
        let rendered: Vec<String> = policy.mx.iter().map(ToString::to_string).collect();
        assert_eq!(rendered, in_order, "{body:?}");
    }
}

#[test]
fn rendered_sts_record_parses_back_to_its_id() {
    let mut rng = Rng(4);
    for _ in 0..CASES {
        let id = rng.word(ALNUM, 32);
        let space = if rng.chance(50) { " " } else { "" };
        let end = if rng.chance(50) { ";" } else { "" };
        let text = format!("v=STSv1;{space}id={id}{end}");
        // TXT strings may be split anywhere; the parser joins them.
        let cut = rng.index(text.len() + 1);
        let record = TxtRecord {
            strings: vec![
                text.as_bytes()[..cut].to_vec(),
                text.as_bytes()[cut..].to_vec(),
            ],
        };
        let analysis = sts_record::analyse(&[record]);
        assert_eq!(
            analysis.record.map(|record| record.id),
            Some(id),
            "{text:?}"
        );
    }
}

#[test]
fn rendered_tlsrpt_record_parses_back_to_its_addresses() {
    let mut rng = Rng(5);
    for _ in 0..1_000 {
        let domains: Vec<String> = (0..1 + rng.index(3)).map(|_| host_name(&mut rng)).collect();
        let uris: Vec<String> = domains
            .iter()
            .map(|domain| format!("mailto:{}@{domain}", rng.word(LOWER_ALNUM, 10)))
            .collect();
        let text = format!("v=TLSRPTv1; rua={}", uris.join(","));
        let analysis = tlsrpt_record::analyse(&[TxtRecord::single(&text)]);
        let record = analysis
            .record
            .unwrap_or_else(|| panic!("{text:?}: {:#?}", analysis.problems));
        assert_eq!(record.rua, uris, "{text:?}");
        let mut expected: Vec<String> = Vec::new();
        for domain in domains {
            if !expected.contains(&domain) {
                expected.push(domain);
            }
        }
        assert_eq!(record.mailto_domains(), expected, "{text:?}");
    }
}

#[test]
fn smtp_reply_round_trips() {
    let mut rng = Rng(6);
    // Printable ASCII without the backslash, which the evidence escaping would double.
    let text_chars: Vec<u8> = (b' '..=b'~').filter(|&b| b != b'\\').collect();
    for _ in 0..CASES {
        let code = 200 + rng.below(4) * 100 + rng.below(6) * 10 + rng.below(10);
        let lines: Vec<String> = (0..1 + rng.index(5))
            .map(|_| {
                if rng.chance(10) {
                    String::new()
                } else {
                    rng.word(&text_chars, 60)
                }
            })
            .collect();
        let mut buf = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let last = i + 1 == lines.len();
            let ending = if rng.chance(80) { "\r\n" } else { "\n" };
            let rendered = match (last, line.is_empty(), rng.chance(50)) {
                (true, true, true) => format!("{code}{ending}"),
                (true, _, _) => format!("{code} {line}{ending}"),
                (false, _, _) => format!("{code}-{line}{ending}"),
            };
            buf.extend_from_slice(rendered.as_bytes());
        }
        let length = buf.len();
        // Whatever follows (the next reply, pipelined) is not consumed.
        buf.extend_from_slice(&rng.bytes(20));
        match parse_reply(&buf, 512, 100) {
            ReplyParse::Complete { reply, consumed } => {
                assert_eq!(u64::from(reply.code), code);
                assert_eq!(reply.lines, lines);
                assert_eq!(consumed, length);
            }
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(&buf)),
        }
        // Every strict prefix is incomplete.
        let cut = rng.index(length);
        assert_eq!(
            parse_reply(&buf[..cut], 512, 100),
            ReplyParse::Incomplete,
            "{:?}",
            String::from_utf8_lossy(&buf[..cut])
        );
    }
}

#[test]
fn shards_partition_every_list() {
    let mut rng = Rng(7);
    for _ in 0..CASES {
        let name = normalize_domain(&host_name(&mut rng)).unwrap();
        let count = 1 + rng.below(16);
        let holders = (0..count)
            .filter(|&index| Shard::new(index, count).unwrap().contains(&name))
            .count();
        assert_eq!(holders, 1, "{name} in {holders} of {count} shards");
        let index = rng.below(count);
        let shard = Shard::parse(&format!("{index}/{count}")).unwrap();
        assert_eq!((shard.index(), shard.count()), (index, count));
    }
}

#[test]
fn normalising_is_idempotent_on_mixed_case_names() {
    let mut rng = Rng(8);
    for _ in 0..CASES {
        let name: String = host_name(&mut rng)
            .chars()
            .map(|ch| {
                if rng.chance(30) {
                    ch.to_ascii_uppercase()
                } else {
                    ch
                }
            })
            .collect();
        let trailing = if rng.chance(20) { "." } else { "" };
        let normalised = normalize_domain(&format!("{name}{trailing}")).unwrap();
        assert_eq!(normalised, name.to_ascii_lowercase());
        fuzz_harness::check_normalised(&normalised);
    }
}

/// A real evidence file: the header and the hand-built scenarios' observations.
fn evidence_file() -> Vec<u8> {
    use mtasts::evidence::{header_line, observations_line, EvidenceHeader};
    let header = EvidenceHeader::new("0.1.0", 1_790_000_000, Profile::Rfc, &[]);
    let mut file = header_line(&header);
    for obs in [
        common::scenario::perfect(),
        common::scenario::non_public(),
        common::scenario::non_public_allowed(),
    ] {
        file.extend(observations_line(&obs));
    }
    file
}

/// Replaces one randomly chosen leaf of `value` with a random JSON value.
fn mutate_json(value: &mut serde_json::Value, rng: &mut Rng) {
    use serde_json::Value;
    match value {
        Value::Object(map) if !map.is_empty() && rng.chance(85) => {
            let key = map.keys().nth(rng.index(map.len())).unwrap().clone();
            if rng.chance(10) {
                map.remove(&key);
            } else {
                mutate_json(map.get_mut(&key).unwrap(), rng);
            }
        }
        Value::Array(items) if !items.is_empty() && rng.chance(85) => {
            let index = rng.index(items.len());
            mutate_json(&mut items[index], rng);
        }
        leaf => {
            *leaf = match rng.below(7) {
                0 => Value::Null,
                1 => Value::from(rng.next() as i64),
                2 => Value::from(-1),
                3 => Value::from(String::from_utf8_lossy(&rng.bytes(12)).into_owned()),
                4 => Value::Array(Vec::new()),
                5 => Value::from("TLSv1.3"),
                _ => {
                    serde_json::json!({"status": "records", "data": [], "ttl": 0, "cname_chain": []})
                }
            }
        }
    }
}

/// Issue 10: corrupt evidence never panics `replay` or `--baseline`; every line that does not
/// read is an error naming its line (asserted by the `evidence` fuzz target itself).
#[test]
fn corrupt_evidence_is_an_error_never_a_panic() {
    let file = evidence_file();
    // The file itself reads, judges, and compares with itself unchanged.
    fuzz_harness::evidence(&file);
    let lines: Vec<&[u8]> = file.split(|&byte| byte == b'\n').collect();
    let mut rng = Rng(0x0E71_DE9C_E000_0010);
    for _ in 0..400 {
        let mut mutated = file.clone();
        match rng.below(5) {
            // Random bytes flipped.
            0 => {
                for _ in 0..1 + rng.index(8) {
                    let at = rng.index(mutated.len());
                    mutated[at] = rng.next() as u8;
                }
            }
            // Cut anywhere.
            1 => mutated.truncate(rng.index(mutated.len())),
            // A range deleted.
            2 => {
                let from = rng.index(mutated.len());
                let to = (from + rng.index(200)).min(mutated.len());
                mutated.drain(from..to);
            }
            // Lines reordered or repeated (a header after observations, observations first).
            3 => {
                let mut shuffled: Vec<&[u8]> = Vec::new();
                for _ in 0..lines.len() {
                    shuffled.push(lines[rng.index(lines.len())]);
                }
                mutated = shuffled.join(&b'\n');
            }
            // One value inside an observation replaced: the structure is valid JSON, the
            // contents are not valid observations (or are, and must judge without panicking).
            _ => {
                let index = 1 + rng.index(lines.len() - 2);
                let mut value: serde_json::Value = serde_json::from_slice(lines[index]).unwrap();
                for _ in 0..1 + rng.index(3) {
                    mutate_json(&mut value, &mut rng);
                }
                let mut rebuilt: Vec<Vec<u8>> = lines.iter().map(|line| line.to_vec()).collect();
                rebuilt[index] = serde_json::to_vec(&value).unwrap();
                mutated = rebuilt.join(&b'\n');
            }
        }
        let result = std::panic::catch_unwind(|| fuzz_harness::evidence(&mutated));
        assert!(
            result.is_ok(),
            "panicked on: {}",
            String::from_utf8_lossy(&mutated)
                .chars()
                .take(2000)
                .collect::<String>()
        );
    }
}
