//! DNS through hickory-resolver, kept as [`DnsAnswer`]s: TXT character-strings apart
//! (RFC 1035 §3.3.14, joined later per RFC 8461 §3.1 / RFC 8460 §3), TTLs, CNAME chains, and
//! NXDOMAIN / NODATA / failure kept distinct (RFC 2308; a SERVFAIL is not "no record").
//!
//! Questions go out the way a sender's stub resolver asks them: recursion desired, EDNS0,
//! UDP with a retry over TCP when the answer is truncated, names taken as fully qualified
//! (no search domains), no /etc/hosts.
//!
//! The resolver's cache is on, bounded to [`CACHE_ENTRIES`] answers (least recently used
//! go first), and shared by every domain of a run: a government's domains share a few MX and
//! report hosts, and asking for them once per domain would be both slow and impolite. It is on
//! for a single domain too: one audit never asks a name judged on its TTL twice, so there it
//! changes nothing, and one code path is easier to trust. A cached answer shows
//! its TTL counted down by the time since it was first asked (seconds to minutes in a long
//! run); the TTL checks allow 10%, and the names they judge (`_mta-sts.D`, `_smtp._tls.D`)
//! belong to one domain each, so they are asked once and never come from the cache.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolveHosts, ResolverConfig};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::proto::{ProtoError, ProtoErrorKind};
use hickory_resolver::{ResolveError, ResolveErrorKind, TokioResolver};

use super::cert::hex;
use super::NetworkConfig;
use crate::escape::escape_str;
use crate::observe::{DnsAnswer, HostLookup, MxRecord, TxtRecord};

/// Records kept per answer; a zone can publish thousands at one name.
pub const MAX_RECORDS: usize = 100;
/// CNAME steps accepted per answer. A longer chain is reported as a failed lookup, as the
/// recursive resolvers senders use give up long before (Unbound and BIND restart a query at
/// most 11 times); hickory itself chases at most 8 steps when the server does not.
pub const MAX_CNAME_STEPS: usize = 16;
/// Bytes of one TXT record kept (its character-strings together). A record cannot exceed
/// 65,535 bytes on the wire; MTA-STS and TLS-RPT records are under 1 KiB, and the largest
/// TXT records in real zones (2048-bit DKIM keys, long SPF) under 2 KiB. A longer record is
/// kept cut at this size, whole character-strings first.
pub const MAX_TXT_RECORD_BYTES: usize = 8 * 1024;
/// Bytes of TXT data kept per answer, all records together; records past it are dropped. A
/// busy apex (SPF, verification tokens) holds a few KiB.
pub const MAX_TXT_ANSWER_BYTES: usize = 32 * 1024;
/// Tries per question, as in resolv.conf `attempts:2`.
const ATTEMPTS: usize = 2;
/// Answers the resolver keeps; a bound so that a long list cannot grow the cache without limit.
pub const CACHE_ENTRIES: usize = 8192;

/// The auditor's DNS client; one per run, shared by all lookups.
pub struct DnsClient {
    resolver: TokioResolver,
    /// Bounds one question overall, whatever the resolver's retries add up to.
    question_timeout: Duration,
    /// " (127.0.0.1:53)" for `--dns-server`, "" for the system's: for "the resolver did not
    /// answer".
    resolver_shown: String,
}

impl DnsClient {
    /// Uses only `config.resolver` when set (UDP and TCP), else the system's resolv.conf servers.
    pub fn new(config: &NetworkConfig) -> anyhow::Result<Self> {
        let provider = TokioConnectionProvider::default();
        let mut builder = match config.resolver {
            Some(addr) => {
                // Negative answers from the one server asked are final (no other server to try).
                let servers =
                    NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_parts(None, Vec::new(), servers),
                    provider,
                )
            }
            None => TokioResolver::builder(provider).map_err(|err| {
                anyhow::anyhow!("cannot read the system resolver configuration: {err}")
            })?,
        };
        let step = config.limits.step_timeout;
        let options = builder.options_mut();
        options.timeout = step;
        options.attempts = ATTEMPTS;
        // Names are made fully qualified before asking, so search domains never apply.
        options.ndots = 0;
        // Shared by the whole run; see the module documentation for why the TTL count-down
        // is acceptable.
        options.cache_size = CACHE_ENTRIES;
        options.use_hosts_file = ResolveHosts::Never;
        options.preserve_intermediates = true;
        options.edns0 = true;
        options.recursion_desired = true;
        options.try_tcp_on_error = true;
        // Questions of one audit go to one server at a time, like a stub resolver.
        options.num_concurrent_reqs = 1;
        let question_timeout = step
            .saturating_mul(u32::try_from(ATTEMPTS + 1).unwrap_or(3))
            .saturating_add(Duration::from_secs(1));
        let resolver_shown = config
            .resolver
            .map_or_else(String::new, |addr| format!(" ({addr})"));
        Ok(Self {
            resolver: builder.build(),
            question_timeout,
            resolver_shown,
        })
    }

    /// TXT records at `name`, each record's character-strings kept apart.
    pub async fn txt(&self, name: &str) -> DnsAnswer<Vec<TxtRecord>> {
        let answer = self
            .ask(name, RecordType::TXT, |data| match data {
                RData::TXT(txt) => Some(bounded_txt(txt.txt_data())),
                _ => None,
            })
            .await;
        match answer {
            DnsAnswer::Records {
                data,
                ttl,
                cname_chain,
            } => DnsAnswer::Records {
                data: within_answer_budget(data),
                ttl,
                cname_chain,
            },
            other => other,
        }
    }

    /// MX records at `name`; exchanges lower-cased without the trailing dot, `""` for `.`.
    pub async fn mx(&self, name: &str) -> DnsAnswer<Vec<MxRecord>> {
        self.ask(name, RecordType::MX, |data| match data {
            RData::MX(mx) => Some(MxRecord {
                preference: mx.preference(),
                exchange: name_text(mx.exchange()),
            }),
            _ => None,
        })
        .await
    }

    /// A and AAAA of `name`, asked concurrently.
    pub async fn addrs(&self, name: &str) -> HostLookup {
        let a = self.ask(name, RecordType::A, |data| match data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        });
        let aaaa = self.ask(name, RecordType::AAAA, |data| match data {
            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        });
        let (a, aaaa) = tokio::join!(a, aaaa);
        HostLookup {
            name: name.to_owned(),
            a,
            aaaa,
        }
    }

    /// TLSA records at `name`, rendered "usage selector matching hex" (RFC 6698 §2.2).
    pub async fn tlsa(&self, name: &str) -> DnsAnswer<Vec<String>> {
        self.ask(name, RecordType::TLSA, |data| match data {
            RData::TLSA(tlsa) => Some(format!(
                "{} {} {} {}",
                u8::from(tlsa.cert_usage()),
                u8::from(tlsa.selector()),
                u8::from(tlsa.matching()),
                hex(tlsa.cert_data())
            )),
            _ => None,
        })
        .await
    }

    /// One question, with the answer's records of `record_type` converted by `convert`.
    async fn ask<T>(
        &self,
        name: &str,
        record_type: RecordType,
        convert: impl Fn(&RData) -> Option<T>,
    ) -> DnsAnswer<Vec<T>> {
        let fqdn = match fully_qualified(name) {
            Ok(fqdn) => fqdn,
            Err(reason) => return DnsAnswer::Failed { reason },
        };
        let lookup = self.resolver.lookup(fqdn.clone(), record_type);
        let answer = match with_deadline(self.question_timeout, lookup).await {
            Some(Ok(lookup)) => answer_from_lookup(&lookup, &fqdn, record_type, convert),
            Some(Err(err)) => answer_from_error(&err),
            None => DnsAnswer::Failed {
                reason: format!(
                    "the resolver{} did not answer within {} seconds",
                    self.resolver_shown,
                    self.question_timeout.as_secs()
                ),
            },
        };
        if matches!(answer, DnsAnswer::NoData | DnsAnswer::NxDomain) {
            if let Some(reason) = self.broken_cname_chain(&fqdn).await {
                return DnsAnswer::Failed { reason };
            }
        }
        answer
    }

    /// Follows the CNAMEs from `name` one `CNAME` question at a time, and names a loop or a
    /// chain longer than [`MAX_CNAME_STEPS`]; `None` when the chain ends (or cannot be followed).
    ///
    /// Needed because hickory turns an answer that is a CNAME loop into "no records" and drops
    /// the CNAMEs, so a loop at `_mta-sts.D` would read as "no MTA-STS record", when senders'
    /// resolvers fail the lookup (SERVFAIL). Asked only after a negative answer, so a name that
    /// resolves costs nothing more.
    async fn broken_cname_chain(&self, name: &Name) -> Option<String> {
        let mut visited = vec![name.clone()];
        for _ in 0..=MAX_CNAME_STEPS {
            let current = visited.last()?.clone();
            let lookup = self.resolver.lookup(current.clone(), RecordType::CNAME);
            let lookup = with_deadline(self.question_timeout, lookup).await?.ok()?;
            let target = lookup
                .records()
                .iter()
                .find_map(|record| match record.data() {
                    RData::CNAME(target) if record.name() == &current => Some(target.0.clone()),
                    _ => None,
                })?;
            if visited.contains(&target) {
                return Some(format!(
                    "CNAME loop: {} -> {}",
                    chain_names(&visited),
                    name_text(&target)
                ));
            }
            visited.push(target);
        }
        Some(format!(
            "the CNAME chain is longer than {MAX_CNAME_STEPS} steps ({} -> …); resolvers give up \
             on chains this long",
            chain_names(&visited[..4])
        ))
    }
}

async fn with_deadline<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    tokio::time::timeout(limit, future).await.ok()
}

/// `name` as an absolute DNS name; U-labels become A-labels.
fn fully_qualified(name: &str) -> Result<Name, String> {
    let trimmed = name.trim_end_matches('.');
    if trimmed.is_empty() {
        return Err("empty DNS name".to_owned());
    }
    let absolute = format!("{trimmed}.");
    let parsed = if absolute.is_ascii() {
        Name::from_ascii(&absolute)
    } else {
        Name::from_utf8(&absolute)
    };
    parsed.map_err(|err| {
        format!(
            "not a valid DNS name: {} ({})",
            escape_str(name),
            escape_str(&err.to_string())
        )
    })
}

/// One TXT record's character-strings, cut at [`MAX_TXT_RECORD_BYTES`].
fn bounded_txt(strings: &[Box<[u8]>]) -> TxtRecord {
    let mut kept = Vec::new();
    let mut room = MAX_TXT_RECORD_BYTES;
    for string in strings {
        if room == 0 {
            break;
        }
        let take = string.len().min(room);
        kept.push(string[..take].to_vec());
        room -= take;
    }
    TxtRecord { strings: kept }
}

/// The records of one TXT answer up to [`MAX_TXT_ANSWER_BYTES`] in all.
fn within_answer_budget(records: Vec<TxtRecord>) -> Vec<TxtRecord> {
    let mut used = 0usize;
    records
        .into_iter()
        .take_while(|record| {
            used = used.saturating_add(record.strings.iter().map(Vec::len).sum::<usize>());
            used <= MAX_TXT_ANSWER_BYTES
        })
        .collect()
}

/// A name as text: lower-case, no trailing dot, the root as `""`.
fn name_text(name: &Name) -> String {
    name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

fn answer_from_lookup<T>(
    lookup: &Lookup,
    asked: &Name,
    record_type: RecordType,
    convert: impl Fn(&RData) -> Option<T>,
) -> DnsAnswer<Vec<T>> {
    let records = lookup.records();
    let mut data = Vec::new();
    let mut ttl = u32::MAX;
    for record in records {
        let relevant =
            record.record_type() == record_type || record.record_type() == RecordType::CNAME;
        if relevant {
            // The answer lives as long as its shortest-lived record, CNAMEs included.
            ttl = ttl.min(record.ttl());
        }
        if record.record_type() == record_type && data.len() < MAX_RECORDS {
            if let Some(item) = convert(record.data()) {
                data.push(item);
            }
        }
    }
    // A looping or overlong chain fails the lookup, as it does at senders' resolvers, whether
    // or not the server put an answer at its end.
    let cname_chain = match cname_chain(asked, records) {
        Ok(chain) => chain,
        Err(reason) => return DnsAnswer::Failed { reason },
    };
    if data.is_empty() {
        return DnsAnswer::NoData;
    }
    DnsAnswer::Records {
        data,
        ttl,
        cname_chain,
    }
}

/// The CNAME steps `owner -> target` in the order they lead from the asked name; CNAMEs that do
/// not continue the chain (unusual) are kept after it. `Err` names a loop, or a chain longer
/// than [`MAX_CNAME_STEPS`].
fn cname_chain(asked: &Name, records: &[Record]) -> Result<Vec<String>, String> {
    // One more than accepted, to see that a chain is too long; the rest are never looked at.
    let mut cnames: Vec<(Name, Name)> = records
        .iter()
        .filter_map(|record| match record.data() {
            RData::CNAME(target) => Some((record.name().clone(), target.0.clone())),
            _ => None,
        })
        .take(MAX_CNAME_STEPS + 1)
        .collect();
    let mut chain = Vec::with_capacity(cnames.len());
    let mut visited = vec![asked.clone()];
    let mut current = asked.clone();
    while let Some(index) = cnames.iter().position(|(owner, _)| owner == &current) {
        let (owner, target) = cnames.remove(index);
        chain.push(format!("{} -> {}", name_text(&owner), name_text(&target)));
        if visited.contains(&target) {
            return Err(format!(
                "CNAME loop: {} -> {}",
                chain_names(&visited),
                name_text(&target)
            ));
        }
        visited.push(target.clone());
        current = target;
    }
    if chain.len() + cnames.len() > MAX_CNAME_STEPS {
        return Err(format!(
            "the CNAME chain is longer than {MAX_CNAME_STEPS} steps ({} -> …); resolvers give up \
             on chains this long",
            chain_names(&visited[..visited.len().min(4)])
        ));
    }
    for (owner, target) in cnames {
        chain.push(format!("{} -> {}", name_text(&owner), name_text(&target)));
    }
    Ok(chain)
}

fn chain_names(names: &[Name]) -> String {
    names.iter().map(name_text).collect::<Vec<_>>().join(" -> ")
}

fn answer_from_error<T>(err: &ResolveError) -> DnsAnswer<T> {
    match err.kind() {
        ResolveErrorKind::Proto(proto) => answer_from_proto_error(proto),
        _ => DnsAnswer::Failed {
            reason: escape_str(&err.to_string()),
        },
    }
}

fn answer_from_proto_error<T>(err: &ProtoError) -> DnsAnswer<T> {
    match err.kind() {
        ProtoErrorKind::NoRecordsFound { response_code, .. } => match response_code {
            ResponseCode::NXDomain => DnsAnswer::NxDomain,
            ResponseCode::NoError => DnsAnswer::NoData,
            ResponseCode::ServFail => DnsAnswer::Failed {
                reason: "the server answered SERVFAIL".to_owned(),
            },
            ResponseCode::Refused => DnsAnswer::Failed {
                reason: "the server answered REFUSED".to_owned(),
            },
            other => DnsAnswer::Failed {
                reason: format!("the server answered {}", escape_str(&other.to_string())),
            },
        },
        ProtoErrorKind::Timeout => DnsAnswer::Failed {
            reason: "the resolver did not answer (the query timed out)".to_owned(),
        },
        _ => DnsAnswer::Failed {
            reason: escape_str(&err.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::{A, CNAME, TXT};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn names_become_fully_qualified() {
        assert_eq!(
            fully_qualified("_mta-sts.example.com").unwrap().to_ascii(),
            "_mta-sts.example.com."
        );
        assert_eq!(
            fully_qualified("example.com.").unwrap().to_ascii(),
            "example.com."
        );
        assert!(fully_qualified("bücher.example").unwrap().is_fqdn());
        assert!(fully_qualified("").is_err());
        assert!(fully_qualified("a..b").is_err());
    }

    #[test]
    fn name_text_drops_root_dot_and_case() {
        assert_eq!(name_text(&name("MX1.Example.COM.")), "mx1.example.com");
        assert_eq!(name_text(&Name::root()), "");
    }

    #[test]
    fn cname_chain_follows_owner_order() {
        let records = vec![
            Record::from_rdata(name("b.test."), 60, RData::CNAME(CNAME(name("c.test.")))),
            Record::from_rdata(name("a.test."), 30, RData::CNAME(CNAME(name("b.test.")))),
            Record::from_rdata(name("c.test."), 300, RData::A(A::new(192, 0, 2, 1))),
        ];
        assert_eq!(
            cname_chain(&name("a.test."), &records).unwrap(),
            vec!["a.test -> b.test", "b.test -> c.test"]
        );
        let lookup = Lookup::new_with_max_ttl(
            hickory_resolver::proto::op::Query::query(name("a.test."), RecordType::A),
            records.into(),
        );
        let answer = answer_from_lookup(
            &lookup,
            &name("a.test."),
            RecordType::A,
            |data| match data {
                RData::A(a) => Some(a.0),
                _ => None,
            },
        );
        assert_eq!(answer.ttl(), Some(30));
        assert_eq!(answer.data().map(Vec::len), Some(1));
    }

    #[test]
    fn answers_are_bounded() {
        let records: Vec<Record> = (0..250)
            .map(|index| {
                Record::from_rdata(
                    name("t.test."),
                    300,
                    RData::TXT(TXT::new(vec![format!("record {index}")])),
                )
            })
            .collect();
        let lookup = Lookup::new_with_max_ttl(
            hickory_resolver::proto::op::Query::query(name("t.test."), RecordType::TXT),
            records.into(),
        );
        let answer =
            answer_from_lookup(
                &lookup,
                &name("t.test."),
                RecordType::TXT,
                |data| match data {
                    RData::TXT(txt) => Some(txt.txt_data().len()),
                    _ => None,
                },
            );
        assert_eq!(answer.data().map(Vec::len), Some(MAX_RECORDS));
    }

    #[test]
    fn lookup_without_wanted_type_is_nodata() {
        let records = vec![Record::from_rdata(
            name("a.test."),
            30,
            RData::CNAME(CNAME(name("b.test."))),
        )];
        let lookup = Lookup::new_with_max_ttl(
            hickory_resolver::proto::op::Query::query(name("a.test."), RecordType::MX),
            records.into(),
        );
        let answer: DnsAnswer<Vec<()>> =
            answer_from_lookup(&lookup, &name("a.test."), RecordType::MX, |_| Some(()));
        assert_eq!(answer, DnsAnswer::NoData);
    }

    #[test]
    fn cname_loops_and_long_chains_fail() {
        let cname = |from: &str, to: &str| {
            Record::from_rdata(name(from), 60, RData::CNAME(CNAME(name(to))))
        };
        let looping = vec![cname("a.test.", "b.test."), cname("b.test.", "a.test.")];
        let err = cname_chain(&name("a.test."), &looping).unwrap_err();
        assert_eq!(err, "CNAME loop: a.test -> b.test -> a.test");

        let long: Vec<Record> = (0..20)
            .map(|index| cname(&format!("c{index}.test."), &format!("c{}.test.", index + 1)))
            .collect();
        let err = cname_chain(&name("c0.test."), &long).unwrap_err();
        assert!(
            err.starts_with("the CNAME chain is longer than 16 steps (c0.test -> c1.test"),
            "{err}"
        );
        assert_eq!(
            cname_chain(&name("c4.test."), &long[4..]).unwrap().len(),
            MAX_CNAME_STEPS
        );
    }

    #[test]
    fn txt_records_and_answers_are_cut() {
        let strings: Vec<Box<[u8]>> = (0..40)
            .map(|_| vec![b'x'; 255].into_boxed_slice())
            .collect();
        let record = bounded_txt(&strings);
        assert_eq!(
            record.strings.iter().map(Vec::len).sum::<usize>(),
            MAX_TXT_RECORD_BYTES
        );
        let records = vec![record; 10];
        let kept = within_answer_budget(records);
        assert_eq!(kept.len(), MAX_TXT_ANSWER_BYTES / MAX_TXT_RECORD_BYTES);
        let small = vec![TxtRecord::single("v=STSv1; id=1"); 3];
        assert_eq!(within_answer_budget(small.clone()), small);
    }

    #[test]
    fn odd_bytes_in_names_are_shown_escaped() {
        let odd = Name::from_labels(vec![&b"mx\x00 \xff"[..], b"example"]).unwrap();
        let text = name_text(&odd);
        assert!(text.chars().all(|c| c.is_ascii_graphic()), "{text:?}");
        assert!(
            crate::name::HostName::parse_mx_target(&text).is_err(),
            "{text:?}"
        );
    }
}
