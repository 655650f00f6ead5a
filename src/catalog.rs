//! The catalog of checks: the one table that the verdict code, the reports, `mtasts checks` and
//! `docs/checks.md` all read.
//!
//! A check's ID is its wire name (`policy.mode`); it is never renamed, so CI jobs and dashboards
//! may key on it. Each check names the rules it enforces (`RFC 8461 §3.2`, `SGE step 2`, `NCSC`)
//! and the IDs of the rules it implements ([`rules`], `docs/rules.md`).

pub mod examples;
pub mod lookup;
pub mod rules;

use std::fmt;

use serde::Serialize;

/// Which guidance decides what counts as a failure (`--profile`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// The RFCs alone: only what breaks a MUST (or stops mail) fails.
    #[default]
    Rfc,
    /// New Zealand Secure Government Email: enforce mode, TLS-RPT, no wildcards, TLS 1.2.
    Sge,
    /// UK NCSC guidance: TLS-RPT first, CRLF, version first, no wildcards.
    Ncsc,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rfc => "rfc",
            Self::Sge => "sge",
            Self::Ncsc => "ncsc",
        }
    }
}

/// How bad it is when a check's rule is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth showing; no judgement.
    Info,
    /// Valid, but weakens protection, breaks a known sender, or goes against a guide.
    Warn,
    /// Breaks a MUST, so senders ignore the record or policy, or mail is not delivered.
    Fail,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// The stage of the audit a check belongs to; the human report groups by it, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    StsRecord,
    PolicyHost,
    PolicyFetch,
    Policy,
    Mx,
    Smtp,
    TlsRpt,
    Reports,
    /// What changed since an earlier run (`--baseline`).
    Changes,
}

impl Stage {
    pub const ALL: [Self; 9] = [
        Self::StsRecord,
        Self::PolicyHost,
        Self::PolicyFetch,
        Self::Policy,
        Self::Mx,
        Self::Smtp,
        Self::TlsRpt,
        Self::Reports,
        Self::Changes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StsRecord => "sts-record",
            Self::PolicyHost => "policy-host",
            Self::PolicyFetch => "policy-fetch",
            Self::Policy => "policy",
            Self::Mx => "mx",
            Self::Smtp => "smtp",
            Self::TlsRpt => "tlsrpt",
            Self::Reports => "reports",
            Self::Changes => "change",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::StsRecord => "MTA-STS TXT record (_mta-sts)",
            Self::PolicyHost => "Policy host (mta-sts.DOMAIN)",
            Self::PolicyFetch => "Policy fetch (HTTPS)",
            Self::Policy => "Policy file",
            Self::Mx => "MX hosts against the policy",
            Self::Smtp => "STARTTLS on every MX",
            Self::TlsRpt => "TLS reporting (_smtp._tls)",
            Self::Reports => "Readiness from TLS-RPT reports (--reports)",
            Self::Changes => "Changes since the baseline (--baseline)",
        }
    }

    /// The fix shown under a check of this stage that could not be determined. It speaks to
    /// the person running the audit, not to the domain's owner: the lookup or connection failed
    /// from here, and nothing is known to be wrong with the domain yet.
    pub fn undetermined_fix(self) -> &'static str {
        match self {
            Self::StsRecord | Self::PolicyHost | Self::TlsRpt => {
                "Nothing is known to be wrong with the domain yet: check that your resolver answers (`dig TXT _mta-sts.DOMAIN`), or pick another with --resolver, and run the audit again."
            }
            Self::PolicyFetch | Self::Policy => {
                "Nothing is known to be wrong with the domain yet: check that this network reaches port 443 of mta-sts.DOMAIN (no proxy or firewall in the way), and run the audit again."
            }
            Self::Mx => {
                "Nothing is known to be wrong with the domain yet: check that your resolver answers (`dig MX DOMAIN`), or pick another with --resolver, and run the audit again."
            }
            Self::Smtp => {
                "Nothing is known to be wrong with the domain yet: check that outbound port 25 is open from here (many ISPs and clouds block it), or run the audit from a host that can reach port 25, and try again later if the server was busy."
            }
            Self::Reports => {
                "Nothing is known to be wrong with the domain yet: check that the files given to --reports can be read and hold the domain's reports, and run the audit again."
            }
            Self::Changes => {
                "Nothing is known to be wrong with the domain yet: check that the --baseline file is readable evidence from an earlier run, and run the audit again."
            }
        }
    }
}

/// What a check is judged for: once per domain, once per host name (the policy host, each MX
/// host, each `mailto:` report domain), or once per address of a host. When the finer subjects
/// do not exist (no address, `--no-smtp`), a check is reported once, skipped, for the coarser
/// subject instead, so every check appears in every report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Domain,
    Host,
    Endpoint,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::Host => "host",
            Self::Endpoint => "endpoint",
        }
    }
}

/// Facts about a check that the verdict code selects checks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckFlag {
    /// Judged by the strict parser of the record or file itself (the grammars of RFC 8461 §3.1
    /// and §3.2, RFC 8460 §3, and what they imply), not by guidance applied to what it parsed.
    Grammar,
    /// Judged by the TXT record filter (join the strings, keep the records that begin with the
    /// version, exactly one must remain: RFC 8461 §3.1, RFC 8460 §3), before any grammar.
    Filter,
    /// A strict sender rejects the whole policy when this check fails.
    Rejects,
    /// Compares what DNS says with the policy's `mx` patterns, so it needs a valid policy.
    NeedsPolicy,
    /// Judges where the TLS-RPT reports go (the `rua` URIs), so it needs a record with one.
    Destination,
}

/// A document a check's rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Rfc {
        number: u16,
        section: &'static str,
    },
    Sge {
        step: &'static str,
    },
    Ncsc {
        section: &'static str,
    },
    /// What a widely deployed sender does; the digest's section 8.
    Senders,
    /// Operational practice with no standard behind it (certificate expiry margins).
    Operational,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rfc { number, section } => write!(f, "RFC {number} §{section}"),
            Self::Sge { step } => write!(f, "SGE {step}"),
            Self::Ncsc { section } => write!(f, "NCSC {section}"),
            Self::Senders => f.write_str("sender behaviour (digest §8)"),
            Self::Operational => f.write_str("operational practice"),
        }
    }
}

/// One check: what it verifies, why, and how to fix it.
#[derive(Debug)]
pub struct CheckSpec {
    pub id: CheckId,
    pub stage: Stage,
    /// What one finding of this check is about.
    pub scope: Scope,
    pub flags: &'static [CheckFlag],
    pub title: &'static str,
    /// Severity when the rule is broken, per profile (`rfc`, `sge`, `ncsc`).
    pub severity: [Severity; 3],
    pub sources: &'static [Source],
    /// Rule IDs of the standards digest this check implements (`TXT-05`, `POL-16`).
    pub rules: &'static [&'static str],
    pub fix: &'static str,
}

impl CheckSpec {
    pub fn has(&self, flag: CheckFlag) -> bool {
        self.flags.contains(&flag)
    }

    pub fn severity(&self, profile: Profile) -> Severity {
        self.severity[profile as usize]
    }
}

const fn rfc(number: u16, section: &'static str) -> Source {
    Source::Rfc { number, section }
}
const fn sge(step: &'static str) -> Source {
    Source::Sge { step }
}
const fn ncsc(section: &'static str) -> Source {
    Source::Ncsc { section }
}

use Severity::{Fail as F, Info as I, Warn as W};

/// Defines `CheckId` and `CATALOG` from one list, so they cannot drift apart.
macro_rules! catalog {
    ($( $variant:ident = $wire:literal, $stage:ident, $scope:ident $(+ $flag:ident)*, [$r:ident, $s:ident, $n:ident],
        $title:literal, [$($src:expr),* $(,)?], [$($rule:literal),* $(,)?], $fix:literal; )*) => {
        /// A check's stable identity. Its wire form is [`CheckId::as_str`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CheckId { $($variant),* }

        impl CheckId {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),* }
            }
        }

        /// Every check, in report order.
        pub static CATALOG: &[CheckSpec] = &[
            $(CheckSpec {
                id: CheckId::$variant,
                stage: Stage::$stage,
                scope: Scope::$scope,
                flags: &[$(CheckFlag::$flag),*],
                title: $title,
                severity: [$r, $s, $n],
                sources: &[$($src),*],
                rules: &[$($rule),*],
                fix: $fix,
            }),*
        ];
    };
}

catalog! {
    // ---- _mta-sts TXT record (RFC 8461 §3.1) ----
    StsRecordPresent = "sts-record.present", StsRecord, Domain, [W, F, F],
        "An MTA-STS TXT record is published at _mta-sts.DOMAIN",
        [rfc(8461, "3.1"), sge("step 1"), ncsc("§5")], ["TXT-01", "TXT-15", "TXT-16"],
        "Publish a TXT record at _mta-sts.DOMAIN (with the leading underscore) reading `v=STSv1; id=20250101T000000`, after the policy file is being served.";
    StsRecordCname = "sts-record.cname", StsRecord, Domain, [I, I, I],
        "CNAME delegation of _mta-sts is followed",
        [rfc(8461, "3.1"), rfc(8461, "8.2"), sge("appendix 1")], ["TXT-02", "SGE-12"],
        "Nothing to fix: delegating _mta-sts by CNAME to a provider is allowed; make sure the provider updates the id when the policy changes.";
    StsRecordSingle = "sts-record.single", StsRecord, Domain + Filter, [F, F, F],
        "Exactly one TXT record starts with v=STSv1;",
        [rfc(8461, "3.1")], ["TXT-04", "TXT-05"],
        "Delete all but one `v=STSv1` record: with two or more, senders act as if the domain had no MTA-STS.";
    StsRecordSyntax = "sts-record.syntax", StsRecord, Domain + Grammar, [F, F, F],
        "The record matches the RFC 8461 grammar",
        [rfc(8461, "3.1")], ["TXT-03", "TXT-06", "TXT-07", "TXT-10", "TXT-12", "TXT-14", "SGE-05"],
        "Write the record exactly as `v=STSv1; id=ID` with `v=STSv1` first, fields separated by `;`, extension values without spaces, `=` or `;`, and ASCII only.";
    StsRecordId = "sts-record.id", StsRecord, Domain + Grammar, [F, F, F],
        "The id is 1 to 32 ASCII letters and digits",
        [rfc(8461, "3.1"), ncsc("§5")], ["TXT-08", "TXT-09", "NCSC-10"],
        "Use an id of letters and digits only, at most 32 of them (a timestamp such as 20250101T000000 works); change it every time the policy changes.";
    StsRecordDelimiterSpace = "sts-record.delimiter-space", StsRecord, Domain + Filter, [W, W, W],
        "The record begins with the literal bytes `v=STSv1;`",
        [rfc(8461, "3.1"), Source::Senders], ["TXT-11"],
        "Remove the space before the first `;` (write `v=STSv1;`): some senders (chasquid) and the RFC's record filter look for that literal prefix.";
    StsRecordDuplicateField = "sts-record.duplicate-field", StsRecord, Domain + Grammar, [W, W, W],
        "No field appears twice in the record",
        [rfc(8461, "3.2")], ["TXT-13"],
        "Keep one `id=` field: the first one counts, and senders disagree about which one they use.";
    StsRecordOtherTxt = "sts-record.other-txt", StsRecord, Domain + Filter, [W, W, W],
        "No other TXT records share the _mta-sts name",
        [rfc(8461, "3.1"), Source::Senders], ["TXT-04"],
        "Remove the unrelated TXT records from _mta-sts.DOMAIN: the RFC discards them, but go-mtasts (maddy) counts every TXT record and then sees no policy.";
    StsRecordTtl = "sts-record.ttl", StsRecord, Domain, [I, I, I],
        "The TXT record's TTL matches the guidance (86400, or 3600 around a change)",
        [sge("step 1")], ["SGE-06"],
        "Set the TTL of the _mta-sts record to 86400 seconds (3600 while you change the policy).";
    StsRecordBounds = "sts-record.bounds", StsRecord, Domain, [I, I, I],
        "The whole TXT answer at _mta-sts.DOMAIN was judged (no bound of the audit was reached)",
        [rfc(8461, "3.1"), Source::Operational], ["TXT-04", "TXT-05"],
        "Nothing is wrong in itself: the audit reads at most 100 TXT records, 8 KiB of each and 32 KiB of an answer, and the evidence says what was left out. Keep _mta-sts.DOMAIN to its one short record: other TXT records there only make the answer large.";

    // ---- Policy host (RFC 8461 §3.2, §3.3) ----
    PolicyHostResolves = "policy-host.resolves", PolicyHost, Host, [F, F, F],
        "mta-sts.DOMAIN has an IPv4 or IPv6 address",
        [rfc(8461, "3.2"), rfc(8461, "8.2")], ["FET-03"],
        "Publish an A and/or AAAA record (or a CNAME to your policy host provider) for mta-sts.DOMAIN.";
    PolicyHostIpv4 = "policy-host.ipv4", PolicyHost, Host, [I, I, I],
        "mta-sts.DOMAIN is reachable over IPv4",
        [rfc(8461, "3.3")], ["FET-14"],
        "Add an A record for mta-sts.DOMAIN: IPv4-only senders cannot fetch a policy served over IPv6 alone and deliver without MTA-STS.";
    PolicyHostPublicAddress = "policy-host.public-address", PolicyHost, Host, [F, F, F],
        "Every address of mta-sts.DOMAIN is a public address",
        [rfc(8461, "3.3"), rfc(6890, "2.2")], ["FET-03"],
        "Publish only public addresses for mta-sts.DOMAIN: no sender can reach a loopback, private (RFC 1918, fc00::/7), link-local, CGNAT or documentation address, so it never gets the policy. Serve internal names from internal DNS only.";
    PolicyHostBounds = "policy-host.bounds", PolicyHost, Host, [I, I, I],
        "Every address of mta-sts.DOMAIN was fetched from (no bound of the audit was reached)",
        [rfc(8461, "3.3"), Source::Operational], ["FET-03"],
        "Nothing is wrong in itself: the audit keeps at most 100 records of an answer and fetches the policy from at most 8 addresses (the lowest), and the evidence lists the others. Senders use any of them, so every address must serve the same policy.";

    // ---- Policy fetch (RFC 8461 §3.3) ----
    PolicyFetchConnect = "policy-fetch.connect", PolicyFetch, Endpoint, [F, F, F],
        "Every address of the policy host accepts HTTPS on port 443",
        [rfc(8461, "3.3")], ["FET-02", "FET-04", "FET-13", "FET-14", "FET-15"],
        "Make the web server listen on port 443 on every address of mta-sts.DOMAIN and complete a TLS handshake with SNI mta-sts.DOMAIN.";
    PolicyFetchCertTrusted = "policy-fetch.certificate-trusted", PolicyFetch, Endpoint, [F, F, F],
        "The policy host's certificate chains to a publicly trusted root",
        [rfc(8461, "3.3"), sge("step 2")], ["FET-05", "FET-06", "CRT-01", "CRT-06", "SGE-10"],
        "Serve a certificate from a publicly trusted CA with the full intermediate chain; senders do not fetch missing intermediates.";
    PolicyFetchCertName = "policy-fetch.certificate-name", PolicyFetch, Endpoint, [F, F, F],
        "The policy host's certificate is valid for mta-sts.DOMAIN",
        [rfc(8461, "3.3"), rfc(9525, "6.3")], ["FET-05", "FET-16", "CRT-04", "CRT-05"],
        "Issue the certificate with a subjectAltName DNS entry for mta-sts.DOMAIN (or *.DOMAIN); the bare domain, the CNAME target's name or the CN alone do not count.";
    PolicyFetchCertExpiry = "policy-fetch.certificate-expiry", PolicyFetch, Endpoint, [F, F, F],
        "The policy host's certificate is within its validity period",
        [rfc(8461, "3.3")], ["CRT-02"],
        "Renew the certificate of mta-sts.DOMAIN (and automate renewal).";
    PolicyFetchCertExpiring = "policy-fetch.certificate-expiring", PolicyFetch, Endpoint, [W, W, W],
        "The policy host's certificate has more than 14 days left",
        [Source::Operational], ["CRT-08"],
        "Renew the certificate of mta-sts.DOMAIN soon, and check that automatic renewal works.";
    PolicyFetchStatus = "policy-fetch.status", PolicyFetch, Endpoint, [F, F, F],
        "The policy URL answers 200 without redirecting",
        [rfc(8461, "3.3")], ["FET-01", "FET-07", "FET-08"],
        "Serve the policy itself at https://mta-sts.DOMAIN/.well-known/mta-sts.txt with status 200; senders never follow redirects.";
    PolicyFetchContentType = "policy-fetch.content-type", PolicyFetch, Endpoint, [F, F, F],
        "The policy is served as text/plain",
        [rfc(8461, "3.2"), ncsc("§3"), Source::Senders], ["FET-09", "NCSC-07"],
        "Serve mta-sts.txt with `Content-Type: text/plain` (go-mtasts, chasquid and postfix-mta-sts-resolver reject any other type, or none).";
    PolicyFetchCharset = "policy-fetch.charset", PolicyFetch, Endpoint, [W, W, W],
        "The Content-Type charset, if any, is utf-8 or us-ascii",
        [rfc(8461, "3.2")], ["FET-10"],
        "Drop the charset parameter or set it to utf-8.";
    PolicyFetchSize = "policy-fetch.size", PolicyFetch, Endpoint, [F, F, F],
        "The policy is at most 64 KiB",
        [rfc(8461, "3.3")], ["FET-11"],
        "Serve only the policy file; senders stop reading after 64 KiB.";
    PolicyFetchSizeLarge = "policy-fetch.size-large", PolicyFetch, Endpoint, [W, W, W],
        "The policy is at most 10 KiB",
        [rfc(8461, "3.3"), Source::Senders], ["FET-11"],
        "Shorten the policy below 10 KiB: chasquid silently truncates longer policies.";
    PolicyFetchTime = "policy-fetch.time", PolicyFetch, Endpoint, [W, W, W],
        "The policy is served within 4 seconds",
        [rfc(8461, "3.3"), Source::Senders], ["FET-12"],
        "Speed up the policy host: postfix-mta-sts-resolver gives up after 4 seconds by default.";
    PolicyFetchConsistent = "policy-fetch.consistent", PolicyFetch, Host, [W, W, W],
        "Every address of the policy host serves the same policy",
        [ncsc("§3"), Source::Senders], ["NCSC-08"],
        "Make every address of mta-sts.DOMAIN serve the same file: senders get whichever address they reach.";
    PolicyFetchCacheControl = "policy-fetch.cache-control", PolicyFetch, Endpoint, [I, I, I],
        "The policy is not cached by intermediaries for more than an hour",
        [rfc(8461, "8.2"), ncsc("§6")], ["FET-16"],
        "Lower the CDN or proxy cache lifetime of mta-sts.txt (RFC 8461 §8.2 suggests max-age=60) so that changes reach senders promptly.";

    // ---- Policy file (RFC 8461 §3.2) ----
    PolicySyntax = "policy.syntax", Policy, Domain + Grammar + Rejects, [F, F, F],
        "Every line of the policy is a valid `key: value` field",
        [rfc(8461, "3.2")], ["POL-01", "POL-14", "POL-20"],
        "Write one `key: value` field per line with keys spelt exactly `version`, `mode`, `mx`, `max_age`, and nothing else in the file.";
    PolicyUtf8 = "policy.utf8", Policy, Domain + Grammar + Rejects, [F, F, F],
        "The policy is valid UTF-8",
        [rfc(8461, "3.2")], ["FET-10"],
        "Save the policy as plain ASCII (or UTF-8) text.";
    PolicyBom = "policy.bom", Policy, Domain + Grammar + Rejects, [F, F, F],
        "The policy has no byte-order mark",
        [rfc(8461, "3.2")], ["POL-19"],
        "Save the file without a BOM (in Notepad: UTF-8, not UTF-8 with BOM).";
    PolicyLineEndings = "policy.line-endings", Policy, Domain + Grammar + Rejects, [F, F, F],
        "Lines end in LF or CRLF, never a bare CR",
        [rfc(8461, "3.2")], ["POL-15"],
        "Save the file with CRLF (or LF) line endings.";
    PolicyCrlf = "policy.crlf", Policy, Domain + Grammar, [I, I, I],
        "Lines end in CRLF, as NCSC asks",
        [rfc(8461, "3.2"), ncsc("§2")], ["POL-15", "NCSC-03"],
        "Nothing is wrong with LF (the RFC's grammar allows it); use CRLF if you follow the NCSC guide to the letter.";
    PolicyBlankLines = "policy.blank-lines", Policy, Domain + Grammar + Rejects, [F, F, F],
        "The policy has no blank lines",
        [rfc(8461, "3.2"), ncsc("§6"), Source::Senders], ["POL-16", "NCSC-03"],
        "Remove blank lines, including a second line break at the end: mox and go-mtasts reject the policy.";
    PolicyWhitespace = "policy.whitespace", Policy, Domain + Grammar + Rejects, [F, F, F],
        "No whitespace before a key or before its colon",
        [rfc(8461, "3.2")], ["POL-17"],
        "Start every line with its key and put the `:` right after it (`mode: enforce`).";
    PolicyTrailingWhitespace = "policy.trailing-whitespace", Policy, Domain + Grammar, [I, I, I],
        "No trailing whitespace after values",
        [rfc(8461, "3.2"), ncsc("§2")], ["POL-18", "NCSC-03"],
        "Trailing spaces are valid; remove them if you follow the NCSC guide to the letter.";
    PolicyVersion = "policy.version", Policy, Domain + Grammar + Rejects, [F, F, F],
        "The policy has `version: STSv1`",
        [rfc(8461, "3.2")], ["POL-02"],
        "Add the line `version: STSv1`.";
    PolicyVersionFirst = "policy.version-first", Policy, Domain + Grammar, [W, W, F],
        "`version` is the first line",
        [rfc(8461, "3.2"), ncsc("§2")], ["POL-03", "NCSC-05"],
        "Move `version: STSv1` to the first line: the RFC does not require it, but Google and NCSC say it must be first.";
    PolicyMode = "policy.mode", Policy, Domain + Grammar + Rejects, [F, F, F],
        "The policy has a valid `mode` (enforce, testing or none, lower case)",
        [rfc(8461, "3.2")], ["POL-04"],
        "Add `mode: enforce` (or `testing`), spelt in lower case.";
    PolicyMaxAge = "policy.max-age", Policy, Domain + Grammar + Rejects, [F, F, F],
        "`max_age` is present, 1 to 10 digits, at most 31557600",
        [rfc(8461, "3.2")], ["POL-05"],
        "Add `max_age: 604800` (digits only; at most 31557600, one year).";
    PolicyMaxAgeShort = "policy.max-age-short", Policy, Domain, [W, W, W],
        "`max_age` is at least one day",
        [rfc(8461, "3.2"), rfc(8461, "10.2")], ["POL-06", "POL-07"],
        "Raise max_age to at least 86400, and to 604800 or more once the policy is stable: a short max_age lets an attacker who blocks DNS strip the policy.";
    PolicyMaxAgeWeek = "policy.max-age-week", Policy, Domain, [I, W, I],
        "`max_age` is at least one week (604800)",
        [rfc(8461, "3.2"), sge("step 2")], ["POL-06", "SGE-07"],
        "Set `max_age: 604800` (SGE's default; RFC 8461 expects weeks or more).";
    PolicyMaxAgeNcsc = "policy.max-age-ncsc", Policy, Domain, [I, I, W],
        "`max_age` follows NCSC (86401 in testing, 1209600 or more in enforce)",
        [ncsc("§2"), ncsc("§6")], ["NCSC-06", "NCSC-12"],
        "Use `max_age: 86401` while testing and `max_age: 1209600` (two weeks) in enforce, as NCSC recommends.";
    PolicyMx = "policy.mx", Policy, Domain + Grammar + Rejects, [F, F, F],
        "The policy lists at least one `mx` (required unless mode is none)",
        [rfc(8461, "3.2")], ["POL-08"],
        "Add one `mx:` line for each MX host of the domain.";
    PolicyMxInNoneMode = "policy.mx-in-none-mode", Policy, Domain + Grammar, [W, W, W],
        "A `mode: none` policy still lists an `mx`",
        [rfc(8461, "3.2"), rfc(8461, "8.3"), Source::Senders], ["POL-09"],
        "Keep at least one `mx:` line even in mode none: Stalwart and chasquid reject a policy without one, so it cannot replace a cached enforce policy.";
    PolicyMxSyntax = "policy.mx-syntax", Policy, Domain + Grammar + Rejects, [F, F, F],
        "Every `mx` value is one host name or `*.` wildcard",
        [rfc(8461, "3.2"), rfc(5321, "4.1.2")], ["POL-10", "POL-11"],
        "Write one host name per `mx:` line, in A-label form, without a trailing dot; a wildcard is only `*.` followed by a name.";
    PolicyDuplicateField = "policy.duplicate-field", Policy, Domain + Grammar, [W, W, W],
        "No single-valued field appears twice",
        [rfc(8461, "3.2"), Source::Senders], ["POL-12"],
        "Keep one line each of version, mode and max_age: the RFC says the first counts, most senders take the last.";
    PolicyMisspelledKey = "policy.misspelled-key", Policy, Domain + Grammar, [W, W, W],
        "No key looks like a misspelt standard key",
        [rfc(8461, "3.2")], ["POL-13"],
        "Spell the key exactly as the RFC does (`max_age`, `mode`, `mx`, `version`, lower case); a misspelt key is ignored.";
    PolicyExtension = "policy.extension", Policy, Domain + Grammar, [I, I, I],
        "Extension fields are reported (senders ignore them)",
        [rfc(8461, "3.2"), Source::Senders], ["POL-13"],
        "Remove fields senders do not use; go-mtasts rejects a line with a second `:` in it.";
    PolicyModeEnforce = "policy.mode-enforce", Policy, Domain, [I, F, W],
        "The policy is in enforce mode (not testing)",
        [rfc(8461, "5"), sge("§3"), ncsc("§6")], ["POL-22", "SGE-01", "SGE-04", "NCSC-02", "NCSC-11"],
        "After two weeks of clean TLS-RPT reports, change the policy to `mode: enforce`, then update the TXT id.";
    PolicyModeNone = "policy.mode-none", Policy, Domain, [W, F, F],
        "The policy is not in mode none",
        [rfc(8461, "5"), rfc(8461, "8.3"), sge("appendix 1")], ["POL-21", "SGE-13"],
        "`mode: none` tells senders there is no policy; move to testing, then enforce.";
    PolicyWildcard = "policy.wildcard", Policy, Domain, [W, F, F],
        "The policy lists exact MX names, not wildcards",
        [rfc(8461, "10.4"), sge("step 2"), ncsc("§2")], ["POL-23", "SGE-09", "NCSC-04"],
        "Replace each `*.` pattern with the exact MX host names: a wildcard lets any host under that name with a certificate receive your mail.";
    PolicyWildcardPublicSuffix = "policy.wildcard-public-suffix", Policy, Domain, [F, F, F],
        "No wildcard covers a public suffix",
        [rfc(8461, "10.4")], ["POL-23"],
        "Remove the wildcard under a public suffix (`*.com`, `*.govt.nz`): anyone can get a certificate there.";

    // ---- MX (RFC 5321 §5.1, RFC 7505, RFC 8461 §4) ----
    MxLookup = "mx.lookup", Mx, Domain, [F, F, F],
        "The domain exists and its MX records can be looked up",
        [rfc(5321, "5.1")], ["MX-01", "MX-02", "MX-03"],
        "Make sure the domain exists and its name servers answer MX queries.";
    MxNull = "mx.null", Mx, Domain, [I, I, I],
        "The domain does not publish a null MX (accepts mail)",
        [rfc(7505, "3")], ["MX-08", "EC-71"],
        "Nothing to fix if the domain should receive no mail; MTA-STS then does not apply.";
    MxNullMixed = "mx.null-mixed", Mx, Domain, [F, F, F],
        "A null MX is the only MX record",
        [rfc(7505, "3")], ["MX-08"],
        "Either delete the null MX (`MX 0 .`) or delete every other MX record.";
    MxImplicit = "mx.implicit", Mx, Domain, [W, W, W],
        "The domain publishes MX records (no implicit MX)",
        [rfc(5321, "5.1"), rfc(8461, "4.1")], ["MX-04", "MX-05"],
        "Publish MX records: without them senders use the domain's own address, and the policy and certificate must then name the domain itself.";
    MxTargetCname = "mx.target-cname", Mx, Host, [W, W, W],
        "MX targets are host names, not CNAME aliases",
        [rfc(5321, "5.1"), rfc(2181, "10.3")], ["MX-07", "MXM-01"],
        "Point the MX record at the canonical host name, not at a CNAME.";
    MxTargetAddress = "mx.target-address", Mx, Host, [F, F, F],
        "Every MX host has an IPv4 or IPv6 address",
        [rfc(5321, "5.1")], ["MX-07", "MX-06"],
        "Publish A/AAAA records for every MX host (and never use an IP address as an MX target).";
    MxPublicAddress = "mx.public-address", Mx, Host, [F, F, F],
        "Every address of every MX host is a public address",
        [rfc(5321, "5.1"), rfc(6890, "2.2")], ["MX-07"],
        "Publish only public addresses for the MX hosts: no sender can deliver to a loopback, private (RFC 1918, fc00::/7), link-local, CGNAT or documentation address, and it may try that address before the good ones.";
    MxCovered = "mx.covered", Mx, Host + NeedsPolicy, [F, F, F],
        "Every MX host matches an `mx` pattern of the policy",
        [rfc(8461, "4.1"), rfc(8461, "8.4"), sge("step 2")], ["MXM-01", "MXM-02", "MXM-03", "MXM-04", "MXM-05", "MXM-06", "SGE-08"],
        "Add an `mx:` line for each MX host, including backup MX hosts, then change the TXT id. A wildcard covers exactly one label.";
    MxAnyCovered = "mx.any-covered", Mx, Domain + NeedsPolicy, [F, F, F],
        "At least one MX host matches the policy",
        [rfc(8461, "4.1"), rfc(8461, "5")], ["MXM-05"],
        "Mail stops under enforce when no MX matches: list the MX hosts in the policy now.";
    MxStalePattern = "mx.stale-pattern", Mx, Domain + NeedsPolicy, [W, W, W],
        "Every `mx` pattern matches a current MX host",
        [rfc(8461, "10.4")], ["POL-24"],
        "Remove `mx:` lines for hosts that no longer receive the domain's mail.";
    MxTlsa = "mx.tlsa", Mx, Host, [I, I, I],
        "DANE TLSA records at _25._tcp.MX are reported",
        [rfc(8461, "2"), sge("appendix 2")], ["CRT-07", "SGE-14"],
        "Nothing to fix: senders that do DANE check TLSA first; MTA-STS still needs a Web PKI certificate.";
    MxBounds = "mx.bounds", Mx, Domain, [I, I, I],
        "Every MX host and MX address was judged (no bound of the audit was reached)",
        [rfc(5321, "5.1"), Source::Operational], ["MX-07"],
        "Nothing is wrong in itself: the audit judges at most 20 MX hosts (the most preferred) and 8 addresses of each, and keeps at most 100 records of an answer; the evidence lists what was left out. Senders try only a few hosts and addresses too, so keep the ones that matter first.";

    // ---- STARTTLS on every MX (RFC 3207, RFC 8461 §4.2, §7.2) ----
    SmtpConnect = "smtp.connect", Smtp, Endpoint, [F, F, F],
        "Each MX address accepts a connection on port 25 and greets with 220",
        [rfc(5321, "3.1"), rfc(5321, "4.2")], ["SMTP-01", "SMTP-02", "SMTP-03"],
        "Make the MX listen on port 25 and greet with `220`.";
    SmtpStarttlsOffered = "smtp.starttls-offered", Smtp, Endpoint, [F, F, F],
        "STARTTLS is advertised in the EHLO reply",
        [rfc(3207, "2"), rfc(8461, "5")], ["SMTP-04"],
        "Enable STARTTLS on the MX (Postfix: smtpd_tls_security_level = may with a certificate).";
    SmtpStarttlsAccepted = "smtp.starttls-accepted", Smtp, Endpoint, [F, F, F],
        "STARTTLS is answered 220 and the TLS handshake completes",
        [rfc(3207, "4"), rfc(8461, "7.1")], ["SMTP-05", "SMTP-07", "SMTP-08"],
        "Fix the MX's TLS configuration so that STARTTLS is answered 220 and a TLS 1.2+ handshake with SNI completes.";
    SmtpCertTrusted = "smtp.certificate-trusted", Smtp, Endpoint, [F, F, F],
        "The MX certificate chains to a publicly trusted root",
        [rfc(8461, "4.2")], ["CRT-01", "CRT-06", "CRT-07"],
        "Install a certificate from a publicly trusted CA, with the full intermediate chain.";
    SmtpCertName = "smtp.certificate-name", Smtp, Endpoint, [F, F, F],
        "The MX certificate is valid for the MX host name",
        [rfc(8461, "4.2"), rfc(9525, "6.3")], ["CRT-03", "CRT-05"],
        "Issue the MX certificate with a subjectAltName DNS entry for the MX host name as it appears in the MX record.";
    SmtpCertExpiry = "smtp.certificate-expiry", Smtp, Endpoint, [F, F, F],
        "The MX certificate is within its validity period",
        [rfc(8461, "4.2")], ["CRT-02"],
        "Renew the MX certificate (and automate renewal).";
    SmtpCertExpiring = "smtp.certificate-expiring", Smtp, Endpoint, [W, W, W],
        "The MX certificate has more than 14 days left",
        [Source::Operational], ["CRT-08"],
        "Renew the MX certificate soon, and check that automatic renewal works.";
    SmtpTlsVersion = "smtp.tls-version", Smtp, Endpoint, [F, F, F],
        "The MX negotiates TLS 1.2 or 1.3",
        [rfc(8461, "7.2"), sge("§3")], ["TLSV-01", "TLSV-03", "SGE-02"],
        "Enable TLS 1.2 and 1.3 on the MX.";
    SmtpLegacyTls = "smtp.legacy-tls", Smtp, Endpoint, [W, F, W],
        "The MX refuses TLS 1.0 and 1.1",
        [rfc(8996, "4"), rfc(8996, "5"), sge("§3")], ["TLSV-02", "SGE-02"],
        "Disable TLS 1.0 and 1.1 on the MX (Postfix: smtpd_tls_protocols = >=TLSv1.2).";
    SmtpStarttlsReadvertised = "smtp.starttls-readvertised", Smtp, Endpoint, [W, W, W],
        "STARTTLS is not advertised again after TLS",
        [rfc(3207, "4.2")], ["SMTP-06"],
        "Stop advertising STARTTLS inside the TLS session.";
    SmtpPreTlsData = "smtp.pre-tls-data", Smtp, Endpoint, [W, W, W],
        "No bytes arrive between the STARTTLS 220 and the TLS handshake",
        [rfc(3207, "4.2")], ["SMTP-06"],
        "Make the MX send nothing after `220` to STARTTLS until the handshake; extra bytes there are how STARTTLS command injection works.";

    // ---- TLS-RPT (RFC 8460 §3) ----
    TlsRptPresent = "tlsrpt.present", TlsRpt, Domain, [W, F, F],
        "A TLS-RPT record is published at _smtp._tls.DOMAIN",
        [rfc(8460, "3"), rfc(8461, "6"), sge("§4"), ncsc("§1")], ["RPT-01", "SGE-03", "NCSC-01"],
        "Publish `v=TLSRPTv1; rua=mailto:tls-reports@DOMAIN` at _smtp._tls.DOMAIN (two underscores, one per label) before enforcing MTA-STS.";
    TlsRptSingle = "tlsrpt.single", TlsRpt, Domain + Filter, [F, F, F],
        "Exactly one TXT record starts with v=TLSRPTv1;",
        [rfc(8460, "3")], ["RPT-03"],
        "Merge the TLS-RPT records into one: with two, senders send no reports.";
    TlsRptSyntax = "tlsrpt.syntax", TlsRpt, Domain + Grammar, [F, F, F],
        "The record matches the RFC 8460 grammar",
        [rfc(8460, "3")], ["RPT-02", "RPT-04"],
        "Write the record as `v=TLSRPTv1; rua=mailto:ADDRESS`, with `v=TLSRPTv1` first and exactly in that case.";
    TlsRptRua = "tlsrpt.rua", TlsRpt, Domain + Grammar, [F, F, F],
        "The record has a `rua` with at least one URI",
        [rfc(8460, "3")], ["RPT-05"],
        "Add `rua=mailto:ADDRESS` (or an https: URL) to the record.";
    TlsRptRuaScheme = "tlsrpt.rua-scheme", TlsRpt, Domain + Grammar, [F, F, F],
        "Every rua URI is mailto: or https:",
        [rfc(8460, "3")], ["RPT-06"],
        "Use only mailto: or https: report URIs.";
    TlsRptRuaSyntax = "tlsrpt.rua-syntax", TlsRpt, Domain + Grammar, [F, F, F],
        "Every rua URI is well formed",
        [rfc(8460, "3"), rfc(6068, "2")], ["RPT-07", "RPT-08", "RPT-15"],
        "Write each URI in full (`mailto:user@example.com`, `https://host/path`); percent-encode `,`, `!` and `;`.";
    TlsRptMultipleRua = "tlsrpt.multiple-rua", TlsRpt, Domain + Grammar, [W, W, W],
        "`rua` appears once",
        [rfc(8460, "3")], ["RPT-10"],
        "Put all report URIs in one `rua=` field, separated by commas.";
    TlsRptExtension = "tlsrpt.extension", TlsRpt, Domain + Grammar, [I, I, I],
        "Extension fields are reported (senders ignore them)",
        [rfc(8460, "3")], ["RPT-09", "RPT-12"],
        "Remove fields copied from DMARC (`ruf=`, `p=`): TLS-RPT ignores them.";
    TlsRptMailtoDomain = "tlsrpt.mailto-domain", TlsRpt, Host + Destination, [W, W, W],
        "The domain of every mailto: rua can receive mail",
        [Source::Operational], ["RPT-13"],
        "Use a report address whose domain has working MX records.";
    TlsRptTtl = "tlsrpt.ttl", TlsRpt, Domain, [I, I, I],
        "The TLS-RPT record has a TTL of an hour or more",
        [rfc(8460, "7")], ["RPT-14"],
        "Raise the TTL of the _smtp._tls record (RFC 8460 §7 asks for a large TTL).";
    TlsRptRuaHttps = "tlsrpt.rua-https", TlsRpt, Domain + Destination, [W, W, W],
        "Every https: rua host resolves to a public address and completes TLS with a valid certificate",
        [rfc(8460, "3"), rfc(8460, "5.4")], ["RPT-15"],
        "Serve the https: report URL from a host with a public address and a publicly trusted certificate for that host name, or use a mailto: rua.";
    TlsRptRuaRetired = "tlsrpt.rua-retired", TlsRpt, Domain + Destination, [W, W, W],
        "No rua points at a reporting service that has closed",
        [ncsc("§1"), Source::Operational], ["NCSC-01"],
        "Replace the retired address with a mailbox or service you read (`rua=mailto:tls-reports@DOMAIN`); reports sent to a closed service are read by no one.";
    TlsRptBounds = "tlsrpt.bounds", TlsRpt, Domain, [I, I, I],
        "The whole TXT answer at _smtp._tls.DOMAIN and every report destination were judged (no bound of the audit was reached)",
        [rfc(8460, "3"), Source::Operational], ["RPT-03", "RPT-13"],
        "Nothing is wrong in itself: the audit reads at most 100 TXT records, 8 KiB of each and 32 KiB of an answer, looks at 10 mailto: domains and 10 https: URLs, and handshakes with 8 addresses of each https: host; the evidence says what was left out. A few report addresses are plenty.";


    // ---- Readiness from TLS-RPT reports (RFC 8460 §4; NCSC §6; SGE steps 4 and 5) ----
    ReportsCoverage = "reports.coverage", Reports, Domain, [W, W, W],
        "The reports cover at least 14 distinct days, the last of them within 3 days",
        [ncsc("§6"), sge("step 4"), rfc(8460, "4.1")], ["NCSC-11", "SGE-04"],
        "Collect TLS-RPT reports for at least two weeks up to today (senders send one per UTC day) and give them all to --reports: the mailbox, Maildir or folder the rua address delivers to.";
    ReportsOrganizations = "reports.organizations", Reports, Domain, [W, W, W],
        "Reports come from at least two reporting organisations",
        [ncsc("§6"), sge("step 4")], ["NCSC-11", "SGE-04"],
        "Wait for reports from more senders, and check that the rua mailbox accepts reports from everyone: one sender's view of the MX hosts is not enough to enforce on.";
    ReportsPolicyErrors = "reports.policy-errors", Reports, Domain, [W, F, F],
        "No sender reported sts-policy-fetch-error, sts-policy-invalid or sts-webpki-invalid in the last 14 days",
        [rfc(8460, "4.3.2.2"), ncsc("§6"), sge("step 4")], ["NCSC-11", "SGE-04"],
        "Make the policy fetchable and valid for every sender (see the policy-fetch.* and policy.* checks), then wait for 14 clean days of reports.";
    ReportsFailureRate = "reports.failure-rate", Reports, Domain, [W, F, F],
        "Under 1 % of the reported sessions failed in the last 14 days",
        [rfc(8460, "4.4"), ncsc("§6"), sge("step 4")], ["NCSC-11", "SGE-04"],
        "Fix the MX hosts and result types the evidence names (`mtasts reports` explains each result type and the checks that find it), then wait for 14 days under 1 %.";
    ReportsMx = "reports.mx", Reports, Host, [W, F, F],
        "Senders reach this MX host and no failures are reported for it",
        [rfc(8460, "4.4"), sge("step 4"), ncsc("§6")], ["NCSC-11", "SGE-04", "MXM-01"],
        "Fix what the reports say about this MX (certificate, STARTTLS), and make sure the policy senders use lists it in an `mx:` line.";
    ReportsReady = "reports.ready", Reports, Domain, [W, F, F],
        "In testing, the reports allow enforce; in enforce, they show enforcement is not hurting delivery",
        [ncsc("§6"), sge("step 5"), rfc(8461, "5")], ["NCSC-11", "NCSC-13", "SGE-04", "SGE-11"],
        "When every reports.* check passes: edit the policy to `mode: enforce`, publish it on every address of the policy host and wait until each serves it, then change the TXT id (SGE step 5: optionally lower max_age and the TXT TTL to 3600 around the change).";
    ReportsBounds = "reports.bounds", Reports, Domain, [I, I, I],
        "Every input given to --reports was read (none was unreadable or past a bound)",
        [rfc(8460, "4"), Source::Operational], ["NCSC-11"],
        "Look at the inputs the evidence lists: a file past a size bound (a report over 16 MiB decompressed, a file over 256 MiB), a directory too deep, files past the 100,000th and files that are not reports were not read, so the readiness checks did not count them. Give --reports the folder or mailbox that holds the reports themselves.";

    // ---- Changes since the baseline (--baseline; RFC 8461 §3.1, §8.1, §8.3) ----
    ChangeInBaseline = "change.in-baseline", Changes, Domain, [I, I, I],
        "The domain was audited in the baseline",
        [Source::Operational], ["CAC-07"],
        "Nothing to fix: the domain is new since the baseline, so there is nothing to compare yet; save this run's evidence (--save-evidence) and use it as the next baseline.";
    ChangeIdNotBumped = "change.id-not-bumped", Changes, Domain, [F, F, F],
        "A changed policy (mode, max_age, mx) comes with a new TXT id",
        [rfc(8461, "3.1"), rfc(8461, "8.1"), sge("§4 step 5"), ncsc("§6")], ["CAC-02", "CAC-05", "CAC-07", "SGE-11", "NCSC-13"],
        "Publish the new policy file first, then change the id in the _mta-sts TXT record (for example id=20250601T000000): senders that cached the old policy keep using it for up to its max_age until they see a new id.";
    ChangeIdUnneeded = "change.id-unneeded", Changes, Domain, [I, I, I],
        "The TXT id changed only together with the policy",
        [rfc(8461, "3.1")], ["CAC-02"],
        "Nothing breaks: change the id only when the policy changes, or every sender refetches the policy for nothing.";
    ChangeModeWeakened = "change.mode-weakened", Changes, Domain, [W, W, W],
        "The policy mode was not weakened (enforce to testing or none, testing to none)",
        [rfc(8461, "5"), rfc(8461, "8.3"), sge("§3")], ["CAC-06", "SGE-01"],
        "If the step back is deliberate (a migration or a planned removal), keep it short; otherwise restore the earlier mode, then change the TXT id.";
    ChangeMaxAgeShortened = "change.max-age-shortened", Changes, Domain, [W, W, W],
        "The policy's max_age was not shortened",
        [rfc(8461, "3.2"), sge("step 2")], ["CAC-01", "SGE-07"],
        "If the shorter max_age is not part of a planned change or removal, restore it (SGE and NCSC advise a week or more), then change the TXT id.";
    ChangeRecordRemoved = "change.record-removed", Changes, Domain, [I, I, I],
        "The TXT record was not removed while the policy is still served",
        [rfc(8461, "8.3")], ["CAC-06"],
        "To remove MTA-STS safely (RFC 8461 §8.3): publish a policy with `mode: none` and a small max_age (e.g. 86400) under a new id; wait until every earlier policy's max_age has passed; only then delete the TXT record and the policy host.";
    ChangeMxSet = "change.mx-set", Changes, Domain, [W, W, W],
        "A change of MX hosts is matched by the policy",
        [rfc(8461, "4.1"), rfc(8461, "8.1")], ["CAC-05", "MXM-01"],
        "Before adding an MX host, add it to the policy's `mx` lines and change the TXT id; remove the `mx` line of a retired host only after it stops receiving mail.";
    ChangeCertificateReplaced = "change.certificate-replaced", Changes, Host, [W, W, W],
        "The certificate is the baseline's, or renewed by the same CA",
        [rfc(8461, "4.2"), rfc(7671, "8.1"), Source::Operational], ["CRT-01", "CRT-07"],
        "A certificate from another CA, or a new key on a host with TLSA records, is worth a look: check that the new chain is complete and trusted by senders, and update TLSA records before the key changes.";
    ChangeCertificateSooner = "change.certificate-expires-sooner", Changes, Host, [W, W, W],
        "The certificate does not expire sooner than the baseline's",
        [Source::Operational], ["CRT-08"],
        "The host now presents a certificate that expires earlier than the one it had: check that renewal did not roll back to an older certificate or stop.";
    ChangeOutcomes = "change.outcomes", Changes, Domain, [W, W, W],
        "No check got worse since the baseline",
        [Source::Operational], ["CAC-07"],
        "Look at the checks listed as worse: something in DNS, the policy host or an MX changed since the baseline.";
}

/// The checks of `stage`, in catalog order.
pub fn stage_checks(stage: Stage) -> impl Iterator<Item = CheckId> {
    CATALOG
        .iter()
        .filter(move |spec| spec.stage == stage)
        .map(|spec| spec.id)
}

/// The checks of `stage` judged once per `scope`, in catalog order.
pub fn scoped_checks(stage: Stage, scope: Scope) -> impl Iterator<Item = CheckId> {
    CATALOG
        .iter()
        .filter(move |spec| spec.stage == stage && spec.scope == scope)
        .map(|spec| spec.id)
}

/// The checks after `check` in its stage and scope, in catalog order: what a failure of
/// `check` leaves unjudged when the stage's checks run in sequence (the SMTP session).
pub fn checks_after(check: CheckId) -> impl Iterator<Item = CheckId> {
    let spec = check.spec();
    scoped_checks(spec.stage, spec.scope)
        .skip_while(move |&id| id != check)
        .skip(1)
}

impl CheckId {
    pub fn spec(self) -> &'static CheckSpec {
        // The macro lays CATALOG out in declaration order, the same order as the enum.
        &CATALOG[self as usize]
    }

    pub fn from_wire(wire: &str) -> Option<Self> {
        CATALOG
            .iter()
            .map(|spec| spec.id)
            .find(|id| id.as_str() == wire)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_indexed_in_order() {
        let mut seen = HashSet::new();
        for (index, spec) in CATALOG.iter().enumerate() {
            assert_eq!(spec.id as usize, index, "{} out of place", spec.id);
            assert!(seen.insert(spec.id.as_str()), "duplicate {}", spec.id);
            assert_eq!(CheckId::from_wire(spec.id.as_str()), Some(spec.id));
        }
    }

    #[test]
    fn wire_ids_are_prefixed_by_their_stage() {
        for spec in CATALOG {
            let prefix = format!("{}.", spec.stage.as_str());
            assert!(spec.id.as_str().starts_with(&prefix), "{}", spec.id);
        }
    }

    #[test]
    fn every_check_has_a_source_rule_and_fix() {
        for spec in CATALOG {
            assert!(!spec.sources.is_empty(), "{} has no source", spec.id);
            assert!(!spec.rules.is_empty(), "{} has no digest rule", spec.id);
            assert!(spec.fix.len() > 10, "{} has no fix", spec.id);
        }
    }

    #[test]
    fn checks_are_grouped_by_stage_in_stage_order() {
        let stages: Vec<Stage> = CATALOG.iter().map(|spec| spec.stage).collect();
        let mut sorted = stages.clone();
        sorted.sort();
        assert_eq!(stages, sorted);
    }
}
