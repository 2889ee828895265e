//! Policy errors as people see them: `file:line:column: message`, one per
//! line, and the conversion from byte spans in the document to 1-based line
//! and column numbers.

use std::fmt;
use std::ops::Range;

/// One problem in a policy document, located at the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PolicyError {
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes) so it matches what
    /// editors show.
    pub column: usize,
    pub message: String,
}

/// Every problem found in one document, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            fmt::Display::fmt(error, f)?;
        }
        Ok(())
    }
}

impl PolicyErrors {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, PolicyError> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a PolicyErrors {
    type Item = &'a PolicyError;
    type IntoIter = std::slice::Iter<'a, PolicyError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A problem found while reading, still located by byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Located {
    pub span: Range<usize>,
    pub message: String,
}

/// Collects problems while the document is read and checked, so one run
/// reports all of them instead of stopping at the first.
#[derive(Debug, Default)]
pub(super) struct Problems(Vec<Located>);

impl Problems {
    pub fn push(&mut self, span: Range<usize>, message: String) {
        self.0.push(Located { span, message });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Locates every problem in `text`, sorted by position so the output
    /// reads top to bottom like the file.
    pub fn into_errors(self, text: &str, file: &str) -> PolicyErrors {
        let mut located = self.0;
        located.sort_by_key(|l| l.span.start);
        PolicyErrors(
            located
                .into_iter()
                .map(|l| {
                    let (line, column) = line_column(text, l.span.start);
                    PolicyError {
                        file: file.to_owned(),
                        line,
                        column,
                        message: l.message,
                    }
                })
                .collect(),
        )
    }
}

/// 1-based line and column of byte `offset`; an offset inside a multi-byte
/// character or past the end is clamped rather than trusted.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_lines_start_at_one() {
        let text = "a = 1\né = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // "é" is two bytes; the `=` after it is the third character.
        assert_eq!(line_column(text, 9), (2, 3));
        assert_eq!(
            line_column(text, 7),
            (2, 1),
            "inside a character clamps back"
        );
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn errors_print_one_per_line() {
        let errors = PolicyErrors(vec![
            PolicyError {
                file: "p.toml".into(),
                line: 1,
                column: 2,
                message: "one".into(),
            },
            PolicyError {
                file: "p.toml".into(),
                line: 3,
                column: 4,
                message: "two".into(),
            },
        ]);
        assert_eq!(errors.to_string(), "p.toml:1:2: one\np.toml:3:4: two");
    }
}
