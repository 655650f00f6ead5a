//! The `_mta-sts` TXT record (RFC 8461 §3.1): its grammar as a `tag_value::RecordGrammar` (the
//! `v=STSv1` version, the `id` tag, where known senders of digest §8 differ from the RFC) and
//! the `id` rule. Whitespace before the first `;` follows the digest's reading of errata 6285
//! (valid when alone, discarded among other records); duplicate fields follow §3.2 (first wins).

use std::collections::HashSet;

use super::tag_value::{
    self, describe_byte, miscased_tag_summary, Consequence, Fields, NearMiss, RecordAnalysis,
    RecordGrammar, Several, SpaceBeforeDelimiter, Tag,
};
use crate::catalog::CheckId;
use crate::escape::escape_bytes;
use crate::model::Problem;
use crate::observe::TxtRecord;

/// The version tag, matched byte-exactly (`%s"v=STSv1"`).
pub const STS_VERSION: &[u8] = b"v=STSv1";
/// The literal prefix of RFC 8461 §3.1's filter.
pub const STS_PREFIX: &[u8] = b"v=STSv1;";
/// Evidence label for the record text.
pub const STS_EVIDENCE: &str = "TXT _mta-sts";

/// The longest `id` the grammar allows (`1*32(ALPHA / DIGIT)`).
const MAX_ID_LEN: usize = 32;

/// RFC 8461 §3.1, and what senders make of records that break it.
pub(crate) const GRAMMAR: RecordGrammar = RecordGrammar {
    version: STS_VERSION,
    label: "_mta-sts",
    evidence: STS_EVIDENCE,
    kind: "MTA-STS",
    readers: "senders",
    section: "RFC 8461 §3.1",
    tags: &[Tag {
        name: b"id",
        takes_tail: None,
    }],
    syntax: CheckId::StsRecordSyntax,
    several: Several {
        check: CheckId::StsRecordSingle,
        consequence: "senders act as if the domain had no MTA-STS (Stalwart uses whichever \
                      parses first in the answer)",
    },
    space_before_delimiter: SpaceBeforeDelimiter::Errata6285 {
        check: CheckId::StsRecordDelimiterSpace,
        ignored_by: "; chasquid ignores it",
        beside_record: ", but postfix-mta-sts-resolver and mailauth match it too and then see \
                        two records (no policy)",
    },
    near_miss: NearMiss {
        case_insensitive_prefix: STS_PREFIX,
        no_record_wrong_case: ", though Stalwart and mailauth match the tag \
                               case-insensitively and accept it",
        no_record_leading_space: ", and postfix-mta-sts-resolver, chasquid and mailauth \
                                  also look for the tag at the very start",
        beside: CheckId::StsRecordOtherTxt,
        beside_cap: None,
        beside_consequence: "the RFC's filter discards it, but go-mtasts counts every TXT record",
        beside_wrong_case: ", and Stalwart and mailauth (case-insensitive) see two records",
    },
    other_txt: Some(Consequence {
        check: CheckId::StsRecordOtherTxt,
        consequence: ", but go-mtasts (maddy) counts every TXT record there and then sees no \
                      policy",
    }),
    duplicates: Some(Consequence {
        check: CheckId::StsRecordDuplicateField,
        consequence: "the first counts (RFC 8461 §3.2, as mox does), but senders disagree about \
                      which one they use",
    }),
    non_ascii: "the record contains non-ASCII bytes; RFC 8461 §3.1 allows US-ASCII only",
    trailing_whitespace: " (mox rejects the record; most senders trim it)",
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsRecord {
    pub id: String,
    /// Extension fields, first occurrence of each name, in record order.
    pub extensions: Vec<(String, String)>,
}

/// Everything the filter and the parser found in the TXT RRs at `_mta-sts.D`; `problems` are
/// those of the `sts-record.*` checks other than `present`, `cname` and `ttl`.
pub type StsAnalysis = RecordAnalysis<StsRecord>;

/// Filters the TXT RRs at `_mta-sts.D` as RFC 8461 §3.1 says (join strings, keep those that begin
/// with `v=STSv1;`, exactly one must remain) and parses the survivor.
///
/// Returns the record a strict sender would use, if any, and the problems of the `sts-record.*`
/// checks other than `sts-record.present`.
pub fn analyse_sts_records(records: &[TxtRecord]) -> (Option<StsRecord>, Vec<Problem>) {
    let analysis = analyse(records);
    (analysis.record, analysis.problems)
}

/// Like [`analyse_sts_records`], also saying how many candidates there were and whether the
/// grammar checks ran, which the verdict needs to avoid passing a check that did not run.
pub fn analyse(records: &[TxtRecord]) -> StsAnalysis {
    tag_value::analyse(&GRAMMAR, records, build)
}

/// Applies the `id` rule to the fields of the one candidate and builds the record.
fn build(mut fields: Fields<'_>) -> (Option<StsRecord>, Vec<Problem>) {
    let mut problems = std::mem::take(&mut fields.problems);
    let id = match fields.tag(b"id").next() {
        None => {
            let miscased = fields.miscased(b"id");
            let summary = match miscased {
                Some(field) => format!(
                    "{} (Stalwart and mailauth accept it)",
                    miscased_tag_summary("id", field)
                ),
                None => "the record has no `id` field, which RFC 8461 §3.1 requires".to_owned(),
            };
            let mut problem = fields.problem(CheckId::StsRecordId, summary);
            if let Some(field) = miscased {
                problem = problem.with("field", escape_bytes(field));
            }
            problems.push(problem);
            None
        }
        Some(field) => match id_problem(field.value) {
            Some(why) => {
                problems.push(
                    fields
                        .problem(
                            CheckId::StsRecordId,
                            format!(
                                "the id `{}` {why}: RFC 8461 §3.1 allows 1 to {MAX_ID_LEN} \
                                 letters and digits (mox rejects the record; \
                                 postfix-mta-sts-resolver, Stalwart and go-mtasts accept it)",
                                escape_bytes(field.value)
                            ),
                        )
                        .with("field", format!("id={}", escape_bytes(field.value))),
                );
                None
            }
            None => Some(String::from_utf8_lossy(field.value).into_owned()),
        },
    };

    let valid = !problems
        .iter()
        .any(|p| matches!(p.check, CheckId::StsRecordSyntax | CheckId::StsRecordId));
    let record = match id {
        Some(id) if valid => {
            let mut extensions: Vec<(String, String)> = Vec::new();
            // A set, not a scan: thousands of distinct fields would take quadratic time.
            let mut seen: HashSet<&[u8]> = HashSet::new();
            for field in fields.extensions() {
                if seen.insert(field.name) {
                    extensions.push((
                        String::from_utf8_lossy(field.name).into_owned(),
                        String::from_utf8_lossy(field.value).into_owned(),
                    ));
                }
            }
            Some(StsRecord { id, extensions })
        }
        _ => None,
    };
    (record, problems)
}

/// Why an `id` value is not `1*32(ALPHA / DIGIT)`, if it is not.
fn id_problem(value: &[u8]) -> Option<String> {
    if value.is_empty() {
        return Some("is empty".to_owned());
    }
    let mut reasons = Vec::new();
    if value.len() > MAX_ID_LEN {
        reasons.push(format!("is {} characters long", value.len()));
    }
    let mut bad: Vec<String> = Vec::new();
    for &byte in value {
        if !byte.is_ascii_alphanumeric() {
            let shown = describe_byte(byte);
            if !bad.contains(&shown) {
                bad.push(shown);
            }
        }
    }
    if !bad.is_empty() {
        reasons.push(format!("contains {}", bad.join(", ")));
    }
    (!reasons.is_empty()).then(|| reasons.join(" and "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::tag_value::tests::random_records;

    fn rr(text: &str) -> TxtRecord {
        TxtRecord::single(text)
    }

    fn checks(problems: &[Problem]) -> Vec<&'static str> {
        let mut ids: Vec<&str> = problems.iter().map(|p| p.check.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn valid_records_parse() {
        let table: &[(&[&str], &str)] = &[
            (&["v=STSv1; id=20250101T000000"], "20250101T000000"),
            (&["v=STSv1;id=abc"], "abc"),            // EC-13
            (&["v=STSv1; id=abc;"], "abc"),          // EC-14
            (&["v=STSv1; id=abc; \t"], "abc"),       // trailing delimiter with WSP
            (&["v=STSv1; id=abc", "123"], "abc123"), // EC-12: one RR, two strings
            (&["v=STSv1\t;\tid=a ;x=1"], "a"),
        ];
        for (strings, id) in table {
            let record = TxtRecord {
                strings: strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
            };
            let analysis = analyse(&[record]);
            let record = analysis.record.unwrap_or_else(|| panic!("{strings:?}"));
            assert_eq!(record.id, *id, "{strings:?}");
            assert_eq!(analysis.candidates, 1);
            assert!(analysis.parsed);
        }
    }

    #[test]
    fn extensions_are_kept_first_wins() {
        let (record, problems) = analyse_sts_records(&[rr("v=STSv1; id=a; ext=1; ext=2")]);
        assert_eq!(
            record.unwrap().extensions,
            vec![("ext".to_owned(), "1".to_owned())]
        );
        assert_eq!(checks(&problems), ["sts-record.duplicate-field"]);
    }

    #[test]
    fn problems_per_record() {
        let table: &[(&str, &[&str], bool)] = &[
            ("v=STSv1; id=2024-01-01", &["sts-record.id"], false), // EC-08
            (
                "v=STSv1; id=abcdefghijabcdefghijabcdefghijabc",
                &["sts-record.id"],
                false,
            ), // EC-09
            ("v=STSv1; id=a.b_c", &["sts-record.id"], false),
            ("v=STSv1; id=", &["sts-record.id"], false),
            ("v=STSv1;", &["sts-record.id"], false),
            ("v=STSv1; ID=abc", &["sts-record.id"], false), // EC-18
            ("v=STSv1; id=abc; x=a=b", &["sts-record.syntax"], false), // EC-19
            ("v=STSv1; id=abc ", &["sts-record.syntax"], false), // TXT-10
            ("v=STSv1; id=abc;; x=1", &["sts-record.syntax"], false),
            ("v=STSv1; id=abc; x=", &["sts-record.syntax"], false),
            ("v=STSv1; id=abc; _x=1", &["sts-record.syntax"], false),
            ("v=STSv1; id=abc; foo", &["sts-record.syntax"], false),
            ("v=STSv1; id=abc; x=é", &["sts-record.syntax"], false), // TXT-14
            (
                "v=STSv1; id=abc; id=def",
                &["sts-record.duplicate-field"],
                true,
            ),
            ("v=STSv1 ; id=abc", &["sts-record.delimiter-space"], true), // EC-15
        ];
        for (text, expected, usable) in table {
            let (record, problems) = analyse_sts_records(&[rr(text)]);
            assert_eq!(checks(&problems), *expected, "{text}");
            assert_eq!(record.is_some(), *usable, "{text}");
        }
    }

    #[test]
    fn duplicate_id_first_wins() {
        let (record, _) = analyse_sts_records(&[rr("v=STSv1; id=first; id=second")]);
        assert_eq!(record.unwrap().id, "first");
    }

    #[test]
    fn miscased_id_is_named() {
        let (_, problems) = analyse_sts_records(&[rr("v=STSv1; ID=abc")]);
        assert!(problems[0]
            .summary
            .contains("looks like `id` in the wrong case"));
    }

    #[test]
    fn near_misses_are_not_candidates() {
        let table: &[(&str, &str)] = &[
            (" v=STSv1; id=abc", "begins with whitespace"), // EC-16
            (
                "V=STSv1; id=abc",
                "`V=STSv1` is `v=STSv1` in the wrong case",
            ), // EC-17
            (
                "v=stsv1; id=abc",
                "`v=stsv1` is `v=STSv1` in the wrong case",
            ),
            ("v=STSv1", "nothing follows"),
            ("v=STSv1 id=abc", "is not followed by `;`"),
            ("v = STSv1; id=abc", "whitespace inside"),
        ];
        for (text, mistake) in table {
            let analysis = analyse(&[rr(text)]);
            assert_eq!(analysis.candidates, 0, "{text}");
            assert!(analysis.record.is_none(), "{text}");
            assert_eq!(checks(&analysis.problems), ["sts-record.syntax"], "{text}");
            assert!(
                analysis.problems[0].summary.contains(mistake),
                "{text}: {}",
                analysis.problems[0].summary
            );
        }
    }

    #[test]
    fn filter_across_records() {
        // EC-10: two candidates.
        let analysis = analyse(&[rr("v=STSv1; id=a"), rr("v=STSv1; id=b")]);
        assert_eq!(analysis.candidates, 2);
        assert!(!analysis.parsed);
        assert_eq!(checks(&analysis.problems), ["sts-record.single"]);
        assert_eq!(analysis.problems[0].evidence.len(), 2);

        // EC-11: an unrelated record is discarded, but go-mtasts counts it.
        let (record, problems) = analyse_sts_records(&[rr("v=STSv1; id=a"), rr("v=spf1 -all")]);
        assert_eq!(record.unwrap().id, "a");
        assert_eq!(checks(&problems), ["sts-record.other-txt"]);

        // Errata 6285: with another record, `v=STSv1 ;` is discarded.
        let analysis = analyse(&[rr("v=STSv1 ; id=a"), rr("google-site-verification=x")]);
        assert_eq!(analysis.candidates, 0);
        assert_eq!(
            checks(&analysis.problems),
            ["sts-record.delimiter-space", "sts-record.other-txt"]
        );

        // A wrong-case record beside a good one is discarded but noted.
        let (record, problems) = analyse_sts_records(&[rr("v=STSv1; id=a"), rr("V=STSv1; id=b")]);
        assert_eq!(record.unwrap().id, "a");
        assert_eq!(checks(&problems), ["sts-record.other-txt"]);

        // Only unrelated records: nothing to say beyond "no record".
        let analysis = analyse(&[rr("v=spf1 -all")]);
        assert_eq!(analysis.candidates, 0);
        assert!(analysis.problems.is_empty());
    }

    #[test]
    fn never_panics_on_random_records() {
        let alphabet: &[&[u8]] = &[
            b"v=STSv1",
            b"V=",
            b"stsv1",
            b";",
            b" ",
            b"\t",
            b"=",
            b"id",
            b"ID",
            b"a",
            b"9",
            b"-",
            b"_",
            b".",
            b"\xff",
            b"\xc3\xa9",
            b"\x00",
            b"x",
            b"\r\n",
        ];
        for seed in 0..5000 {
            let records = random_records(seed, alphabet);
            let analysis = analyse(&records);
            assert!(analysis.record.is_none() || analysis.candidates == 1);
        }
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        let inputs: &[&[u8]] = &[
            b"",
            b";",
            b"v",
            b"v=",
            b"v=STSv1",
            b"v=STSv1 ",
            b"v=STSv1;=",
            b"v=STSv1;==;",
            b"\xff\xfe",
            b"v=STSv1;\xffid=\xff",
            b" \t ",
            b"V",
            b"v=STSv1 \t",
        ];
        for input in inputs {
            let record = TxtRecord {
                strings: vec![input.to_vec()],
            };
            let _ = analyse(&[record.clone(), record]);
            let _ = analyse(&[TxtRecord {
                strings: vec![input.to_vec()],
            }]);
        }
    }
}
