//! `compile`'s genesis guard: what an earlier compile wrote into the output
//! folder decides whether this one may replace it.

use std::path::Path;

use super::failure::{exit, Failure};
use crate::diagnostics::excerpt;
use crate::execution::geth::GethVersion;
use crate::input;
use crate::pair;
use crate::values::ChartValues;

/// Reads the values an earlier compile left in `values` (if any) and refuses a
/// new genesis over them unless `allow`; warns of a geth downgrade and of a pair
/// torn by an interrupted compile. `new`: the values about to be written.
pub(super) fn guard(
    values: &Path,
    secrets_values: &Path,
    new: &ChartValues,
    allow: bool,
    warn: &mut dyn FnMut(String),
) -> Result<(), Failure> {
    if let Some(old) = read_existing(values)? {
        guard_existing(values, &old, new, allow, warn)?;
        warn_torn_pair(&old, values, secrets_values, warn);
    }
    Ok(())
}

/// The values an earlier compile wrote, if any. A file that exists but cannot
/// be read stops the compile: the genesis guard cannot be skipped by accident.
fn read_existing(path: &Path) -> Result<Option<ChartValues>, Failure> {
    let bytes = match input::read_bounded(path, input::MAX_OUTPUT_FILE) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(Failure::new(
            exit::IO,
            format!("{}: exists but cannot be read ({e}); the genesis guard compares against it, so nothing was written. Fix it, or move it away to start a new network", path.display()),
        )),
    };
    let not_ours = |why: String| {
        Failure::new(
            exit::REFUSED,
            format!("{}: exists but is not a kuberneteth values file ({why}); nothing was written. Move it away or choose another -o", path.display()),
        )
    };
    let text = String::from_utf8(bytes).map_err(|_| not_ours("not UTF-8 text".into()))?;
    serde_norway::from_str(&text)
        .map(Some)
        .map_err(|e| not_ours(excerpt(&e.to_string())))
}

/// Says so when the existing pair came from different compiles (an earlier run
/// was interrupted between the two files); this compile writes both again.
fn warn_torn_pair(old: &ChartValues, public: &Path, private: &Path, warn: &mut dyn FnMut(String)) {
    let Ok(bytes) = input::read_bounded(private, input::MAX_OUTPUT_FILE) else {
        return;
    };
    if pair::mismatch(old, &String::from_utf8_lossy(&bytes)).is_some() {
        warn(format!(
            "warning: {} and {} came from different compiles (an earlier run stopped between them); both are written again now",
            public.display(),
            private.display()
        ));
    }
}

/// A running network cannot change its genesis: refuse when an earlier output
/// exists with another genesis or signer set, unless explicitly allowed.
fn guard_existing(
    path: &Path,
    old: &ChartValues,
    new: &ChartValues,
    allow: bool,
    warn: &mut dyn FnMut(String),
) -> Result<(), Failure> {
    let changes = genesis_changes(old, new);
    warn_downgrades(old, new, warn);
    if changes.is_empty() || allow {
        return Ok(());
    }
    Err(Failure {
        code: exit::REFUSED,
        lines: vec![
            format!("{}: refusing to change {} of an existing network.", path.display(), changes.join(" and ")),
            "A running network cannot change its genesis: existing nodes would keep the old chain and never agree with new ones.".into(),
            "To start a new network, delete the release and its volumes, then pass --allow-genesis-change (or write to a new -o directory).".into(),
            "To change signers on a running network, vote them in or out with clique.propose instead.".into(),
        ],
    })
}

/// What of the genesis differs from `old` to `new`, each as the refusal names it.
fn genesis_changes(old: &ChartValues, new: &ChartValues) -> Vec<&'static str> {
    let signers = |v: &ChartValues| {
        let mut s: Vec<String> = v
            .node_groups
            .iter()
            .flat_map(|g| g.nodes.iter().map(|n| n.signer_address.clone()))
            .filter(|a| !a.is_empty())
            .collect();
        s.sort();
        s
    };
    let mut changes = Vec::new();
    if old.genesis.json != new.genesis.json {
        changes.push("the genesis (chain id, consensus settings, gas limit, timestamp, signers or prefunded accounts)");
    }
    if signers(old) != signers(new) {
        changes.push("the signer set");
    }
    let beacon_genesis = |v: &ChartValues| {
        v.proof_of_stake
            .as_ref()
            .map(|p| (p.genesis_state.sha256.clone(), p.chain_config.clone()))
    };
    let placement = |v: &ChartValues| v.proof_of_stake.as_ref().map(|p| p.large_objects);
    if placement(old) != placement(new) {
        changes.push("where the genesis state and the validators' wallets live (`largeObjects`: Helm would delete objects kubectl now holds, or the reverse)");
    }
    if beacon_genesis(old) != beacon_genesis(new) {
        changes.push("the beacon chain's genesis or config (validators, genesis time, slot time, fork, preset)");
    }
    changes
}

/// A group whose geth goes down a release may not start on its old database;
/// that is allowed (it may be the rollback wanted), so it is only said.
fn warn_downgrades(old: &ChartValues, new: &ChartValues, warn: &mut dyn FnMut(String)) {
    for g in &new.node_groups {
        if let Some(o) = old.node_groups.iter().find(|o| o.name == g.name) {
            if let (Ok(a), Ok(b)) = (
                GethVersion::parse(&o.geth_version),
                GethVersion::parse(&g.geth_version),
            ) {
                if b < a {
                    warn(format!(
                        "warning: group `{}` goes from geth {a} down to {b}: geth databases are forward-only, so nodes that ran {a} may not start; a fresh volume may be needed",
                        g.name
                    ));
                }
            }
        }
    }
}
