//! "Exactly one record at this name": the part that the `_mta-sts` stage (RFC 8461 §3.1) and
//! the `_smtp._tls` stage (RFC 8460 §3) share. It judges the TXT lookup as the stage's
//! `present` check, then the filter's checks and the record grammar's checks; a
//! [`RecordStage`] says, as data, which checks those are and how to word them.
//!
//! A failed lookup is "could not determine", never "no record" (digest TXT-16). When no record
//! passes the filter, the checks that need one are skipped, except that a parser problem
//! explaining why (a record in the wrong case) is still reported.

use super::bounds::{self, Kept};
use super::Findings;
use crate::catalog::{stage_checks, CheckFlag, CheckId, Severity};
use crate::escape::{escape_bytes, escape_str};
use crate::model::{Evidence, Problem, Subject};
use crate::observe::{DnsAnswer, MisplacedRecord, Observations, TxtRecord};
use crate::parse::tag_value::{RecordAnalysis, RecordGrammar};

/// One record stage: its grammar and the checks of its lookup and filter.
pub(crate) struct RecordStage<R> {
    pub(crate) grammar: &'static RecordGrammar,
    pub(crate) analyse: fn(&[TxtRecord]) -> RecordAnalysis<R>,
    pub(crate) present: CheckId,
    /// The stage's `*.bounds` check, which the stage judges itself ([`judge_bounds`]).
    pub(crate) bounds: CheckId,
    /// Follows the name in `present`'s pass: "has an MTA-STS record".
    pub(crate) has_record: &'static str,
    /// Ends "the TXT lookup of N failed (reason)": what readers do then.
    pub(crate) lookup_failed: &'static str,
    /// Ends "no K record: N has no TXT records": what that costs.
    pub(crate) absent: &'static str,
    /// The records beginning with these bytes are the evidence of `present`'s pass.
    pub(crate) present_evidence: &'static [u8],
    /// Where a CNAME chain to the record is shown.
    pub(crate) chain: ChainShown,
}

/// Where a stage shows the CNAME chain that led to its records.
pub(crate) enum ChainShown {
    /// With the "no record" problem only: the stage judges the chain with a check of its own,
    /// which is skipped then.
    WhenAbsent,
    /// With `present`'s pass.
    WhenPresent,
}

/// What the stage goes on with when a record passed the filter.
pub(crate) struct Found<'o, R> {
    /// The name looked up: `_mta-sts.example.org`.
    pub(crate) name: String,
    pub(crate) ttl: u32,
    pub(crate) cname_chain: &'o [String],
    /// The record a reader following the RFC would use.
    pub(crate) record: Option<R>,
    /// Exactly one record passed the filter, so the grammar checks ran.
    pub(crate) parsed: bool,
}

/// Judges `present`, the filter checks and the grammar checks of `stage` from `answer`. Returns
/// what the stage needs for its own checks when a record passed the filter; otherwise those
/// checks have been skipped.
pub(crate) fn judge<'o, R>(
    stage: &RecordStage<R>,
    obs: &Observations,
    answer: &'o DnsAnswer<Vec<TxtRecord>>,
    misplaced: &[MisplacedRecord],
    out: &mut Findings,
) -> Option<Found<'o, R>> {
    let grammar = stage.grammar;
    let subject = Subject::Domain;
    let name = format!("{}.{}", grammar.label, obs.domain);
    let needs_record: Vec<CheckId> = stage_checks(stage.present.spec().stage)
        .filter(|&check| check != stage.present && check != stage.bounds)
        .collect();
    let blocked_by = stage.present;

    let (records, ttl, cname_chain) = match answer {
        DnsAnswer::Failed { reason } => {
            out.undetermined(
                stage.present,
                subject.clone(),
                format!(
                    "the TXT lookup of {name} failed ({reason}){}",
                    stage.lookup_failed
                ),
                vec![Evidence::new(grammar.evidence, answer.describe_absence())],
            );
            out.skip_all(needs_record, &subject, blocked_by);
            return None;
        }
        DnsAnswer::NoData | DnsAnswer::NxDomain if obs.accepts_no_mail() => {
            out.skip(stage.present, subject.clone(), CheckId::MxNull);
            out.skip_all(needs_record, &subject, CheckId::MxNull);
            return None;
        }
        DnsAnswer::NoData | DnsAnswer::NxDomain => {
            let problem = absent_problem(
                stage.present,
                format!(
                    "no {} record: {}{}",
                    grammar.kind,
                    absence_phrase(answer, &name),
                    stage.absent
                ),
                &name,
                vec![Evidence::new(grammar.evidence, answer.describe_absence())],
                misplaced,
            );
            out.problem(problem, subject.clone());
            out.skip_all(needs_record, &subject, blocked_by);
            return None;
        }
        DnsAnswer::Records {
            data,
            ttl,
            cname_chain,
            ..
        } => (data, *ttl, cname_chain),
    };

    let analysis = (stage.analyse)(records);
    let mut problems = analysis.problems;
    let chain = (!cname_chain.is_empty()).then(|| Evidence::new("CNAME", show_chain(cname_chain)));

    if analysis.candidates == 0 {
        let mut lookup: Vec<Evidence> = records
            .iter()
            .map(|record| Evidence::new(grammar.evidence, escape_bytes(&record.joined())))
            .collect();
        if matches!(stage.chain, ChainShown::WhenAbsent) {
            lookup.extend(chain);
        }
        match answer.cut().filter(|cut| cut.records > records.len()) {
            // The record may be among those the audit's bound left unread: a sender's resolver
            // hands over all of them, so "no record" would blame the domain for the audit's
            // limit (issue 12).
            Some(cut) => out.undetermined(
                stage.present,
                subject.clone(),
                format!(
                    "none of the first {} of the {} TXT records at {name} begins with `{}`, \
                     and the others were not read (see {})",
                    records.len(),
                    cut.records,
                    grammar.prefix(),
                    stage.bounds
                ),
                lookup,
            ),
            None => out.problem(
                absent_problem(
                    stage.present,
                    no_candidate_summary(grammar, &name, records.len()),
                    &name,
                    lookup,
                    misplaced,
                ),
                subject.clone(),
            ),
        }
        report_or_skip(out, &needs_record, &mut problems, &subject, blocked_by);
        return None;
    }

    let mut evidence: Vec<Evidence> = records
        .iter()
        .map(TxtRecord::joined)
        .filter(|text| text.starts_with(stage.present_evidence))
        .map(|text| Evidence::new(grammar.evidence, escape_bytes(&text)))
        .collect();
    if matches!(stage.chain, ChainShown::WhenPresent) {
        evidence.extend(chain);
    }
    out.pass_with(
        stage.present,
        subject.clone(),
        format!("{name} {}", stage.has_record),
        evidence,
    );

    // Checks of the record set, judged whenever a record passed the filter; then those that run
    // only when exactly one record passed it. The stage judges its other checks itself.
    let flagged = |flag| -> Vec<CheckId> {
        stage_checks(stage.present.spec().stage)
            .filter(|check| check.spec().has(flag))
            .collect()
    };
    let (filter_checks, grammar_checks) = (flagged(CheckFlag::Filter), flagged(CheckFlag::Grammar));
    let filter_problems = take_problems(&mut problems, &filter_checks);
    out.judge_all(&filter_checks, filter_problems, &subject);
    if analysis.parsed {
        out.judge_all(&grammar_checks, problems, &subject);
    } else {
        // Several candidates: nothing was parsed, so the grammar checks did not run.
        report_or_skip(
            out,
            &grammar_checks,
            &mut problems,
            &subject,
            grammar.several.check,
        );
    }

    Some(Found {
        name,
        ttl,
        cname_chain,
        record: analysis.record,
        parsed: analysis.parsed,
    })
}

/// Judges the stage's `*.bounds` check: what the probe left out of the TXT answer, then
/// `more` (what the stage's own bounds left out). Skipped when the lookup gave no records.
pub(crate) fn judge_bounds<R>(
    stage: &RecordStage<R>,
    obs: &Observations,
    answer: &DnsAnswer<Vec<TxtRecord>>,
    more: Vec<Evidence>,
    out: &mut Findings,
) {
    let subject = Subject::Domain;
    match answer {
        DnsAnswer::Records { .. } => {
            let name = format!("{}.{}", stage.grammar.label, obs.domain);
            let label = format!("TXT records at {name}");
            let evidence = bounds::answer_cut(&label, answer, Kept::First)
                .into_iter()
                .chain(more)
                .collect();
            bounds::judge(
                stage.bounds,
                subject,
                "what the evidence lists",
                evidence,
                out,
            );
        }
        DnsAnswer::NoData | DnsAnswer::NxDomain if obs.accepts_no_mail() => {
            out.skip(stage.bounds, subject, CheckId::MxNull);
        }
        _ => out.skip(stage.bounds, subject, stage.present),
    }
}

/// Passes the stage's TTL check `check` when `follows_guidance`, else reports the TTL with the
/// `guidance` it misses.
pub(crate) fn judge_ttl(
    out: &mut Findings,
    check: CheckId,
    found: &Found<'_, impl Sized>,
    follows_guidance: bool,
    guidance: &str,
) {
    let (name, ttl) = (&found.name, found.ttl);
    if follows_guidance {
        out.pass_with(
            check,
            Subject::Domain,
            format!("the TTL of {name} is {ttl} seconds"),
            Vec::new(),
        );
    } else {
        out.problem(
            Problem::new(
                check,
                format!("the TTL of {name} is {ttl} seconds; {guidance}"),
            )
            .with("TTL", ttl.to_string()),
            Subject::Domain,
        );
    }
}

/// Whether a TTL seen through a recursive resolver can be `published` counted down: a cached
/// answer carries the time it has left (RFC 1035 §3.2.1, RFC 2181 §8), so a second audit, or a
/// resolver that someone else asked first, sees a little less than the zone says. Up to a tenth
/// below counts as the same TTL; past that the value itself is reported.
pub(crate) fn counted_down_from(observed: u32, published: u32) -> bool {
    observed <= published && published - observed <= published / 10
}

/// The CNAME chain for evidence, each name once (`a -> b -> c` from the steps `a -> b`,
/// `b -> c`), escaped (the names came from DNS). A step that does not continue the one before
/// starts a new run after "; ".
pub(crate) fn show_chain(chain: &[String]) -> String {
    let mut shown = String::new();
    let mut last_target: Option<&str> = None;
    for step in chain {
        // A step is "owner -> target"; a bare name continues the chain.
        let Some((owner, target)) = step.split_once(" -> ") else {
            if !shown.is_empty() {
                shown.push_str(" -> ");
            }
            shown.push_str(&escape_str(step));
            last_target = Some(step.as_str());
            continue;
        };
        if last_target != Some(owner) {
            if !shown.is_empty() {
                shown.push_str("; ");
            }
            shown.push_str(&escape_str(owner));
        }
        if !target.is_empty() {
            shown.push_str(" -> ");
            shown.push_str(&escape_str(target));
        }
        last_target = Some(target);
    }
    shown
}

/// The "no record" problem, with a hint for each record found at a wrong name (TXT-01).
fn absent_problem(
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
    // The owner meant to deploy and is not protected: worse than never having tried, so it
    // fails under every profile (issue 12).
    if !misplaced.is_empty() {
        problem = problem.at_least(Severity::Fail);
    }
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

/// "_mta-sts.D does not exist (NXDOMAIN)" / "has no TXT records".
fn absence_phrase<T>(answer: &DnsAnswer<T>, name: &str) -> String {
    match answer {
        DnsAnswer::NxDomain => format!("{name} does not exist (NXDOMAIN)"),
        _ => format!("{name} has no TXT records"),
    }
}

/// "no MTA-STS record: the only TXT record at N does not begin with `v=STSv1;`".
fn no_candidate_summary(grammar: &RecordGrammar, name: &str, count: usize) -> String {
    let (kind, prefix) = (grammar.kind, grammar.prefix());
    if count == 1 {
        format!("no {kind} record: the only TXT record at {name} does not begin with `{prefix}`")
    } else {
        format!(
            "no {kind} record: none of the {count} TXT records at {name} begins with `{prefix}`"
        )
    }
}

/// Reports the problems of `checks`; a check without a problem did not run and is skipped.
fn report_or_skip(
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
fn take_problems(problems: &mut Vec<Problem>, checks: &[CheckId]) -> Vec<Problem> {
    let (mine, rest) = std::mem::take(problems)
        .into_iter()
        .partition(|problem| checks.contains(&problem.check));
    *problems = rest;
    mine
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::catalog::CheckId;
    use crate::model::Finding;

    /// Issue 12: each hop once (it read `c1 -> c1 -> c2`).
    #[test]
    fn chains_list_each_hop_once() {
        let steps = |list: &[&str]| {
            list.iter()
                .map(|step| (*step).to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            super::show_chain(&steps(&["a.test -> c1.test", "c1.test -> c2.test"])),
            "a.test -> c1.test -> c2.test"
        );
        assert_eq!(
            super::show_chain(&steps(&["a.test -> b.test"])),
            "a.test -> b.test"
        );
        assert_eq!(
            super::show_chain(&steps(&["a.test -> b.test", "x.test -> y.test"])),
            "a.test -> b.test; x.test -> y.test"
        );
        assert_eq!(super::show_chain(&[]), "");
    }

    /// The outcome labels of `check`'s findings, in order.
    pub(crate) fn labels(findings: &[Finding], check: CheckId) -> Vec<&'static str> {
        findings
            .iter()
            .filter(|f| f.check == check)
            .map(|f| f.outcome.label())
            .collect()
    }
}
