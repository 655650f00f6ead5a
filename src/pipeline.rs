//! One domain: runs the network stages through a [`Probe`], concurrently wherever one stage does
//! not need another's answer, and collects [`Observations`].

use std::net::IpAddr;

use crate::observe::{
    DnsAnswer, HostLookup, MisplacedRecord, MxHostObservation, MxRecord, Observations,
};
use crate::parse::tlsrpt_record::analyse_tlsrpt_records;
use crate::probe::{Limits, Probe};

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub skip_smtp: bool,
    pub limits: Limits,
}

/// Names where people misplace the `_mta-sts` record.
fn misplaced_sts_names(domain: &str) -> Vec<String> {
    vec![
        format!("mta-sts.{domain}"),
        format!("__mta-sts.{domain}"),
        domain.to_owned(),
    ]
}

/// Names where people misplace the `_smtp._tls` record.
fn misplaced_tlsrpt_names(domain: &str) -> Vec<String> {
    ["smtp.tls", "_smtp_tls", "_smtp.tls", "smtp._tls"]
        .iter()
        .map(|prefix| format!("{prefix}.{domain}"))
        .collect()
}

/// Observes one domain. `domain` is already validated and in A-label form.
pub async fn observe<P: Probe>(probe: &P, domain: &str, options: &Options) -> Observations {
    let policy_host = format!("mta-sts.{domain}");
    let sts_name = format!("_mta-sts.{domain}");
    let tlsrpt_name = format!("_smtp._tls.{domain}");

    let sts = async {
        let answer = probe.txt(&sts_name).await;
        let misplaced = if has_record_with_prefix(&answer, b"v=STSv1") {
            Vec::new()
        } else {
            find_misplaced(probe, misplaced_sts_names(domain), b"v=STSv1").await
        };
        (answer, misplaced)
    };
    let fetches = async {
        let lookup = probe.addrs(&policy_host).await;
        let addrs = capped(lookup.addresses(), options.limits.max_addrs_per_host);
        let fetches = join_all(addrs.iter().map(|&ip| probe.fetch_policy(&policy_host, ip))).await;
        (lookup, fetches)
    };
    let mx = async {
        let answer = probe.mx(domain).await;
        let domain_addrs = match &answer {
            DnsAnswer::NoData => Some(probe.addrs(domain).await),
            _ => None,
        };
        let hosts = mx_hosts(domain, &answer, options.limits.max_mx_hosts);
        let observed = join_all(hosts.iter().map(|mx| observe_mx_host(probe, mx, options))).await;
        (answer, domain_addrs, observed)
    };
    let tlsrpt = async {
        let answer = probe.txt(&tlsrpt_name).await;
        let misplaced = if has_record_with_prefix(&answer, b"v=TLSRPTv1") {
            Vec::new()
        } else {
            find_misplaced(probe, misplaced_tlsrpt_names(domain), b"v=TLSRPTv1").await
        };
        let rua_domains = match answer.data() {
            Some(records) => {
                let domains = analyse_tlsrpt_records(records)
                    .0
                    .map(|record| record.mailto_domains())
                    .unwrap_or_default();
                let domains = capped(domains, 10);
                let answers = join_all(domains.iter().map(|name| probe.mx(name))).await;
                domains.into_iter().zip(answers).collect()
            }
            None => Vec::new(),
        };
        (answer, misplaced, rua_domains)
    };

    let ((sts_txt, sts_misplaced), (policy_host, fetches), (mx, domain_addrs, mx_hosts), tlsrpt) =
        tokio::join!(sts, fetches, mx, tlsrpt);
    let (tlsrpt_txt, tlsrpt_misplaced, rua_domains) = tlsrpt;

    Observations {
        domain: domain.to_owned(),
        sts_txt,
        sts_misplaced,
        policy_host,
        fetches,
        mx,
        domain_addrs,
        mx_hosts,
        smtp_skipped: options.skip_smtp,
        tlsrpt_txt,
        tlsrpt_misplaced,
        rua_domains,
    }
}

/// The MX hosts senders would try, in preference order; the domain itself for an implicit MX.
fn mx_hosts(domain: &str, answer: &DnsAnswer<Vec<MxRecord>>, cap: usize) -> Vec<MxRecord> {
    match answer {
        DnsAnswer::Records { data, .. } => {
            let mut hosts: Vec<MxRecord> = data
                .iter()
                .filter(|mx| !mx.exchange.is_empty())
                .cloned()
                .collect();
            hosts.sort_by(|a, b| {
                a.preference
                    .cmp(&b.preference)
                    .then(a.exchange.cmp(&b.exchange))
            });
            hosts.dedup_by(|a, b| a.exchange == b.exchange);
            capped(hosts, cap)
        }
        DnsAnswer::NoData => vec![MxRecord {
            preference: 0,
            exchange: domain.to_owned(),
        }],
        DnsAnswer::NxDomain | DnsAnswer::Failed { .. } => Vec::new(),
    }
}

async fn observe_mx_host<P: Probe>(
    probe: &P,
    mx: &MxRecord,
    options: &Options,
) -> MxHostObservation {
    let tlsa_name = format!("_25._tcp.{}", mx.exchange);
    let (addrs, tlsa): (HostLookup, _) =
        tokio::join!(probe.addrs(&mx.exchange), probe.tlsa(&tlsa_name));
    let smtp = if options.skip_smtp {
        Vec::new()
    } else {
        let ips: Vec<IpAddr> = capped(addrs.addresses(), options.limits.max_addrs_per_host);
        join_all(ips.iter().map(|&ip| probe.smtp(&mx.exchange, ip))).await
    };
    MxHostObservation {
        name: mx.exchange.clone(),
        preference: mx.preference,
        addrs,
        tlsa,
        smtp,
    }
}

fn has_record_with_prefix(
    answer: &DnsAnswer<Vec<crate::observe::TxtRecord>>,
    prefix: &[u8],
) -> bool {
    answer.data().is_some_and(|records| {
        records
            .iter()
            .any(|record| starts_with_ignore_case(&record.joined(), prefix))
    })
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

async fn find_misplaced<P: Probe>(
    probe: &P,
    names: Vec<String>,
    prefix: &[u8],
) -> Vec<MisplacedRecord> {
    let answers = join_all(names.iter().map(|name| probe.txt(name))).await;
    let mut found = Vec::new();
    for (name, answer) in names.into_iter().zip(answers) {
        for record in answer.data().into_iter().flatten() {
            let text = record.joined();
            if starts_with_ignore_case(&text, prefix) {
                found.push(MisplacedRecord {
                    name: name.clone(),
                    text: crate::escape::escape_bytes(&text),
                });
            }
        }
    }
    found
}

fn capped<T>(mut items: Vec<T>, cap: usize) -> Vec<T> {
    items.truncate(cap);
    items
}

/// Runs futures concurrently on the current task and keeps their order.
async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let futures: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(futures.len());
    // A small fan-out (addresses of one host, MX hosts of one domain): join by hand rather than
    // pull in futures-util for join_all.
    let mut pending: Vec<_> = futures.into_iter().enumerate().collect();
    let mut slots: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        pending.retain_mut(|(index, future)| match future.as_mut().poll(cx) {
            std::task::Poll::Ready(output) => {
                slots[*index] = Some(output);
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(slots.into_iter().flatten());
    outputs
}
