//! Reading the compiled command lines.

#![allow(dead_code)] // not every test file reads command lines

/// The value of `--flag=value` in `args` (the compiler writes every Prysm flag so);
/// a flag given twice is a failure.
pub fn flag<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let prefix = format!("{flag}=");
    let found: Vec<&str> = args
        .iter()
        .filter_map(|a| a.strip_prefix(&prefix))
        .collect();
    assert!(found.len() <= 1, "{flag} given twice: {args:?}");
    found.first().copied()
}
