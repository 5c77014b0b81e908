//! Diagnostics: every problem found in the configuration, with file, line, column and a hint.
//!
//! Loading never stops at the first problem: readers push diagnostics here and carry on,
//! so `leadflow check` reports everything at once.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::node::{Loc, Node};

/// One problem in the configuration.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file, relative to the project directory when possible.
    pub file: PathBuf,
    /// Where in the file.
    pub loc: Loc,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.loc, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// Collects diagnostics for one file.
#[derive(Debug)]
pub struct Sink<'a> {
    file: &'a Path,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    /// A sink writing to `out`, for problems in `file`.
    pub fn new(file: &'a Path, out: &'a mut Vec<Diagnostic>) -> Self {
        Self { file, out }
    }

    /// Records a problem at `loc`.
    pub fn error(&mut self, loc: Loc, message: impl Into<String>, hint: Option<String>) {
        self.out.push(Diagnostic {
            file: self.file.to_path_buf(),
            loc,
            message: message.into(),
            hint,
        });
    }

    /// Records a problem at a node.
    pub fn at(&mut self, node: &Node, message: impl Into<String>) {
        self.error(node.loc, message, None);
    }

    /// Records a problem at a node, with a hint.
    pub fn hint(&mut self, node: &Node, message: impl Into<String>, hint: impl Into<String>) {
        self.error(node.loc, message, Some(hint.into()));
    }

    /// The file this sink reports on.
    pub fn file(&self) -> &Path {
        self.file
    }
}

/// The closest candidate to `given`, when one is close enough to be a likely typo.
pub fn did_you_mean<'c>(
    given: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let given_l = given.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&given_l, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(given.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The closest name to `given`, for names of several words such as property labels: a
/// likely typo ([`did_you_mean`]), else the candidate sharing the longest beginning with
/// `given`, when that beginning is at least half of `given` and no other candidate shares
/// as much ("ICP Fitness" → "ICP Fit Score").
pub fn suggest_name<'c>(
    given: &str,
    candidates: impl IntoIterator<Item = &'c str> + Clone,
) -> Option<&'c str> {
    if let Some(best) = did_you_mean(given, candidates.clone()) {
        return Some(best);
    }
    let given_l: Vec<char> = given.trim().to_lowercase().chars().collect();
    let needed = 4.max(given_l.len().div_ceil(2));
    candidates
        .into_iter()
        .map(|c| {
            let common = c
                .to_lowercase()
                .chars()
                .zip(&given_l)
                .take_while(|(a, b)| a == *b)
                .count();
            (common, c)
        })
        .filter(|(common, _)| *common >= needed)
        .fold(
            None,
            |best: Option<(usize, &str, bool)>, (common, c)| match best {
                Some((b, _, _)) if b > common => best,
                Some((b, bc, _)) if b == common => Some((b, bc, true)),
                _ => Some((common, c, false)),
            },
        )
        // Two candidates sharing the same beginning: no guess.
        .and_then(|(_, c, tied)| (!tied).then_some(c))
}

/// A hint naming the allowed values, with a suggestion when one is close.
pub fn choices_hint<'c>(
    given: &str,
    candidates: impl IntoIterator<Item = &'c str> + Clone,
) -> String {
    let list: Vec<String> = candidates
        .clone()
        .into_iter()
        .map(|c| format!("{c:?}"))
        .collect();
    match did_you_mean(given, candidates) {
        Some(best) => format!("did you mean {best:?}? Allowed: {}", list.join(", ")),
        None => format!("allowed: {}", list.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_spellings_only() {
        let options = [
            "No Response",
            "Interested",
            "Not Interested",
            "Meeting Scheduled",
        ];
        assert_eq!(did_you_mean("Intrested", options), Some("Interested"));
        assert_eq!(
            did_you_mean("meeting sheduled", options),
            Some("Meeting Scheduled")
        );
        assert_eq!(did_you_mean("Banana", options), None);
        assert!(choices_hint("Intrested", options).starts_with("did you mean \"Interested\"?"));
    }

    #[test]
    fn names_of_several_words_are_suggested_by_their_beginning() {
        let labels = ["ICP Type", "ICP Fit Score", "Lead Score", "Lead Source"];
        assert_eq!(did_you_mean("ICP Fitness", labels), None);
        assert_eq!(suggest_name("ICP Fitness", labels), Some("ICP Fit Score"));
        assert_eq!(suggest_name("Lead Scor", labels), Some("Lead Score"));
        assert_eq!(suggest_name("Lead", labels), None, "too short to guess");
        assert_eq!(suggest_name("Banana Split", labels), None);
    }
}
