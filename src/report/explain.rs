//! `mtasts explain ID`: one check in full, from the catalog alone: what it checks, the rules it
//! rests on with their sections and text ([`crate::catalog::rules`]), its sources, its severity
//! under each profile, the fix, and a passing and a failing example
//! ([`crate::catalog::examples`]).

use std::io::{self, Write};

use crate::catalog::examples::{self, Sample};
use crate::catalog::{rules, CheckId, Profile, Scope};

/// The profiles in the order of the catalog's severities.
const PROFILES: [Profile; 3] = [Profile::Rfc, Profile::Sge, Profile::Ncsc];

/// Writes the explanation of `check` as plain text.
pub fn render(check: CheckId, out: &mut dyn Write) -> io::Result<()> {
    let spec = check.spec();
    writeln!(out, "{}: {}", spec.id, spec.title)?;
    let scope = match spec.scope {
        Scope::Domain => "once per domain",
        Scope::Host => "once per host name",
        Scope::Endpoint => "once per address of a host",
    };
    writeln!(out, "Stage: {}; judged {scope}.", spec.stage.title())?;

    writeln!(out, "\nWhen broken")?;
    for profile in PROFILES {
        writeln!(
            out,
            "  --profile {:<5} {}",
            profile.as_str(),
            spec.severity(profile).as_str()
        )?;
    }

    writeln!(out, "\nWhy: the rules it rests on")?;
    for id in spec.rules {
        match rules::find(id) {
            Some(rule) => {
                writeln!(out, "  {} ({})", rule.id, rule.sources)?;
                wrap(out, "      ", rule.text)?;
                if !rule.broken.is_empty() {
                    wrap(out, "      ", &format!("When broken: {}", rule.broken))?;
                }
            }
            // The catalog's tests keep this from happening; say so rather than hide it.
            None => writeln!(out, "  {id} (not in docs/rules.md)")?,
        }
    }

    let sources: Vec<String> = spec.sources.iter().map(ToString::to_string).collect();
    writeln!(out, "\nSources: {}", sources.join(", "))?;

    writeln!(out, "\nFix")?;
    wrap(out, "  ", spec.fix)?;

    if let Some(examples) = examples::of(check) {
        writeln!(out, "\nPasses")?;
        sample(out, &examples.pass)?;
        writeln!(out, "\nFails (or is reported)")?;
        sample(out, &examples.fail)?;
    }

    let rule_links: Vec<String> = spec
        .rules
        .iter()
        .map(|rule| super::docs_link(&rules::docs_anchor(rule)))
        .collect();
    writeln!(out, "\nMore: {}", super::docs_anchor(check))?;
    for link in rule_links {
        writeln!(out, "      {link}")?;
    }
    Ok(())
}

/// One example: records and policy files verbatim (line ends shown), descriptions wrapped.
fn sample(out: &mut dyn Write, sample: &Sample) -> io::Result<()> {
    match sample {
        Sample::StsTxt(records) => verbatim(out, "TXT at _mta-sts.DOMAIN:", records),
        Sample::TlsRptTxt(records) => verbatim(out, "TXT at _smtp._tls.DOMAIN:", records),
        Sample::Policy(body) => {
            writeln!(
                out,
                "  policy file (line ends shown as \\r\\n, \\n or \\r):"
            )?;
            for line in body.split_inclusive('\n') {
                let shown = crate::escape::escape_str(line);
                writeln!(out, "    {shown}")?;
            }
            Ok(())
        }
        Sample::Seen(text) => wrap(out, "  ", text),
    }
}

fn verbatim(out: &mut dyn Write, heading: &str, records: &str) -> io::Result<()> {
    writeln!(out, "  {heading}")?;
    for record in records.lines() {
        writeln!(out, "    \"{}\"", crate::escape::escape_str(record))?;
    }
    Ok(())
}

/// Writes `text` in lines of at most about 96 columns, each after `indent`.
fn wrap(out: &mut dyn Write, indent: &str, text: &str) -> io::Result<()> {
    const WIDTH: usize = 96;
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > WIDTH {
            writeln!(out, "{indent}{line}")?;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        writeln!(out, "{indent}{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CATALOG;

    fn explained(check: CheckId) -> String {
        let mut out = Vec::new();
        render(check, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_check_explains_with_rules_fix_and_examples() {
        for spec in CATALOG {
            let text = explained(spec.id);
            for part in [
                "When broken\n",
                "Why: the rules it rests on\n",
                "Sources: ",
                "\nFix\n",
                "\nPasses\n",
                "\nFails (or is reported)\n",
                "\nMore: ",
            ] {
                assert!(text.contains(part), "{}: no {part:?}\n{text}", spec.id);
            }
            assert!(!text.contains("not in docs/rules.md"), "{}", spec.id);
            for rule in spec.rules {
                assert!(text.contains(&format!("  {rule} (")), "{}: {rule}", spec.id);
            }
        }
    }

    #[test]
    fn a_policy_example_shows_its_line_ends() {
        let text = explained(CheckId::PolicyLineEndings);
        assert!(text.contains("    version: STSv1\\r\\n\n"), "{text}");
        assert!(
            text.contains("    version: STSv1\\rmode: enforce\\r"),
            "{text}"
        );
        let text = explained(CheckId::PolicyMaxAge);
        assert!(
            text.contains("  POL-05 (RFC 8461 §3.2; errata 7282)"),
            "{text}"
        );
        assert!(text.contains("max_age: 31557601\\r\\n\n"), "{text}");
    }
}
