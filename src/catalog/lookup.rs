//! Finding a check by the ID a person typed (`mtasts explain`, `--ignore`, `mtasts.toml`): the
//! check itself, or a sentence naming the closest IDs.

use std::fmt;

use super::{CheckId, CATALOG};

/// How many close IDs an unknown one is answered with.
const SUGGESTIONS: usize = 3;

/// An ID that names no check, with the closest that do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownCheck {
    pub given: String,
    pub closest: Vec<CheckId>,
}

impl fmt::Display for UnknownCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let given = crate::escape::escape_str(&self.given);
        write!(f, "there is no check `{given}`")?;
        let closest: Vec<String> = self
            .closest
            .iter()
            .map(|id| format!("`{}`", id.as_str()))
            .collect();
        match closest.as_slice() {
            [] => {}
            [only] => write!(f, "; the closest is {only}")?,
            [init @ .., last] => write!(f, "; the closest are {} and {last}", init.join(", "))?,
        }
        f.write_str(" (mtasts checks lists them all)")
    }
}

impl std::error::Error for UnknownCheck {}

/// The check with the wire ID `given` (case and surrounding space forgiven).
pub fn lookup(given: &str) -> Result<CheckId, UnknownCheck> {
    let wanted = given.trim().to_ascii_lowercase();
    CheckId::from_wire(&wanted).ok_or_else(|| UnknownCheck {
        given: given.to_owned(),
        closest: closest(&wanted),
    })
}

/// The IDs nearest to `wanted`: those that contain it, then by edit distance over the whole ID
/// and over the part after the stage (so `max-age` finds `policy.max-age`), nearest first, ties
/// in catalog order.
fn closest(wanted: &str) -> Vec<CheckId> {
    let mut scored: Vec<(usize, usize, CheckId)> = CATALOG
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let id = spec.id.as_str();
            let name = id.split_once('.').map_or(id, |(_, name)| name);
            // An ID that contains what was typed (`smtp.starttls`) is as close as can be.
            let distance = if id.contains(wanted) {
                0
            } else {
                edit_distance(wanted, id).min(edit_distance(wanted, name))
            };
            (distance, index, spec.id)
        })
        .collect();
    scored.sort_unstable();
    // Far-off IDs are no help: keep those within half the typed length, at least three edits.
    let limit = (wanted.chars().count() / 2).max(3);
    scored
        .into_iter()
        .filter(|(distance, _, _)| *distance <= limit)
        .take(SUGGESTIONS)
        .map(|(_, _, id)| id)
        .collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_are_found_whatever_their_case() {
        assert_eq!(lookup("policy.mode"), Ok(CheckId::PolicyMode));
        assert_eq!(lookup(" Policy.Mode "), Ok(CheckId::PolicyMode));
    }

    #[test]
    fn unknown_ids_name_the_closest() {
        let err = lookup("policy.maxage").unwrap_err();
        assert_eq!(err.closest.first(), Some(&CheckId::PolicyMaxAge));
        let text = err.to_string();
        assert!(
            text.starts_with("there is no check `policy.maxage`; the closest are `policy.max-age`"),
            "{text}"
        );
        let bare = lookup("starttls-offered").unwrap_err();
        assert_eq!(bare.closest.first(), Some(&CheckId::SmtpStarttlsOffered));
        let nothing = lookup("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz").unwrap_err();
        assert!(nothing.closest.is_empty());
        assert_eq!(
            nothing.to_string(),
            "there is no check `zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz` (mtasts checks lists them all)"
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("mode", "mode"), 0);
    }
}
