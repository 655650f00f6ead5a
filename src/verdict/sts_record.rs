//! Stage 1: the `_mta-sts` TXT record (RFC 8461 §3.1; TTL guidance from SGE step 1). The
//! lookup, the filter and the grammar are judged by `one_record`; this
//! stage adds the CNAME and TTL checks.

use super::one_record::{self, counted_down_from, judge_ttl, show_chain, ChainShown, RecordStage};
use super::Findings;
use crate::catalog::CheckId;
use crate::model::{Problem, Subject};
use crate::observe::Observations;
use crate::parse::sts_record::{self, analyse, StsRecord, STS_VERSION};

/// The `_mta-sts` record's lookup, filter and grammar checks.
const STAGE: RecordStage<StsRecord> = RecordStage {
    grammar: &sts_record::GRAMMAR,
    analyse,
    present: CheckId::StsRecordPresent,
    bounds: CheckId::StsRecordBounds,
    has_record: "has an MTA-STS record",
    lookup_failed: "; senders that cannot look it up and have no cached policy deliver without \
                    MTA-STS",
    absent: "",
    // `v=STSv1 ;` too: errata 6285 makes it the record when it is alone.
    present_evidence: STS_VERSION,
    chain: ChainShown::WhenAbsent,
};
/// The TTLs SGE step 1 recommends: a day, or an hour around a change.
const GUIDED_TTLS: [u32; 2] = [86400, 3600];

/// Judges `sts-record.*`; returns the record a strict sender would use.
pub fn judge(obs: &Observations, out: &mut Findings) -> Option<StsRecord> {
    one_record::judge_bounds(&STAGE, obs, &obs.sts_txt, Vec::new(), out);
    let found = one_record::judge(&STAGE, obs, &obs.sts_txt, &obs.sts_misplaced, out)?;
    let (name, cname_chain) = (&found.name, found.cname_chain);

    if cname_chain.is_empty() {
        out.pass_with(
            CheckId::StsRecordCname,
            Subject::Domain,
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
            Subject::Domain,
        );
    }

    let guided = GUIDED_TTLS
        .iter()
        .any(|&guided| counted_down_from(found.ttl, guided));
    judge_ttl(
        out,
        CheckId::StsRecordTtl,
        &found,
        guided,
        "SGE recommends 86400 (3600 while the policy changes); a resolver's cache counts TTLs \
         down, so ask the domain's own name server (--resolver) to see the TTL as published",
    );

    found.record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Profile;
    use crate::model::Outcome;
    use crate::observe::{DnsAnswer, MisplacedRecord, TxtRecord};
    use crate::verdict::one_record::tests::labels;

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
                cut: None,
            };
            let (_, findings) = run(answer, Profile::Rfc);
            assert_eq!(
                labels(&findings, CheckId::StsRecordTtl),
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
        assert_eq!(labels(&findings, CheckId::StsRecordPresent), ["warn"]);
        assert_eq!(labels(&findings, CheckId::StsRecordSyntax), ["fail"]);
        assert_eq!(labels(&findings, CheckId::StsRecordId), ["skipped"]);
    }

    #[test]
    fn misplaced_record_is_named() {
        let mut obs = Observations::empty(&"example.org".parse().unwrap());
        obs.sts_misplaced = vec![MisplacedRecord {
            name: "mta-sts.example.org".to_owned(),
            text: "v=STSv1; id=a".to_owned(),
        }];
        // Issue 12: fails under every profile (under rfc a missing record only warns).
        for profile in [Profile::Rfc, Profile::Ncsc] {
            let mut out = Findings::new(profile);
            judge(&obs, &mut out);
            assert_eq!(out.finish()[0].outcome, Outcome::Fail, "{profile:?}");
        }
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
