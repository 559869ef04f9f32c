//! `check`: every problem `compile` would find, with nothing created.

use std::fs;
use std::path::Path;

use super::failure::Failure;
use super::stages::{load_secret, prepare};
use crate::check::Context;

/// check: the network file and every file it names, and the master secret when a
/// secrets file exists (a broken one stops `compile` too). Creates nothing.
/// `ctx`: the moment of the check and whether the release limit holds; give
/// `check` the limit `compile` would have, so it finds every problem `compile` would.
pub fn check(
    config: Option<&Path>,
    secrets: Option<&Path>,
    ctx: Context,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<String>, Failure> {
    let (source, _, _) = prepare(config, ctx, warn)?;
    let path = secrets.unwrap_or(&source.default_secrets);
    if secrets.is_some() || fs::symlink_metadata(path).is_ok() {
        load_secret(&source, secrets, false, warn)?;
    }
    Ok(vec![format!("{}: ok", source.display)])
}
