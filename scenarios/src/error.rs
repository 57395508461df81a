//! The error a scenario file can produce: where it is (file, line, column) and what was
//! expected there, shown like a compiler diagnostic with the offending source line.
//!
//! Positions are computed from byte spans of the source, so every check that knows which
//! key or value it is judging can point at it precisely.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The class of a mistake, for callers and tests that react to it; the message says more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The text is not valid TOML.
    Syntax,
    /// A key the format does not define.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong TOML type, or a word outside the allowed set (e.g. a fault kind).
    WrongType,
    /// A string that is not a duration.
    BadDuration,
    /// A number outside its allowed range (a share outside 0–1, a status outside 4xx/5xx, ...).
    OutOfRange,
    /// A fault target that names nothing.
    UnknownTarget,
    /// A fault key that does not apply to the fault's kind, or a target the kind cannot take.
    FaultMismatch,
    /// A fault that does not fit inside the run.
    FaultOutsideRun,
    /// A resilience policy value that `PolicyConfig::validate` refuses.
    InvalidPolicy,
    /// An expectation naming an agent that does not exist.
    UnknownAgent,
    /// An expectation that needs a fault in a scenario without one.
    ExpectationWithoutFault,
}

/// A mistake in a scenario file, located by 1-based line and column (both 0 for I/O errors).
///
/// `Display` renders `path:line:col: error: message`, then the source line with a caret
/// under the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ScenarioError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    /// What was expected, and what was found.
    pub message: String,
    pub kind: ErrorKind,
    snippet: Option<Snippet>,
}

/// The offending source line and the columns the caret underlines.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snippet {
    text: String,
    /// Characters of underline, at least 1.
    width: usize,
}

impl ScenarioError {
    /// An error at a byte span of `source`. Spans past the end or inside a character are
    /// clamped, so any span gives a valid position.
    pub(crate) fn at(
        source: &str,
        path: &Path,
        span: Range<usize>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        let start = floor_char_boundary(source, span.start.min(source.len()));
        let end = floor_char_boundary(source, span.end.clamp(start, source.len()));
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let text = source[line_start..line_end].trim_end_matches('\r').to_string();
        let width = source[start..end.min(line_end).max(start)].chars().count().max(1);
        ScenarioError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
            kind,
            snippet: Some(Snippet { text, width }),
        }
    }

    /// The file could not be read.
    pub(crate) fn io(path: &Path, error: &std::io::Error) -> Self {
        ScenarioError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the scenario file: {error}"),
            kind: ErrorKind::Io,
            snippet: None,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        let Some(snippet) = &self.snippet else {
            return write!(f, "{path}: error: {}", self.message);
        };
        write!(f, "{path}:{}:{}: error: {}", self.line, self.column, self.message)?;
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        // Tabs keep their width in the caret line so the caret stays under its text.
        let lead: String = snippet
            .text
            .chars()
            .take(self.column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(
            f,
            "\n{gutter} |\n{number} | {}\n{gutter} | {lead}{}",
            snippet.text,
            "^".repeat(snippet.width)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        let e = ScenarioError::at(src, Path::new("f.toml"), 12..15, ErrorKind::WrongType, "m");
        assert_eq!((e.line, e.column), (2, 6));
        let shown = e.to_string();
        assert!(shown.starts_with("f.toml:2:6: error: m\n"), "{shown}");
        assert!(shown.ends_with("2 | bé = \"x\"\n  |      ^^^"), "{shown}");
    }

    #[test]
    #[allow(clippy::reversed_empty_ranges)]
    fn spans_out_of_bounds_are_clamped() {
        let src = "é";
        let e = ScenarioError::at(src, Path::new("f"), 1..99, ErrorKind::Syntax, "m");
        assert_eq!((e.line, e.column), (1, 1));
        let e = ScenarioError::at("", Path::new("f"), 5..2, ErrorKind::Syntax, "m");
        assert_eq!((e.line, e.column), (1, 1));
        let e = ScenarioError::at("x\n", Path::new("f"), 2..2, ErrorKind::Syntax, "m");
        assert_eq!((e.line, e.column), (2, 1));
    }
}
