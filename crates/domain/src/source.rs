//! Errors in data files (criteria packs, calendars), located by file, line and column.

use std::fmt;
use std::ops::Range;

/// A problem in a data file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    pub reason: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.reason),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.reason),
            _ => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

impl std::error::Error for SourceError {}

/// Builds located errors for one file.
pub(crate) struct Located<'a> {
    pub file: &'a str,
    pub src: &'a str,
}

impl Located<'_> {
    pub fn at(&self, span: Option<Range<usize>>, reason: impl Into<String>) -> SourceError {
        let (line, column) = match span {
            Some(r) => {
                let start = r.start.min(self.src.len());
                let before = &self.src[..start];
                let line = before.matches('\n').count() + 1;
                let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (Some(line), Some(col))
            }
            None => (None, None),
        };
        SourceError {
            file: self.file.to_string(),
            line,
            column,
            reason: reason.into(),
        }
    }

    /// A TOML syntax or shape error, with toml's own message (first line only: the rest is
    /// toml's excerpt of the file, which we replace by line and column).
    pub fn toml(&self, e: &toml::de::Error) -> SourceError {
        self.at(e.span(), e.message().trim().to_string())
    }
}
