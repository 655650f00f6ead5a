//! Loading of the fixture corpus under `fixtures/`, shared by the fixture tests and the catalog
//! coverage test.
//!
//! Record fixtures (`fixtures/sts-record`, `fixtures/tlsrpt-record`) are JSON: fields `records`
//! (each RR a list of character-strings) or `answer` (`nxdomain`, `nodata`, `servfail`); optional
//! `ttl` (default 3600), `cname_chain`, `misplaced` (`[{name, text}]`), `profile` (`rfc`, `sge`,
//! `ncsc`), `about` (what the case is). TLS-RPT fixtures may also give `rua_domains`: the MX
//! answer for each `mailto:` report domain (`mx`, `null`, `nodata`, `nxdomain`, `servfail`); a
//! report domain not listed answers `mx`, mirroring the pipeline.
//!
//! Policy fixtures are `fixtures/policy/NNN-name.txt` (raw bytes) with `NNN-name.expected`: every
//! non-pass finding as `check-id outcome`, after an optional first line `profile sge|ncsc`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use mtasts::catalog::{CheckId, Profile, Stage};
use mtasts::model::Finding;
use mtasts::observe::{DnsAnswer, MisplacedRecord, MxRecord, Observations, TxtRecord};
use mtasts::parse::tlsrpt_record::analyse_tlsrpt_records;
use mtasts::verdict::{sts_record, tlsrpt, Findings};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    #[serde(default)]
    pub about: String,
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
    pub expect: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Misplaced {
    name: String,
    text: String,
}

const DOMAIN: &str = "example.org";

pub fn fixture_files(dir: &str) -> Vec<PathBuf> {
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

pub fn txt_answer(fixture: &Fixture) -> Result<DnsAnswer<Vec<TxtRecord>>, String> {
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
            cut: None,
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

pub fn mx_answer(kind: &str) -> Result<DnsAnswer<Vec<MxRecord>>, String> {
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

pub fn profile(fixture: &Fixture) -> Result<Profile, String> {
    match fixture.profile.as_deref() {
        None | Some("rfc") => Ok(Profile::Rfc),
        Some("sge") => Ok(Profile::Sge),
        Some("ncsc") => Ok(Profile::Ncsc),
        Some(other) => Err(format!("unknown profile {other:?}")),
    }
}

pub fn misplaced(fixture: &Fixture) -> Vec<MisplacedRecord> {
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
pub fn observations(fixture: &Fixture, stage: Stage) -> Result<Observations, String> {
    let mut obs = Observations::empty(&DOMAIN.parse().unwrap());
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

pub fn run_stage(obs: &Observations, stage: Stage, profile: Profile) -> Vec<Finding> {
    let mut out = Findings::new(profile);
    match stage {
        Stage::StsRecord => {
            sts_record::judge(obs, &mut out);
        }
        _ => {
            // 2026-09-21 (as `scenario::NOW`): after the NCSC Mail Check closed.
            let ctx = mtasts::verdict::Context::new(profile, 1_790_000_000);
            tlsrpt::judge(obs, &ctx, &mut out);
        }
    }
    out.finish()
}

pub const OUTCOMES: [&str; 5] = ["fail", "warn", "info", "skipped", "could-not-determine"];

pub fn policy_fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy")
}

/// Parses an `.expected` file into its profile and the sorted (check, outcome) pairs.
pub fn read_expected(path: &Path) -> Result<(Profile, Vec<(String, String)>), String> {
    let text = fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let mut profile = Profile::Rfc;
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = || format!("{}:{}", path.display(), index + 1);
        match words.as_slice() {
            ["profile", name] if index == 0 => {
                profile = match *name {
                    "rfc" => Profile::Rfc,
                    "sge" => Profile::Sge,
                    "ncsc" => Profile::Ncsc,
                    other => return Err(format!("{}: unknown profile {other}", at())),
                };
            }
            [check, outcome] => {
                if CheckId::from_wire(check).is_none() {
                    return Err(format!("{}: unknown check {check}", at()));
                }
                if !OUTCOMES.contains(outcome) {
                    return Err(format!("{}: unknown outcome {outcome}", at()));
                }
                pairs.push(((*check).to_owned(), (*outcome).to_owned()));
            }
            _ => return Err(format!("{}: expected `check-id outcome`: {line:?}", at())),
        }
    }
    pairs.sort();
    Ok((profile, pairs))
}

/// The findings of every record fixture, by file name.
pub fn record_fixture_findings() -> Vec<(String, Vec<Finding>)> {
    let mut all = Vec::new();
    for (dir, stage) in [
        ("sts-record", Stage::StsRecord),
        ("tlsrpt-record", Stage::TlsRpt),
    ] {
        for path in fixture_files(dir) {
            let text = fs::read_to_string(&path).expect("readable fixture");
            let fixture: Fixture = serde_json::from_str(&text).expect("valid fixture JSON");
            let obs = observations(&fixture, stage).expect("fixture builds observations");
            let profile = profile(&fixture).expect("known profile");
            all.push((path.display().to_string(), run_stage(&obs, stage, profile)));
        }
    }
    all
}

/// The findings of every policy fixture under its profile, by file name.
pub fn policy_fixture_findings() -> Vec<(String, Vec<Finding>)> {
    let dir = policy_fixture_dir();
    let mut bodies: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("fixtures/policy")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    bodies.sort();
    bodies
        .into_iter()
        .map(|path| {
            let (profile, _) =
                read_expected(&path.with_extension("expected")).expect("expected file");
            let body = fs::read(&path).expect("fixture body");
            (
                path.display().to_string(),
                mtasts::verdict::policy::lint(&body, profile).findings,
            )
        })
        .collect()
}
