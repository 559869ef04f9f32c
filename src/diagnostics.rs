//! Problems found in a network file, reported as `file:line:column: path: message`.

use std::fmt;

/// A 1-based line and column in the source file (the YAML parser makes them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located in the source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub position: Position,
    /// Where in the document, as `nodes[0].rpc.httpPort`; empty for the whole file.
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    pub fn error(position: Position, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            position,
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn warning(
        position: Position,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(position, path, message)
        }
    }

    /// Renders with the file name, in the form editors and CI annotate.
    pub fn render(&self, file: &str) -> String {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let path = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", excerpt(&self.path))
        };
        format!(
            "{file}:{}:{}: {kind}: {path}{}",
            self.position.line, self.position.column, self.message
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("<input>"))
    }
}

/// `/nodes/0/rpc` → `nodes[0].rpc`: the form users see in messages.
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// How many characters of a user's value a message shows.
const EXCERPT_CHARS: usize = 100;

/// A user's value as messages show it: control characters escaped and at most
/// a line's worth of it, so a megabyte value is not echoed whole.
pub fn excerpt(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == EXCERPT_CHARS {
            out.push_str(&format!("… ({} characters)", s.chars().count()));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Sorts by position (then severity), the order a reader fixes them in.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.position, a.severity, &a.path, &a.message)
            .cmp(&(b.position, b.severity, &b.path, &b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            display_path("/nodes/0/rpc/httpPort"),
            "nodes[0].rpc.httpPort"
        );
        assert_eq!(display_path(""), "");
    }

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt("a\nb"), "a\\nb");
        let long = "x".repeat(1_000_000);
        let e = excerpt(&long);
        assert!(e.len() < 140 && e.ends_with("(1000000 characters)"), "{e}");
    }
}
