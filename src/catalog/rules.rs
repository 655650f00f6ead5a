//! The rules the catalog cites (`TXT-01`, `POL-23`, …): each with the sections of the RFC or
//! guide it comes from, what it says, and what the auditor concludes when it is broken. This is
//! the project's own list, taken from the standards digest the project started from
//! (`shared/reference/standards.md`); `docs/rules.md` is its markdown form
//! (`mtasts checks --format rules-markdown`), and `mtasts explain` quotes it.
//!
//! Every rule a check cites is here, and every rule here is cited by a check or says why it is
//! not checked (the tests below insist).

use super::{CheckId, CATALOG};

/// One rule.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    /// Where it comes from: `RFC 8461 §3.1, §3.4`, `SGE §4 step 2`, `operational`.
    pub sources: &'static str,
    pub text: &'static str,
    /// What the auditor concludes when the rule is broken, in the digest's words; empty for a
    /// rule that only says how to look (follow CNAMEs, join strings).
    pub broken: &'static str,
    /// Why no check cites the rule; `None` for a rule some check implements.
    pub not_checked: Option<&'static str>,
}

/// The rules of one part of the standards, in the order of the digest.
#[derive(Debug)]
pub struct RuleArea {
    pub title: &'static str,
    pub rules: &'static [Rule],
}

const fn rule(
    id: &'static str,
    sources: &'static str,
    text: &'static str,
    broken: &'static str,
) -> Rule {
    Rule {
        id,
        sources,
        text,
        broken,
        not_checked: None,
    }
}

const fn unchecked(
    id: &'static str,
    sources: &'static str,
    text: &'static str,
    broken: &'static str,
    why: &'static str,
) -> Rule {
    Rule {
        id,
        sources,
        text,
        broken,
        not_checked: Some(why),
    }
}

/// Every rule, by area.
pub static RULES: &[RuleArea] = &[
    RuleArea {
        title: r#"The `_mta-sts` TXT record (RFC 8461 §3.1)"#,
        rules: &[
            rule(
                r#"TXT-01"#,
                r#"RFC 8461 §3.1, §3.4"#,
                r#"Look up TXT at `_mta-sts.<policy-domain>` (A-label form for IDNs). Nothing at `mta-sts.<domain>`, `_mta-sts.<domain>.<domain>` or the parent domain counts."#,
                r#"no record → "no MTA-STS" (rfc:WARN / sge,ncsc:FAIL); add a hint if a v=STSv1 TXT exists at a wrong name"#,
            ),
            rule(
                r#"TXT-02"#,
                r#"RFC 8461 §3.1, §8.2"#,
                r#"Follow CNAMEs (directly or chained) to the TXT record."#,
                "",
            ),
            rule(
                r#"TXT-03"#,
                r#"RFC 8461 §3.1"#,
                r#"If one TXT RR has several character-strings, join them with no separator before parsing."#,
                "",
            ),
            rule(
                r#"TXT-04"#,
                r#"RFC 8461 §3.1"#,
                r#"Among several TXT RRs, discard every record that does not begin with the exact bytes `v=STSv1;`."#,
                "",
            ),
            rule(
                r#"TXT-05"#,
                r#"RFC 8461 §3.1"#,
                r#"After TXT-04, exactly one record must remain. Zero or ≥2 → the sender assumes no policy."#,
                r#"≥2: FAIL ("no policy for any sender")"#,
            ),
            rule(
                r#"TXT-06"#,
                r#"RFC 8461 §3.1"#,
                r#"The remaining record must match the grammar; otherwise → no policy."#,
                r#"FAIL"#,
            ),
            rule(
                r#"TXT-07"#,
                r#"RFC 8461 §3.1"#,
                r#"Record must start with `v=STSv1` (no leading space); other fields in any order."#,
                r#"FAIL"#,
            ),
            rule(
                r#"TXT-08"#,
                r#"RFC 8461 §3.1"#,
                r#"`id` required; 1–32 ASCII letters/digits only (no `-`, `.`, `_`, `:`, space)."#,
                r#"FAIL"#,
            ),
            rule(
                r#"TXT-09"#,
                r#"RFC 8461 §3.1, §8.1"#,
                r#"`id` must change whenever the policy changes; values have no implied order."#,
                r#"not checkable statelessly; INFO (show id)"#,
            ),
            rule(
                r#"TXT-10"#,
                r#"RFC 8461 §3.1 ABNF"#,
                r#"Optional trailing `;` (plus WSP) allowed; trailing WSP without `;` is not in the grammar."#,
                r#"`v=STSv1; id=x;` PASS; `v=STSv1; id=x ` FAIL (mox rejects; most trim)"#,
            ),
            rule(
                r#"TXT-11"#,
                r#"RFC 8461 §3.1"#,
                r#"WSP is allowed *before* `;` by the ABNF, but such a record does not "begin with `v=STSv1;`" and is discarded when other TXT records exist (errata 6285)."#,
                r#"WARN (chasquid needs the literal prefix)"#,
            ),
            rule(
                r#"TXT-12"#,
                r#"RFC 8461 §3.1, §3.2"#,
                r#"Extension fields are allowed and ignored; value must not contain `=`, `;`, space."#,
                r#"bad extension syntax → record invalid → FAIL"#,
            ),
            rule(
                r#"TXT-13"#,
                r#"RFC 8461 §3.2"#,
                r#"Duplicated `id`: first wins (the §3.2 duplicate rule is written for both TXT and policy; mox applies it to TXT)."#,
                r#"WARN"#,
            ),
            rule(
                r#"TXT-14"#,
                r#"RFC 8461 §3.1"#,
                r#"US-ASCII only."#,
                r#"FAIL"#,
            ),
            rule(
                r#"TXT-15"#,
                r#"RFC 8461 §3.1, §5.1"#,
                r#"Absence of a usable TXT record does not by itself remove a sender's cached policy."#,
                r#"INFO in report text when the record is missing but a policy is still served"#,
            ),
            rule(
                r#"TXT-16"#,
                r#"RFC 8461 §3.1 with §3.3, §10.2"#,
                r#"NXDOMAIN / NODATA → "no record". SERVFAIL / timeout → ERROR (retry; do not print "no policy")."#,
                r#"ERROR"#,
            ),
        ],
    },
    RuleArea {
        title: r#"Policy fetch (RFC 8461 §3.2, §3.3, §7.1)"#,
        rules: &[
            rule(
                r#"FET-01"#,
                r#"RFC 8461 §3.2, §9.1"#,
                r#"URL is exactly `https://mta-sts.<policy-domain>/.well-known/mta-sts.txt` (lower-case path; port 443)."#,
                r#"n/a (we construct it); a file served only at `/.well-known/MTA-STS.txt` → FAIL"#,
            ),
            rule(
                r#"FET-02"#,
                r#"RFC 8461 §3.3"#,
                r#"HTTPS only; plain HTTP is never tried."#,
                "",
            ),
            rule(
                r#"FET-03"#,
                r#"RFC 8461 §3.2, §8.2"#,
                r#"`mta-sts.<domain>` must resolve (A/AAAA, CNAME allowed)."#,
                r#"NXDOMAIN → FAIL (`sts-policy-fetch-error`)"#,
            ),
            rule(
                r#"FET-04"#,
                r#"RFC 8461 §7.1"#,
                r#"Send SNI = `mta-sts.<domain>`. The server must present a matching chain or abort."#,
                "",
            ),
            rule(
                r#"FET-05"#,
                r#"RFC 8461 §3.3, §8.2; RFC 6125 §6.4.3; RFC 9525 §2, §6.3"#,
                r#"Certificate: valid for DNS-ID `mta-sts.<domain>` (SAN dNSName only; wildcard only as the whole left-most label), chains to a trusted root, not expired. The bare policy domain, the CNAME target's name, or a CN alone do not count."#,
                r#"FAIL (`sts-webpki-invalid`)"#,
            ),
            rule(
                r#"FET-06"#,
                r#"RFC 8461 §3.3"#,
                r#"Revocation checking (OCSP/CRL) is optional."#,
                r#"INFO"#,
            ),
            rule(
                r#"FET-07"#,
                r#"RFC 8461 §3.3"#,
                r#"Only HTTP status 200 is a policy. 3xx redirects MUST NOT be followed, even to a valid policy."#,
                r#"any non-200 → FAIL; show `Location` for 3xx"#,
            ),
            rule(
                r#"FET-08"#,
                r#"RFC 8461 §3.3"#,
                r#"Senders MUST NOT use HTTP caching. The auditor sends no conditional headers (`If-None-Match`/`If-Modified-Since`); a 304 is not a policy."#,
                "",
            ),
            rule(
                r#"FET-09"#,
                r#"RFC 8461 §3.2"#,
                r#"Media type SHOULD be checked to be `text/plain` (case-insensitive; parameters allowed)."#,
                r#"missing or other type → FAIL (several senders reject: go-mtasts, chasquid, postfix-mta-sts-resolver)"#,
            ),
            rule(
                r#"FET-10"#,
                r#"RFC 8461 §3.2"#,
                r#"`charset=utf-8` / `charset=us-ascii` are honoured; the RFC says "all parameters other than" these are ignored."#,
                r#"other charset → WARN; body not decodable as UTF-8 → FAIL"#,
            ),
            rule(
                r#"FET-11"#,
                r#"RFC 8461 §3.3"#,
                r#"Size: senders MAY cap the body; suggested cap 64 KB."#,
                r#"> 65536 bytes → FAIL; > 10240 bytes → WARN (chasquid silently truncates at 10 KiB)"#,
            ),
            rule(
                r#"FET-12"#,
                r#"RFC 8461 §3.3"#,
                r#"Time: senders MAY time out; suggested 1 minute; hosts SHOULD answer within it."#,
                r#"> 60 s → FAIL; > 4 s → WARN (postfix-mta-sts-resolver default total timeout is 4 s)"#,
            ),
            rule(
                r#"FET-13"#,
                r#"RFC 8461 §7.2; RFC 8996 §4, §5"#,
                r#"TLS for the fetch: 1.2 or newer."#,
                r#"only ≤ 1.1 → FAIL"#,
            ),
            rule(
                r#"FET-14"#,
                r#"RFC 8461 §3.3"#,
                r#"Fetch failure with a valid TXT record and no cached policy → sender delivers as without MTA-STS (fail open); with a cached policy → it keeps applying it."#,
                r#"report consequence in text"#,
            ),
            rule(
                r#"FET-15"#,
                r#"RFC 8461 §3.3"#,
                r#"After a failed fetch, senders SHOULD wait ≥ 5 minutes per policy id before retrying."#,
                r#"INFO"#,
            ),
            rule(
                r#"FET-16"#,
                r#"RFC 8461 §8.2"#,
                r#"A hosting provider may serve the policy via CNAME or reverse proxy, but the certificate must still be for `mta-sts.<user-domain>`. A `Cache-Control: max-age=60` on such endpoints is suggested for proxies."#,
                r#"long CDN cache (> 1 h) → INFO (slows updates; NCSC §6 notes this)"#,
            ),
        ],
    },
    RuleArea {
        title: r#"Policy file (RFC 8461 §3.2)"#,
        rules: &[
            rule(
                r#"POL-01"#,
                r#"RFC 8461 §3.2"#,
                r#"Whole body matches `sts-policy-record`."#,
                r#"FAIL (`sts-policy-invalid`); list the offending line/byte"#,
            ),
            rule(
                r#"POL-02"#,
                r#"RFC 8461 §3.2"#,
                r#"`version: STSv1` present."#,
                r#"FAIL"#,
            ),
            rule(
                r#"POL-03"#,
                r#"RFC 8461 §3.2 (no order); Google Workspace help and NCSC say it must be first"#,
                r#"`version` not the first line."#,
                r#"rfc:WARN / ncsc:FAIL"#,
            ),
            rule(
                r#"POL-04"#,
                r#"RFC 8461 §3.2"#,
                r#"`mode` present, one of `enforce` `testing` `none` (exact case)."#,
                r#"FAIL"#,
            ),
            rule(
                r#"POL-05"#,
                r#"RFC 8461 §3.2; errata 7282"#,
                r#"`max_age` present, 1–10 digits, value ≤ 31557600 (one year)."#,
                r#"> 31557600 → FAIL; non-digits, sign, decimal, `_` → FAIL"#,
            ),
            rule(
                r#"POL-06"#,
                r#"RFC 8461 §3.2, §10.2"#,
                r#"`max_age` in "weeks or greater" is expected; long values are preferred against discovery attacks."#,
                r#"< 86400 → WARN; 86400–604799 → INFO (rfc)"#,
            ),
            rule(
                r#"POL-07"#,
                r#"RFC 8461 §3.2"#,
                r#"`max_age: 0` is grammatical ("non-negative") but defeats caching."#,
                r#"WARN (chasquid rejects ≤ 0; Stalwart caches anything < 3600 for 86400 s instead)"#,
            ),
            rule(
                r#"POL-08"#,
                r#"RFC 8461 §3.2 ABNF comment"#,
                r#"≥ 1 `mx` when mode is `testing` or `enforce`."#,
                r#"FAIL"#,
            ),
            rule(
                r#"POL-09"#,
                r#"RFC 8461 §3.2, §8.3"#,
                r#"`mode: none` without `mx` is valid, but Stalwart and chasquid reject a policy with no `mx`; a rejected `none` policy fails to replace a cached `enforce` one."#,
                r#"WARN ("add an mx line even in mode none")"#,
            ),
            rule(
                r#"POL-10"#,
                r#"RFC 8461 §3.2, §4.1"#,
                r#"Each `mx` value is `["*."] Domain`: A-label (no U-labels), no trailing dot, no `_`, the `*` only as the whole left-most label, no lists."#,
                r#"FAIL"#,
            ),
            rule(
                r#"POL-11"#,
                r#"RFC 8461 §3.2"#,
                r#"One MX per `mx:` line; each pair on its own line."#,
                r#"`mx: a.example, b.example` → FAIL"#,
            ),
            rule(
                r#"POL-12"#,
                r#"RFC 8461 §3.2"#,
                r#"Non-repeatable field duplicated (`version`,`mode`,`max_age`, extensions): only the first counts."#,
                r#"WARN (postfix-mta-sts-resolver, Stalwart, go-mtasts, chasquid, mailauth keep the *last*)"#,
            ),
            rule(
                r#"POL-13"#,
                r#"RFC 8461 §3.2"#,
                r#"Unknown keys are ignored, including case-variants of known keys."#,
                r#"INFO; WARN "did you mean `mode`?" when the key equals a known one case-insensitively or with space/`-` instead of `_` (`max age`, `max-age`, `Max_Age`)"#,
            ),
            rule(
                r#"POL-14"#,
                r#"RFC 8461 §3.2"#,
                r#"Extension names ≤ 32 chars, start alphanumeric; values visible chars/UTF-8, no leading/trailing space."#,
                r#"FAIL (mox rejects a 33-char key)"#,
            ),
            rule(
                r#"POL-15"#,
                r#"RFC 8461 §3.2 ABNF `sts-policy-term`; errata 6253"#,
                r#"Line ends: LF and CRLF both valid; mixed is valid; bare CR invalid."#,
                r#"CR-only → FAIL; LF-only → PASS (ncsc: INFO "NCSC asks for CRLF")"#,
            ),
            rule(
                r#"POL-16"#,
                r#"RFC 8461 §3.2 ABNF"#,
                r#"Blank lines / extra final terminator."#,
                r#"FAIL (mox and go-mtasts reject; postfix-mta-sts-resolver, Stalwart, chasquid, mailauth skip)"#,
            ),
            rule(
                r#"POL-17"#,
                r#"RFC 8461 §3.2 ABNF"#,
                r#"Leading WSP on a line, WSP before `:`."#,
                r#"FAIL (strict; Stalwart, chasquid, mailauth trim)"#,
            ),
            rule(
                r#"POL-18"#,
                r#"RFC 8461 §3.2 ABNF"#,
                r#"Trailing WSP after a value; WSP/tab after `:`."#,
                r#"PASS (ncsc: INFO "NCSC says no extra spaces")"#,
            ),
            rule(
                r#"POL-19"#,
                r#"RFC 8461 §3.2 ABNF"#,
                r#"UTF-8 BOM at start."#,
                r#"FAIL"#,
            ),
            rule(
                r#"POL-20"#,
                r#"RFC 8461 §3.2"#,
                r#"Body must be the policy, not an HTML page (SPA catch-all, login page, 404 page with 200)."#,
                r#"FAIL"#,
            ),
            rule(
                r#"POL-21"#,
                r#"RFC 8461 §5, §8.3"#,
                r#"`mode: none` → senders treat the domain as having no active policy; used for clean removal."#,
                r#"rfc:WARN / sge,ncsc:FAIL"#,
            ),
            rule(
                r#"POL-22"#,
                r#"RFC 8461 §5"#,
                r#"`mode: testing` → deliver anyway, report via TLS-RPT."#,
                r#"rfc:INFO / sge:FAIL (after rollout) / ncsc:WARN"#,
            ),
            rule(
                r#"POL-23"#,
                r#"RFC 8461 §10.4"#,
                r#"Wildcard `mx` allowed by the RFC but lets any host with a name and certificate under that suffix receive mail."#,
                r#"rfc:WARN / sge,ncsc:FAIL; FAIL in every profile if the suffix is a public suffix (`*.com`, `*.govt.nz`)"#,
            ),
            rule(
                r#"POL-24"#,
                r#"RFC 8461 §10.4 (over-broad)"#,
                r#"`mx` patterns that match no DNS MX host (stale entries)."#,
                r#"WARN"#,
            ),
        ],
    },
    RuleArea {
        title: r#"Caching, refresh, update and removal (RFC 8461 §3.3, §5.1, §8)"#,
        rules: &[
            rule(
                r#"CAC-01"#,
                r#"RFC 8461 §3.2"#,
                r#"A policy may be cached for up to `max_age` seconds from the last fetch (SHOULD)."#,
                r#""#,
            ),
            rule(
                r#"CAC-02"#,
                r#"RFC 8461 §3, §5.1"#,
                r#"A sender with a cached policy compares the TXT `id` to the cached one; a different id → fetch the new policy. Same id and not expired → use the cache."#,
                r#""#,
            ),
            unchecked(
                r#"CAC-03"#,
                r#"RFC 8461 §3.3, §10.2"#,
                r#"Senders SHOULD refresh cached policies proactively (about daily) before expiry, and alert admins on repeated failures unless mode is `none`."#,
                r#""#,
                r#"A sender's behaviour (refreshing cached policies, alerting on failures): nothing the domain publishes shows it."#,
            ),
            unchecked(
                r#"CAC-04"#,
                r#"RFC 8461 §5, §5.1"#,
                r#"Under `enforce`, a failed delivery MUST NOT become permanent before the sender re-checks the TXT `id`; failures SHOULD be treated as temporary."#,
                r#""#,
                r#"A sender's behaviour under enforce (treating failures as temporary): nothing the domain publishes shows it."#,
            ),
            rule(
                r#"CAC-05"#,
                r#"RFC 8461 §8.1"#,
                r#"Update order: change the HTTPS policy first, then the TXT `id`; keep old policies working for the TXT TTL."#,
                r#""#,
            ),
            rule(
                r#"CAC-06"#,
                r#"RFC 8461 §8.3"#,
                r#"Removal: publish `mode: none` with a small `max_age` (e.g. one day) and a new id; wait until every earlier policy's `max_age` has elapsed; then delete TXT and endpoint."#,
                r#""#,
            ),
            rule(
                r#"CAC-07"#,
                r#"RFC 8461 §3.1, §8.1"#,
                r#"A policy that changes without an id change reaches caching senders only at expiry or proactive refresh. The auditor can only detect this with stored state (optional `--previous` snapshot)."#,
                r#""#,
            ),
            unchecked(
                r#"CAC-08"#,
                r#"RFC 8461 §3.3; seed 003 §4"#,
                r#"Senders limit re-fetch after failure to ≥ 5 min per id. NCSC reports vendors backing off up to 4 weeks if the policy is missing when the TXT first appears (vendor behaviour, not RFC)."#,
                r#""#,
                r#"A sender's retry behaviour after a failed fetch: nothing the domain publishes shows it."#,
            ),
        ],
    },
    RuleArea {
        title: r#"Finding the MX hosts (RFC 5321 §5.1, RFC 7505)"#,
        rules: &[
            rule(
                r#"MX-01"#,
                r#"RFC 5321 §5.1; RFC 8461 §1.1"#,
                r#"Look up MX for the policy domain; follow a CNAME at the domain itself (the Policy Domain for MTA-STS/TLS-RPT stays the original recipient domain)."#,
                "",
            ),
            rule(
                r#"MX-02"#,
                r#"RFC 5321 §5.1"#,
                r#"NXDOMAIN for the domain → permanent error."#,
                r#"FAIL ("domain does not exist")"#,
            ),
            rule(
                r#"MX-03"#,
                r#"RFC 5321 §5.1"#,
                r#"Temporary DNS error → senders queue and retry."#,
                r#"ERROR"#,
            ),
            rule(
                r#"MX-04"#,
                r#"RFC 5321 §5.1; RFC 8461 §4.1"#,
                r#"No MX records (NODATA) → implicit MX: the domain itself at preference 0, via its A/AAAA. MTA-STS then matches the domain name itself against the policy and the certificate must be valid for it."#,
                r#"WARN (fragile); evaluate the domain name as the MX host"#,
            ),
            rule(
                r#"MX-05"#,
                r#"RFC 5321 §5.1"#,
                r#"When MX records exist, address records of the domain are not used."#,
                "",
            ),
            rule(
                r#"MX-06"#,
                r#"RFC 5321 §5.1"#,
                r#"Sort by preference (lower first); randomise equal preferences. The auditor probes all."#,
                "",
            ),
            rule(
                r#"MX-07"#,
                r#"RFC 5321 §5.1; RFC 2181 §10.3"#,
                r#"Each MX target must resolve to ≥ 1 A/AAAA. A target that is a CNAME is outside the standard. An IP literal as target is invalid."#,
                r#"no address → FAIL; CNAME target → WARN; IP literal → FAIL"#,
            ),
            rule(
                r#"MX-08"#,
                r#"RFC 7505 §3, §4.1"#,
                r#"Null MX: a single `MX 0 .` means the domain accepts no mail; no other MX may be published. MTA-STS is then irrelevant (senders do not attempt delivery)."#,
                r#"null MX → N/A (INFO); null MX plus other MX → FAIL; `MX 10 .` → WARN (not the defined form)"#,
            ),
            unchecked(
                r#"MX-09"#,
                r#"RFC 8461 §3.4"#,
                r#"Mail to a subdomain uses that subdomain's own policy; no fallback to the parent zone."#,
                r#"INFO when auditing a subdomain"#,
                r#"Each domain is audited with its own policy and never its parent's, which is this rule; no finding is needed to state it."#,
            ),
            unchecked(
                r#"MX-10"#,
                r#"RFC 8461 §3.4; Microsoft Learn"#,
                r#"Via a smart host, the smart host's domain is the Policy Domain (Exchange Online does this too)."#,
                r#"INFO"#,
                r#"Smart hosts are a sender's configuration, which an audit of the receiving domain cannot see."#,
            ),
        ],
    },
    RuleArea {
        title: r#"Matching an MX host against the policy (RFC 8461 §4.1)"#,
        rules: &[
            rule(
                r#"MXM-01"#,
                r#"RFC 8461 §4.1"#,
                r#"Match the MX *record name* (the MX RDATA target), not a CNAME target or PTR name."#,
                "",
            ),
            rule(
                r#"MXM-02"#,
                r#"RFC 8461 §4.1 (RFC 6125 rules); RFC 9525 §6.3"#,
                r#"Compare case-insensitively; drop one trailing root dot from the DNS name; compare A-labels."#,
                "",
            ),
            rule(
                r#"MXM-03"#,
                r#"RFC 8461 §4.1"#,
                r#"Exact pattern: whole name equal."#,
                "",
            ),
            rule(
                r#"MXM-04"#,
                r#"RFC 8461 §4.1, Appendix B `policyMatches`"#,
                r#"`*.suffix`: the host must be exactly one label followed by `.suffix`. `*.example.com` matches `mail.example.com`, not `example.com`, not `a.b.example.com`."#,
                "",
            ),
            rule(
                r#"MXM-05"#,
                r#"RFC 8461 §4, §5, §5.1, §8.4"#,
                r#"Every MX host of the domain should match a pattern. An unmatched host is treated by an enforcing sender as unreachable (it moves to the next candidate). If no host matches, mail is not delivered."#,
                r#"any MX unmatched: enforce FAIL, testing WARN ("would fail under enforce"), sge FAIL (SGE: list all MX incl. alternates). Say whether *no* host matches (no delivery at all) or only some (RFC §8.4: backup-MX faults stay hidden until the primary fails)"#,
            ),
            rule(
                r#"MXM-06"#,
                r#"RFC 8461 §5"#,
                r#"`testing`: failures are reported, mail still flows. `none`: no checks."#,
                "",
            ),
        ],
    },
    RuleArea {
        title: r#"STARTTLS on the MX hosts (RFC 3207, RFC 5321)"#,
        rules: &[
            rule(
                r#"SMTP-01"#,
                r#"RFC 5321 §3.1"#,
                r#"Connect to port 25 of each address of each MX. Unreachable from our vantage point (common: outbound 25 blocked) → not a finding against the domain."#,
                r#"ERROR (state the likely cause)"#,
            ),
            rule(
                r#"SMTP-02"#,
                r#"RFC 5321 §4.2 (Greeting ABNF), §4.5.3.2.1"#,
                r#"Read the greeting; it may be multi-line (`220-` … `220 `). `421`/`554` greetings mean the server refuses the session. Wait long enough: clients SHOULD allow 5 min for the 220 (auditor default ≥ 30 s, configurable)."#,
                r#"554/421 → ERROR with text"#,
            ),
            rule(
                r#"SMTP-03"#,
                r#"RFC 5321 §4.2, §4.2.1, §4.5.3.1.5"#,
                r#"Multi-line replies: lines `NNN-text`, last line `NNN text` or bare `NNN`; all lines carry the same code; a reply line is ≤ 512 octets. Act on the code only."#,
                "",
            ),
            rule(
                r#"SMTP-04"#,
                r#"RFC 5321 §2.4, §4.1.1.1; RFC 3207 §2, §3"#,
                r#"Send `EHLO <resolvable FQDN>`. Find the `STARTTLS` keyword case-insensitively among the 250 lines."#,
                r#"not advertised → FAIL (`starttls-not-supported`)"#,
            ),
            rule(
                r#"SMTP-05"#,
                r#"RFC 3207 §4"#,
                r#"`STARTTLS` has no parameters. Replies: `220` ready, `501` syntax, `454` TLS temporarily unavailable."#,
                r#"454/other → FAIL (`starttls-not-supported`)"#,
            ),
            rule(
                r#"SMTP-06"#,
                r#"RFC 3207 §4.2"#,
                r#"After the TLS handshake the session is reset: discard everything learned before TLS (including any bytes that arrived after the `220` and before the handshake), send EHLO again. The server must not advertise STARTTLS again."#,
                r#"STARTTLS re-advertised → WARN; pre-handshake injected bytes → WARN"#,
            ),
            rule(
                r#"SMTP-07"#,
                r#"RFC 8461 §7.1"#,
                r#"Send SNI = MX hostname. Servers MUST NOT require SNI; without SNI they send a fallback chain."#,
                r#"optional second probe without SNI: handshake aborted → WARN"#,
            ),
            rule(
                r#"SMTP-08"#,
                r#"RFC 3207 §4.1; 5321"#,
                r#"End with `QUIT`; never send MAIL/RCPT."#,
                "",
            ),
        ],
    },
    RuleArea {
        title: r#"Certificates of the policy host and the MX hosts"#,
        rules: &[
            rule(
                r#"CRT-01"#,
                r#"RFC 8461 §3.3, §4.2"#,
                r#"Chain to a root trusted by the sender (a browser/OS-like Web PKI set, e.g. Mozilla's). Missing intermediates are not fetched (AIA)."#,
                r#"FAIL (`certificate-not-trusted`)"#,
            ),
            rule(
                r#"CRT-02"#,
                r#"RFC 8461 §3.3, §4.2; RFC 5280"#,
                r#"Not expired (and not yet-to-be-valid)."#,
                r#"FAIL (`certificate-expired`)"#,
            ),
            rule(
                r#"CRT-03"#,
                r#"RFC 8461 §4.2; RFC 9525 §2"#,
                r#"MX certificate MUST carry a SAN DNS-ID matching the MX hostname; CN is not used."#,
                r#"FAIL (`certificate-host-mismatch`)"#,
            ),
            rule(
                r#"CRT-04"#,
                r#"RFC 8461 §3.3"#,
                r#"Policy-host certificate: DNS-ID `mta-sts.<domain>`; matching only against DNS-IDs."#,
                r#"FAIL (`sts-webpki-invalid`)"#,
            ),
            rule(
                r#"CRT-05"#,
                r#"RFC 8461 §3.3; RFC 6125 §6.4.3; RFC 9525 §6.3"#,
                r#"Wildcards: at most one `*`, and only as the entire left-most label; it matches exactly one label. `f*.example.com`, `*.*.example.com`, `www.*.example.com` are ignored."#,
                r#"mismatch → as CRT-03/04"#,
            ),
            rule(
                r#"CRT-06"#,
                r#"RFC 8461 §3.3, §4.2"#,
                r#"Revocation MAY be checked."#,
                r#"INFO"#,
            ),
            rule(
                r#"CRT-07"#,
                r#"RFC 8461 §2"#,
                r#"A certificate that is only DANE-valid (self-signed, TLSA `3 1 1`) fails MTA-STS; MTA-STS must never override a *failing* DANE check."#,
                r#"FAIL for MTA-STS, INFO "TLSA present""#,
            ),
            rule(
                r#"CRT-08"#,
                r#"operational"#,
                r#"Expiry within 14 days."#,
                r#"WARN"#,
            ),
        ],
    },
    RuleArea {
        title: r#"TLS versions (RFC 8461 §7.2, RFC 8996)"#,
        rules: &[
            rule(
                r#"TLSV-01"#,
                r#"RFC 8461 §7.2"#,
                r#"MTA-STS MTAs MUST support TLS 1.2 or 1.3; follow RFC 7525 (BCP 195)."#,
                r#"MX cannot do ≥ 1.2 → FAIL"#,
            ),
            rule(
                r#"TLSV-02"#,
                r#"RFC 8996 §4, §5"#,
                r#"TLS 1.0 and 1.1 MUST NOT be used or negotiated."#,
                r#"MX still *accepts* 1.0/1.1 when offered → rfc:WARN / sge:FAIL (NZISM 15.2 via SGE §3)"#,
            ),
            rule(
                r#"TLSV-03"#,
                r#"—"#,
                r#"Report negotiated version and cipher."#,
                r#"INFO"#,
            ),
        ],
    },
    RuleArea {
        title: r#"The `_smtp._tls` TLS-RPT record (RFC 8460 §3)"#,
        rules: &[
            rule(
                r#"RPT-01"#,
                r#"RFC 8460 §3"#,
                r#"TXT at `_smtp._tls.<policy-domain>` (not `smtp.tls`, `_smtp.tls`, `_smtp_tls`). CNAMEs are followed by ordinary DNS."#,
                r#"missing: rfc:WARN (8461 §6 pairs MTA-STS with TLS-RPT) / sge,ncsc:FAIL; hint if found at a wrong name"#,
            ),
            rule(
                r#"RPT-02"#,
                r#"RFC 8460 §3"#,
                r#"Join multiple character-strings without spaces."#,
                "",
            ),
            rule(
                r#"RPT-03"#,
                r#"RFC 8460 §3"#,
                r#"Discard records not beginning with `v=TLSRPTv1;`; exactly one must remain, else the sender assumes no TLS-RPT."#,
                r#"≥ 2 → FAIL"#,
            ),
            rule(
                r#"RPT-04"#,
                r#"RFC 8460 §3"#,
                r#"Record must parse; `v=TLSRPTv1` first, case-exact; ≥ 1 field after it."#,
                r#"FAIL"#,
            ),
            rule(
                r#"RPT-05"#,
                r#"RFC 8460 §3"#,
                r#"`rua` required, ≥ 1 URI, comma-separated, WSP around commas allowed."#,
                r#"FAIL"#,
            ),
            rule(
                r#"RPT-06"#,
                r#"RFC 8460 §3"#,
                r#"Only `mailto:` and `https:` are supported schemes."#,
                r#"only unsupported schemes (e.g. `http:`) → FAIL; some unsupported → WARN"#,
            ),
            rule(
                r#"RPT-07"#,
                r#"RFC 8460 §3"#,
                r#"`,` `!` `;` inside a URI must be percent-encoded (so DMARC-style `!10m` size suffixes do not belong here)."#,
                r#"WARN"#,
            ),
            rule(
                r#"RPT-08"#,
                r#"RFC 8460 §3; RFC 6068"#,
                r#"`mailto:` needs an address; `https:` must be an absolute URL."#,
                r#"FAIL"#,
            ),
            rule(
                r#"RPT-09"#,
                r#"RFC 8460 §3"#,
                r#"Extensions (e.g. a copied DMARC `ruf=`) are ignored."#,
                r#"INFO"#,
            ),
            rule(
                r#"RPT-10"#,
                r#"RFC 8460 §3 ABNF"#,
                r#"Several `rua=` fields are grammatical; the RFC does not say how they combine. Treat as the union."#,
                r#"WARN"#,
            ),
            unchecked(
                r#"RPT-11"#,
                r#"RFC 8460 §3"#,
                r#"Reporters MAY send to each rua; delivery counts when one accepts."#,
                r#"—"#,
                r#"A reporter's behaviour (which rua to send to): nothing the domain publishes shows it."#,
            ),
            rule(
                r#"RPT-12"#,
                r#"RFC 8460 §7"#,
                r#"No authorisation record is needed for a rua in another domain (unlike DMARC)."#,
                r#"never FAIL for this"#,
            ),
            rule(
                r#"RPT-13"#,
                r#"operational"#,
                r#"`mailto:` target domain should be able to receive mail (MX or implicit MX, not null MX)."#,
                r#"WARN"#,
            ),
            rule(
                r#"RPT-14"#,
                r#"RFC 8460 §7"#,
                r#"A large TTL (or DNSSEC) on this record is encouraged."#,
                r#"TTL < 3600 → INFO"#,
            ),
            rule(
                r#"RPT-15"#,
                r#"RFC 8460 §3, §7"#,
                r#"An HTTPS rua with a bad certificate still works: reporters MAY ignore certificate errors."#,
                r#"WARN at most"#,
            ),
        ],
    },
    RuleArea {
        title: r#"New Zealand SGE: MTA-STS Deployment Guide v1.1 (Nov 2025)"#,
        rules: &[
            rule(
                r#"SGE-01"#,
                r#"SGE §3"#,
                r#"MTA-STS enabled and in `enforce` on every email-enabled domain (SGE Framework, beyond NZISM's SHOULD)."#,
                r#"TXT+policy valid and mode `enforce`, else FAIL; null-MX domains N/A"#,
            ),
            rule(
                r#"SGE-02"#,
                r#"SGE §3"#,
                r#"TLS 1.2 minimum (NZISM 15.2); the guide notes this is enforced via the Implicit TLS guide, not MTA-STS."#,
                r#"TLSV-01/02: accepting TLS 1.0/1.1 → FAIL"#,
            ),
            rule(
                r#"SGE-03"#,
                r#"SGE §4"#,
                r#"TLS-RPT in place before MTA-STS."#,
                r#"RPT record valid, else FAIL"#,
            ),
            rule(
                r#"SGE-04"#,
                r#"SGE §4 steps 2–6"#,
                r#"Deploy in `testing`, monitor TLS-RPT, then switch to `enforce`."#,
                r#"`testing` → FAIL (end state is enforce), message "still in testing""#,
            ),
            rule(
                r#"SGE-05"#,
                r#"SGE §4 step 1"#,
                r#"TXT `v=STSv1; id=<timestamp>`; `v=STSv1` exactly, followed by `;`."#,
                r#"TXT-*"#,
            ),
            rule(
                r#"SGE-06"#,
                r#"SGE §4 step 1, step 5"#,
                r#"TXT TTL 86400; optionally 3600 (and `max_age` 3600) around a mode change."#,
                r#"TTL not 86400/3600 → INFO"#,
            ),
            rule(
                r#"SGE-07"#,
                r#"SGE §4 step 2"#,
                r#"`max_age: 604800` as the default."#,
                r#"< 604800 → WARN (3600 allowed as a temporary change window, INFO)"#,
            ),
            rule(
                r#"SGE-08"#,
                r#"SGE §4 step 2"#,
                r#"`mx` lines must cover all MX hosts, including alternates."#,
                r#"MXM-05"#,
            ),
            rule(
                r#"SGE-09"#,
                r#"SGE §4 step 2 note"#,
                r#"No `*` wildcards in `mx`."#,
                r#"POL-23 → FAIL"#,
            ),
            rule(
                r#"SGE-10"#,
                r#"SGE §4 step 2; App. 2"#,
                r#"Policy at `https://mta-sts.<domain>/.well-known/mta-sts.txt`, publicly trusted CA, highly available."#,
                r#"FET-*, CRT-*"#,
            ),
            rule(
                r#"SGE-11"#,
                r#"SGE §4 step 5"#,
                r#"After editing the policy to enforce, update the TXT id."#,
                r#"CAC-05 (INFO)"#,
            ),
            rule(
                r#"SGE-12"#,
                r#"SGE App. 1, 2, 3"#,
                r#"CNAME delegation of `_mta-sts` / `mta-sts` to a provider is fine."#,
                r#"TXT-02, FET-05"#,
            ),
            rule(
                r#"SGE-13"#,
                r#"SGE App. 1"#,
                r#"`mode: none` is "of no value"."#,
                r#"POL-21 → FAIL"#,
            ),
            rule(
                r#"SGE-14"#,
                r#"SGE App. 2"#,
                r#"DANE not recommended at this stage."#,
                r#"INFO only"#,
            ),
        ],
    },
    RuleArea {
        title: r#"UK NCSC: "Set up TLS-RPT and MTA-STS""#,
        rules: &[
            rule(
                r#"NCSC-01"#,
                r#"NCSC §1"#,
                r#"Set up TLS-RPT first: `_smtp._tls` TXT `v=TLSRPTv1;rua=mailto:tls-rua@mailcheck.service.ncsc.gov.uk` for Mail Check."#,
                r#"RPT-*; missing → FAIL; Mail Check rua absent → INFO"#,
            ),
            rule(
                r#"NCSC-02"#,
                r#"NCSC §2"#,
                r#"Policy in `testing` first; file named `mta-sts.txt`."#,
                r#"POL-22"#,
            ),
            rule(
                r#"NCSC-03"#,
                r#"NCSC §2, §6"#,
                r#"CRLF line ends; no extra spaces; no blank lines at top or bottom."#,
                r#"POL-15/16/17/18"#,
            ),
            rule(
                r#"NCSC-04"#,
                r#"NCSC §2"#,
                r#"No wildcard `mx`; use the FQDNs from the MX records."#,
                r#"POL-23 → FAIL"#,
            ),
            rule(
                r#"NCSC-05"#,
                r#"NCSC §2, §6 tables"#,
                r#"`version: STSv1` must be the first line."#,
                r#"POL-03 → FAIL"#,
            ),
            rule(
                r#"NCSC-06"#,
                r#"NCSC §2"#,
                r#"`max_age: 86401` in testing."#,
                r#"testing with max_age ≠ 86401 → INFO"#,
            ),
            rule(
                r#"NCSC-07"#,
                r#"NCSC §3"#,
                r#"Policy URL `https://mta-sts.<domain>/.well-known/mta-sts.txt`, publicly readable, certificate; served as `text/plain` (worker example)."#,
                r#"FET-*"#,
            ),
            rule(
                r#"NCSC-08"#,
                r#"NCSC §3"#,
                r#"Several hosting copies (several A/AAAA) are fine."#,
                r#"probe every address; mismatching bodies → WARN"#,
            ),
            unchecked(
                r#"NCSC-09"#,
                r#"NCSC §4"#,
                r#"Check the file is visible from several networks; wait 48 h before publishing the TXT record."#,
                r#"— (process)"#,
                r#"A step of the deployment process (look from several networks, wait 48 hours), not something a deployment can be seen to break."#,
            ),
            rule(
                r#"NCSC-10"#,
                r#"NCSC §5"#,
                r#"TXT `v=STSv1; id=<date>`; id alphanumeric ≤ 32 and new on every change."#,
                r#"TXT-08"#,
            ),
            rule(
                r#"NCSC-11"#,
                r#"NCSC §6"#,
                r#"≥ 2 weeks of clean TLS-RPT in testing, then `enforce`."#,
                r#"testing → WARN"#,
            ),
            rule(
                r#"NCSC-12"#,
                r#"NCSC §6"#,
                r#"`max_age: 1209600` in enforce."#,
                r#"enforce with < 1209600 → WARN"#,
            ),
            rule(
                r#"NCSC-13"#,
                r#"NCSC §6"#,
                r#"Switching: replace the file, wait until every CDN node serves it, then change the TXT id."#,
                r#"CAC-05"#,
            ),
        ],
    },
    RuleArea {
        title: r#"Edge cases the catalog cites"#,
        rules: &[rule(
            r#"EC-71"#,
            r#"domain accepts no mail (RFC 7505 §3)."#,
            r#"Null MX `0 .` and no MTA-STS"#,
            r#"N/A (sge: PASS)"#,
        )],
    },
];

/// The rule with this ID.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .flat_map(|area| area.rules)
        .find(|rule| rule.id == id)
}

/// The checks that cite `rule`, in catalog order.
pub fn cited_by(rule: &str) -> impl Iterator<Item = CheckId> + '_ {
    CATALOG
        .iter()
        .filter(move |spec| spec.rules.contains(&rule))
        .map(|spec| spec.id)
}

/// The anchor of a rule in docs/rules.md: its ID, written as an explicit `<a id>`.
pub fn docs_anchor(rule: &str) -> String {
    format!("docs/rules.md#{rule}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_rule_a_check_cites_is_listed() {
        for spec in CATALOG {
            for rule in spec.rules {
                assert!(
                    find(rule).is_some(),
                    "{} cites {rule}, which is not listed",
                    spec.id
                );
            }
        }
    }

    #[test]
    fn every_listed_rule_is_cited_or_says_why_not() {
        let mut seen = HashSet::new();
        for rule in RULES.iter().flat_map(|area| area.rules) {
            assert!(seen.insert(rule.id), "{} twice", rule.id);
            let cited = cited_by(rule.id).next().is_some();
            match rule.not_checked {
                Some(why) => assert!(
                    !cited,
                    "{} is cited by a check but marked not checked ({why})",
                    rule.id
                ),
                None => assert!(
                    cited,
                    "{} is cited by no check: cite it or say why not",
                    rule.id
                ),
            }
            assert!(
                !rule.text.is_empty() && !rule.sources.is_empty(),
                "{}",
                rule.id
            );
        }
    }
}
