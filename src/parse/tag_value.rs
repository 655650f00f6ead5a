//! The tag-value record grammar that `_mta-sts` (RFC 8461 §3.1) and `_smtp._tls` (RFC 8460 §3)
//! share, and the discovery filter both RFCs prescribe: join each TXT RR's strings, keep those
//! that begin with the version literal and `;`, and use a record only if exactly one remains.
//!
//! Both grammars are `version 1*(*WSP ";" *WSP field) [*WSP ";"]` with RFC 7405 case-sensitive
//! literals and the same extension fields. A `RecordGrammar` holds what differs as data: the
//! version literal, the tags the record defines, the check each problem is reported under, and
//! where known senders (digest §8) read the record differently. `sts_record` and
//! `tlsrpt_record` are that data plus the rules of their own tags (`id`; the `rua` URI list).

use std::collections::HashMap;

use crate::catalog::{CheckId, Severity};
use crate::escape::escape_bytes;
use crate::model::Problem;
use crate::observe::TxtRecord;

/// One record type: its grammar, and how to word and file each way of breaking it.
#[derive(Debug)]
pub(crate) struct RecordGrammar {
    /// The version tag, matched byte-exactly (`%s"v=STSv1"`); the filter's prefix adds `;`.
    pub(crate) version: &'static [u8],
    /// The label the record lives under (`_mta-sts`).
    pub(crate) label: &'static str,
    /// Evidence label for the record text (`TXT _mta-sts`).
    pub(crate) evidence: &'static str,
    /// The record type in a sentence (`MTA-STS`).
    pub(crate) kind: &'static str,
    /// Who reads the record (`senders`).
    pub(crate) readers: &'static str,
    /// The section that defines the record and its filter (`RFC 8461 §3.1`).
    pub(crate) section: &'static str,
    /// The tags the record defines; every other name is an extension.
    pub(crate) tags: &'static [Tag],
    /// Where a broken grammar, and a lone record that only looks like this type, are reported.
    pub(crate) syntax: CheckId,
    /// Where more than one record is reported, and what that does to readers.
    pub(crate) several: Several,
    /// How a record with whitespace before its first `;` is read.
    pub(crate) space_before_delimiter: SpaceBeforeDelimiter,
    /// How a record that only looks like this type is reported, alone or beside a real one.
    pub(crate) near_miss: NearMiss,
    /// Unrelated TXT records next to a related one, if readers are known to trip over them.
    pub(crate) other_txt: Option<Consequence>,
    /// A field name that appears twice, if the RFC says which occurrence counts.
    pub(crate) duplicates: Option<Consequence>,
    /// The problem for bytes outside US-ASCII.
    pub(crate) non_ascii: &'static str,
    /// Appended to the problem for whitespace after the last field: who rejects it.
    pub(crate) trailing_whitespace: &'static str,
}

impl RecordGrammar {
    /// The filter's literal prefix, for a sentence: `v=STSv1;`.
    pub(crate) fn prefix(&self) -> String {
        format!("{};", escape_bytes(self.version))
    }
}

/// A tag the record type defines.
#[derive(Debug)]
pub(crate) struct Tag {
    pub(crate) name: &'static [u8],
    /// For a tag whose value can hold an unencoded `;` by mistake (a URI): whether a value
    /// leaves something for the pieces without `=` after it to continue. Those pieces become
    /// the field's [`Field::tails`] instead of syntax problems.
    pub(crate) takes_tail: Option<fn(&[u8]) -> bool>,
}

/// A check and the words that say what its problem does to readers.
#[derive(Debug)]
pub(crate) struct Consequence {
    pub(crate) check: CheckId,
    pub(crate) consequence: &'static str,
}

/// More than one record passed the filter.
#[derive(Debug)]
pub(crate) struct Several {
    pub(crate) check: CheckId,
    /// Ends "RFC … needs exactly one, so ".
    pub(crate) consequence: &'static str,
}

/// `v=STSv1 ;`: grammatical, but not the literal prefix the filter looks for.
#[derive(Debug)]
pub(crate) enum SpaceBeforeDelimiter {
    /// The digest's reading of RFC 8461 errata 6285: the record is used when it is the only TXT
    /// record, discarded among others, and reported under `check` either way.
    Errata6285 {
        check: CheckId,
        /// Ends the problem for the record used: who ignores it anyway.
        ignored_by: &'static str,
        /// Follows "the RFC's filter discards it" when a real record exists: who matches it.
        beside_record: &'static str,
    },
    /// Never a candidate: a near miss with this mistake.
    NearMiss(&'static str),
}

/// A record that, ignoring case and whitespace, begins with the version tag but does not pass
/// the filter.
#[derive(Debug)]
pub(crate) struct NearMiss {
    /// The prefix that case-insensitive readers match (`v=STSv1;`).
    pub(crate) case_insensitive_prefix: &'static [u8],
    /// Ends "… ignore it" when no real record exists and only the case keeps this one out.
    pub(crate) no_record_wrong_case: &'static str,
    /// Ends "… ignore it" when no real record exists and this one begins with whitespace.
    pub(crate) no_record_leading_space: &'static str,
    /// Where the near miss is reported when a real record exists.
    pub(crate) beside: CheckId,
    /// Caps the severity of the near miss beside a real record.
    pub(crate) beside_cap: Option<Severity>,
    /// Follows the mistakes when a real record exists.
    pub(crate) beside_consequence: &'static str,
    /// Follows that when only the case keeps the record out.
    pub(crate) beside_wrong_case: &'static str,
}

/// Everything the filter and the parser found in the TXT RRs at one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordAnalysis<R> {
    /// The record a reader following the RFC would use: `None` when the filter left none, or
    /// several, or the survivor breaks the grammar.
    pub record: Option<R>,
    /// How many records passed the discovery filter (0: no record; 2+: none is used).
    pub candidates: usize,
    /// Exactly one candidate was parsed, so the grammar checks actually ran.
    pub parsed: bool,
    /// Problems of the checks that the filter and the grammar decide; not `present`, nor the
    /// stage's own checks (`ttl`, …).
    pub problems: Vec<Problem>,
}

/// The one candidate split into fields, with the problems of the shared grammar.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    /// Evidence label for the record text.
    pub(crate) evidence: &'static str,
    /// The record text, escaped, for evidence.
    pub(crate) shown: String,
    /// The `name=value` fields in record order.
    pub(crate) fields: Vec<Field<'a>>,
    /// Problems so far: the grammar's syntax and duplicate checks.
    pub(crate) problems: Vec<Problem>,
}

/// One `name=value` field.
#[derive(Debug)]
pub(crate) struct Field<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) value: &'a [u8],
    /// The field as written.
    pub(crate) text: &'a [u8],
    /// The name is one of the grammar's tags.
    pub(crate) known: bool,
    /// A known tag, or an extension whose name and value follow the grammar.
    pub(crate) well_formed: bool,
    /// The pieces without `=` that followed, for a tag that takes them.
    pub(crate) tails: Vec<&'a [u8]>,
}

impl<'a> Fields<'a> {
    /// A problem with the record text as its evidence.
    pub(crate) fn problem(&self, check: CheckId, summary: impl Into<String>) -> Problem {
        Problem::new(check, summary).with(self.evidence, self.shown.clone())
    }

    /// The fields of the tag `name`, in record order.
    pub(crate) fn tag(&self, name: &'a [u8]) -> impl Iterator<Item = &Field<'a>> {
        self.fields
            .iter()
            .filter(move |field| field.known && field.name == name)
    }

    /// The extension fields, in record order.
    pub(crate) fn extensions(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|field| !field.known)
    }

    /// The first extension field whose name is `tag` in another case: names are case-sensitive
    /// (RFC 7405 `%s`), so it does not count as the tag, but it is what the writer meant.
    pub(crate) fn miscased(&self, tag: &[u8]) -> Option<&'a [u8]> {
        self.extensions()
            .find(|field| field.name.eq_ignore_ascii_case(tag))
            .map(|field| field.text)
    }
}

/// "the record has no `id` field: `ID=a` looks like `id` in the wrong case, …".
pub(crate) fn miscased_tag_summary(tag: &str, field: &[u8]) -> String {
    format!(
        "the record has no `{tag}` field: `{}` looks like `{tag}` in the wrong case, but field \
         names are case-sensitive (RFC 7405 `%s`), so it is an unknown extension",
        escape_bytes(field)
    )
}

/// Filters the TXT RRs at one name as the grammar's RFC says and hands the one survivor, split
/// into fields, to `build`, which applies the rules of the record's own tags.
pub(crate) fn analyse<R>(
    grammar: &RecordGrammar,
    records: &[TxtRecord],
    build: fn(Fields<'_>) -> (Option<R>, Vec<Problem>),
) -> RecordAnalysis<R> {
    let texts: Vec<Vec<u8>> = records.iter().map(TxtRecord::joined).collect();
    let shapes: Vec<Shape> = texts
        .iter()
        .map(|text| classify(text, grammar.version))
        .collect();
    let alone = texts.len() == 1;
    let errata_6285 = matches!(
        grammar.space_before_delimiter,
        SpaceBeforeDelimiter::Errata6285 { .. }
    );
    // Errata 6285: `v=STSv1 ;` is grammatical, so when it is the only record it is used.
    let is_candidate = |shape: &Shape| match shape {
        Shape::Exact => true,
        Shape::SpaceBeforeDelimiter => alone && errata_6285,
        Shape::NearMiss(_) | Shape::Other => false,
    };
    let candidates: Vec<&[u8]> = texts
        .iter()
        .zip(&shapes)
        .filter(|(_, shape)| is_candidate(shape))
        .map(|(text, _)| text.as_slice())
        .collect();

    let mut problems = shape_problems(grammar, &texts, &shapes, candidates.is_empty());
    if let Some(other_txt) = &grammar.other_txt {
        problems.extend(other_txt_problem(grammar, other_txt, &texts, &shapes));
    }

    match candidates.as_slice() {
        [] => RecordAnalysis {
            record: None,
            candidates: 0,
            parsed: false,
            problems,
        },
        [only] => {
            let (record, mut parse_problems) = build(parse_fields(grammar, only));
            problems.append(&mut parse_problems);
            RecordAnalysis {
                record,
                candidates: 1,
                parsed: true,
                problems,
            }
        }
        several => {
            problems.push(several_problem(grammar, several));
            RecordAnalysis {
                record: None,
                candidates: several.len(),
                parsed: false,
                problems,
            }
        }
    }
}

/// The problems of records that are not exactly what the filter looks for: whitespace before
/// the first `;` (errata 6285), and near misses that lenient readers take for a record.
fn shape_problems(
    grammar: &RecordGrammar,
    texts: &[Vec<u8>],
    shapes: &[Shape],
    no_candidates: bool,
) -> Vec<Problem> {
    let alone = texts.len() == 1;
    let exact = shapes.iter().any(|s| matches!(s, Shape::Exact));
    let mut problems = Vec::new();
    for (text, shape) in texts.iter().zip(shapes) {
        let mistakes = match (shape, &grammar.space_before_delimiter) {
            (Shape::Exact | Shape::Other, _) => continue,
            (
                Shape::SpaceBeforeDelimiter,
                SpaceBeforeDelimiter::Errata6285 {
                    check,
                    ignored_by,
                    beside_record,
                },
            ) => {
                let summary = errata_6285_summary(grammar, ignored_by, beside_record, alone, exact);
                problems
                    .push(Problem::new(*check, summary).with(grammar.evidence, escape_bytes(text)));
                continue;
            }
            (Shape::SpaceBeforeDelimiter, SpaceBeforeDelimiter::NearMiss(mistake)) => {
                vec![(*mistake).to_owned()]
            }
            (Shape::NearMiss(mistakes), _) => mistakes.clone(),
        };
        let problem = near_miss(grammar, text, &mistakes.join(", and "), no_candidates);
        problems.push(problem.with(grammar.evidence, escape_bytes(text)));
    }

    problems
}

/// Two or more records passed the filter: senders use none of them.
fn several_problem(grammar: &RecordGrammar, several: &[&[u8]]) -> Problem {
    let mut problem = Problem::new(
        grammar.several.check,
        format!(
            "{} TXT records begin with `{}`: {} needs exactly one, so {}",
            several.len(),
            grammar.prefix(),
            grammar.section,
            grammar.several.consequence
        ),
    );
    for text in several {
        problem = problem.with(grammar.evidence, escape_bytes(text));
    }
    problem
}

/// The errata 6285 problem for a record with whitespace before its first `;`: `alone` says
/// whether it is the only TXT record (and so used), `exact` whether a real record exists.
fn errata_6285_summary(
    grammar: &RecordGrammar,
    ignored_by: &str,
    beside_record: &str,
    alone: bool,
    exact: bool,
) -> String {
    if alone {
        return format!(
            "the record has whitespace before its first `;`: the grammar allows it, but the \
             record does not begin with the literal `{}` that {}'s filter looks for (errata \
             6285){ignored_by}",
            grammar.prefix(),
            grammar.section
        );
    }
    let consequence = if exact {
        format!("the RFC's filter discards it{beside_record}")
    } else {
        format!(
            "other TXT records exist at {}, so the RFC's filter discards it and no {} record \
             remains (errata 6285)",
            grammar.label, grammar.kind
        )
    };
    format!(
        "a record has whitespace before its first `;`, so it does not begin with `{}`: \
         {consequence}",
        grammar.prefix()
    )
}

/// The problem for unrelated TXT records beside a related one, which some readers count.
fn other_txt_problem(
    grammar: &RecordGrammar,
    other_txt: &Consequence,
    texts: &[Vec<u8>],
    shapes: &[Shape],
) -> Option<Problem> {
    let related = shapes.iter().any(|shape| !matches!(shape, Shape::Other));
    let others: Vec<&Vec<u8>> = texts
        .iter()
        .zip(shapes)
        .filter(|(_, shape)| matches!(shape, Shape::Other))
        .map(|(text, _)| text)
        .collect();
    if !related || others.is_empty() {
        return None;
    }
    let mut problem = Problem::new(
        other_txt.check,
        format!(
            "{}: {} discards {}{}",
            if others.len() == 1 {
                format!("another TXT record shares the {} name", grammar.label)
            } else {
                format!(
                    "{} other TXT records share the {} name",
                    others.len(),
                    grammar.label
                )
            },
            grammar.section,
            if others.len() == 1 { "it" } else { "them" },
            other_txt.consequence,
        ),
    );
    for text in others {
        problem = problem.with(grammar.evidence, escape_bytes(text));
    }
    Some(problem)
}

/// The problem for a record that looks like this type but is not one; `mistakes` says why and
/// `no_record` whether a real record is missing too.
fn near_miss(grammar: &RecordGrammar, text: &[u8], mistakes: &str, no_record: bool) -> Problem {
    let rules = &grammar.near_miss;
    let wrong_case = text
        .get(..rules.case_insensitive_prefix.len())
        .is_some_and(|start| {
            start != rules.case_insensitive_prefix
                && start.eq_ignore_ascii_case(rules.case_insensitive_prefix)
        });
    if no_record {
        let note = if wrong_case {
            rules.no_record_wrong_case
        } else if text.first().is_some_and(|&b| is_wsp(b)) {
            rules.no_record_leading_space
        } else {
            ""
        };
        return Problem::new(
            grammar.syntax,
            format!(
                "a record looks like {} but is not one: {mistakes}; {} following {} ignore \
                 it{note}",
                grammar.kind, grammar.readers, grammar.section
            ),
        );
    }
    let problem = Problem::new(
        rules.beside,
        format!(
            "a second record looks like {} but is not one: {mistakes}; {}{}",
            grammar.kind,
            rules.beside_consequence,
            if wrong_case {
                rules.beside_wrong_case
            } else {
                ""
            }
        ),
    );
    match rules.beside_cap {
        Some(cap) => problem.capped(cap),
        None => problem,
    }
}

/// Splits the one record left by the filter into fields and checks what the grammars share:
/// US-ASCII, the delimiters, `name=value`, extension names and values, repeated names.
fn parse_fields<'a>(grammar: &RecordGrammar, text: &'a [u8]) -> Fields<'a> {
    let mut parsed = Fields {
        evidence: grammar.evidence,
        shown: escape_bytes(text),
        fields: Vec::new(),
        problems: Vec::new(),
    };
    let mut problems = Vec::new();
    if !text.is_ascii() {
        problems.push(parsed.problem(grammar.syntax, grammar.non_ascii));
    }
    // The filter guaranteed the version, optional WSP, then `;`.
    let rest = text
        .iter()
        .position(|&b| b == b';')
        .map_or(&[][..], |first| &text[first + 1..]);
    let split = split_fields(rest);
    for mistake in &split.mistakes {
        problems.push(parsed.problem(grammar.syntax, delimiter_summary(grammar, mistake)));
    }
    let fields = name_value_fields(grammar, &split.fields, &parsed, &mut problems);
    if let Some(duplicates) = &grammar.duplicates {
        problems.extend(duplicate_problems(duplicates, &fields, &parsed));
    }
    parsed.fields = fields;
    parsed.problems = problems;
    parsed
}

fn delimiter_summary(grammar: &RecordGrammar, mistake: &DelimiterMistake) -> String {
    match mistake {
        DelimiterMistake::EmptyField => {
            "the record has an empty field (two `;` with nothing but whitespace between)".to_owned()
        }
        DelimiterMistake::TrailingWhitespace => format!(
            "the record ends in whitespace without a final `;`; the grammar allows \
             whitespace only around `;`{}",
            grammar.trailing_whitespace
        ),
    }
}

/// Each piece between delimiters as a `name=value` field; a piece without `=` continues the
/// field before it when that field's tag takes such tails (`rua` URIs split at `;`).
fn name_value_fields<'a>(
    grammar: &RecordGrammar,
    pieces: &[&'a [u8]],
    parsed: &Fields<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<Field<'a>> {
    let syntax = |summary: String| parsed.problem(grammar.syntax, summary);
    let mut fields: Vec<Field<'a>> = Vec::new();
    // The field that the next pieces without `=` continue, if its tag takes them.
    let mut continued: Option<usize> = None;
    for &piece in pieces {
        let Some(eq) = piece.iter().position(|&b| b == b'=') else {
            if let Some(field) = continued.and_then(|index| fields.get_mut(index)) {
                field.tails.push(piece);
                continue;
            }
            problems.push(
                syntax(format!(
                    "the field `{}` has no `=`: fields are `name=value`",
                    escape_bytes(piece)
                ))
                .with("field", escape_bytes(piece)),
            );
            continue;
        };
        let (name, value) = (&piece[..eq], &piece[eq + 1..]);
        let tag = grammar.tags.iter().find(|tag| tag.name == name);
        // Any other name is an extension (`ID` too: `%s"id="` is case-sensitive).
        let mistake = match tag {
            Some(_) => None,
            None => extension_mistake(name, value, piece),
        };
        let well_formed = mistake.is_none();
        if let Some(summary) = mistake {
            problems.push(syntax(summary).with("field", escape_bytes(piece)));
        }
        continued = tag
            .and_then(|tag| tag.takes_tail)
            .filter(|takes_tail| takes_tail(value))
            .map(|_| fields.len());
        fields.push(Field {
            name,
            value,
            text: piece,
            known: tag.is_some(),
            well_formed,
            tails: Vec::new(),
        });
    }
    fields
}

/// What is wrong with an extension field's name or value, if anything.
fn extension_mistake(name: &[u8], value: &[u8], piece: &[u8]) -> Option<String> {
    ext_name_problem(name)
        .map(|why| {
            format!(
                "the field name `{}` is not a valid extension name: {why}",
                escape_bytes(name)
            )
        })
        .or_else(|| {
            ext_value_problem(value).map(|why| {
                format!(
                    "the extension field `{}` is invalid: {why}",
                    escape_bytes(piece)
                )
            })
        })
}

/// One problem per field name that appears more than once, listing its values.
fn duplicate_problems(
    duplicates: &Consequence,
    fields: &[Field<'_>],
    parsed: &Fields<'_>,
) -> Vec<Problem> {
    repeated(fields)
        .into_iter()
        .map(|(name, values)| {
            let written: Vec<String> = values
                .iter()
                .map(|value| format!("`{}={}`", escape_bytes(name), escape_bytes(value)))
                .collect();
            let mut problem = parsed.problem(
                duplicates.check,
                format!(
                    "the field `{}` appears {} times ({}): {}",
                    escape_bytes(name),
                    values.len(),
                    written.join(", "),
                    duplicates.consequence
                ),
            );
            for value in &values {
                problem = problem.with(
                    "field",
                    format!("{}={}", escape_bytes(name), escape_bytes(value)),
                );
            }
            problem
        })
        .collect()
}

/// Each field name that appears more than once, with its values, in order of first appearance.
fn repeated<'a>(fields: &[Field<'a>]) -> Vec<(&'a [u8], Vec<&'a [u8]>)> {
    // Indexed, so that a record of thousands of distinct fields stays linear.
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    let mut seen: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
    for field in fields {
        let slot = *index.entry(field.name).or_insert_with(|| {
            seen.push((field.name, Vec::new()));
            seen.len() - 1
        });
        seen[slot].1.push(field.value);
    }
    seen.retain(|(_, values)| values.len() > 1);
    seen
}

/// How a TXT record relates to the record type being looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    /// Begins with the exact bytes `VERSION;`.
    Exact,
    /// `VERSION`, whitespace, then `;`: grammatical, but not the filter's literal prefix.
    SpaceBeforeDelimiter,
    /// Meant as this record type but not one; each string names one mistake.
    NearMiss(Vec<String>),
    /// Some other TXT record (SPF, a verification token).
    Other,
}

/// `WSP` (RFC 5234): a space or a tab.
pub(crate) fn is_wsp(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn trim_wsp_start(mut text: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = text {
        if !is_wsp(*first) {
            break;
        }
        text = rest;
    }
    text
}

fn trim_wsp_end(mut text: &[u8]) -> &[u8] {
    while let [rest @ .., last] = text {
        if !is_wsp(*last) {
            break;
        }
        text = rest;
    }
    text
}

/// Classifies a joined TXT record against a version tag such as `v=STSv1`. A record "looks like"
/// the type when, ignoring case and whitespace, it begins with the tag.
fn classify(text: &[u8], version: &[u8]) -> Shape {
    let prefix_len = version.len();
    if text.starts_with(version) {
        let after = &text[prefix_len..];
        if after.first() == Some(&b';') {
            return Shape::Exact;
        }
        let trimmed = trim_wsp_start(after);
        if trimmed.len() < after.len() && trimmed.first() == Some(&b';') {
            return Shape::SpaceBeforeDelimiter;
        }
    }

    // The lenient reading: WSP* tag-name WSP* "=" WSP* value, case-insensitively.
    let Some(eq_in_version) = version.iter().position(|&b| b == b'=') else {
        return Shape::Other;
    };
    let (tag, value) = (&version[..eq_in_version], &version[eq_in_version + 1..]);
    let leading = text.len() - trim_wsp_start(text).len();
    let mut pos = leading;
    let take = |pos: usize, want: &[u8]| {
        text.get(pos..pos + want.len())
            .is_some_and(|got| got.eq_ignore_ascii_case(want))
    };
    if !take(pos, tag) {
        return Shape::Other;
    }
    let tag_at = pos;
    pos += tag.len();
    let before_eq = pos;
    pos = text.len() - trim_wsp_start(&text[pos..]).len();
    let mut inner_space = pos > before_eq;
    if text.get(pos) != Some(&b'=') {
        return Shape::Other;
    }
    pos += 1;
    let after_eq = pos;
    pos = text.len() - trim_wsp_start(&text[pos..]).len();
    inner_space |= pos > after_eq;
    if !take(pos, value) {
        return Shape::Other;
    }
    let value_at = pos;
    pos += value.len();

    let shown_version = escape_bytes(version);
    let mut mistakes = Vec::new();
    if leading > 0 {
        mistakes.push(format!(
            "it begins with whitespace, but must begin with `{shown_version}`"
        ));
    }
    if inner_space {
        mistakes.push(format!("it has whitespace inside `{shown_version}`"));
    }
    let mut written = text[tag_at..tag_at + tag.len()].to_vec();
    written.push(b'=');
    written.extend_from_slice(&text[value_at..value_at + value.len()]);
    if written != version {
        mistakes.push(format!(
            "`{}` is `{shown_version}` in the wrong case, and the tag is case-sensitive, \
             RFC 7405 `%s`",
            escape_bytes(&written)
        ));
    }
    let after = &text[pos..];
    let trimmed = trim_wsp_start(after);
    match trimmed.first() {
        None => mistakes.push(format!(
            "nothing follows `{shown_version}`: a `;` and the other fields are missing"
        )),
        Some(b';') if trimmed.len() < after.len() => {
            mistakes.push("it has whitespace before the first `;`".to_owned());
        }
        Some(b';') => {}
        Some(_) => mistakes.push(format!("`{shown_version}` is not followed by `;`")),
    }
    Shape::NearMiss(mistakes)
}

/// A delimiter that breaks the `*WSP ";" *WSP` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DelimiterMistake {
    /// `;;` or `; ;`.
    EmptyField,
    /// Whitespace after the last field with no `;` after it.
    TrailingWhitespace,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct SplitFields<'a> {
    /// The fields, without the whitespace of the delimiters around them.
    fields: Vec<&'a [u8]>,
    mistakes: Vec<DelimiterMistake>,
}

/// Splits what follows the first `;` of a record into fields. Values cannot contain `;` in
/// either grammar, so splitting on it is exact.
fn split_fields(rest: &[u8]) -> SplitFields<'_> {
    let pieces: Vec<&[u8]> = rest.split(|&b| b == b';').collect();
    let last = pieces.len().saturating_sub(1);
    let mut split = SplitFields::default();
    for (index, piece) in pieces.into_iter().enumerate() {
        let content = trim_wsp_end(trim_wsp_start(piece));
        if content.is_empty() {
            // An empty last piece is the optional trailing delimiter.
            if index != last {
                split.mistakes.push(DelimiterMistake::EmptyField);
            }
            continue;
        }
        if index == last && piece.last().is_some_and(|&b| is_wsp(b)) {
            split.mistakes.push(DelimiterMistake::TrailingWhitespace);
        }
        split.fields.push(content);
    }
    split
}

/// Why `name` is not `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`, if it is not.
fn ext_name_problem(name: &[u8]) -> Option<String> {
    let Some(first) = name.first() else {
        return Some("it is empty".to_owned());
    };
    if !first.is_ascii_alphanumeric() {
        return Some(format!(
            "it starts with {}, not a letter or digit",
            describe_byte(*first)
        ));
    }
    if name.len() > 32 {
        return Some(format!("it is {} characters long (at most 32)", name.len()));
    }
    name.iter()
        .find(|&&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .map(|&b| format!("it contains {}", describe_byte(b)))
}

/// Why `value` is not `1*(%x21-3A / %x3C / %x3E-7E)`, if it is not. Non-ASCII bytes are left to
/// the record-wide check, which reports them once.
fn ext_value_problem(value: &[u8]) -> Option<String> {
    if value.is_empty() {
        return Some("the value is empty".to_owned());
    }
    value
        .iter()
        .find(|&&b| (b.is_ascii() && !(0x21..=0x7e).contains(&b)) || b == b'=' || b == b';')
        .map(|&b| {
            format!(
                "the value contains {}, which the grammar does not allow",
                describe_byte(b)
            )
        })
}

/// A byte named for a sentence: "a space", "`=`", "the control character \x0D".
pub(crate) fn describe_byte(byte: u8) -> String {
    match byte {
        b' ' => "a space".to_owned(),
        b'\t' => "a tab".to_owned(),
        0x21..=0x7e => format!("`{}`", byte as char),
        0x80..=0xff => "non-ASCII bytes".to_owned(),
        _ => format!("the control character \\x{byte:02X}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn split_fields_reports_delimiter_mistakes() {
        let split = split_fields(b" id=a ; b=c ;");
        assert_eq!(split.fields, vec![&b"id=a"[..], b"b=c"]);
        assert!(split.mistakes.is_empty());
        assert_eq!(
            split_fields(b"a=b;;c=d ").mistakes,
            vec![
                DelimiterMistake::EmptyField,
                DelimiterMistake::TrailingWhitespace
            ]
        );
    }

    #[test]
    fn classify_tells_exact_from_near_misses() {
        let table: &[(&[u8], Shape)] = &[
            (b"v=STSv1; id=a", Shape::Exact),
            (b"v=STSv1 \t; id=a", Shape::SpaceBeforeDelimiter),
            (b"v=spf1 -all", Shape::Other),
            (b"", Shape::Other),
        ];
        for (text, shape) in table {
            assert_eq!(classify(text, b"v=STSv1"), *shape, "{text:?}");
        }
        let Shape::NearMiss(mistakes) = classify(b" V = stsv1 ;", b"v=STSv1") else {
            panic!("not a near miss");
        };
        assert_eq!(mistakes.len(), 4, "{mistakes:?}");
    }

    /// Deterministic pseudo-random records over the grammar's interesting bytes.
    pub(crate) fn random_records(seed: u64, alphabet: &[&[u8]]) -> Vec<TxtRecord> {
        let mut state = seed;
        let mut next = move |bound: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            usize::try_from(state >> 33).unwrap() % bound
        };
        (0..1 + next(3))
            .map(|_| TxtRecord {
                strings: (0..1 + next(3))
                    .map(|_| {
                        (0..next(12))
                            .flat_map(|_| alphabet[next(alphabet.len())].to_vec())
                            .collect()
                    })
                    .collect(),
            })
            .collect()
    }
}
