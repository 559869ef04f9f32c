//! The stages the commands share after reading: check and load the brought keys
//! (`prepare`), load the master secret, build the plan.

use std::fs;
use std::io::IsTerminal;
use std::path::Path;

use super::failure::{exit, Failure};
use super::source::{load_brought, Source};
use crate::check::{Checked, CheckedNetwork, Context, ReleaseLimit};
use crate::config::Kdf;
use crate::plan::{self, BroughtKeys, Keystores, Plan};
use crate::secrets::{MasterSecret, Origin};
use crate::yaml::Document;

/// Loads the master secret, creating it when `create` (compile, export). The
/// secret is only ever created beside a regular network file or where
/// `--secrets` says: next to `/dev/stdin` it would land in `/dev`.
pub(super) fn load_secret(
    source: &Source,
    explicit: Option<&Path>,
    create: bool,
    note: &mut dyn FnMut(String),
) -> Result<MasterSecret, Failure> {
    let path = explicit.unwrap_or(&source.default_secrets);
    let secret = if create {
        if explicit.is_none() && !source.regular && fs::symlink_metadata(path).is_err() {
            return Err(Failure::new(
                exit::USAGE,
                format!(
                    "{} is not a regular file, so the master secret would be created beside it, as {}; choose where it lives with --secrets FILE",
                    source.display,
                    path.display()
                ),
            ));
        }
        let (secret, origin) = MasterSecret::load_or_create(path)
            .map_err(|e| Failure::new(exit::IO, e.to_string()))?;
        if origin == Origin::Created {
            note(format!(
                "created {} (mode 0600): the master secret every key is derived from. Back it up and keep it out of git",
                path.display()
            ));
        }
        secret
    } else {
        MasterSecret::load(path).map_err(|e| {
            Failure::new(
                exit::IO,
                format!("{e}\nhint: `compile` creates the secrets file on its first run"),
            )
        })?
    };
    if let Some(w) = crate::secrets::exposure_warning(path) {
        note(w);
    }
    Ok(secret)
}

/// The context of the commands that make no Helm release (`inspect`, `export`).
pub(super) fn without_release(now: u64) -> Context {
    Context {
        now,
        release_limit: ReleaseLimit::Ignore,
    }
}

/// Builds the plan, with a progress bar for slow keystores on a terminal.
pub fn build_plan(
    network: &CheckedNetwork,
    secret: &MasterSecret,
    brought: &BroughtKeys,
    keystores: Keystores,
) -> Plan {
    let count = plan::keystore_count(network);
    let bar = if keystores == Keystores::Derive
        && network.file().keystore.kdf == Kdf::Standard
        && count > 1
        && std::io::stderr().is_terminal()
    {
        let bar = indicatif::ProgressBar::new(count);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "deriving keystores (scrypt) {bar:30} {pos}/{len} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let tick = || bar.inc(1);
    let plan = plan::build(network, secret, brought, keystores, &tick);
    bar.finish_and_clear();
    plan
}

/// The stages that need no key: read, check, load the brought keys. `check`
/// stops here, so it finds every problem of the inputs that `compile` would.
/// `ctx`: see [`Context`].
pub fn prepare(
    config: Option<&Path>,
    ctx: Context,
    warn: &mut dyn FnMut(String),
) -> Result<(Source, Checked, BroughtKeys), Failure> {
    let source = Source::load(config)?;
    let checked = source.check(ctx, warn)?;
    let brought = load_brought(&checked, &source)?;
    Ok((source, checked, brought))
}

/// What [`plan_network`] gives: the network and its plan, the parsed file (to point
/// at its entries later), and the master secret (`compile` derives the keys of pods
/// that leave from it).
pub(super) struct Planned {
    pub source: Source,
    pub plan: Plan,
    pub doc: Document,
    pub secret: MasterSecret,
}

/// The stages every command that needs keys runs: prepare, load the master secret, plan.
pub(super) fn plan_network(
    prepared: (Source, Checked, BroughtKeys),
    secrets: Option<&Path>,
    create_secret: bool,
    keystores: Keystores,
    warn: &mut dyn FnMut(String),
) -> Result<Planned, Failure> {
    let (source, checked, brought) = prepared;
    let secret = load_secret(&source, secrets, create_secret, warn)?;
    let plan = build_plan(&checked.network, &secret, &brought, keystores);
    Ok(Planned {
        source,
        plan,
        doc: checked.doc,
        secret,
    })
}
