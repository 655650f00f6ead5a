//! Findings and reports: what the verdict code produces and the renderers read.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::catalog::{CheckId, Profile, Severity};

/// The final outcome of one check for one subject, after the profile has been applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
    Warn,
    Info,
    /// The check could not run because an earlier one failed; never shown as passing.
    Skipped {
        blocked_by: Blocker,
    },
    /// The auditor could not find out (DNS SERVFAIL, timeout, port 25 blocked from here).
    CouldNotDetermine {
        reason: String,
    },
}

impl Outcome {
    pub fn from_severity(severity: Severity) -> Self {
        match severity {
            Severity::Info => Self::Info,
            Severity::Warn => Self::Warn,
            Severity::Fail => Self::Fail,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Skipped { .. } => "skipped",
            Self::CouldNotDetermine { .. } => "could-not-determine",
        }
    }

    pub fn is_problem(&self) -> bool {
        !matches!(self, Self::Pass | Self::Info | Self::Skipped { .. })
    }
}

/// What kept a check from running: a check that did not pass, or an option of the run.
///
/// On the wire it is the check's ID (`policy.mode`) or the flag (`--no-smtp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blocker {
    Check(CheckId),
    Flag(RunFlag),
}

/// Options of a run that leave checks out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunFlag {
    /// `--no-smtp`: no STARTTLS probes.
    NoSmtp,
    /// No `--reports` given: no TLS-RPT reports to judge readiness by (wire text `--reports`,
    /// shown as "needs --reports").
    NoReports,
    /// No `--baseline` was given: nothing to compare with.
    NoBaseline,
    /// The `--baseline` is a report (`--format jsonl`), which keeps no certificates: the
    /// certificate comparisons need saved evidence (`--save-evidence`).
    BaselineEvidence,
}

impl RunFlag {
    /// Every flag, for reading the wire form back.
    pub const ALL: [Self; 4] = [
        Self::NoSmtp,
        Self::NoReports,
        Self::NoBaseline,
        Self::BaselineEvidence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoSmtp => "--no-smtp",
            Self::NoReports => "--reports",
            Self::NoBaseline => "--baseline",
            Self::BaselineEvidence => "--baseline evidence",
        }
    }
}

impl Blocker {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Check(check) => check.as_str(),
            Self::Flag(flag) => flag.as_str(),
        }
    }

    /// Reads the wire form back; `None` for text that names neither a check nor a flag.
    pub fn from_wire(wire: &str) -> Option<Self> {
        if let Some(flag) = RunFlag::ALL.into_iter().find(|flag| flag.as_str() == wire) {
            return Some(Self::Flag(flag));
        }
        CheckId::from_wire(wire).map(Self::Check)
    }
}

impl From<CheckId> for Blocker {
    fn from(check: CheckId) -> Self {
        Self::Check(check)
    }
}

impl From<RunFlag> for Blocker {
    fn from(flag: RunFlag) -> Self {
        Self::Flag(flag)
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Blocker {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Blocker {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = String::deserialize(deserializer)?;
        Self::from_wire(&wire).ok_or_else(|| {
            serde::de::Error::custom(format!("`{wire}` names neither a check nor a flag"))
        })
    }
}

/// What a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Subject {
    Domain,
    Host { name: String },
    Endpoint { host: String, ip: IpAddr },
}

impl Subject {
    pub fn host(name: &str) -> Self {
        Self::Host {
            name: name.to_owned(),
        }
    }

    pub fn endpoint(host: &str, ip: IpAddr) -> Self {
        Self::Endpoint {
            host: host.to_owned(),
            ip,
        }
    }
}

/// One piece of evidence: a label saying where it was seen and the (escaped) bytes seen there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub label: String,
    pub value: String,
}

impl Evidence {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// One check's result for one subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: CheckId,
    pub subject: Subject,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// One sentence saying what was seen.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// Set when an ignore of the configuration (`mtasts.toml`) or `--ignore` accepts this
    /// finding: it is still reported, marked, but no longer counts toward the verdict or the exit
    /// status. The verdict code never sets it; [`crate::ignore::apply`] does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<Ignored>,
}

/// Why a finding is accepted as known, as the ignore that matched it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ignored {
    pub reason: String,
    /// The last day the ignore holds (`YYYY-MM-DD`), if it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A rule broken, found by a parser or a verdict, before the profile turns it into an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub check: CheckId,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// A lower severity than the catalog's, where the rule itself says so (an uncovered MX in
    /// `testing` mode only warns).
    pub cap: Option<Severity>,
    /// A higher severity than the catalog's, where the rule itself says so (a record at a
    /// misplaced name fails even where a missing record only warns).
    pub floor: Option<Severity>,
}

impl Problem {
    pub fn new(check: CheckId, summary: impl Into<String>) -> Self {
        Self {
            check,
            summary: summary.into(),
            evidence: Vec::new(),
            cap: None,
            floor: None,
        }
    }

    pub fn with(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.evidence.push(Evidence::new(label, value));
        self
    }

    pub fn capped(mut self, severity: Severity) -> Self {
        self.cap = Some(severity);
        self
    }

    pub fn at_least(mut self, severity: Severity) -> Self {
        self.floor = Some(severity);
        self
    }

    /// Turns the problem into a finding under `profile`.
    pub fn into_finding(self, subject: Subject, profile: Profile) -> Finding {
        let mut severity = self.check.spec().severity(profile);
        if let Some(floor) = self.floor {
            severity = severity.max(floor);
        }
        if let Some(cap) = self.cap {
            severity = severity.min(cap);
        }
        Finding {
            check: self.check,
            subject,
            outcome: Outcome::from_severity(severity),
            summary: self.summary,
            evidence: self.evidence,
            ignored: None,
        }
    }
}

/// Facts about the domain worth a column in a summary (CSV, the human header).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub sts_id: Option<String>,
    pub mode: Option<String>,
    pub max_age: Option<u64>,
    pub mx_hosts: Vec<String>,
    pub policy_mx: Vec<String>,
    pub tlsrpt_rua: Vec<String>,
    /// MX hosts the policy matches (passing `mx.covered`); `None` when coverage was not judged.
    pub mx_covered: Option<usize>,
    /// Every MX address whose STARTTLS was checked offered and accepted it; `None` when that
    /// never ran to a conclusion (`--no-smtp`, port 25 blocked from here, no MX host).
    pub starttls_ok: Option<bool>,
    /// A TLS-RPT record is published and no TLS-RPT check failed; `None` when none ran (`lint`).
    pub tlsrpt_ok: Option<bool>,
    /// When the baseline this domain was compared with was made (Unix seconds), if it says.
    pub baseline_at: Option<i64>,
}

/// Everything the auditor concluded about one domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DomainReport {
    pub domain: String,
    pub facts: Facts,
    pub findings: Vec<Finding>,
}

/// The overall verdict for a domain or a run: the worst outcome that counts (ignored findings do
/// not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Warn,
    CouldNotDetermine,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::CouldNotDetermine => "could-not-determine",
            Self::Fail => "fail",
        }
    }
}

impl DomainReport {
    pub fn verdict(&self) -> Verdict {
        self.findings
            .iter()
            .filter(|finding| finding.ignored.is_none())
            .map(|finding| match finding.outcome {
                Outcome::Fail => Verdict::Fail,
                Outcome::CouldNotDetermine { .. } => Verdict::CouldNotDetermine,
                Outcome::Warn => Verdict::Warn,
                _ => Verdict::Pass,
            })
            .max()
            .unwrap_or(Verdict::Pass)
    }

    /// Findings with the outcome `label`, ignored ones included.
    pub fn count(&self, label: &str) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.outcome.label() == label)
            .count()
    }

    /// Findings an ignore accepted.
    pub fn ignored(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.ignored.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blockers_read_back_from_their_wire_form() {
        let blockers = [
            Blocker::Flag(RunFlag::NoSmtp),
            Blocker::Flag(RunFlag::NoReports),
            Blocker::Check(CheckId::PolicyMode),
        ];
        for blocker in blockers {
            let json = serde_json::to_string(&blocker).unwrap();
            assert_eq!(serde_json::from_str::<Blocker>(&json).unwrap(), blocker);
        }
        assert_eq!(RunFlag::NoReports.as_str(), "--reports");
        assert_eq!(Blocker::from_wire("--nope"), None);
    }
}
