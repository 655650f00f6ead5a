//! Renderers: findings in, bytes out. They decide nothing: outcomes, severities and verdicts come
//! from the verdict code and the [catalog](crate::catalog); a renderer only lays them out.
//!
//! Every format is a [`stream::Sink`] that takes one domain at a time, so a run of thousands of
//! domains is written as it goes ([`stream::sink`]); [`render`] feeds a report already in memory
//! through the same sink. [`progress`] is the bar on standard error.

pub mod catalog;
mod ci;
pub mod csv;
pub mod explain;
pub mod github;
pub mod human;
pub mod json;
pub mod jsonl;
pub mod junit;
pub mod progress;
pub mod sarif;
pub mod stream;

use std::io::{self, Write};

use crate::catalog::Profile;
use crate::model::{DomainReport, Outcome};

/// Everything one run of `mtasts check` (or `lint`) reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub tool_version: String,
    pub profile: Profile,
    /// Unix seconds.
    pub generated_at: i64,
    /// Settings that differ from the defaults, echoed in the header (`("ca-file", "lab.pem")`),
    /// so a report made against a lab resolver or extra roots says so.
    pub settings: Vec<(String, String)>,
    /// In the order the domains were given.
    pub domains: Vec<DomainReport>,
}

/// Report formats (`--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A checklist for people, grouped by stage.
    #[default]
    Human,
    /// One JSON document, described in docs/report-json.md (written at the end of the run).
    Json,
    /// JSON Lines: one domain object (as in `json`'s `domains`) per line, as each domain finishes.
    Jsonl,
    /// One row per domain with stable columns, safe to open in a spreadsheet (docs/report-csv.md).
    Csv,
    /// SARIF 2.1.0 for GitHub code scanning: one rule per check, one result per problem
    /// (docs/report-sarif.md; written at the end of the run).
    Sarif,
    /// JUnit XML for test reporters (GitLab, Jenkins, GitHub): a test suite per domain, a test
    /// case per check and subject (docs/report-junit.md; written at the end of the run).
    Junit,
    /// GitHub Actions workflow commands: an annotation per problem, no upload step needed
    /// (docs/report-github.md).
    Github,
}

/// How much each finding carries in `json` and `jsonl` (`--detail`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detail {
    /// A finding carries its id, outcome, severity, subject, summary and evidence; a passing
    /// one only its id, outcome and subject. The checks' fixed text (title, sources, rules, fix,
    /// docs link) is in the document's `checks` catalog, once.
    #[default]
    Compact,
    /// Every finding carries everything, passes included, with the check's fixed text repeated
    /// in each (the shape of schema 1, larger by about six times).
    Full,
}

/// How the human renderer may style its output; decided once, by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colour (`--color`; by default only on a terminal and without NO_COLOR).
    pub colour: bool,
    /// `--verbose`: the whole checklist, passes included, rather than the problems first.
    pub verbose: bool,
}

/// Writes a complete `report` in `format`, through the same sink a streamed run uses
/// ([`stream::sink`] is the one place a renderer is picked).
pub fn render(
    report: &AuditReport,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    stream::render_through_sink(report, format, style, Detail::Compact, out)
}

/// [`render`] with the findings' [`Detail`] for `json` and `jsonl`.
pub fn render_with_detail(
    report: &AuditReport,
    format: Format,
    style: Style,
    detail: Detail,
    out: &mut dyn Write,
) -> io::Result<()> {
    stream::render_through_sink(report, format, style, detail, out)
}

/// The short status tag of an outcome, as the human checklist shows it.
pub fn status_tag(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Warn => "WARN",
        Outcome::Info => "INFO",
        Outcome::Skipped { .. } => "SKIP",
        Outcome::CouldNotDetermine { .. } => UNDETERMINED_TAG,
    }
}

/// The human tag of "could not determine": a word, as the others are (it was `????`).
pub const UNDETERMINED_TAG: &str = "UNKNOWN";

/// The link to a check in docs/checks.md; `report::catalog` writes an explicit `<a id>` with
/// it, so the link does not depend on how a markdown renderer slugs headings. A URL when
/// `package.repository` is set in Cargo.toml, else the path inside the repository.
pub fn docs_anchor(check: crate::catalog::CheckId) -> String {
    docs_link(&format!("docs/checks.md#{}", check.as_str()))
}

/// `path` (relative to the repository root) as a link: see [`docs_link_in`].
pub fn docs_link(path: &str) -> String {
    docs_link_in(env!("CARGO_PKG_REPOSITORY"), path)
}

/// `path` inside `repository` (a GitHub-style URL: `/blob/main/` is added), or `path` itself
/// when no repository is set.
pub fn docs_link_in(repository: &str, path: &str) -> String {
    let repository = repository.trim().trim_end_matches('/');
    if repository.is_empty() {
        path.to_owned()
    } else {
        format!("{repository}/blob/main/{path}")
    }
}

/// The check's documentation as an absolute URL, when the package names its repository
/// (`package.repository` in Cargo.toml); `None` otherwise. SARIF's `helpUri` must be absolute.
pub fn docs_url(check: crate::catalog::CheckId) -> Option<String> {
    // With a repository, the docs link is already that URL.
    repository_url().map(|_| docs_anchor(check))
}

/// `package.repository` from Cargo.toml, without a trailing `/`; `None` when it is not set.
pub fn repository_url() -> Option<&'static str> {
    Some(env!("CARGO_PKG_REPOSITORY").trim_end_matches('/')).filter(|url| !url.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_links_are_urls_only_with_a_repository() {
        assert_eq!(
            docs_link_in("", "docs/checks.md#policy.mode"),
            "docs/checks.md#policy.mode"
        );
        assert_eq!(
            docs_link_in("https://github.com/o/r/", "docs/rules.md#TXT-01"),
            "https://github.com/o/r/blob/main/docs/rules.md#TXT-01"
        );
        assert_eq!(
            docs_anchor(crate::catalog::CheckId::PolicyMode),
            docs_link_in(env!("CARGO_PKG_REPOSITORY"), "docs/checks.md#policy.mode")
        );
    }
}
