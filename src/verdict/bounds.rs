//! What the audit's bounds left out (issue 12). The probe keeps at most so many records of a DNS
//! answer, so many bytes of TXT data, so many MX hosts and addresses; each stage that has such a
//! bound states what it left out in a `*.bounds` check of its own (`sts-record.bounds`,
//! `policy-host.bounds`, `mx.bounds`, `tlsrpt.bounds`, `reports.bounds`), an info finding whose
//! evidence names what was not judged, so that no report reads as covering more than it did.

use super::Findings;
use crate::catalog::CheckId;
use crate::model::{Evidence, Problem, Subject};
use crate::observe::{AnswerCut, DnsAnswer, HostLookup, NotContacted, Uncontacted};
use crate::probe::dns::{MAX_RECORDS, MAX_TXT_ANSWER_BYTES, MAX_TXT_RECORD_BYTES};

/// Items named in evidence before "… and N more".
const SHOWN: usize = 5;

/// Which records of an answer past [`MAX_RECORDS`] the probe keeps.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kept {
    /// MX: by preference.
    MostPreferred,
    /// A and AAAA: in address order.
    Lowest,
    /// TXT and TLSA: as the answer lists them.
    First,
}

impl Kept {
    fn phrase(self) -> &'static str {
        match self {
            Self::MostPreferred => "most preferred",
            Self::Lowest => "lowest",
            Self::First => "first",
        }
    }
}

/// Evidence for what `answer` held beyond what was kept, labelled `label` ("MX records of
/// example.org"); `None` when nothing was left out.
pub(crate) fn answer_cut<T>(
    label: &str,
    answer: &DnsAnswer<Vec<T>>,
    kept: Kept,
) -> Option<Evidence> {
    let cut = answer.cut()?;
    let held = answer.data().map_or(0, Vec::len);
    Some(Evidence::new(label, describe_cut(cut, held, kept)))
}

/// "the answer held 200 records; the 100 most preferred were kept", and for TXT the bytes cut.
fn describe_cut(cut: &AnswerCut, held: usize, kept: Kept) -> String {
    let mut parts = Vec::new();
    if cut.records > held && cut.bytes == 0 {
        parts.push(format!(
            "the answer held {} records; the {} {held} were kept (at most {MAX_RECORDS} are)",
            cut.records,
            kept.phrase()
        ));
    }
    if cut.bytes > 0 {
        parts.push(format!(
            "the answer held {} records ({} bytes of TXT data); the first \
             {MAX_TXT_ANSWER_BYTES} bytes were read, which hold {}",
            cut.records,
            cut.bytes,
            plural(held, "record")
        ));
    }
    if cut.shortened > 0 {
        parts.push(format!(
            "{} record{} longer than {MAX_TXT_RECORD_BYTES} bytes {} cut to {} first \
             {MAX_TXT_RECORD_BYTES} bytes",
            cut.shortened,
            if cut.shortened == 1 { "" } else { "s" },
            if cut.shortened == 1 { "was" } else { "were" },
            if cut.shortened == 1 { "its" } else { "their" },
        ));
    }
    parts.join("; ")
}

/// "1 record", "3 records".
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Evidence for the addresses of `lookup`'s host that were not contacted because of the
/// per-host bound, labelled "addresses of HOST": "8 of 20 probed (the first 8 in address
/// order); not probed: …". `verb` says what contacting meant ("probed", "fetched from").
pub(crate) fn over_address_bound(
    lookup: &HostLookup,
    not_contacted: &[Uncontacted],
    contacted: usize,
    verb: &str,
) -> Option<Evidence> {
    let over: Vec<&Uncontacted> = not_contacted
        .iter()
        .filter(|skipped| matches!(skipped.reason, NotContacted::OverAddressBound { .. }))
        .collect();
    let NotContacted::OverAddressBound { bound } = over.first()?.reason else {
        return None;
    };
    let addresses: Vec<String> = over.iter().map(|skipped| skipped.ip.to_string()).collect();
    let total = lookup.addresses().len();
    let of = if lookup.a.cut().is_some() || lookup.aaaa.cut().is_some() {
        format!("the {total} kept")
    } else {
        total.to_string()
    };
    Some(Evidence::new(
        format!("addresses of {}", lookup.name),
        format!(
            "{contacted} of {of} {verb} (the first {bound} in address order); not {verb}: {}",
            listed(&addresses)
        ),
    ))
}

/// "3 address(es)", or "128 addresses (the lowest 100 kept)" when an answer was cut.
pub(crate) fn address_count(lookup: &HostLookup) -> String {
    let kept = lookup.addresses().len();
    if lookup.a.cut().is_none() && lookup.aaaa.cut().is_none() {
        return format!("{kept} address(es)");
    }
    let held: usize = [&lookup.a, &lookup.aaaa]
        .iter()
        .map(|answer| match answer.cut() {
            Some(cut) => cut.records,
            None => answer.data().map_or(0, Vec::len),
        })
        .sum();
    if held > kept {
        format!("{held} addresses (the lowest {kept} kept)")
    } else {
        format!("{kept} address(es)")
    }
}

/// "10 of 12 looked up; not looked up: a, b", labelled `label`: `left` of `total` items were
/// not `verb`; `None` when none was left out.
pub(crate) fn left_out(label: &str, total: usize, left: &[String], verb: &str) -> Option<Evidence> {
    (!left.is_empty()).then(|| {
        Evidence::new(
            label,
            format!(
                "{} of {total} {verb}; not {verb}: {}",
                total - left.len(),
                listed(left)
            ),
        )
    })
}

/// The first few of `items`, then how many more.
pub(crate) fn listed(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" … and {} more", items.len() - SHOWN));
    }
    text
}

/// Reports `check` for `subject`: a pass when `evidence` is empty, else an info finding saying
/// that `what` was left out, with the evidence.
pub(crate) fn judge(
    check: CheckId,
    subject: Subject,
    what: &str,
    evidence: Vec<Evidence>,
    out: &mut Findings,
) {
    if evidence.is_empty() {
        out.pass(check, subject);
        return;
    }
    let mut problem = Problem::new(
        check,
        format!("not everything was judged: the audit's bounds left {what} out (see the evidence)"),
    );
    problem.evidence = evidence;
    out.problem(problem, subject);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_are_described_with_their_counts() {
        let cut = AnswerCut {
            records: 200,
            ..AnswerCut::default()
        };
        assert_eq!(
            describe_cut(&cut, 100, Kept::MostPreferred),
            "the answer held 200 records; the most preferred 100 were kept (at most 100 are)"
        );
        let cut = AnswerCut {
            records: 7,
            shortened: 1,
            bytes: 58_000,
        };
        assert_eq!(
            describe_cut(&cut, 4, Kept::First),
            "the answer held 7 records (58000 bytes of TXT data); the first 32768 bytes were \
             read, which hold 4 records; 1 record longer than 8192 bytes was cut to its first \
             8192 bytes"
        );
    }

    #[test]
    fn long_lists_are_cut_too() {
        let items: Vec<String> = (0..8).map(|index| format!("h{index}")).collect();
        assert_eq!(listed(&items), "h0, h1, h2, h3, h4 … and 3 more");
        assert_eq!(listed(&items[..2]), "h0, h1");
    }
}
