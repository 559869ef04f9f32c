//! How every command fails: a value carrying its exit code and the lines to
//! print, so `main` alone decides what reaches the terminal.

use crate::diagnostics::{Diagnostic, Severity};

/// Exit codes (documented in the README).
pub mod exit {
    pub const INVALID: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const REFUSED: u8 = 3;
    pub const IO: u8 = 4;
}

/// A failure with the exit code it maps to and the lines to print.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub lines: Vec<String>,
}

impl Failure {
    pub fn new(code: u8, line: impl Into<String>) -> Self {
        Self {
            code,
            lines: vec![line.into()],
        }
    }
}

/// Exit 1: every problem of the network file (or of the files it names), then
/// how many there were.
pub(super) fn invalid(display: &str, diags: &[Diagnostic]) -> Failure {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let mut lines: Vec<String> = diags.iter().map(|d| d.render(display)).collect();
    lines.push(format!("{display}: {errors} error(s); nothing was written"));
    Failure {
        code: exit::INVALID,
        lines,
    }
}
