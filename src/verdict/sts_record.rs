//! Stage 1: the `_mta-sts` TXT record (RFC 8461 §3.1; TTL guidance from SGE step 1).
//!
//! A failed lookup is "could not determine", never "no record" (digest TXT-16). When no record
//! passes the filter, the checks that need one are skipped, except that a parser problem
//! explaining why (a record in the wrong case) is still reported.

use super::Findings;
use crate::catalog::CheckId;
use crate::escape::{escape_bytes, escape_str};
use crate::model::{Evidence, Problem, Subject};
use crate::observe::{DnsAnswer, MisplacedRecord, Observations, TxtRecord};
use crate::parse::sts_record::{analyse, StsRecord, STS_EVIDENCE};

/// Checks that need an MTA-STS record to exist.
const NEEDS_RECORD: [CheckId; 8] = [
    CheckId::StsRecordCname,
    CheckId::StsRecordSingle,
    CheckId::StsRecordSyntax,
    CheckId::StsRecordId,
    CheckId::StsRecordDelimiterSpace,
    CheckId::StsRecordDuplicateField,
    CheckId::StsRecordOtherTxt,
    CheckId::StsRecordTtl,
];
/// Checks of the record set that run whenever a candidate exists.
const FILTER_CHECKS: [CheckId; 3] = [
    CheckId::StsRecordSingle,
    CheckId::StsRecordDelimiterSpace,
    CheckId::StsRecordOtherTxt,
];
/// Checks that need exactly one candidate to parse.
const GRAMMAR_CHECKS: [CheckId; 3] = [
    CheckId::StsRecordSyntax,
    CheckId::StsRecordId,
    CheckId::StsRecordDuplicateField,
];
/// The TTLs SGE step 1 recommends: a day, or an hour around a change.
const GUIDED_TTLS: [u32; 2] = [86400, 3600];

/// Whether a TTL seen through a recursive resolver can be `published` counted down: a cached
/// answer carries the time it has left (RFC 1035 §3.2.1, RFC 2181 §8), so a second audit, or a
/// resolver that someone else asked first, sees a little less than the zone says. Up to a tenth
/// below counts as the same TTL; past that the value itself is reported.
pub(crate) fn counted_down_from(observed: u32, published: u32) -> bool {
    observed <= published && published - observed <= published / 10
}

/// Judges `sts-record.*`; returns the record a strict sender would use.
pub fn judge(obs: &Observations, out: &mut Findings) -> Option<StsRecord> {
    let subject = Subject::Domain;
    let name = format!("_mta-sts.{}", obs.domain);
    let blocked_by = CheckId::StsRecordPresent;

    let (records, ttl, cname_chain) = match &obs.sts_txt {
        DnsAnswer::Failed { reason } => {
            out.undetermined(
                CheckId::StsRecordPresent,
                subject.clone(),
                format!(
                    "the TXT lookup of {name} failed ({reason}); senders that cannot look it up \
                     and have no cached policy deliver without MTA-STS"
                ),
                vec![Evidence::new(STS_EVIDENCE, obs.sts_txt.describe_absence())],
            );
            out.skip_all(NEEDS_RECORD, &subject, blocked_by);
            return None;
        }
        DnsAnswer::NoData | DnsAnswer::NxDomain if obs.accepts_no_mail() => {
            out.skip(CheckId::StsRecordPresent, subject.clone(), CheckId::MxNull);
            out.skip_all(NEEDS_RECORD, &subject, CheckId::MxNull);
            return None;
        }
        DnsAnswer::NoData | DnsAnswer::NxDomain => {
            let problem = absent(
                format!("no MTA-STS record: {}", absence_phrase(&obs.sts_txt, &name)),
                &obs.domain,
                vec![Evidence::new(STS_EVIDENCE, obs.sts_txt.describe_absence())],
                &obs.sts_misplaced,
            );
            out.problem(problem, subject.clone());
            out.skip_all(NEEDS_RECORD, &subject, blocked_by);
            return None;
        }
        DnsAnswer::Records {
            data,
            ttl,
            cname_chain,
        } => (data, *ttl, cname_chain),
    };

    let analysis = analyse(records);
    let mut problems = analysis.problems;

    if analysis.candidates == 0 {
        let mut lookup: Vec<Evidence> = records
            .iter()
            .map(|record| Evidence::new(STS_EVIDENCE, escape_bytes(&record.joined())))
            .collect();
        if !cname_chain.is_empty() {
            lookup.push(Evidence::new("CNAME", show_chain(cname_chain)));
        }
        let problem = absent(
            no_candidate_summary("MTA-STS", "`v=STSv1;`", &name, records.len()),
            &obs.domain,
            lookup,
            &obs.sts_misplaced,
        );
        out.problem(problem, subject.clone());
        report_or_skip(out, &NEEDS_RECORD, &mut problems, &subject, blocked_by);
        return None;
    }

    out.pass_with(
        CheckId::StsRecordPresent,
        subject.clone(),
        format!("{name} has an MTA-STS record"),
        candidate_evidence(records),
    );

    if cname_chain.is_empty() {
        out.pass_with(
            CheckId::StsRecordCname,
            subject.clone(),
            format!("{name} is not delegated by CNAME"),
            Vec::new(),
        );
    } else {
        out.problem(
            Problem::new(
                CheckId::StsRecordCname,
                format!(
                    "{name} is delegated by CNAME ({}); senders follow it (RFC 8461 §3.1), so \
                     whoever runs the target must change the id with every policy change",
                    show_chain(cname_chain)
                ),
            )
            .with("CNAME", show_chain(cname_chain)),
            subject.clone(),
        );
    }

    let filter_problems = take_problems(&mut problems, &FILTER_CHECKS);
    out.judge_all(&FILTER_CHECKS, filter_problems, &subject);
    if analysis.parsed {
        out.judge_all(&GRAMMAR_CHECKS, problems, &subject);
    } else {
        // Several candidates: nothing was parsed, so the grammar checks did not run.
        report_or_skip(
            out,
            &GRAMMAR_CHECKS,
            &mut problems,
            &subject,
            CheckId::StsRecordSingle,
        );
    }

    if GUIDED_TTLS
        .iter()
        .any(|&guided| counted_down_from(ttl, guided))
    {
        out.pass_with(
            CheckId::StsRecordTtl,
            subject,
            format!("the TTL of {name} is {ttl} seconds"),
            Vec::new(),
        );
    } else {
        out.problem(
            Problem::new(
                CheckId::StsRecordTtl,
                format!(
                    "the TTL of {name} is {ttl} seconds; SGE recommends 86400 (3600 while the \
                     policy changes); a resolver's cache counts TTLs down, so ask the domain's \
                     own name server (--resolver) to see the TTL as published"
                ),
            )
            .with("TTL", ttl.to_string()),
            subject,
        );
    }

    analysis.record
}

/// The "no record" problem, with a hint for each record found at a wrong name (TXT-01).
pub(crate) fn absent_problem(
    check: CheckId,
    summary: String,
    right_name: &str,
    lookup: Vec<Evidence>,
    misplaced: &[MisplacedRecord],
) -> Problem {
    let mut summary = summary;
    if let Some(first) = misplaced.first() {
        summary.push_str(&format!(
            "; a record was found at {} instead, where senders never look",
            first.name
        ));
    }
    let mut problem = Problem::new(check, summary);
    problem.evidence = lookup;
    for record in misplaced {
        problem = problem.with(
            "misplaced",
            format!(
                "found `{}` at {}: it belongs at {right_name}",
                record.text, record.name
            ),
        );
    }
    problem
}

fn absent(
    summary: String,
    domain: &str,
    lookup: Vec<Evidence>,
    misplaced: &[MisplacedRecord],
) -> Problem {
    absent_problem(
        CheckId::StsRecordPresent,
        summary,
        &format!("_mta-sts.{domain}"),
        lookup,
        misplaced,
    )
}

/// "_mta-sts.D does not exist (NXDOMAIN)" / "has no TXT records".
pub(crate) fn absence_phrase<T>(answer: &DnsAnswer<T>, name: &str) -> String {
    match answer {
        DnsAnswer::NxDomain => format!("{name} does not exist (NXDOMAIN)"),
        _ => format!("{name} has no TXT records"),
    }
}

/// Reports the problems of `checks`; a check without a problem did not run and is skipped.
pub(crate) fn report_or_skip(
    out: &mut Findings,
    checks: &[CheckId],
    problems: &mut Vec<Problem>,
    subject: &Subject,
    blocked_by: CheckId,
) {
    let mine = take_problems(problems, checks);
    for &check in checks {
        if !mine.iter().any(|problem| problem.check == check) {
            out.skip(check, subject.clone(), blocked_by);
        }
    }
    out.judge_all(&[], mine, subject);
}

/// Removes and returns the problems of `checks`.
pub(crate) fn take_problems(problems: &mut Vec<Problem>, checks: &[CheckId]) -> Vec<Problem> {
    let (mine, rest) = std::mem::take(problems)
        .into_iter()
        .partition(|problem| checks.contains(&problem.check));
    *problems = rest;
    mine
}

fn candidate_evidence(records: &[TxtRecord]) -> Vec<Evidence> {
    records
        .iter()
        .map(TxtRecord::joined)
        .filter(|text| text.starts_with(b"v=STSv1"))
        .map(|text| Evidence::new(STS_EVIDENCE, escape_bytes(&text)))
        .collect()
}

/// The CNAME chain for evidence, escaped (the names came from DNS).
pub(crate) fn show_chain(chain: &[String]) -> String {
    chain
        .iter()
        .map(|name| escape_str(name))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// "no MTA-STS record: the only TXT record at N does not begin with `v=STSv1;`".
pub(crate) fn no_candidate_summary(kind: &str, prefix: &str, name: &str, count: usize) -> String {
    if count == 1 {
        format!("no {kind} record: the only TXT record at {name} does not begin with {prefix}")
    } else {
        format!("no {kind} record: none of the {count} TXT records at {name} begins with {prefix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Profile;
    use crate::model::Outcome;

    fn run(
        answer: DnsAnswer<Vec<TxtRecord>>,
        profile: Profile,
    ) -> (Option<StsRecord>, Vec<crate::model::Finding>) {
        let mut obs = Observations::empty(&"example.org".parse().unwrap());
        obs.sts_txt = answer;
        let mut out = Findings::new(profile);
        let record = judge(&obs, &mut out);
        (record, out.finish())
    }

    fn outcome(findings: &[crate::model::Finding], check: CheckId) -> Vec<&'static str> {
        findings
            .iter()
            .filter(|f| f.check == check)
            .map(|f| f.outcome.label())
            .collect()
    }

    #[test]
    fn ttl_counted_down_by_a_resolver_cache_still_matches_the_guidance() {
        // (observed TTL, outcome): a cached 86400 or 3600 passes; other values are reported.
        let cases = [
            (86400, "pass"),
            (86398, "pass"),
            (77760, "pass"),
            (77759, "info"),
            (3600, "pass"),
            (3599, "pass"),
            (300, "info"),
            (86401, "info"),
            (172800, "info"),
        ];
        for (ttl, expected) in cases {
            let answer = DnsAnswer::Records {
                data: vec![TxtRecord::single("v=STSv1; id=a")],
                ttl,
                cname_chain: Vec::new(),
            };
            let (_, findings) = run(answer, Profile::Rfc);
            assert_eq!(
                outcome(&findings, CheckId::StsRecordTtl),
                [expected],
                "{ttl}"
            );
        }
    }

    #[test]
    fn every_check_gets_a_finding() {
        let answers = [
            DnsAnswer::records(vec![TxtRecord::single("v=STSv1; id=a")]),
            DnsAnswer::records(vec![TxtRecord::single("v=spf1 -all")]),
            DnsAnswer::records(vec![
                TxtRecord::single("v=STSv1; id=a"),
                TxtRecord::single("v=STSv1; id=b"),
            ]),
            DnsAnswer::NoData,
            DnsAnswer::NxDomain,
            DnsAnswer::Failed {
                reason: "SERVFAIL".to_owned(),
            },
        ];
        for answer in answers {
            let (_, findings) = run(answer.clone(), Profile::Rfc);
            for spec in crate::catalog::CATALOG
                .iter()
                .filter(|spec| spec.stage == crate::catalog::Stage::StsRecord)
            {
                assert!(
                    findings.iter().any(|f| f.check == spec.id),
                    "{} missing for {answer:?}",
                    spec.id
                );
            }
        }
    }

    #[test]
    fn servfail_is_never_no_record() {
        let (record, findings) = run(
            DnsAnswer::Failed {
                reason: "SERVFAIL".to_owned(),
            },
            Profile::Sge,
        );
        assert!(record.is_none());
        assert!(matches!(
            findings[0].outcome,
            Outcome::CouldNotDetermine { .. }
        ));
        assert!(findings.iter().all(|f| f.outcome != Outcome::Pass));
    }

    #[test]
    fn wrong_case_reports_why() {
        let (record, findings) = run(
            DnsAnswer::records(vec![TxtRecord::single("V=STSv1; id=a")]),
            Profile::Rfc,
        );
        assert!(record.is_none());
        assert_eq!(outcome(&findings, CheckId::StsRecordPresent), ["warn"]);
        assert_eq!(outcome(&findings, CheckId::StsRecordSyntax), ["fail"]);
        assert_eq!(outcome(&findings, CheckId::StsRecordId), ["skipped"]);
    }

    #[test]
    fn misplaced_record_is_named() {
        let mut obs = Observations::empty(&"example.org".parse().unwrap());
        obs.sts_misplaced = vec![MisplacedRecord {
            name: "mta-sts.example.org".to_owned(),
            text: "v=STSv1; id=a".to_owned(),
        }];
        let mut out = Findings::new(Profile::Sge);
        judge(&obs, &mut out);
        let findings = out.finish();
        let present = &findings[0];
        assert_eq!(present.outcome, Outcome::Fail);
        assert!(present.summary.contains("mta-sts.example.org"));
        assert_eq!(
            present.evidence.last().unwrap().value,
            "found `v=STSv1; id=a` at mta-sts.example.org: it belongs at _mta-sts.example.org"
        );
    }

    #[test]
    fn valid_record_passes_everything() {
        let (record, findings) = run(
            DnsAnswer::records(vec![TxtRecord::single("v=STSv1; id=20250101")]),
            Profile::Rfc,
        );
        assert_eq!(record.unwrap().id, "20250101");
        assert!(
            findings.iter().all(|f| f.outcome == Outcome::Pass),
            "{findings:#?}"
        );
    }
}
