//! Errors of a bindings file: where (file, line, column) and what was expected, rendered like
//! a compiler diagnostic with the offending line, the same way scenario errors are.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A mistake in a bindings file, located by 1-based line and column (0 for I/O errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BindingsError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    /// What was expected, and what was found.
    pub message: String,
    source_line: Option<(String, usize)>,
}

impl BindingsError {
    /// An error at a byte span of `source`; any span (even past the end) gives a valid position.
    pub(crate) fn at(source: &str, path: &Path, span: Range<usize>, message: impl Into<String>) -> Self {
        let mut start = span.start.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let width = span
            .end
            .saturating_sub(span.start)
            .clamp(1, line_end.saturating_sub(start).max(1));
        BindingsError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
            source_line: Some((source[line_start..line_end].to_string(), width)),
        }
    }

    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        BindingsError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read bindings file: {e}"),
            source_line: None,
        }
    }
}

impl fmt::Display for BindingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: error: {}", self.path.display(), self.message);
        }
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some((text, width)) = &self.source_line {
            let gutter = self.line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{} | {}\n{:gutter$} | {}{}",
                "",
                self.line,
                text,
                "",
                " ".repeat(self.column - 1),
                "^".repeat(*width)
            )?;
        }
        Ok(())
    }
}
