//! Table-driven fixtures for the `_mta-sts` and `_smtp._tls` record stages.
//!
//! Each `fixtures/sts-record/NNN-name.json` and `fixtures/tlsrpt-record/NNN-name.json` describes
//! one DNS answer and lists every finding of the stage that is not a pass, as
//! `[check-id, outcome]`. The test builds `Observations::empty("example.org")` with that answer,
//! runs the stage's `judge`, and compares the multiset of non-pass findings exactly.
//!
//! Fields: `records` (each RR a list of character-strings) or `answer` (`nxdomain`, `nodata`,
//! `servfail`); optional `ttl` (default 3600), `cname_chain`, `misplaced` (`[{name, text}]`),
//! `profile` (`rfc`, `sge`, `ncsc`), `about` (what the case is). TLS-RPT fixtures may also give
//! `rua_domains`: the MX answer for each `mailto:` report domain (`mx`, `null`, `nodata`,
//! `nxdomain`, `servfail`); a report domain not listed answers `mx`, mirroring the pipeline,
//! which looks up the domains of the record's `mailto:` URIs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use mtasts::catalog::{Profile, Stage, CATALOG};
use mtasts::model::{Finding, Outcome};
use mtasts::observe::{DnsAnswer, MisplacedRecord, MxRecord, Observations, TxtRecord};
use mtasts::parse::tlsrpt_record::analyse_tlsrpt_records;
use mtasts::verdict::{sts_record, tlsrpt, Findings};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    #[serde(default)]
    about: String,
    records: Option<Vec<Vec<String>>>,
    answer: Option<String>,
    ttl: Option<u32>,
    #[serde(default)]
    cname_chain: Vec<String>,
    #[serde(default)]
    misplaced: Vec<Misplaced>,
    profile: Option<String>,
    #[serde(default)]
    rua_domains: BTreeMap<String, String>,
    expect: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Misplaced {
    name: String,
    text: String,
}

const DOMAIN: &str = "example.org";

fn fixture_files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir);
    let entries: Result<Vec<_>, _> = fs::read_dir(&root)
        .unwrap_or_else(|err| panic!("{}: {err}", root.display()))
        .collect();
    let mut files: Vec<PathBuf> = entries
        .unwrap_or_else(|err| panic!("{}: {err}", root.display()))
        .into_iter()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", root.display());
    files
}

fn txt_answer(fixture: &Fixture) -> Result<DnsAnswer<Vec<TxtRecord>>, String> {
    match (&fixture.records, fixture.answer.as_deref()) {
        (Some(records), None) => Ok(DnsAnswer::Records {
            data: records
                .iter()
                .map(|strings| TxtRecord {
                    strings: strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
                })
                .collect(),
            ttl: fixture.ttl.unwrap_or(3600),
            cname_chain: fixture.cname_chain.clone(),
        }),
        (None, Some("nxdomain")) => Ok(DnsAnswer::NxDomain),
        (None, Some("nodata")) => Ok(DnsAnswer::NoData),
        (None, Some("servfail")) => Ok(DnsAnswer::Failed {
            reason: "SERVFAIL".to_owned(),
        }),
        (None, Some(other)) => Err(format!("unknown answer {other:?}")),
        _ => Err("give exactly one of `records` and `answer`".to_owned()),
    }
}

fn mx_answer(kind: &str) -> Result<DnsAnswer<Vec<MxRecord>>, String> {
    let mx = |exchange: &str| MxRecord {
        preference: 10,
        exchange: exchange.to_owned(),
    };
    match kind {
        "mx" => Ok(DnsAnswer::records(vec![mx("mx.reports.example")])),
        "null" => Ok(DnsAnswer::records(vec![MxRecord {
            preference: 0,
            exchange: String::new(),
        }])),
        "nodata" => Ok(DnsAnswer::NoData),
        "nxdomain" => Ok(DnsAnswer::NxDomain),
        "servfail" => Ok(DnsAnswer::Failed {
            reason: "SERVFAIL".to_owned(),
        }),
        other => Err(format!("unknown rua_domains answer {other:?}")),
    }
}

fn profile(fixture: &Fixture) -> Result<Profile, String> {
    match fixture.profile.as_deref() {
        None | Some("rfc") => Ok(Profile::Rfc),
        Some("sge") => Ok(Profile::Sge),
        Some("ncsc") => Ok(Profile::Ncsc),
        Some(other) => Err(format!("unknown profile {other:?}")),
    }
}

fn misplaced(fixture: &Fixture) -> Vec<MisplacedRecord> {
    fixture
        .misplaced
        .iter()
        .map(|m| MisplacedRecord {
            name: m.name.clone(),
            text: m.text.clone(),
        })
        .collect()
}

/// Builds the observations for one stage's fixture.
fn observations(fixture: &Fixture, stage: Stage) -> Result<Observations, String> {
    let mut obs = Observations::empty(DOMAIN);
    let answer = txt_answer(fixture)?;
    match stage {
        Stage::StsRecord => {
            if !fixture.rua_domains.is_empty() {
                return Err("`rua_domains` is for TLS-RPT fixtures".to_owned());
            }
            obs.sts_txt = answer;
            obs.sts_misplaced = misplaced(fixture);
        }
        Stage::TlsRpt => {
            // As the pipeline does: the MX of each mailto: domain of the usable record.
            let domains = answer
                .data()
                .and_then(|records| analyse_tlsrpt_records(records).0)
                .map(|record| record.mailto_domains())
                .unwrap_or_default();
            for name in fixture.rua_domains.keys() {
                if !domains.contains(name) {
                    return Err(format!("rua_domains names {name}, not a report domain"));
                }
            }
            for domain in domains {
                let kind = fixture
                    .rua_domains
                    .get(&domain)
                    .map_or("mx", String::as_str);
                obs.rua_domains.push((domain, mx_answer(kind)?));
            }
            obs.tlsrpt_txt = answer;
            obs.tlsrpt_misplaced = misplaced(fixture);
        }
        _ => return Err(format!("no fixtures for stage {stage:?}")),
    }
    Ok(obs)
}

fn run_stage(obs: &Observations, stage: Stage, profile: Profile) -> Vec<Finding> {
    let mut out = Findings::new(profile);
    match stage {
        Stage::StsRecord => {
            sts_record::judge(obs, &mut out);
        }
        _ => {
            tlsrpt::judge(obs, &mut out);
        }
    }
    out.finish()
}

/// Checks one fixture; the error says what differed.
fn check_fixture(path: &Path, stage: Stage) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|err| err.to_string())?;
    let fixture: Fixture = serde_json::from_str(&text).map_err(|err| err.to_string())?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let numbered = name.len() > 4 && name[..3].bytes().all(|b| b.is_ascii_digit());
    if !numbered || name.as_bytes()[3] != b'-' {
        return Err("file name must be NNN-name.json".to_owned());
    }
    let obs = observations(&fixture, stage)?;
    let findings = run_stage(&obs, stage, profile(&fixture)?);

    for spec in CATALOG.iter().filter(|spec| spec.stage == stage) {
        if !findings.iter().any(|f| f.check == spec.id) {
            return Err(format!("no finding at all for {}", spec.id));
        }
    }
    for finding in &findings {
        if finding.check.spec().stage != stage {
            return Err(format!("finding of another stage: {}", finding.check));
        }
        if finding.outcome == Outcome::Pass && finding.summary.is_empty() {
            return Err(format!("{} passes without a summary", finding.check));
        }
    }

    let mut got: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f.outcome != Outcome::Pass)
        .map(|f| (f.check.as_str().to_owned(), f.outcome.label().to_owned()))
        .collect();
    let mut want = fixture.expect.clone();
    got.sort();
    want.sort();
    if got != want {
        let detail: Vec<String> = findings
            .iter()
            .filter(|f| f.outcome != Outcome::Pass)
            .map(|f| format!("  {} {}: {}", f.check, f.outcome.label(), f.summary))
            .collect();
        return Err(format!(
            "{}\n expected {want:?}\n got      {got:?}\n{}",
            fixture.about,
            detail.join("\n")
        ));
    }
    Ok(())
}

fn check_dir(dir: &str, stage: Stage) {
    let failures: Vec<String> = fixture_files(dir)
        .iter()
        .filter_map(|path| {
            check_fixture(path, stage)
                .err()
                .map(|err| format!("{}: {err}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn sts_record_fixtures() {
    check_dir("sts-record", Stage::StsRecord);
}

#[test]
fn tlsrpt_record_fixtures() {
    check_dir("tlsrpt-record", Stage::TlsRpt);
}
