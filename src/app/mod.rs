//! The commands of `kuberneteth-values`: each reads, checks, plans and writes
//! through the library's stages. Errors are values carrying their exit code.
//!
//! One module per command (`compile` with its genesis `guard`, `check`,
//! `inspect`, `export`, `deposit`, `exit`); what several share is in `source` (the network and its
//! brought keys), `stages` (prepare, the master secret, the plan) and `failure`
//! (exit codes). The paths below are the API `main` and the tests use.

mod check;
mod compile;
mod deposit;
mod exits;
mod export;
mod failure;
mod guard;
mod inspect;
mod source;
mod stages;

pub use self::check::check;
pub use self::compile::{compile, CompileOptions};
pub use self::deposit::{deposit, DepositOptions};
pub use self::exits::{exit_validators, ExitOptions};
pub use self::export::{export, ExportOptions};
pub use self::failure::{exit, Failure};
pub use self::inspect::inspect;
pub use self::source::{load_brought, Source, DEFAULT_NETWORK, DEFAULT_NETWORK_NAME};
pub use self::stages::{build_plan, prepare};
