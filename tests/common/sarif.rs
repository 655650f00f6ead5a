//! The SARIF 2.1.0 schema (OASIS), read from `../shared/schemas` beside the repository, and a
//! check of a log against it with format validation on (`uri`, `date-time`), as strict as
//! GitHub's uploader or stricter.

use serde_json::Value;

/// The validator of the shared SARIF 2.1.0 schema; a missing schema fails the test, never
/// skips it.
pub fn validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/schemas/sarif-schema-2.1.0.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("the SARIF schema {path} cannot be read: {err}"));
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Parses `text` and asserts that it is a valid SARIF 2.1.0 log; returns the log.
pub fn assert_valid(text: &str) -> Value {
    let log: Value =
        serde_json::from_str(text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"));
    let errors: Vec<String> = validator()
        .iter_errors(&log)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
    log
}
