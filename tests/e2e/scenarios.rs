//! The scenario table of the end-to-end suite: one test domain per mistake (or per correct
//! deployment), what the world serves for it (zone-file lines, policy sites), and the exact
//! findings, verdict and exit status `mtasts check` must produce for it.
//!
//! Shared infrastructure: `mx.good.test` (127.0.3.1) is a correctly configured Postfix MX whose
//! certificate names every "good" MX host of the table; the other MX addresses each carry one
//! mistake (see [`MX_SERVICES`]). Policy hosts share one nginx address (127.0.2.1, chosen by SNI)
//! unless a scenario needs addresses of its own.

/// The recursive resolver (Unbound) that `/etc/netns/<ns>/resolv.conf` names.
pub const RESOLVER: &str = "127.0.0.53";
/// The authoritative server (NSD) for `test.`, `provider.example.` and a stub root zone.
pub const AUTHORITATIVE: &str = "127.0.1.53";
/// nginx's shared address for policy hosts.
pub const WEB: &str = "127.0.2.1";

/// How a server's certificate is made (by the test CA unless self-signed).
#[derive(Clone, Copy, Debug)]
pub enum Cert {
    /// Valid now, for the names given where it is used.
    Valid,
    /// Expired two days ago.
    Expired,
    /// Valid, but for this other name only.
    WrongName(&'static str),
    /// Self-signed: no chain to the test CA.
    SelfSigned,
}

/// What a policy host answers to `GET /.well-known/mta-sts.txt`.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// 200 with these exact bytes and this Content-Type.
    Policy {
        body: &'static str,
        content_type: &'static str,
    },
    /// 301 to this URL.
    Redirect(&'static str),
    /// 404.
    NotFound,
    /// Accepts TCP connections and never sends a byte (a listener of its own, not nginx).
    Silent,
}

/// One policy host on one address.
#[derive(Clone, Copy, Debug)]
pub struct Site {
    pub host: &'static str,
    pub addr: &'static str,
    pub cert: Cert,
    pub answer: Answer,
}

/// One Postfix `smtpd` on port 25 of `addr`.
#[derive(Clone, Copy, Debug)]
pub struct MxService {
    pub addr: &'static str,
    /// The names its certificate is for (or, with [`Cert::WrongName`], the names it should be
    /// for); the first one is also its `myhostname`.
    pub names: &'static [&'static str],
    /// `None`: STARTTLS not offered (`smtpd_tls_security_level = none`).
    pub tls: Option<Cert>,
    /// Also accepts TLS 1.0 and 1.1 (which OpenSSL 3 allows only at security level 0).
    pub legacy_tls: bool,
}

/// The Postfix MX addresses of the world.
pub const MX_SERVICES: &[MxService] = &[
    MxService {
        addr: "127.0.3.1",
        names: &[
            "mx.good.test",
            "mx1.mixed-mx.test",
            "mx.eu.wildcard-shallow.test",
            "implicit-mx.test",
        ],
        tls: Some(Cert::Valid),
        legacy_tls: false,
    },
    MxService {
        addr: "127.0.3.2",
        names: &["mx.starttls-none.test", "mx2.mixed-mx.test"],
        tls: None,
        legacy_tls: false,
    },
    MxService {
        addr: "127.0.3.3",
        names: &["mx.mx-expired.test"],
        tls: Some(Cert::Expired),
        legacy_tls: false,
    },
    MxService {
        addr: "127.0.3.4",
        names: &["mx.mx-wrongname.test"],
        tls: Some(Cert::WrongName("mx.elsewhere.test")),
        legacy_tls: false,
    },
    MxService {
        addr: "127.0.3.5",
        names: &["mx.mx-selfsigned.test"],
        tls: Some(Cert::SelfSigned),
        legacy_tls: false,
    },
    MxService {
        addr: "127.0.3.6",
        names: &["mx.legacy-tls.test"],
        tls: Some(Cert::Valid),
        legacy_tls: true,
    },
];

/// The provider zone that `_mta-sts.cname.test` is delegated to by CNAME.
pub const PROVIDER_ZONE: &[&str] = &[
    r#"_mta-sts.cname  TXT  "v=STSv1; id=provider20250101""#,
    "policy  A  127.0.2.1",
];

/// A finding the report must contain: check ID and outcome, optionally for one subject (a host
/// name or an address) and with a piece of text somewhere in the finding.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub id: &'static str,
    pub outcome: &'static str,
    pub subject: Option<&'static str>,
    pub mentions: Option<&'static str>,
}

/// `id` must have produced `outcome`.
pub const fn is(id: &'static str, outcome: &'static str) -> Expect {
    Expect {
        id,
        outcome,
        subject: None,
        mentions: None,
    }
}

impl Expect {
    /// ... for this subject (host name or address).
    pub const fn on(self, subject: &'static str) -> Self {
        Self {
            subject: Some(subject),
            ..self
        }
    }

    /// ... and the finding (summary or evidence) contains `text`.
    pub const fn mentioning(self, text: &'static str) -> Self {
        Self {
            mentions: Some(text),
            ..self
        }
    }
}

/// One test domain.
#[derive(Debug)]
pub struct Scenario {
    pub domain: &'static str,
    pub about: &'static str,
    /// Zone-file lines with `$ORIGIN` set to the domain (so `@` is the domain itself).
    pub zone: &'static [&'static str],
    pub sites: &'static [Site],
    /// The domain's verdict in the JSON report (profile rfc).
    pub verdict: &'static str,
    /// The exit status of `mtasts check DOMAIN`.
    pub exit: i32,
    /// Every finding that is not a pass or a skip, no more, no less; passes and skips may be
    /// listed too, to assert them.
    pub expect: &'static [Expect],
}

// ---- policies (exact bytes) ----

const ENFORCE_CRLF: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 1209600\r\n";
const ENFORCE_LF: &str = "version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 1209600\n";
/// The same as [`ENFORCE_CRLF`] but for `max_age`, so that either address yields no finding.
const ENFORCE_FOUR_WEEKS: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 2419200\r\n";
const TESTING: &str = "version: STSv1\r\nmode: testing\r\nmx: mx.good.test\r\nmax_age: 86401\r\n";
const NONE: &str = "version: STSv1\r\nmode: none\r\nmx: mx.good.test\r\nmax_age: 86401\r\n";
const TYPO_KEY: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax-age: 1209600\r\n";
const MAX_AGE_TOO_LONG: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 31557601\r\n";
const MX_ELSEWHERE: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.other.test\r\nmax_age: 1209600\r\n";
const WILDCARD_SHALLOW: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: *.wildcard-shallow.test\r\nmax_age: 1209600\r\n";
const STARTTLS_NONE: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.starttls-none.test\r\nmax_age: 1209600\r\n";
const MX_EXPIRED: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.mx-expired.test\r\nmax_age: 1209600\r\n";
const MX_WRONGNAME: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.mx-wrongname.test\r\nmax_age: 1209600\r\n";
const MX_SELFSIGNED: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.mx-selfsigned.test\r\nmax_age: 1209600\r\n";
const MIXED_MX: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.mixed-mx.test\r\n\
                        mx: mx2.mixed-mx.test\r\nmax_age: 1209600\r\n";
const LEGACY_TLS: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.legacy-tls.test\r\nmax_age: 1209600\r\n";
const IMPLICIT_MX: &str =
    "version: STSv1\r\nmode: enforce\r\nmx: implicit-mx.test\r\nmax_age: 1209600\r\n";
/// The worst domain: LF endings, a misspelt key and a stray blank line in a policy served as
/// the wrong type.
const WORST: &str = "version: STSv1\nmode: enforce\nmx: mx.good.test\n\nmax_ageing: 1\n";

const fn site(host: &'static str, body: &'static str) -> Site {
    Site {
        host,
        addr: WEB,
        cert: Cert::Valid,
        answer: Answer::Policy {
            body,
            content_type: "text/plain",
        },
    }
}

const fn with_cert(site: Site, cert: Cert) -> Site {
    Site { cert, ..site }
}

const fn at(site: Site, addr: &'static str) -> Site {
    Site { addr, ..site }
}

const fn answering(site: Site, answer: Answer) -> Site {
    Site { answer, ..site }
}

// Zone lines most scenarios share.
const STS: &str = r#"_mta-sts  TXT  "v=STSv1; id=20250101T000000""#;
const TLSRPT: &str = r#"_smtp._tls  TXT  "v=TLSRPTv1; rua=mailto:tlsrpt@good.test""#;
const POLICY_HOST: &str = "mta-sts  A  127.0.2.1";
const GOOD_MX: &str = "@  MX  10 mx.good.test.";

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        domain: "good.test",
        about: "a perfect enforce deployment (CRLF policy, TLS-RPT, one good MX)",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX, "mx  A  127.0.3.1"],
        sites: &[site("mta-sts.good.test", ENFORCE_CRLF)],
        verdict: "pass",
        exit: 0,
        expect: &[
            is("sts-record.present", "pass"),
            is("policy-fetch.certificate-trusted", "pass"),
            is("policy.mode-enforce", "pass"),
            is("policy.crlf", "pass"),
            is("mx.covered", "pass").on("mx.good.test"),
            is("smtp.starttls-offered", "pass").on("127.0.3.1"),
            is("smtp.certificate-name", "pass"),
            is("smtp.legacy-tls", "pass"),
            is("tlsrpt.present", "pass"),
        ],
    },
    Scenario {
        domain: "testing.test",
        about: "mode testing",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[site("mta-sts.testing.test", TESTING)],
        verdict: "pass",
        exit: 0,
        expect: &[
            is("policy.mode-enforce", "info"),
            is("policy.max-age-week", "info").mentioning("86401"),
            // Without --reports, readiness is not judged, and the report says what it needs.
            is("reports.ready", "skipped").mentioning("needs --reports"),
            is("tlsrpt.rua-retired", "pass"),
        ],
    },
    Scenario {
        domain: "none.test",
        about: "mode none",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[site("mta-sts.none.test", NONE)],
        verdict: "warn",
        exit: 0,
        expect: &[is("policy.mode-none", "warn"), is("mx.covered", "skipped")],
    },
    Scenario {
        domain: "no-record.test",
        about: "no _mta-sts record at all",
        zone: &[TLSRPT, GOOD_MX],
        sites: &[],
        verdict: "warn",
        exit: 0,
        expect: &[
            is("sts-record.present", "warn").mentioning("NXDOMAIN"),
            is("policy-host.resolves", "skipped"),
        ],
    },
    Scenario {
        domain: "two-records.test",
        about: "two v=STSv1 records",
        zone: &[
            r#"_mta-sts  TXT  "v=STSv1; id=20250101T000000""#,
            r#"_mta-sts  TXT  "v=STSv1; id=20250202T000000""#,
            TLSRPT,
            POLICY_HOST,
            GOOD_MX,
        ],
        sites: &[site("mta-sts.two-records.test", ENFORCE_CRLF)],
        verdict: "fail",
        exit: 1,
        expect: &[is("sts-record.single", "fail")],
    },
    Scenario {
        domain: "split-txt.test",
        about: "the record split into several character-strings",
        zone: &[
            r#"_mta-sts  TXT  "v=STSv1;" " id=" "20250101T000000""#,
            TLSRPT,
            POLICY_HOST,
            GOOD_MX,
        ],
        sites: &[site("mta-sts.split-txt.test", ENFORCE_CRLF)],
        verdict: "pass",
        exit: 0,
        expect: &[is("sts-record.syntax", "pass"), is("sts-record.id", "pass")],
    },
    Scenario {
        domain: "cname.test",
        about: "_mta-sts delegated by CNAME to a provider zone, policy host a CNAME too",
        zone: &[
            "_mta-sts  CNAME  _mta-sts.cname.provider.example.",
            TLSRPT,
            "mta-sts  CNAME  policy.provider.example.",
            GOOD_MX,
        ],
        sites: &[site("mta-sts.cname.test", ENFORCE_CRLF)],
        verdict: "pass",
        exit: 0,
        expect: &[is("sts-record.cname", "info").mentioning("provider.example")],
    },
    Scenario {
        domain: "wrong-name.test",
        about: "the STS record published at mta-sts instead of _mta-sts",
        zone: &[
            r#"mta-sts  TXT  "v=STSv1; id=20250101T000000""#,
            TLSRPT,
            POLICY_HOST,
            GOOD_MX,
        ],
        sites: &[site("mta-sts.wrong-name.test", ENFORCE_CRLF)],
        // Issue 12: a record at a misplaced name fails (it warned, like a domain that never
        // tried): the owner meant to deploy and is not protected.
        verdict: "fail",
        exit: 1,
        expect: &[is("sts-record.present", "fail").mentioning("mta-sts.wrong-name.test")],
    },
    Scenario {
        domain: "bad-id.test",
        about: "an id with characters other than letters and digits",
        zone: &[
            r#"_mta-sts  TXT  "v=STSv1; id=2025-01-01""#,
            TLSRPT,
            POLICY_HOST,
            GOOD_MX,
        ],
        sites: &[site("mta-sts.bad-id.test", ENFORCE_CRLF)],
        verdict: "fail",
        exit: 1,
        expect: &[is("sts-record.id", "fail")],
    },
    Scenario {
        domain: "noaddr.test",
        about: "the policy host has no address",
        zone: &[STS, TLSRPT, GOOD_MX],
        sites: &[],
        verdict: "fail",
        exit: 1,
        expect: &[is("policy-host.resolves", "fail")],
    },
    Scenario {
        domain: "policy-cert-expired.test",
        about: "the policy host's certificate expired",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[with_cert(
            site("mta-sts.policy-cert-expired.test", ENFORCE_CRLF),
            Cert::Expired,
        )],
        verdict: "fail",
        exit: 1,
        expect: &[
            is("policy-fetch.certificate-expiry", "fail").on("127.0.2.1"),
            is("policy-fetch.certificate-expiring", "skipped"),
        ],
    },
    Scenario {
        domain: "policy-cert-wrongname.test",
        about: "the policy host's certificate is for another name",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[with_cert(
            site("mta-sts.policy-cert-wrongname.test", ENFORCE_CRLF),
            Cert::WrongName("www.policy-cert-wrongname.test"),
        )],
        verdict: "fail",
        exit: 1,
        expect: &[is("policy-fetch.certificate-name", "fail")],
    },
    Scenario {
        domain: "policy-cert-untrusted.test",
        about: "the policy host's certificate is self-signed",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[with_cert(
            site("mta-sts.policy-cert-untrusted.test", ENFORCE_CRLF),
            Cert::SelfSigned,
        )],
        verdict: "fail",
        exit: 1,
        expect: &[is("policy-fetch.certificate-trusted", "fail")],
    },
    Scenario {
        domain: "redirect.test",
        about: "the policy URL redirects",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[answering(
            site("mta-sts.redirect.test", ENFORCE_CRLF),
            Answer::Redirect("https://www.redirect.test/.well-known/mta-sts.txt"),
        )],
        verdict: "fail",
        exit: 1,
        expect: &[is("policy-fetch.status", "fail").mentioning("301")],
    },
    Scenario {
        domain: "notfound.test",
        about: "the policy URL answers 404",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[answering(
            site("mta-sts.notfound.test", ENFORCE_CRLF),
            Answer::NotFound,
        )],
        verdict: "fail",
        exit: 1,
        expect: &[is("policy-fetch.status", "fail").mentioning("404")],
    },
    Scenario {
        domain: "content-type.test",
        about: "the policy is served as application/octet-stream",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[answering(
            site("mta-sts.content-type.test", ENFORCE_CRLF),
            Answer::Policy {
                body: ENFORCE_CRLF,
                content_type: "application/octet-stream",
            },
        )],
        verdict: "fail",
        exit: 1,
        expect: &[is("policy-fetch.content-type", "fail").mentioning("application/octet-stream")],
    },
    Scenario {
        domain: "lf.test",
        about: "a policy with LF line endings",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[site("mta-sts.lf.test", ENFORCE_LF)],
        verdict: "pass",
        exit: 0,
        expect: &[is("policy.crlf", "info")],
    },
    Scenario {
        domain: "typo-key.test",
        about: "max-age spelt with a hyphen",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[site("mta-sts.typo-key.test", TYPO_KEY)],
        verdict: "fail",
        exit: 1,
        expect: &[
            is("policy.misspelled-key", "warn").mentioning("max_age"),
            is("policy.max-age", "fail"),
        ],
    },
    Scenario {
        domain: "max-age-range.test",
        about: "max_age above one year",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[site("mta-sts.max-age-range.test", MAX_AGE_TOO_LONG)],
        verdict: "fail",
        exit: 1,
        expect: &[is("policy.max-age", "fail").mentioning("31557601")],
    },
    Scenario {
        domain: "mx-outside.test",
        about: "the MX is not in the policy",
        zone: &[STS, TLSRPT, POLICY_HOST, GOOD_MX],
        sites: &[site("mta-sts.mx-outside.test", MX_ELSEWHERE)],
        verdict: "fail",
        exit: 1,
        expect: &[
            is("mx.covered", "fail").on("mx.good.test"),
            is("mx.any-covered", "fail"),
            is("mx.stale-pattern", "warn").mentioning("mx.other.test"),
        ],
    },
    Scenario {
        domain: "wildcard-shallow.test",
        about: "a wildcard one label too shallow for the MX",
        zone: &[
            STS,
            TLSRPT,
            POLICY_HOST,
            "@  MX  10 mx.eu.wildcard-shallow.test.",
            "mx.eu  A  127.0.3.1",
        ],
        sites: &[site("mta-sts.wildcard-shallow.test", WILDCARD_SHALLOW)],
        verdict: "fail",
        exit: 1,
        expect: &[
            is("policy.wildcard", "warn"),
            is("mx.covered", "fail").on("mx.eu.wildcard-shallow.test"),
            is("mx.any-covered", "fail"),
            is("mx.stale-pattern", "warn").mentioning("*.wildcard-shallow.test"),
        ],
    },
    Scenario {
        domain: "starttls-none.test",
        about: "the MX offers no STARTTLS",
        zone: &[
            STS,
            TLSRPT,
            POLICY_HOST,
            "@  MX  10 mx.starttls-none.test.",
            "mx  A  127.0.3.2",
        ],
        sites: &[site("mta-sts.starttls-none.test", STARTTLS_NONE)],
        verdict: "fail",
        exit: 1,
        expect: &[is("smtp.starttls-offered", "fail").on("127.0.3.2")],
    },
    Scenario {
        domain: "mx-expired.test",
        about: "the MX certificate expired",
        zone: &[
            STS,
            TLSRPT,
            POLICY_HOST,
            "@  MX  10 mx.mx-expired.test.",
            "mx  A  127.0.3.3",
        ],
        sites: &[site("mta-sts.mx-expired.test", MX_EXPIRED)],
        verdict: "fail",
        exit: 1,
        expect: &[
            is("smtp.certificate-expiry", "fail").on("127.0.3.3"),
            is("smtp.certificate-expiring", "skipped"),
        ],
    },
    Scenario {
        domain: "mx-wrongname.test",
        about: "the MX certificate is for another name",
        zone: &[
            STS,
            TLSRPT,
            POLICY_HOST,
            "@  MX  10 mx.mx-wrongname.test.",
            "mx  A  127.0.3.4",
        ],
        sites: &[site("mta-sts.mx-wrongname.test", MX_WRONGNAME)],
        verdict: "fail",
        exit: 1,
        expect: &[is("smtp.certificate-name", "fail").on("127.0.3.4")],
    },
    Scenario {
        domain: "mx-selfsigned.test",
        about: "the MX certificate is self-signed",
        zone: &[
            STS,
            TLSRPT,
            POLICY_HOST,
            "@  MX  10 mx.mx-selfsigned.test.",
            "mx  A  127.0.3.5",
        ],
        sites: &[site("mta-sts.mx-selfsigned.test", MX_SELFSIGNED)],
        verdict: "fail",
        exit: 1,
        expect: &[is("smtp.certificate-trusted", "fail").on("127.0.3.5")],
    },
    Scenario {
        domain: "legacy-tls.test",
        about: "the MX still accepts TLS 1.0 and 1.1",
        zone: &[
            STS,
            TLSRPT,
            POLICY_HOST,
            "@  MX  10 mx.legacy-tls.test.",
            "mx  A  127.0.3.6",
        ],
        sites: &[site("mta-sts.legacy-tls.test", LEGACY_TLS)],
        verdict: "warn",
        exit: 0,
        expect: &[
            is("smtp.legacy-tls", "warn")
                .on("127.0.3.6")
                .mentioning("TLSv1.1"),
            is("smtp.tls-version", "pass").on("127.0.3.6"),
        ],
    },
    Scenario {
        domain: "mixed-mx.test",
        about: "one good MX and one without STARTTLS",
        zone: &[
            STS,
            TLSRPT,
            POLICY_HOST,
            "@  MX  10 mx1.mixed-mx.test.",
            "@  MX  20 mx2.mixed-mx.test.",
            "mx1  A  127.0.3.1",
            "mx2  A  127.0.3.2",
        ],
        sites: &[site("mta-sts.mixed-mx.test", MIXED_MX)],
        verdict: "fail",
        exit: 1,
        expect: &[
            is("smtp.starttls-offered", "pass").on("mx1.mixed-mx.test"),
            is("smtp.certificate-trusted", "pass").on("mx1.mixed-mx.test"),
            is("smtp.starttls-offered", "fail").on("mx2.mixed-mx.test"),
            is("smtp.starttls-accepted", "skipped").on("mx2.mixed-mx.test"),
        ],
    },
    Scenario {
        domain: "null-mx.test",
        about: "a null MX (the domain receives no mail, so MTA-STS does not apply: EC-71)",
        zone: &["@  MX  0 ."],
        sites: &[],
        verdict: "pass",
        exit: 0,
        expect: &[
            is("mx.null", "info"),
            is("sts-record.present", "skipped"),
            is("policy-host.resolves", "skipped"),
            is("mx.covered", "skipped"),
            is("tlsrpt.present", "skipped"),
        ],
    },
    Scenario {
        domain: "implicit-mx.test",
        about: "no MX record: the domain's own address is its MX",
        zone: &[STS, TLSRPT, POLICY_HOST, "@  A  127.0.3.1"],
        sites: &[site("mta-sts.implicit-mx.test", IMPLICIT_MX)],
        verdict: "warn",
        exit: 0,
        expect: &[
            is("mx.implicit", "warn").mentioning("implicit-mx.test"),
            is("smtp.starttls-offered", "pass").on("implicit-mx.test"),
        ],
    },
    Scenario {
        domain: "tlsrpt-missing.test",
        about: "no TLS-RPT record",
        zone: &[STS, POLICY_HOST, GOOD_MX],
        sites: &[site("mta-sts.tlsrpt-missing.test", ENFORCE_CRLF)],
        verdict: "warn",
        exit: 0,
        expect: &[is("tlsrpt.present", "warn")],
    },
    Scenario {
        domain: "tlsrpt-malformed.test",
        about: "a TLS-RPT rua without a URI scheme",
        zone: &[
            STS,
            r#"_smtp._tls  TXT  "v=TLSRPTv1; rua=tlsrpt@good.test""#,
            POLICY_HOST,
            GOOD_MX,
        ],
        sites: &[site("mta-sts.tlsrpt-malformed.test", ENFORCE_CRLF)],
        verdict: "fail",
        exit: 1,
        expect: &[is("tlsrpt.rua-syntax", "fail").mentioning("no scheme")],
    },
    Scenario {
        domain: "split-policy.test",
        about: "the policy host's two addresses serve different policies",
        zone: &[
            STS,
            TLSRPT,
            "mta-sts  A  127.0.2.2",
            "mta-sts  A  127.0.2.3",
            GOOD_MX,
        ],
        sites: &[
            at(site("mta-sts.split-policy.test", ENFORCE_CRLF), "127.0.2.2"),
            at(
                site("mta-sts.split-policy.test", ENFORCE_FOUR_WEEKS),
                "127.0.2.3",
            ),
        ],
        verdict: "warn",
        exit: 0,
        expect: &[is("policy-fetch.consistent", "warn").on("mta-sts.split-policy.test")],
    },
    Scenario {
        domain: "silent.test",
        about: "the policy server accepts connections and never answers",
        zone: &[STS, TLSRPT, "mta-sts  A  127.0.2.9", GOOD_MX],
        sites: &[answering(
            at(site("mta-sts.silent.test", ENFORCE_CRLF), "127.0.2.9"),
            Answer::Silent,
        )],
        verdict: "fail",
        exit: 1,
        expect: &[is("policy-fetch.connect", "fail").on("127.0.2.9")],
    },
    Scenario {
        domain: "worst.test",
        about: "everything wrong at once",
        zone: &[
            r#"_mta-sts  TXT  "v=STSv1; id=20250101T000000""#,
            POLICY_HOST,
            "@  MX  10 mx.starttls-none.test.",
        ],
        sites: &[answering(
            with_cert(site("mta-sts.worst.test", WORST), Cert::Expired),
            Answer::Policy {
                body: WORST,
                content_type: "text/html",
            },
        )],
        verdict: "fail",
        exit: 1,
        expect: &[
            is("policy-fetch.certificate-expiry", "fail"),
            is("policy-fetch.content-type", "fail").mentioning("text/html"),
            is("policy.crlf", "info"),
            is("policy.blank-lines", "fail").mentioning("line 4"),
            is("policy.max-age", "fail"),
            is("policy.extension", "info").mentioning("max_ageing"),
            is("mx.covered", "skipped"),
            is("smtp.starttls-offered", "fail").on("mx.starttls-none.test"),
            is("tlsrpt.present", "warn"),
        ],
    },
];
