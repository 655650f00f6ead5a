//! One report's JSON bytes → a typed [`Report`] and the [`Note`]s of every leniency applied.
//!
//! Sans I/O and panic-free. Tolerant where real senders differ from RFC 8460 (see
//! [`NoteKind`]); strict where the numbers would become meaningless: a report without
//! `organization-name`, `report-id`, a readable `date-range` or `policies`, or with a count that
//! is not a non-negative integer, is an error, and the error is a sentence.

use std::fmt;

use serde_json::{Map, Value};

use super::date::{Timestamp, SECONDS_PER_DAY};
use super::model::{FailureDetail, Note, NoteKind, PolicyResult, PolicyType, Report, ResultType};

/// The longest date range accepted, in days. Reports cover one day (RFC 8460 §4.1); a week has
/// been seen; a range of years is corrupt data, and would make "days covered" meaningless.
pub const MAX_RANGE_DAYS: i64 = 31;

/// Why a report could not be read: one sentence, without a trailing period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// A parsed report and what was tolerated to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub report: Report,
    pub notes: Vec<Note>,
}

fn err<T>(message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(message.into()))
}

/// Field names of RFC 8460 and the other names its drafts and its own prose use for the same
/// field (§4.4 calls the `mx-host` value `mx-host-pattern`, and `additional-information`
/// `additional-info-uri`).
const ALIASES: &[(&str, &[&str])] = &[
    ("mx-host", &["mx-host-pattern"]),
    ("additional-information", &["additional-info-uri"]),
];

/// Parses one report.
pub fn parse_report(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(error) if error.is_eof() => {
            return err(format!(
                "the JSON ends early (line {}, column {}): the report is truncated",
                error.line(),
                error.column()
            ))
        }
        Err(error) => return err(format!("not valid JSON: {error}")),
    };
    let Value::Object(top) = value else {
        return err(format!(
            "the JSON is {}, not an object: not a TLS-RPT report",
            kind(&value)
        ));
    };
    let mut cx = Cx { notes: Vec::new() };
    if !top.contains_key("policies") && !top.contains_key("organization-name") {
        return err(
            "a JSON object without `organization-name` or `policies`: not a TLS-RPT report",
        );
    }
    let organization_name = cx
        .string(&top, "organization-name", "")?
        .ok_or_else(|| ParseError("no `organization-name`".to_owned()))?;
    let report_id = cx
        .string(&top, "report-id", "")?
        .ok_or_else(|| ParseError("no `report-id`".to_owned()))?;
    let contact_info = cx.string(&top, "contact-info", "")?;
    let (start, end) = cx.date_range(&top)?;
    let policies = match top.get("policies") {
        Some(Value::Array(policies)) => policies,
        Some(other) => return err(format!("`policies` is {}, not an array", kind(other))),
        None => return err("no `policies`"),
    };
    let mut results = Vec::with_capacity(policies.len());
    for (index, policy) in policies.iter().enumerate() {
        let at = format!("policy {}", index + 1);
        let Value::Object(policy) = policy else {
            return err(format!("{at} is {}, not an object", kind(policy)));
        };
        results.push(cx.policy(policy, &at)?);
    }
    Ok(Parsed {
        report: Report {
            organization_name,
            report_id,
            start,
            end,
            contact_info,
            policies: results,
        },
        notes: cx.notes,
    })
}

/// The JSON type of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The parse context: the notes collected so far.
struct Cx {
    notes: Vec<Note>,
}

impl Cx {
    fn note(&mut self, kind: NoteKind, detail: String) {
        self.notes.push(Note { kind, detail });
    }

    /// A field by its RFC name, or by a draft name (noted).
    fn field<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        name: &str,
        at: &str,
    ) -> Option<&'v Value> {
        if let Some(value) = map.get(name) {
            return Some(value);
        }
        let aliases = ALIASES
            .iter()
            .find(|(canonical, _)| *canonical == name)
            .map_or(&[][..], |(_, aliases)| *aliases);
        for alias in aliases {
            if let Some(value) = map.get(*alias) {
                self.note(
                    NoteKind::DraftFieldName,
                    format!("{}`{alias}` read as `{name}`", prefix(at)),
                );
                return Some(value);
            }
        }
        None
    }

    /// An optional string; `null` and `""` are absent (the empty string noted).
    fn string(
        &mut self,
        map: &Map<String, Value>,
        name: &str,
        at: &str,
    ) -> Result<Option<String>, ParseError> {
        match self.field(map, name, at) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => {
                self.note(
                    NoteKind::EmptyString,
                    format!("{}`{name}` is empty", prefix(at)),
                );
                Ok(None)
            }
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => err(format!(
                "{}`{name}` is {}, not a string",
                prefix(at),
                kind(other)
            )),
        }
    }

    /// A non-negative integer; a string of digits is accepted and noted.
    fn count(
        &mut self,
        map: &Map<String, Value>,
        name: &str,
        at: &str,
    ) -> Result<Option<u64>, ParseError> {
        match self.field(map, name, at) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => match number.as_u64() {
                Some(count) => Ok(Some(count)),
                None => err(format!(
                    "{}`{name}` is {number}, not a count (a non-negative integer)",
                    prefix(at)
                )),
            },
            Some(Value::String(text))
                if !text.is_empty()
                    && text.len() <= 19
                    && text.bytes().all(|b| b.is_ascii_digit()) =>
            {
                self.note(
                    NoteKind::CountAsString,
                    format!("{}`{name}` is the string {text:?}", prefix(at)),
                );
                Ok(text.parse().ok())
            }
            Some(other) => err(format!(
                "{}`{name}` is {}, not a count",
                prefix(at),
                kind(other)
            )),
        }
    }

    fn timestamp(&mut self, map: &Map<String, Value>, name: &str) -> Result<Timestamp, ParseError> {
        let text = match map.get(name) {
            Some(Value::String(text)) => text,
            Some(other) => {
                return err(format!(
                    "`date-range.{name}` is {}, not a string",
                    kind(other)
                ))
            }
            None => return err(format!("no `date-range.{name}`")),
        };
        let stamp = Timestamp::parse(text)
            .map_err(|error| ParseError(format!("`date-range.{name}`: {error}")))?;
        if stamp.date_only {
            self.note(
                NoteKind::DateOnly,
                format!("`date-range.{name}` is {text:?}"),
            );
        } else if stamp.zone_missing {
            self.note(
                NoteKind::DateWithoutZone,
                format!("`date-range.{name}` is {text:?}"),
            );
        }
        Ok(stamp)
    }

    fn date_range(
        &mut self,
        top: &Map<String, Value>,
    ) -> Result<(Timestamp, Timestamp), ParseError> {
        let range = match top.get("date-range") {
            Some(Value::Object(range)) => range,
            Some(other) => return err(format!("`date-range` is {}, not an object", kind(other))),
            None => return err("no `date-range`"),
        };
        let start = self.timestamp(range, "start-datetime")?;
        let mut end = self.timestamp(range, "end-datetime")?;
        if end.unix <= start.unix {
            self.note(
                NoteKind::ReversedRange,
                format!(
                    "`date-range` runs from {} to {}",
                    start.day(),
                    Timestamp::day(end)
                ),
            );
            end = start;
        }
        let span = (end.unix - start.unix) / SECONDS_PER_DAY;
        if span > MAX_RANGE_DAYS {
            return err(format!(
                "`date-range` spans {span} days; a report covers one day, and at most \
                 {MAX_RANGE_DAYS} are accepted"
            ));
        }
        Ok((start, end))
    }

    fn policy(&mut self, entry: &Map<String, Value>, at: &str) -> Result<PolicyResult, ParseError> {
        let policy = match entry.get("policy") {
            Some(Value::Object(policy)) => policy,
            Some(other) => return err(format!("{at}: `policy` is {}, not an object", kind(other))),
            None => return err(format!("{at}: no `policy`")),
        };
        let policy_type = match self.string(policy, "policy-type", at)? {
            Some(wire) => PolicyType::from_wire(&wire),
            None => return err(format!("{at}: no `policy-type`")),
        };
        if let PolicyType::Other(other) = &policy_type {
            self.note(
                NoteKind::UnknownPolicyType,
                format!("{at}: `policy-type` {other:?}"),
            );
        }
        let policy_string = self.policy_string(policy, &policy_type, at)?;
        let policy_domain = self.string(policy, "policy-domain", at)?.map(|d| host(&d));
        if policy_domain.is_none() {
            self.note(
                NoteKind::PolicyDomainMissing,
                format!("{at} ({policy_type}) has no `policy-domain`"),
            );
        }
        let mx_host = self.mx_host(policy, at)?;

        let summary = match entry.get("summary") {
            Some(Value::Object(summary)) => summary,
            Some(other) => {
                return err(format!("{at}: `summary` is {}, not an object", kind(other)))
            }
            None => return err(format!("{at}: no `summary`")),
        };
        let successful_sessions = self
            .count(summary, "total-successful-session-count", at)?
            .ok_or_else(|| {
                ParseError(format!("{at}: no `summary.total-successful-session-count`"))
            })?;
        let failed_total = self.count(summary, "total-failure-session-count", at)?;

        let failure_details = match self.field(entry, "failure-details", at) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(details)) => {
                let mut parsed = Vec::with_capacity(details.len());
                for (index, detail) in details.iter().enumerate() {
                    let at = format!("{at}, failure detail {}", index + 1);
                    let Value::Object(detail) = detail else {
                        return err(format!("{at} is {}, not an object", kind(detail)));
                    };
                    parsed.push(self.detail(detail, &at)?);
                }
                parsed
            }
            Some(other) => {
                return err(format!(
                    "{at}: `failure-details` is {}, not an array",
                    kind(other)
                ))
            }
        };
        let mut result = PolicyResult {
            policy_type,
            policy_string,
            policy_domain,
            mx_host,
            successful_sessions,
            failed_sessions: 0,
            failed_stated: failed_total.is_some(),
            failure_details,
        };
        let sum = result.details_sum();
        result.failed_sessions = match failed_total {
            Some(total) => {
                if total != sum && !(sum == 0 && result.failure_details.is_empty()) {
                    self.note(
                        NoteKind::SummaryMismatch,
                        format!(
                            "{at}: total-failure-session-count {total}, failure details add up to {sum}"
                        ),
                    );
                }
                total
            }
            None => {
                self.note(
                    NoteKind::FailureTotalMissing,
                    format!("{at}: no total-failure-session-count; the details add up to {sum}"),
                );
                sum
            }
        };
        Ok(result)
    }

    fn policy_string(
        &mut self,
        policy: &Map<String, Value>,
        policy_type: &PolicyType,
        at: &str,
    ) -> Result<Vec<String>, ParseError> {
        match policy.get("policy-string") {
            None | Some(Value::Null) => {
                if matches!(policy_type, PolicyType::Sts | PolicyType::Tlsa) {
                    self.note(
                        NoteKind::PolicyStringMissing,
                        format!("{at} ({policy_type}) has no `policy-string`"),
                    );
                }
                Ok(Vec::new())
            }
            Some(Value::Array(lines)) => {
                let lines = lines
                    .iter()
                    .enumerate()
                    .map(|(index, line)| match line {
                        Value::String(line) => Ok(line.clone()),
                        other => err(format!(
                            "{at}: `policy-string` element {} is {}, not a string",
                            index + 1,
                            kind(other)
                        )),
                    })
                    .collect::<Result<Vec<String>, ParseError>>()?;
                // Microsoft sends its tlsa records as one element holding a JSON array.
                if let [only] = &lines[..] {
                    if only.trim_start().starts_with('[') {
                        if let Ok(decoded) = serde_json::from_str::<Vec<String>>(only) {
                            self.note(
                                NoteKind::PolicyStringNotArray,
                                format!("{at}: `policy-string` holds one JSON-encoded array"),
                            );
                            return Ok(decoded);
                        }
                    }
                }
                Ok(lines)
            }
            Some(Value::String(text)) => {
                let decoded = serde_json::from_str::<Vec<String>>(text).ok();
                self.note(
                    NoteKind::PolicyStringNotArray,
                    format!(
                        "{at}: `policy-string` is one string{}",
                        if decoded.is_some() {
                            " holding a JSON array"
                        } else {
                            ""
                        }
                    ),
                );
                Ok(decoded.unwrap_or_else(|| vec![text.clone()]))
            }
            Some(other) => err(format!(
                "{at}: `policy-string` is {}, not an array of strings",
                kind(other)
            )),
        }
    }

    fn mx_host(
        &mut self,
        policy: &Map<String, Value>,
        at: &str,
    ) -> Result<Vec<String>, ParseError> {
        let raw: Vec<String> = match self.field(policy, "mx-host", at) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(text)) => {
                self.note(
                    NoteKind::MxHostString,
                    format!("{at}: `mx-host` is {text:?}"),
                );
                if text.trim().is_empty() {
                    Vec::new()
                } else {
                    vec![text.clone()]
                }
            }
            Some(Value::Array(items)) => {
                let mut hosts = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::String(text) => hosts.push(text.clone()),
                        other => {
                            return err(format!(
                                "{at}: `mx-host` element {} is {}, not a string",
                                index + 1,
                                kind(other)
                            ))
                        }
                    }
                }
                hosts
            }
            Some(other) => return err(format!("{at}: `mx-host` is {}, not an array", kind(other))),
        };
        let mut hosts = Vec::with_capacity(raw.len());
        for text in raw {
            let trimmed = text.trim();
            let bare = match trimmed.strip_prefix("mx:") {
                Some(rest) => {
                    self.note(NoteKind::MxHostPrefix, format!("{at}: `mx-host` {text:?}"));
                    rest.trim()
                }
                None => trimmed,
            };
            if !bare.is_empty() {
                hosts.push(host(bare));
            }
        }
        Ok(hosts)
    }

    fn detail(
        &mut self,
        detail: &Map<String, Value>,
        at: &str,
    ) -> Result<FailureDetail, ParseError> {
        let result_type = match self.string(detail, "result-type", at)? {
            Some(wire) => ResultType::from_wire(&wire),
            None => return err(format!("{at}: no `result-type`")),
        };
        if let ResultType::Other(other) = &result_type {
            self.note(
                NoteKind::UnknownResultType,
                format!("{at}: `result-type` {other:?}"),
            );
        }
        let failed_session_count = self
            .count(detail, "failed-session-count", at)?
            .ok_or_else(|| ParseError(format!("{at}: no `failed-session-count`")))?;
        Ok(FailureDetail {
            result_type,
            sending_mta_ip: self.string(detail, "sending-mta-ip", at)?,
            receiving_mx_hostname: self
                .string(detail, "receiving-mx-hostname", at)?
                .map(|h| host(&h)),
            receiving_mx_helo: self.string(detail, "receiving-mx-helo", at)?,
            receiving_ip: self.string(detail, "receiving-ip", at)?,
            failed_session_count,
            additional_information: self.string(detail, "additional-information", at)?,
            failure_reason_code: self.string(detail, "failure-reason-code", at)?,
        })
    }
}

/// `at` as the start of a message (`"policy 1: "`), or nothing at the top level.
fn prefix(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!("{at}: ")
    }
}

/// A host or domain name as a key: trimmed, lower case, without a trailing dot.
fn host(name: &str) -> String {
    let trimmed = name.trim();
    trimmed
        .strip_suffix('.')
        .unwrap_or(trimmed)
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"organization-name":"Org","report-id":"r1",
        "date-range":{"start-datetime":"2024-02-22T00:00:00Z","end-datetime":"2024-02-22T23:59:59Z"},
        "policies":[{"policy":{"policy-type":"sts","policy-domain":"Example.COM.","policy-string":["version: STSv1"],"mx-host":["mx.example.com"]},
        "summary":{"total-successful-session-count":5,"total-failure-session-count":0}}]}"#;

    #[test]
    fn reads_a_clean_report_without_notes() {
        let parsed = parse_report(MINIMAL.as_bytes()).unwrap();
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        let policy = &parsed.report.policies[0];
        assert_eq!(policy.policy_domain.as_deref(), Some("example.com"));
        assert_eq!(policy.successful_sessions, 5);
        assert_eq!(policy.mx_host, ["mx.example.com"]);
    }

    #[test]
    fn errors_are_sentences_naming_the_problem() {
        let cases = [
            ("", "truncated"),
            ("{\"organization-name\": \"x\"", "truncated"),
            ("[1,2]", "an array, not an object"),
            ("{\"a\":1}", "not a TLS-RPT report"),
            ("garbage", "not valid JSON"),
            (
                &MINIMAL.replace(
                    "\"total-successful-session-count\":5",
                    "\"total-successful-session-count\":-5",
                ),
                "not a count",
            ),
            (
                &MINIMAL.replace("\"report-id\":\"r1\",", ""),
                "no `report-id`",
            ),
            (
                &MINIMAL.replace("2024-02-22T23:59:59Z", "2025-02-22T23:59:59Z"),
                "spans 366 days",
            ),
            (
                &MINIMAL.replace("2024-02-22T00:00:00Z", "yesterday"),
                "not an RFC 3339",
            ),
        ];
        for (input, expected) in cases {
            let error = parse_report(input.as_bytes()).unwrap_err();
            assert!(error.0.contains(expected), "{input}: {error}");
        }
    }
}
