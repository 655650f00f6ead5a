//! Reading `mtasts` JSON reports back in tests. Schema 3's compact detail groups passes and
//! skips by subject (`passed`, `skipped`); [`parse`] expands the groups back into `findings`
//! objects (`{id, outcome, subject[, blocked_by]}`), so a test can look for any finding in one
//! list whatever the detail. The grouping itself is tested in `report::json`.

use serde_json::{json, Value};

/// Parses a JSON document, a domain object or a JSON Lines line, with groups expanded.
pub fn parse(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut value: Value = serde_json::from_slice(bytes)?;
    expand(&mut value);
    Ok(value)
}

/// Expands the groups of `value`, a document (its `domains`) or one domain object.
pub fn expand(value: &mut Value) {
    if let Some(domains) = value.get_mut("domains").and_then(Value::as_array_mut) {
        domains.iter_mut().for_each(expand_domain);
    } else {
        expand_domain(value);
    }
}

fn expand_domain(domain: &mut Value) {
    let Some(object) = domain.as_object_mut() else {
        return;
    };
    let mut expanded = Vec::new();
    for (key, outcome) in [("passed", "pass"), ("skipped", "skipped")] {
        let Some(Value::Array(groups)) = object.remove(key) else {
            continue;
        };
        for group in groups {
            for id in group["ids"].as_array().into_iter().flatten() {
                let mut finding =
                    json!({"id": id, "outcome": outcome, "subject": group["subject"]});
                if let Some(blocker) = group.get("blocked_by") {
                    finding["blocked_by"] = blocker.clone();
                }
                expanded.push(finding);
            }
        }
    }
    if let Some(Value::Array(findings)) = object.get_mut("findings") {
        findings.extend(expanded);
    }
}
