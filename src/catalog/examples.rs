//! Examples of passing and failing input for every check, for `mtasts explain`. Where the
//! input is a record or a policy file, the example is that text exactly, and a test
//! (`tests/explain.rs`) judges it and insists that it passes or fails the check as it says;
//! other examples describe what the audit would see.

use super::CheckId;

/// One example input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    /// The TXT records at `_mta-sts.DOMAIN`, one per line.
    StsTxt(&'static str),
    /// The TXT records at `_smtp._tls.DOMAIN`, one per line.
    TlsRptTxt(&'static str),
    /// A policy file, byte for byte.
    Policy(&'static str),
    /// What the audit would see, in words.
    Seen(&'static str),
}

/// A passing and a failing example of one check.
#[derive(Clone, Copy, Debug)]
pub struct Examples {
    pub check: CheckId,
    pub pass: Sample,
    pub fail: Sample,
}

/// The examples of `check`.
pub fn of(check: CheckId) -> Option<&'static Examples> {
    EXAMPLES.iter().find(|examples| examples.check == check)
}

/// Every check's examples, in catalog order.
pub static EXAMPLES: &[Examples] = &[
    Examples {
        check: CheckId::StsRecordPresent,
        pass: Sample::Seen(r#"TXT at `_mta-sts.example.org`: `v=STSv1; id=20250101T000000`"#),
        fail: Sample::Seen(r#"no TXT record at `_mta-sts.example.org`; `v=STSv1; id=20250101T000000` is published at `mta-sts.example.org` instead (the underscore is missing)"#),
    },
    Examples {
        check: CheckId::StsRecordCname,
        pass: Sample::Seen(r#"the TXT record is published at `_mta-sts.example.org` itself"#),
        fail: Sample::Seen(r#"`_mta-sts.example.org` is a CNAME to `_mta-sts.provider.example`, which holds the record: followed, and reported as information"#),
    },
    Examples {
        check: CheckId::StsRecordSingle,
        pass: Sample::StsTxt(r#"v=STSv1; id=20250101T000000"#),
        fail: Sample::StsTxt("v=STSv1; id=20250101T000000\nv=STSv1; id=20250601T000000"),
    },
    Examples {
        check: CheckId::StsRecordSyntax,
        pass: Sample::StsTxt(r#"v=STSv1; id=20250101T000000;"#),
        fail: Sample::StsTxt(r#"v=STSv1; id=20250101T000000; x=a=b"#),
    },
    Examples {
        check: CheckId::StsRecordId,
        pass: Sample::StsTxt(r#"v=STSv1; id=20250101T000000"#),
        fail: Sample::StsTxt(r#"v=STSv1; id=2025-01-01"#),
    },
    Examples {
        check: CheckId::StsRecordDelimiterSpace,
        pass: Sample::StsTxt(r#"v=STSv1; id=20250101T000000"#),
        fail: Sample::StsTxt(r#"v=STSv1 ; id=20250101T000000"#),
    },
    Examples {
        check: CheckId::StsRecordDuplicateField,
        pass: Sample::StsTxt(r#"v=STSv1; id=20250101T000000"#),
        fail: Sample::StsTxt(r#"v=STSv1; id=20250101T000000; id=20250601T000000"#),
    },
    Examples {
        check: CheckId::StsRecordOtherTxt,
        pass: Sample::StsTxt(r#"v=STSv1; id=20250101T000000"#),
        fail: Sample::StsTxt("v=STSv1; id=20250101T000000\nv=spf1 -all"),
    },
    Examples {
        check: CheckId::StsRecordTtl,
        pass: Sample::Seen(r#"the `_mta-sts` TXT record has a TTL of 86400 seconds"#),
        fail: Sample::Seen(r#"the `_mta-sts` TXT record has a TTL of 300 seconds"#),
    },
    Examples {
        check: CheckId::StsRecordBounds,
        pass: Sample::Seen(r#"`_mta-sts.example.org` answers with its one record of 33 bytes"#),
        fail: Sample::Seen(r#"`_mta-sts.example.org` answers with 7 TXT records, 58,000 bytes in all: the first 32 KiB are read, and the evidence says how many records were left out"#),
    },
    Examples {
        check: CheckId::PolicyHostResolves,
        pass: Sample::Seen(r#"`mta-sts.example.org` has the address 93.184.215.10"#),
        fail: Sample::Seen(r#"`mta-sts.example.org` does not exist (NXDOMAIN): no sender can fetch the policy"#),
    },
    Examples {
        check: CheckId::PolicyHostIpv4,
        pass: Sample::Seen(r#"`mta-sts.example.org` has an A record and an AAAA record"#),
        fail: Sample::Seen(r#"`mta-sts.example.org` has only an AAAA record"#),
    },
    Examples {
        check: CheckId::PolicyHostPublicAddress,
        pass: Sample::Seen(r#"`mta-sts.example.org` is 93.184.215.10"#),
        fail: Sample::Seen(r#"`mta-sts.example.org` is 10.0.0.5 (RFC 1918): no sender can reach it, and it is not contacted"#),
    },
    Examples {
        check: CheckId::PolicyHostBounds,
        pass: Sample::Seen(r#"`mta-sts.example.org` has 2 addresses: the policy is fetched from both"#),
        fail: Sample::Seen(r#"`mta-sts.example.org` has 12 addresses: the policy is fetched from the lowest 8, and the other 4 are named"#),
    },
    Examples {
        check: CheckId::PolicyFetchConnect,
        pass: Sample::Seen(r#"every address of `mta-sts.example.org` completes a TLS handshake on port 443"#),
        fail: Sample::Seen(r#"2606:2800:21f::10 of `mta-sts.example.org` refuses connections on port 443; the IPv4 address answers"#),
    },
    Examples {
        check: CheckId::PolicyFetchCertTrusted,
        pass: Sample::Seen(r#"the policy host presents a chain up to a root in the Mozilla store"#),
        fail: Sample::Seen(r#"the policy host presents a self-signed certificate, or leaves out the intermediate certificate (senders do not fetch it)"#),
    },
    Examples {
        check: CheckId::PolicyFetchCertName,
        pass: Sample::Seen(r#"the certificate's subjectAltName lists `mta-sts.example.org` (or `*.example.org`)"#),
        fail: Sample::Seen(r#"the certificate covers only `example.org` and `www.example.org`, or only the CNAME target `example.github.io`"#),
    },
    Examples {
        check: CheckId::PolicyFetchCertExpiry,
        pass: Sample::Seen(r#"the certificate is valid from 2026-01-01 to 2026-12-31, and the audit runs in June"#),
        fail: Sample::Seen(r#"the certificate expired yesterday"#),
    },
    Examples {
        check: CheckId::PolicyFetchCertExpiring,
        pass: Sample::Seen(r#"the certificate has 60 days left"#),
        fail: Sample::Seen(r#"the certificate expires in 5 days"#),
    },
    Examples {
        check: CheckId::PolicyFetchStatus,
        pass: Sample::Seen(r#"`GET /.well-known/mta-sts.txt` answers `200 OK` with the policy"#),
        fail: Sample::Seen(r#"it answers `301 Moved Permanently` to `https://www.example.org/.well-known/mta-sts.txt` (senders never follow), or `404 Not Found`"#),
    },
    Examples {
        check: CheckId::PolicyFetchContentType,
        pass: Sample::Seen(r#"`Content-Type: text/plain; charset=utf-8`"#),
        fail: Sample::Seen(r#"`Content-Type: text/html` or `application/octet-stream`, or no Content-Type at all"#),
    },
    Examples {
        check: CheckId::PolicyFetchCharset,
        pass: Sample::Seen(r#"`Content-Type: text/plain` or `text/plain; charset=utf-8`"#),
        fail: Sample::Seen(r#"`Content-Type: text/plain; charset=iso-8859-1`"#),
    },
    Examples {
        check: CheckId::PolicyFetchSize,
        pass: Sample::Seen(r#"a policy of 120 bytes"#),
        fail: Sample::Seen(r#"a 70 KiB body (a web page served in place of the policy)"#),
    },
    Examples {
        check: CheckId::PolicyFetchSizeLarge,
        pass: Sample::Seen(r#"a policy of 120 bytes"#),
        fail: Sample::Seen(r#"a 20 KiB policy listing hundreds of `mx` lines (chasquid reads only the first 10 KiB)"#),
    },
    Examples {
        check: CheckId::PolicyFetchTime,
        pass: Sample::Seen(r#"the policy arrives 120 ms after the connection opens"#),
        fail: Sample::Seen(r#"the policy takes 8 s to arrive (postfix-mta-sts-resolver gives up after 4 s)"#),
    },
    Examples {
        check: CheckId::PolicyFetchConsistent,
        pass: Sample::Seen(r#"both addresses of `mta-sts.example.org` serve the same policy"#),
        fail: Sample::Seen(r#"93.184.215.10 serves `mode: enforce` while 2606:2800:21f::10 still serves `mode: testing`"#),
    },
    Examples {
        check: CheckId::PolicyFetchCacheControl,
        pass: Sample::Seen(r#"no Cache-Control header, or `Cache-Control: max-age=60`"#),
        fail: Sample::Seen(r#"`Cache-Control: max-age=86400` from a CDN: a changed policy reaches senders a day late"#),
    },
    Examples {
        check: CheckId::PolicySyntax,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmax age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyUtf8,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Seen(r#"a policy saved in Latin-1, whose bytes are not valid UTF-8 (`mx: m\xE9l.example.org`)"#),
    },
    Examples {
        check: CheckId::PolicyBom,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("\u{feff}version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyLineEndings,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\rmode: enforce\rmx: mx1.example.org\rmax_age: 1209600\r"),
    },
    Examples {
        check: CheckId::PolicyCrlf,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\nmode: enforce\nmx: mx1.example.org\nmx: mx2.example.org\nmax_age: 1209600\n"),
    },
    Examples {
        check: CheckId::PolicyBlankLines,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\n\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyWhitespace,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode : enforce\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyTrailingWhitespace,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce   \r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyVersion,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("mode: enforce\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyVersionFirst,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("mode: enforce\r\nversion: STSv1\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyMode,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: Enforce\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyMaxAge,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmax_age: 31557601\r\n"),
    },
    Examples {
        check: CheckId::PolicyMaxAgeShort,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmax_age: 3600\r\n"),
    },
    Examples {
        check: CheckId::PolicyMaxAgeWeek,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmax_age: 86400\r\n"),
    },
    Examples {
        check: CheckId::PolicyMaxAgeNcsc,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmax_age: 604800\r\n"),
    },
    Examples {
        check: CheckId::PolicyMx,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: testing\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyMxInNoneMode,
        pass: Sample::Policy("version: STSv1\r\nmode: none\r\nmx: mx1.example.org\r\nmax_age: 86400\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n"),
    },
    Examples {
        check: CheckId::PolicyMxSyntax,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org.\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyDuplicateField,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: testing\r\nmode: enforce\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyMisspelledKey,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\nMax_Age: 604800\r\n"),
    },
    Examples {
        check: CheckId::PolicyExtension,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\npolicy_url: https://example.org/mta-sts\r\n"),
    },
    Examples {
        check: CheckId::PolicyModeEnforce,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: testing\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyModeNone,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: none\r\nmx: mx1.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyWildcard,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: *.example.org\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::PolicyWildcardPublicSuffix,
        pass: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 1209600\r\n"),
        fail: Sample::Policy("version: STSv1\r\nmode: enforce\r\nmx: *.com\r\nmax_age: 1209600\r\n"),
    },
    Examples {
        check: CheckId::MxLookup,
        pass: Sample::Seen(r#"`example.org` has MX records `10 mx1.example.org` and `20 mx2.example.org`"#),
        fail: Sample::Seen(r#"`example.org` does not exist (NXDOMAIN)"#),
    },
    Examples {
        check: CheckId::MxNull,
        pass: Sample::Seen(r#"`example.org MX 10 mx1.example.org`"#),
        fail: Sample::Seen(r#"`example.org MX 0 .` (RFC 7505): the domain accepts no mail, so MTA-STS does not apply"#),
    },
    Examples {
        check: CheckId::MxNullMixed,
        pass: Sample::Seen(r#"`example.org MX 0 .` alone"#),
        fail: Sample::Seen(r#"`example.org MX 0 .` and `MX 10 mx1.example.org` together"#),
    },
    Examples {
        check: CheckId::MxImplicit,
        pass: Sample::Seen(r#"`example.org` publishes `MX 10 mx1.example.org`"#),
        fail: Sample::Seen(r#"`example.org` has no MX record, only an A record: senders deliver to the domain itself (implicit MX), which the policy must then list"#),
    },
    Examples {
        check: CheckId::MxTargetCname,
        pass: Sample::Seen(r#"`MX 10 mx1.example.org`, and `mx1.example.org` has an A record"#),
        fail: Sample::Seen(r#"`MX 10 mail.example.org`, and `mail.example.org` is a CNAME to `mx1.provider.example`"#),
    },
    Examples {
        check: CheckId::MxTargetAddress,
        pass: Sample::Seen(r#"`mx1.example.org` has the address 93.184.215.25"#),
        fail: Sample::Seen(r#"`mx2.example.org` has no A or AAAA record"#),
    },
    Examples {
        check: CheckId::MxPublicAddress,
        pass: Sample::Seen(r#"`mx1.example.org` is 93.184.215.25"#),
        fail: Sample::Seen(r#"`mx1.example.org` is 192.168.1.25 (RFC 1918)"#),
    },
    Examples {
        check: CheckId::MxCovered,
        pass: Sample::Seen(r#"MX `mx1.example.org` and `mx2.example.org`; the policy lists both (`mx: mx1.example.org`, `mx: mx2.example.org`)"#),
        fail: Sample::Seen(r#"MX `tenant.mail.protection.outlook.com`; the policy lists `mx: *.outlook.com`, which covers exactly one label, so not this host"#),
    },
    Examples {
        check: CheckId::MxAnyCovered,
        pass: Sample::Seen(r#"the policy lists `mx: mx1.example.org`, one of the MX hosts"#),
        fail: Sample::Seen(r#"the policy lists only `mx: mail.old-provider.example`; no MX host matches, so enforcing senders deliver nowhere"#),
    },
    Examples {
        check: CheckId::MxStalePattern,
        pass: Sample::Seen(r#"every `mx` pattern of the policy matches a current MX host"#),
        fail: Sample::Seen(r#"the policy still lists `mx: mx3.example.org`, which is no longer an MX host"#),
    },
    Examples {
        check: CheckId::MxTlsa,
        pass: Sample::Seen(r#"no TLSA record at `_25._tcp.mx1.example.org`"#),
        fail: Sample::Seen(r#"`_25._tcp.mx1.example.org TLSA 3 1 1 …`: DANE is published too (reported as information)"#),
    },
    Examples {
        check: CheckId::MxBounds,
        pass: Sample::Seen(r#"2 MX hosts with one address each: every one judged"#),
        fail: Sample::Seen(r#"200 MX records: those past the bound the audit keeps are named and not probed"#),
    },
    Examples {
        check: CheckId::SmtpConnect,
        pass: Sample::Seen(r#"`93.184.215.25:25` answers `220 mx1.example.org ESMTP`"#),
        fail: Sample::Seen(r#"`93.184.215.25:25` refuses the connection, or greets with `554 no service`; a timeout from a network that blocks port 25 is could-not-determine instead"#),
    },
    Examples {
        check: CheckId::SmtpStarttlsOffered,
        pass: Sample::Seen(r#"the EHLO reply lists `250-STARTTLS` (any case)"#),
        fail: Sample::Seen(r#"the EHLO reply lists `PIPELINING` and `8BITMIME` but no `STARTTLS`"#),
    },
    Examples {
        check: CheckId::SmtpStarttlsAccepted,
        pass: Sample::Seen(r#"`STARTTLS` is answered `220 2.0.0 Ready to start TLS` and the handshake completes"#),
        fail: Sample::Seen(r#"`STARTTLS` is answered `454 4.7.0 TLS not available due to local problem` on every attempt"#),
    },
    Examples {
        check: CheckId::SmtpCertTrusted,
        pass: Sample::Seen(r#"the MX presents a chain up to a root in the Mozilla store"#),
        fail: Sample::Seen(r#"the MX presents a self-signed certificate (valid under DANE, not under MTA-STS)"#),
    },
    Examples {
        check: CheckId::SmtpCertName,
        pass: Sample::Seen(r#"the certificate of `mx1.example.org` lists `mx1.example.org` or `*.example.org`"#),
        fail: Sample::Seen(r#"the certificate of `mx1.example.org` lists only `example.org`, or only `mx*.example.org` (partial wildcard)"#),
    },
    Examples {
        check: CheckId::SmtpCertExpiry,
        pass: Sample::Seen(r#"the MX certificate is valid today"#),
        fail: Sample::Seen(r#"the MX certificate expired on the first of the month"#),
    },
    Examples {
        check: CheckId::SmtpCertExpiring,
        pass: Sample::Seen(r#"the MX certificate has 60 days left"#),
        fail: Sample::Seen(r#"the MX certificate expires in 10 days"#),
    },
    Examples {
        check: CheckId::SmtpTlsVersion,
        pass: Sample::Seen(r#"the handshake negotiates TLS 1.3"#),
        fail: Sample::Seen(r#"the server speaks only TLS 1.0, so no TLS 1.2 or 1.3 session can be made"#),
    },
    Examples {
        check: CheckId::SmtpLegacyTls,
        pass: Sample::Seen(r#"a ClientHello offering only TLS 1.0 and 1.1 is refused"#),
        fail: Sample::Seen(r#"the MX prefers TLS 1.3 but still accepts a TLS 1.0 handshake when offered"#),
    },
    Examples {
        check: CheckId::SmtpStarttlsReadvertised,
        pass: Sample::Seen(r#"the EHLO reply after TLS no longer lists `STARTTLS`"#),
        fail: Sample::Seen(r#"the EHLO reply after TLS lists `STARTTLS` again"#),
    },
    Examples {
        check: CheckId::SmtpPreTlsData,
        pass: Sample::Seen(r#"nothing arrives between `220 Ready to start TLS` and the TLS handshake"#),
        fail: Sample::Seen(r#"`220 Ready to start TLS` is followed by extra bytes before the handshake (a sign of a broken or injecting middlebox)"#),
    },
    Examples {
        check: CheckId::TlsRptPresent,
        pass: Sample::Seen(r#"TXT at `_smtp._tls.example.org`: `v=TLSRPTv1; rua=mailto:tlsrpt@example.org`"#),
        fail: Sample::Seen(r#"no TXT record at `_smtp._tls.example.org`; one is published at `smtp.tls.example.org` instead"#),
    },
    Examples {
        check: CheckId::TlsRptSingle,
        pass: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"#),
        fail: Sample::TlsRptTxt("v=TLSRPTv1; rua=mailto:tlsrpt@example.org\nv=TLSRPTv1; rua=mailto:reports@example.org"),
    },
    Examples {
        check: CheckId::TlsRptSyntax,
        pass: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"#),
        fail: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org; x=a=b"#),
    },
    Examples {
        check: CheckId::TlsRptRua,
        pass: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"#),
        fail: Sample::TlsRptTxt(r#"v=TLSRPTv1; ruf=mailto:tlsrpt@example.org"#),
    },
    Examples {
        check: CheckId::TlsRptRuaScheme,
        pass: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"#),
        fail: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=http://reports.example.org/tlsrpt"#),
    },
    Examples {
        check: CheckId::TlsRptRuaSyntax,
        pass: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"#),
        fail: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:"#),
    },
    Examples {
        check: CheckId::TlsRptMultipleRua,
        pass: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"#),
        fail: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org; rua=mailto:reports@example.org"#),
    },
    Examples {
        check: CheckId::TlsRptExtension,
        pass: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"#),
        fail: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org; ruf=mailto:tlsrpt@example.org"#),
    },
    Examples {
        check: CheckId::TlsRptMailtoDomain,
        pass: Sample::Seen(r#"`rua=mailto:tlsrpt@example.org`, and `example.org` has MX records"#),
        fail: Sample::Seen(r#"`rua=mailto:tlsrpt@reports.example.net`, and `reports.example.net` does not exist or publishes a null MX"#),
    },
    Examples {
        check: CheckId::TlsRptTtl,
        pass: Sample::Seen(r#"the `_smtp._tls` record has a TTL of 86400 seconds"#),
        fail: Sample::Seen(r#"the `_smtp._tls` record has a TTL of 300 seconds"#),
    },
    Examples {
        check: CheckId::TlsRptRuaHttps,
        pass: Sample::Seen(r#"`rua=https://reports.example.org/tlsrpt`, whose host is public and presents a valid certificate for `reports.example.org`"#),
        fail: Sample::Seen(r#"`rua=https://reports.example.org/tlsrpt`, whose host presents a certificate for another name"#),
    },
    Examples {
        check: CheckId::TlsRptRuaRetired,
        pass: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tlsrpt@example.org"#),
        fail: Sample::TlsRptTxt(r#"v=TLSRPTv1; rua=mailto:tls-rua@mailcheck.service.ncsc.gov.uk"#),
    },
    Examples {
        check: CheckId::TlsRptBounds,
        pass: Sample::Seen(r#"the record names one `mailto:` address: its domain is looked up"#),
        fail: Sample::Seen(r#"the record names 12 `mailto:` domains: the first 10 are looked up, and the other 2 are named"#),
    },
    Examples {
        check: CheckId::ReportsCoverage,
        pass: Sample::Seen(r#"reports for 21 distinct days, the last from yesterday"#),
        fail: Sample::Seen(r#"reports for 5 days, the last two weeks ago"#),
    },
    Examples {
        check: CheckId::ReportsOrganizations,
        pass: Sample::Seen(r#"reports from Google and Microsoft"#),
        fail: Sample::Seen(r#"reports from one organisation only"#),
    },
    Examples {
        check: CheckId::ReportsPolicyErrors,
        pass: Sample::Seen(r#"no policy-related failures in the last 14 days"#),
        fail: Sample::Seen(r#"Google reported `sts-webpki-invalid` for 40 sessions last week"#),
    },
    Examples {
        check: CheckId::ReportsFailureRate,
        pass: Sample::Seen(r#"12 failed sessions out of 120,000 (0.01 %)"#),
        fail: Sample::Seen(r#"3,000 failed sessions out of 20,000 (15 %)"#),
    },
    Examples {
        check: CheckId::ReportsMx,
        pass: Sample::Seen(r#"`mx1.example.org` has successful sessions and no failures in the reports"#),
        fail: Sample::Seen(r#"the reports show `certificate-expired` failures at `mx2.example.org`"#),
    },
    Examples {
        check: CheckId::ReportsReady,
        pass: Sample::Seen(r#"in testing, every reports.* check passes and the policy lists every MX: ready to switch to enforce"#),
        fail: Sample::Seen(r#"in testing, with failures at `mx2.example.org` in the last 14 days: not ready yet"#),
    },
    Examples {
        check: CheckId::ReportsBounds,
        pass: Sample::Seen(r#"every file given to `--reports` is a report and was read"#),
        fail: Sample::Seen(r#"`reports/huge.json.gz` is larger than 16 MiB decompressed: not read, and named"#),
    },
    Examples {
        check: CheckId::ChangeInBaseline,
        pass: Sample::Seen(r#"the domain was audited in the baseline run"#),
        fail: Sample::Seen(r#"the domain is new since the baseline: nothing to compare"#),
    },
    Examples {
        check: CheckId::ChangeIdNotBumped,
        pass: Sample::Seen(r#"the policy changed from `mode: testing` to `mode: enforce`, and the TXT id changed from `20250101T000000` to `20250601T000000`"#),
        fail: Sample::Seen(r#"the policy changed from `mode: testing` to `mode: enforce`, and the TXT id is still `20250101T000000`"#),
    },
    Examples {
        check: CheckId::ChangeIdUnneeded,
        pass: Sample::Seen(r#"the TXT id changed together with the policy"#),
        fail: Sample::Seen(r#"the TXT id changed, but the policy is byte for byte the same"#),
    },
    Examples {
        check: CheckId::ChangeModeWeakened,
        pass: Sample::Seen(r#"the mode stayed `enforce`, or went from `testing` to `enforce`"#),
        fail: Sample::Seen(r#"the mode went from `enforce` to `testing`"#),
    },
    Examples {
        check: CheckId::ChangeMaxAgeShortened,
        pass: Sample::Seen(r#"`max_age` stayed 1209600"#),
        fail: Sample::Seen(r#"`max_age` went from 1209600 to 86400"#),
    },
    Examples {
        check: CheckId::ChangeRecordRemoved,
        pass: Sample::Seen(r#"the TXT record is still published"#),
        fail: Sample::Seen(r#"the TXT record is gone while the policy is still served"#),
    },
    Examples {
        check: CheckId::ChangeMxSet,
        pass: Sample::Seen(r#"`mx3.example.org` was added as an MX host and to the policy's `mx` lines"#),
        fail: Sample::Seen(r#"`mx3.example.org` was added as an MX host, but the policy does not list it"#),
    },
    Examples {
        check: CheckId::ChangeCertificateReplaced,
        pass: Sample::Seen(r#"the MX certificate was renewed by the same CA"#),
        fail: Sample::Seen(r#"the MX certificate now comes from another CA"#),
    },
    Examples {
        check: CheckId::ChangeCertificateSooner,
        pass: Sample::Seen(r#"the new certificate expires later than the baseline's"#),
        fail: Sample::Seen(r#"the new certificate expires two months earlier than the baseline's"#),
    },
    Examples {
        check: CheckId::ChangeOutcomes,
        pass: Sample::Seen(r#"no check is worse than in the baseline"#),
        fail: Sample::Seen(r#"`smtp.certificate-name` passed in the baseline and fails now"#),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CATALOG;

    #[test]
    fn every_check_has_examples_once_in_catalog_order() {
        let checks: Vec<CheckId> = EXAMPLES.iter().map(|examples| examples.check).collect();
        let catalog: Vec<CheckId> = CATALOG.iter().map(|spec| spec.id).collect();
        assert_eq!(checks, catalog);
        for examples in EXAMPLES {
            assert_ne!(examples.pass, examples.fail, "{}", examples.check);
        }
    }
}
