//! Running the compiler as users do, shared by the command-line test files.

use std::path::Path;
use std::process::{Command, Output};

pub mod args;
pub mod beacon_state;

pub const BIN: &str = env!("CARGO_BIN_EXE_kuberneteth-values");

/// The moment the tests check networks at unless they choose another:
/// 2027-01-01 00:00 UTC, the `genesisTimestamp` of the test networks. No test
/// reads the clock (only a warning would depend on it: a proof-of-stake genesis
/// more than a day past), so the suites pass in any year.
pub const NOW: u64 = 1_798_761_600;

/// `kuberneteth-values ARGS` in `cwd`, checking at [`NOW`].
pub fn run(args: &[&str], cwd: &Path) -> Output {
    run_at(args, cwd, NOW)
}

/// `kuberneteth-values ARGS` in `cwd`, checking at `now` (Unix seconds) by
/// setting `KUBERNETETH_NOW`.
#[allow(dead_code)] // not every suite chooses the moment
pub fn run_at(args: &[&str], cwd: &Path, now: u64) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("KUBERNETETH_NOW", now.to_string())
        .output()
        .expect("binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
