//! Stage 3: the policy file, strictly, plus the guidance (SGE, NCSC) that applies to it.
//!
//! The RFC checks (RFC 8461 §3.2) come from [`parse_policy`]; the guidance checks here are pure
//! functions of the parsed [`Policy`] and the profile: mode (RFC 8461 §5, §8.3; SGE §3; NCSC §6),
//! `max_age` (RFC 8461 §3.2, §10.2; SGE step 2; NCSC §2, §6) and wildcards (RFC 8461 §10.4; SGE
//! step 2; NCSC §2). A check that needs a field the policy lacks is skipped, naming the check that
//! reports the missing field, and never passes.

use super::fetch::BodyRead;
use super::{Context, Findings};
use crate::catalog::{stage_checks, CheckFlag, CheckId, Profile, Severity, Stage};
use crate::model::{Facts, Finding, Problem, Subject};
use crate::parse::mx_pattern::MxPattern;
use crate::parse::policy::{looks_like_html, parse_policy, Mode, Policy, MAX_AGE_LIMIT};

const ONE_DAY: u64 = 86_400;
const ONE_WEEK: u64 = 604_800;
/// NCSC §6: two weeks in enforce.
const NCSC_ENFORCE_MAX_AGE: u64 = 1_209_600;
/// NCSC §2: one day and a second while testing.
const NCSC_TESTING_MAX_AGE: u64 = 86_401;
/// SGE step 5 allows a one-hour max_age around a mode change.
const SGE_CHANGE_WINDOW: u64 = 3_600;
/// Stalwart caches any max_age outside 3600..31557600 for a day instead (digest §8).
const STALWART_MIN_MAX_AGE: u64 = 3_600;

/// Multi-label public suffixes under which anyone can register a name (and so get a certificate).
///
/// This is a short built-in list of common ones, not the Public Suffix List: a wildcard under a
/// suffix missing here is still reported by `policy.wildcard`, just not as a public suffix.
/// Single-label suffixes (`*.com`, `*.nz`) are always public.
pub const PUBLIC_SUFFIXES: &[&str] = &[
    "govt.nz",
    "co.nz",
    "org.nz",
    "net.nz",
    "ac.nz",
    "co.uk",
    "gov.uk",
    "org.uk",
    "ac.uk",
    "me.uk",
    "ltd.uk",
    "plc.uk",
    "com.au",
    "gov.au",
    "net.au",
    "org.au",
    "edu.au",
    "co.jp",
    "com.br",
    "co.za",
    "gov.za",
    "github.io",
];

/// Judges `policy.*` on the body a sender would use; `Err` holds the check that says why there
/// is no body, and every policy check is skipped naming it. Returns the policy if a strict sender
/// would accept it, else the check that says why there is none (for the checks that need a
/// policy to skip on).
pub fn judge(
    body: Result<&[u8], CheckId>,
    ctx: &Context,
    out: &mut Findings,
) -> Result<Policy, CheckId> {
    let subject = Subject::Domain;
    let body = match body {
        Ok(body) => body,
        Err(blocker) => {
            out.skip_all(stage_checks(Stage::Policy), &subject, blocker);
            return Err(blocker);
        }
    };

    if looks_like_html(body) {
        // One problem says it all; every other check would only repeat it line by line.
        let (_, problems) = parse_policy(body);
        out.judge_all(&[CheckId::PolicySyntax], problems, &subject);
        let rest = stage_checks(Stage::Policy).filter(|&check| check != CheckId::PolicySyntax);
        out.skip_all(rest, &subject, CheckId::PolicySyntax);
        return Err(CheckId::PolicySyntax);
    }

    let (policy, problems) = parse_policy(body);
    let grammar = stage_checks(Stage::Policy).filter(|check| check.spec().has(CheckFlag::Grammar));
    for check in grammar {
        if let Some(blocker) = grammar_blocker(check, &policy) {
            out.skip(check, subject.clone(), blocker);
            continue;
        }
        if problems.iter().any(|problem| problem.check == check) {
            continue;
        }
        match pass_note(check, &policy) {
            Some(note) => out.pass_with(check, subject.clone(), note, Vec::new()),
            None => out.pass(check, subject.clone()),
        }
    }
    let rejected_by = problems
        .iter()
        .map(|problem| problem.check)
        .filter(|check| check.spec().has(CheckFlag::Rejects))
        .min();
    for problem in problems {
        out.problem(problem, subject.clone());
    }

    for (check, verdict) in guidance(&policy, ctx.profile) {
        match verdict {
            Guidance::Pass => out.pass(check, subject.clone()),
            Guidance::Problem(problem) => out.problem(problem, subject.clone()),
            Guidance::Skip(blocked_by) => out.skip(check, subject.clone(), blocked_by),
        }
    }

    match rejected_by {
        None if policy.valid => Ok(policy),
        None => Err(CheckId::PolicySyntax),
        Some(check) => Err(check),
    }
}

/// The check a grammar check needs and the policy lacks, if any: `version-first` needs a
/// version line, and whether `mx` is required (or wrong) depends on the mode, unless there is an
/// `mx` anyway.
fn grammar_blocker(check: CheckId, policy: &Policy) -> Option<CheckId> {
    match check {
        CheckId::PolicyVersionFirst if policy.version.is_none() => Some(CheckId::PolicyVersion),
        CheckId::PolicyMx if policy.mode.is_none() && policy.mx.is_empty() => {
            Some(CheckId::PolicyMode)
        }
        CheckId::PolicyMxInNoneMode if policy.mode.is_none() => Some(CheckId::PolicyMode),
        _ => None,
    }
}

/// The facts a policy a strict sender accepts gives the report (`mode`, `max_age`, `mx`).
pub fn facts(policy: &Policy, facts: &mut Facts) {
    facts.mode = policy.mode.map(|mode| mode.as_str().to_owned());
    facts.max_age = policy.max_age;
    facts.policy_mx = policy.mx.iter().map(ToString::to_string).collect();
}

/// What `mtasts lint` says of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linted {
    /// The size rules a sender applies to the body (`policy-fetch.size`,
    /// `policy-fetch.size-large`), then every `policy.*` finding, in catalog order.
    pub findings: Vec<Finding>,
    /// As `check` gives them: `mode`, `max_age` and the `mx` patterns when a strict sender
    /// would accept the policy.
    pub facts: Facts,
}

/// Lints a policy file on its own (`mtasts lint FILE`), with the rules `check` applies to a
/// fetched body: one larger than senders read is refused as a whole, as `check` refuses it, and
/// every `policy.*` check is then skipped.
pub fn lint(body: &[u8], profile: Profile) -> Linted {
    let mut out = Findings::new(profile);
    let subject = Subject::Domain;
    let fits = super::fetch::judge_body_size(body, BodyRead::Whole, &subject, &mut out);
    let mut facts = Facts::default();
    let body = if fits {
        Ok(body)
    } else {
        Err(CheckId::PolicyFetchSize)
    };
    if let Ok(policy) = judge(body, &Context::new(profile, 0), &mut out) {
        self::facts(&policy, &mut facts);
    }
    let findings = out.finish();
    super::facts::conclude(&findings, &mut facts);
    Linted { findings, facts }
}

/// The result of one guidance check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guidance {
    Pass,
    Problem(Problem),
    /// Not evaluated: the policy lacks what the check needs (a check ID or a flag).
    Skip(CheckId),
}

/// Every guidance check on `policy`, in catalog order.
pub fn guidance(policy: &Policy, profile: Profile) -> Vec<(CheckId, Guidance)> {
    vec![
        (CheckId::PolicyMaxAgeShort, max_age_short(policy)),
        (CheckId::PolicyMaxAgeWeek, max_age_week(policy, profile)),
        (CheckId::PolicyMaxAgeNcsc, max_age_ncsc(policy)),
        (CheckId::PolicyModeEnforce, mode_enforce(policy)),
        (CheckId::PolicyModeNone, mode_none(policy)),
        (CheckId::PolicyWildcard, wildcard(policy)),
        (
            CheckId::PolicyWildcardPublicSuffix,
            wildcard_public_suffix(policy),
        ),
    ]
}

/// `policy.mode-enforce`: testing is a problem; none is a different check's concern.
pub fn mode_enforce(policy: &Policy) -> Guidance {
    match policy.mode {
        None => Guidance::Skip(CheckId::PolicyMode),
        Some(Mode::Enforce) => Guidance::Pass,
        Some(Mode::None) => Guidance::Skip(CheckId::PolicyModeNone),
        Some(Mode::Testing) => Guidance::Problem(
            Problem::new(
                CheckId::PolicyModeEnforce,
                "the policy is in testing mode: senders report TLS failures (TLS-RPT) but still deliver over plain or unverified connections; SGE and NCSC expect enforce once the reports are clean",
            )
            .with("mode", "testing"),
        ),
    }
}

/// `policy.mode-none`: none tells senders there is no active policy.
pub fn mode_none(policy: &Policy) -> Guidance {
    match policy.mode {
        None => Guidance::Skip(CheckId::PolicyMode),
        Some(Mode::None) => Guidance::Problem(
            Problem::new(
                CheckId::PolicyModeNone,
                "the policy is in mode none: senders treat the domain as having no active MTA-STS policy (the mode for retiring MTA-STS)",
            )
            .with("mode", "none"),
        ),
        Some(_) => Guidance::Pass,
    }
}

/// `policy.max-age-short`: under a day, an attacker who blocks DNS soon strips the policy
/// (not for `mode: none`, where a short max_age is the RFC 8461 §8.3 advice).
pub fn max_age_short(policy: &Policy) -> Guidance {
    let Some(max_age) = policy.max_age else {
        return Guidance::Skip(CheckId::PolicyMaxAge);
    };
    // RFC 8461 §8.3: a `none` policy that retires MTA-STS should have a short max_age.
    if max_age >= ONE_DAY || policy.mode == Some(Mode::None) {
        return Guidance::Pass;
    }
    let mut summary = if max_age == 0 {
        "max_age is 0: nothing is cached, so the policy protects only while it can be fetched; chasquid rejects the policy (it needs 1 to 31557600)".to_owned()
    } else {
        format!(
            "max_age is {max_age} seconds, less than a day: RFC 8461 expects weeks, and a short cache lets an attacker who blocks DNS strip the policy"
        )
    };
    if max_age < STALWART_MIN_MAX_AGE {
        summary.push_str("; Stalwart caches a max_age under 3600 for a day instead");
    }
    Guidance::Problem(
        Problem::new(CheckId::PolicyMaxAgeShort, summary).with("max_age", max_age.to_string()),
    )
}

/// `policy.max-age-week`: RFC 8461 expects weeks; SGE's default is 604800 (not for `mode: none`).
pub fn max_age_week(policy: &Policy, profile: Profile) -> Guidance {
    let Some(max_age) = policy.max_age else {
        return Guidance::Skip(CheckId::PolicyMaxAge);
    };
    if max_age >= ONE_WEEK || policy.mode == Some(Mode::None) {
        return Guidance::Pass;
    }
    let mut problem = Problem::new(
        CheckId::PolicyMaxAgeWeek,
        format!(
            "max_age is {max_age} seconds, less than a week (604800): RFC 8461 expects weeks or more, and SGE uses 604800"
        ),
    )
    .with("max_age", max_age.to_string());
    if profile == Profile::Sge && max_age == SGE_CHANGE_WINDOW {
        problem.summary = "max_age is 3600: SGE allows one hour only as a temporary window around a mode change; go back to 604800 afterwards".to_owned();
        problem = problem.capped(Severity::Info);
    }
    Guidance::Problem(problem)
}

/// `policy.max-age-ncsc`: NCSC asks for 86401 while testing and at least 1209600 in enforce.
pub fn max_age_ncsc(policy: &Policy) -> Guidance {
    let Some(mode) = policy.mode else {
        return Guidance::Skip(CheckId::PolicyMode);
    };
    if mode == Mode::None {
        return Guidance::Pass;
    }
    let Some(max_age) = policy.max_age else {
        return Guidance::Skip(CheckId::PolicyMaxAge);
    };
    match mode {
        Mode::Enforce if max_age < NCSC_ENFORCE_MAX_AGE => Guidance::Problem(
            Problem::new(
                CheckId::PolicyMaxAgeNcsc,
                format!("max_age is {max_age} in enforce mode; NCSC recommends 1209600 (two weeks) or more"),
            )
            .with("max_age", max_age.to_string()),
        ),
        // NCSC-06 is a suggestion for the testing phase: never more than informational.
        Mode::Testing if max_age != NCSC_TESTING_MAX_AGE => Guidance::Problem(
            Problem::new(
                CheckId::PolicyMaxAgeNcsc,
                format!("max_age is {max_age} in testing mode; NCSC suggests 86401 while testing"),
            )
            .with("max_age", max_age.to_string())
            .capped(Severity::Info),
        ),
        _ => Guidance::Pass,
    }
}

/// `policy.wildcard`: any `*.` pattern.
pub fn wildcard(policy: &Policy) -> Guidance {
    if policy.mx.is_empty() {
        return Guidance::Skip(CheckId::PolicyMx);
    }
    let wildcards: Vec<&MxPattern> = policy.mx.iter().filter(|mx| mx.wildcard).collect();
    if wildcards.is_empty() {
        return Guidance::Pass;
    }
    let listed: Vec<String> = wildcards.iter().map(|mx| format!("`{mx}`")).collect();
    let mut summary = format!(
        "the policy uses wildcard mx patterns ({}): each covers exactly one label, and lets any host under it with a certificate receive the domain's mail; SGE and NCSC forbid wildcards",
        listed.join(", ")
    );
    // Seed 002's mistake: `*.outlook.com` never reaches Exchange Online's MX hosts.
    if wildcards.iter().any(|mx| {
        mx.domain != "mail.protection.outlook.com"
            && "mail.protection.outlook.com".ends_with(&format!(".{}", mx.domain))
    }) {
        summary.push_str("; Exchange Online MX hosts are TENANT.mail.protection.outlook.com, two or more labels below `outlook.com`, so a shorter wildcard does not match them: list the exact MX host");
    }
    let mut problem = Problem::new(CheckId::PolicyWildcard, summary);
    for mx in wildcards {
        problem = problem.with("mx", mx.to_string());
    }
    Guidance::Problem(problem)
}

/// `policy.wildcard-public-suffix`: a wildcard directly under a public suffix.
pub fn wildcard_public_suffix(policy: &Policy) -> Guidance {
    if policy.mx.is_empty() {
        return Guidance::Skip(CheckId::PolicyMx);
    }
    let public: Vec<&MxPattern> = policy
        .mx
        .iter()
        .filter(|mx| mx.wildcard && is_public_suffix(&mx.domain))
        .collect();
    if public.is_empty() {
        return Guidance::Pass;
    }
    let listed: Vec<String> = public.iter().map(|mx| format!("`{mx}`")).collect();
    let mut problem = Problem::new(
        CheckId::PolicyWildcardPublicSuffix,
        format!(
            "{} cover{} a public suffix: anyone who registers a name there can get a certificate and receive the domain's mail",
            listed.join(", "),
            if public.len() == 1 { "s" } else { "" }
        ),
    );
    for mx in public {
        problem = problem.with("mx", mx.to_string());
    }
    Guidance::Problem(problem)
}

/// Whether `domain` (lower case) is a public suffix: a single label, or one of [`PUBLIC_SUFFIXES`].
pub fn is_public_suffix(domain: &str) -> bool {
    !domain.contains('.') || PUBLIC_SUFFIXES.contains(&domain)
}

/// What a passing check should still say, where a sender treats the value specially (digest §8).
fn pass_note(check: CheckId, policy: &Policy) -> Option<String> {
    match check {
        CheckId::PolicyMaxAge if policy.max_age == Some(MAX_AGE_LIMIT) => Some(format!(
            "max_age is {MAX_AGE_LIMIT}, the maximum; note that Stalwart caches it for only a day (its range excludes the maximum)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use crate::probe::MAX_POLICY_BYTES;

    const GOOD: &[u8] =
        b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 1209600\r\n";

    fn policy(mode: Option<Mode>, max_age: Option<u64>, mx: &[&str]) -> Policy {
        Policy {
            version: Some("STSv1".into()),
            mode,
            max_age,
            mx: mx.iter().map(|mx| MxPattern::parse(mx).unwrap()).collect(),
            extensions: Vec::new(),
            valid: true,
        }
    }

    fn label(guidance: &Guidance, check: CheckId, profile: Profile) -> String {
        match guidance {
            Guidance::Pass => "pass".into(),
            Guidance::Skip(by) => format!("skip:{by}"),
            Guidance::Problem(problem) => {
                assert_eq!(problem.check, check);
                problem
                    .clone()
                    .into_finding(Subject::Domain, profile)
                    .outcome
                    .label()
                    .into()
            }
        }
    }

    #[test]
    fn without_a_body_every_policy_check_is_skipped() {
        let mut out = Findings::new(Profile::Rfc);
        let ctx = Context::new(Profile::Rfc, 0);
        assert_eq!(
            judge(Err(CheckId::PolicyFetchStatus), &ctx, &mut out).err(),
            Some(CheckId::PolicyFetchStatus)
        );
        let findings = out.finish();
        assert_eq!(findings.len(), stage_checks(Stage::Policy).count());
        for finding in findings {
            assert_eq!(
                finding.outcome,
                Outcome::Skipped {
                    blocked_by: CheckId::PolicyFetchStatus.into()
                }
            );
        }
    }

    /// Issue 12: `lint` holds a file to the size `check` holds a fetched body to: a 111 KB
    /// file fails `policy-fetch.size` and is not judged further, as `check` does not judge it.
    #[test]
    fn lint_applies_the_size_rules_of_check() {
        let mut large = GOOD.to_vec();
        while large.len() <= 111_000 {
            large.extend_from_slice(b"mx: mail.example.com\r\n");
        }
        let linted = lint(&large, Profile::Rfc);
        let size = linted
            .findings
            .iter()
            .find(|finding| finding.check == CheckId::PolicyFetchSize)
            .unwrap();
        assert_eq!(size.outcome, Outcome::Fail);
        assert_eq!(
            size.summary,
            format!(
                "the policy is {} bytes, larger than the 65536 bytes senders read (RFC 8461 \
                 §3.3); senders do not accept it",
                large.len()
            )
        );
        let judged: Vec<&str> = linted
            .findings
            .iter()
            .filter(|finding| !matches!(finding.outcome, Outcome::Skipped { .. }))
            .map(|finding| finding.check.as_str())
            .collect();
        assert_eq!(judged, ["policy-fetch.size"]);
        assert!(linted
            .findings
            .iter()
            .filter(|finding| finding.check.spec().stage == Stage::Policy)
            .all(|finding| finding.outcome
                == Outcome::Skipped {
                    blocked_by: CheckId::PolicyFetchSize.into()
                }));
        assert_eq!(linted.facts, Facts::default());

        // Exactly at the cap the file is a policy, and chasquid's 10 KiB is a warning.
        let mut at_cap = large[..MAX_POLICY_BYTES].to_vec();
        let cut = at_cap.iter().rposition(|b| *b == b'\n').unwrap();
        at_cap.truncate(cut + 1);
        let linted = lint(&at_cap, Profile::Rfc);
        let outcome = |check| {
            linted
                .findings
                .iter()
                .find(|finding| finding.check == check)
                .map(|finding| finding.outcome.label())
        };
        assert_eq!(outcome(CheckId::PolicyFetchSize), Some("pass"));
        assert_eq!(outcome(CheckId::PolicyFetchSizeLarge), Some("warn"));
        assert_eq!(outcome(CheckId::PolicyMode), Some("pass"));
    }

    #[test]
    fn lint_gives_the_facts_check_gives() {
        let linted = lint(GOOD, Profile::Rfc);
        assert_eq!(linted.facts.mode.as_deref(), Some("enforce"));
        assert_eq!(linted.facts.max_age, Some(1_209_600));
        assert_eq!(linted.facts.policy_mx, ["mail.example.com"]);
        // A policy strict senders reject gives no facts, in `lint` as in `check`.
        let linted = lint(b"version: STSv1\nmode: enforce\n", Profile::Rfc);
        assert_eq!(linted.facts.mode, None);
    }

    #[test]
    fn every_policy_check_gets_a_finding_and_no_other() {
        let bodies: [&[u8]; 6] = [
            GOOD,
            b"",
            b"<html></html>",
            b"mode: none\n",
            b"version: STSv1\nmode: testing\nmx: *.com\nmax_age: 0\n",
            b"MODE: enforce\nmax age: 1\n",
        ];
        for body in bodies {
            for profile in [Profile::Rfc, Profile::Sge, Profile::Ncsc] {
                let findings = lint(body, profile).findings;
                let size_checks = [CheckId::PolicyFetchSize, CheckId::PolicyFetchSizeLarge];
                for check in stage_checks(Stage::Policy).chain(size_checks) {
                    assert!(
                        findings.iter().any(|finding| finding.check == check),
                        "{check} missing for {body:?}"
                    );
                }
                assert!(findings
                    .iter()
                    .all(|finding| finding.check.spec().stage == Stage::Policy
                        || size_checks.contains(&finding.check)));
            }
        }
    }

    #[test]
    fn returns_the_policy_only_when_valid() {
        let ctx = Context::new(Profile::Rfc, 0);
        let mut out = Findings::new(Profile::Rfc);
        let policy = judge(Ok(GOOD), &ctx, &mut out).unwrap();
        assert_eq!(policy.mode, Some(Mode::Enforce));
        let findings = out.finish();
        assert!(
            findings.iter().all(|f| f.outcome == Outcome::Pass),
            "{findings:#?}"
        );

        let mut out = Findings::new(Profile::Rfc);
        assert!(judge(Ok(b"version: STSv1\nmode: enforce\n"), &ctx, &mut out).is_err());
    }

    #[test]
    fn html_skips_everything_but_syntax() {
        let findings = lint(b"<!doctype html><p>hi", Profile::Rfc).findings;
        let not_skipped: Vec<&str> = findings
            .iter()
            .filter(|f| !matches!(f.outcome, Outcome::Skipped { .. }))
            .filter(|f| f.check.spec().stage == Stage::Policy)
            .map(|f| f.check.as_str())
            .collect();
        assert_eq!(not_skipped, ["policy.syntax"]);
    }

    #[test]
    fn guidance_by_mode_and_profile() {
        use Profile::{Ncsc, Rfc, Sge};
        let testing = policy(Some(Mode::Testing), Some(86_401), &["a.example"]);
        let enforce = policy(Some(Mode::Enforce), Some(604_800), &["a.example"]);
        let none = policy(Some(Mode::None), Some(3_600), &[]);
        let missing = policy(None, None, &["a.example"]);
        let cases: &[(&Policy, CheckId, Profile, &str)] = &[
            (&testing, CheckId::PolicyModeEnforce, Rfc, "info"),
            (&testing, CheckId::PolicyModeEnforce, Sge, "fail"),
            (&testing, CheckId::PolicyModeEnforce, Ncsc, "warn"),
            (&enforce, CheckId::PolicyModeEnforce, Sge, "pass"),
            (
                &none,
                CheckId::PolicyModeEnforce,
                Sge,
                "skip:policy.mode-none",
            ),
            (
                &missing,
                CheckId::PolicyModeEnforce,
                Sge,
                "skip:policy.mode",
            ),
            (&none, CheckId::PolicyModeNone, Rfc, "warn"),
            (&none, CheckId::PolicyModeNone, Sge, "fail"),
            (&enforce, CheckId::PolicyModeNone, Rfc, "pass"),
            (&missing, CheckId::PolicyModeNone, Rfc, "skip:policy.mode"),
            (&testing, CheckId::PolicyMaxAgeNcsc, Ncsc, "pass"),
            (&enforce, CheckId::PolicyMaxAgeNcsc, Ncsc, "warn"),
            (&enforce, CheckId::PolicyMaxAgeNcsc, Rfc, "info"),
            (&none, CheckId::PolicyMaxAgeNcsc, Ncsc, "pass"),
            (
                &missing,
                CheckId::PolicyMaxAgeNcsc,
                Ncsc,
                "skip:policy.mode",
            ),
            (&enforce, CheckId::PolicyMaxAgeWeek, Sge, "pass"),
            (&testing, CheckId::PolicyMaxAgeWeek, Sge, "warn"),
            (&testing, CheckId::PolicyMaxAgeWeek, Rfc, "info"),
            (&testing, CheckId::PolicyMaxAgeShort, Rfc, "pass"),
            (
                &missing,
                CheckId::PolicyMaxAgeShort,
                Rfc,
                "skip:policy.max-age",
            ),
            (&none, CheckId::PolicyWildcard, Rfc, "skip:policy.mx"),
            // RFC 8461 §8.3: retiring with a short max_age is the advice, not a fault.
            (&none, CheckId::PolicyMaxAgeWeek, Sge, "pass"),
            (&none, CheckId::PolicyMaxAgeShort, Rfc, "pass"),
            (&enforce, CheckId::PolicyWildcard, Sge, "pass"),
        ];
        for (policy, check, profile, expected) in cases {
            let found = guidance(policy, *profile)
                .into_iter()
                .find(|(id, _)| id == check)
                .map(|(_, guidance)| label(&guidance, *check, *profile))
                .unwrap();
            assert_eq!(found, *expected, "{check} under {profile:?} for {policy:?}");
        }
    }

    #[test]
    fn max_age_thresholds() {
        let cases: &[(u64, Profile, &str, &str, &str)] = &[
            // (max_age, profile, short, week, ncsc in testing)
            (0, Profile::Rfc, "warn", "info", "info"),
            (3_600, Profile::Sge, "warn", "info", "info"),
            (3_601, Profile::Sge, "warn", "warn", "info"),
            (86_399, Profile::Rfc, "warn", "info", "info"),
            (86_400, Profile::Rfc, "pass", "info", "info"),
            (86_401, Profile::Ncsc, "pass", "info", "pass"),
            (604_799, Profile::Sge, "pass", "warn", "info"),
            (604_800, Profile::Sge, "pass", "pass", "info"),
            (604_800, Profile::Ncsc, "pass", "pass", "info"),
        ];
        for &(max_age, profile, short, week, ncsc) in cases {
            let policy = policy(Some(Mode::Testing), Some(max_age), &["a.example"]);
            assert_eq!(
                label(&max_age_short(&policy), CheckId::PolicyMaxAgeShort, profile),
                short,
                "{max_age}"
            );
            assert_eq!(
                label(
                    &max_age_week(&policy, profile),
                    CheckId::PolicyMaxAgeWeek,
                    profile
                ),
                week,
                "{max_age}"
            );
            assert_eq!(
                label(&max_age_ncsc(&policy), CheckId::PolicyMaxAgeNcsc, profile),
                ncsc,
                "{max_age}"
            );
        }
        let zero = policy(Some(Mode::Enforce), Some(0), &["a.example"]);
        let Guidance::Problem(problem) = max_age_short(&zero) else {
            panic!("0 must be short");
        };
        assert!(problem.summary.contains("chasquid rejects"));
        assert!(problem.summary.contains("Stalwart"));
    }

    #[test]
    fn wildcards_and_public_suffixes() {
        let cases: &[(&[&str], &str, &str)] = &[
            (&["a.example"], "pass", "pass"),
            (&["*.example.com"], "warn", "pass"),
            (&["*.com"], "warn", "fail"),
            (&["*.govt.nz"], "warn", "fail"),
            (&["*.minties.govt.nz"], "warn", "pass"),
            (&["*.co.uk", "a.example"], "warn", "fail"),
        ];
        for (mx, wild, public) in cases {
            let policy = policy(Some(Mode::Enforce), Some(ONE_WEEK), mx);
            assert_eq!(
                label(&wildcard(&policy), CheckId::PolicyWildcard, Profile::Rfc),
                *wild,
                "{mx:?}"
            );
            assert_eq!(
                label(
                    &wildcard_public_suffix(&policy),
                    CheckId::PolicyWildcardPublicSuffix,
                    Profile::Rfc
                ),
                *public,
                "{mx:?}"
            );
        }
        let outlook = policy(Some(Mode::Enforce), Some(ONE_WEEK), &["*.outlook.com"]);
        let Guidance::Problem(problem) = wildcard(&outlook) else {
            panic!("wildcard expected");
        };
        assert!(problem.summary.contains("mail.protection.outlook.com"));
        let exact = policy(
            Some(Mode::Enforce),
            Some(ONE_WEEK),
            &["*.mail.protection.outlook.com"],
        );
        let Guidance::Problem(problem) = wildcard(&exact) else {
            panic!("wildcard expected");
        };
        assert!(!problem.summary.contains("shorter wildcard"));
    }
}
