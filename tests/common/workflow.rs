//! GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`) read back the way
//! the Actions runner reads them, to check what `--format github` writes.

use std::collections::BTreeMap;

/// One GitHub workflow command read back as the Actions runner reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub properties: BTreeMap<String, String>,
    pub message: String,
}

/// The runner's unescaping (actions/runner, `ActionCommand`): `%25` last, so that an escaped
/// `%` cannot form another escape.
fn unescape(text: &str, property: bool) -> String {
    let mut text = text.replace("%0D", "\r").replace("%0A", "\n");
    if property {
        text = text.replace("%3A", ":").replace("%2C", ",");
    }
    text.replace("%25", "%")
}

/// `::name key=value,key=value::message`; `None` for a line that is not a command.
pub fn parse(line: &str) -> Option<Command> {
    let rest = line.strip_prefix("::")?;
    let (head, message) = rest.split_once("::")?;
    let (name, properties) = head.split_once(' ').unwrap_or((head, ""));
    let properties = properties
        .split(',')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap();
            (key.to_owned(), unescape(value, true))
        })
        .collect();
    Some(Command {
        name: name.to_owned(),
        properties,
        message: unescape(message, false),
    })
}
