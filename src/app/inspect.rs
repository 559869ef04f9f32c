//! `inspect`: the network's public identities as tables, for a person to read.

use std::fmt::Write as _;
use std::path::Path;

use super::failure::Failure;
use super::stages::{plan_network, prepare, without_release};
use crate::plan::proof_of_stake::ProofOfStakePlan;
use crate::plan::{Keystores, Plan};

/// inspect: a table of every node (never private keys). It makes no Helm
/// release, so the release limit does not apply.
/// `now`: the moment of the check, Unix seconds (see [`crate::check::Context`]).
pub fn inspect(
    config: Option<&Path>,
    secrets: Option<&Path>,
    now: u64,
    warn: &mut dyn FnMut(String),
) -> Result<String, Failure> {
    let plan = plan_network(
        prepare(config, without_release(now), warn)?,
        secrets,
        false,
        Keystores::Skip,
        warn,
    )?
    .plan;
    let mut out = nodes_table(&plan);
    if !plan.accounts.is_empty() {
        out.push('\n');
        out.push_str(&accounts_table(&plan));
    }
    if let Some(pos) = &plan.proof_of_stake {
        out.push('\n');
        out.push_str(&consensus_tables(pos));
    }
    Ok(out)
}

/// Every node at its Service address, as the chart runs it.
fn nodes_table(plan: &Plan) -> String {
    let mut rows = vec![[
        "GROUP".to_string(),
        "ROLE".into(),
        "NODE".into(),
        "SIGNER ADDRESS".into(),
        "ENODE".into(),
    ]];
    for (g, n) in plan.all_nodes() {
        let e = Plan::service_endpoint(g, n);
        rows.push([
            g.config.name.clone(),
            g.config.role.as_str().into(),
            n.name.clone(),
            n.signer
                .as_ref()
                .map(|s| s.key.address().to_string())
                .unwrap_or_else(|| "-".into()),
            n.node_key.public_key().enode(&e.host, e.port, e.port),
        ]);
    }
    table(&rows)
}

/// The prefunded accounts; one without a name is one the user keeps outside.
fn accounts_table(plan: &Plan) -> String {
    let mut acc = vec![["ACCOUNT".to_string(), "ADDRESS".into(), "BALANCE".into()]];
    for a in &plan.accounts {
        acc.push([
            a.name.clone().unwrap_or_else(|| "(outside)".into()),
            a.address.to_string(),
            a.balance_text.clone(),
        ]);
    }
    table(&acc)
}

/// The beacon nodes, the genesis validators, and the genesis that ties the
/// beacon chain to the execution chain.
fn consensus_tables(pos: &ProofOfStakePlan) -> String {
    let mut beacons = vec![["NODE".to_string(), "BEACON PEER ID".into(), "ENR".into()]];
    for (node, b) in &pos.beacon_nodes {
        beacons.push([node.clone(), b.identity.peer_id(), b.enr.clone()]);
    }
    let mut out = table(&beacons);
    out.push('\n');
    let mut validators = vec![[
        "VALIDATOR".to_string(),
        "PUBKEY".into(),
        "NODE".into(),
        "KEY PATH".into(),
    ]];
    for v in &pos.validators {
        validators.push([
            v.index
                .map_or_else(|| "joins".to_string(), |i| i.to_string()),
            v.pubkey.to_string(),
            v.node.clone(),
            v.path.to_string(),
        ]);
    }
    out.push_str(&table(&validators));
    out.push_str(&format!(
        "\ngenesis: time {}, execution block {}, validators root 0x{}\n",
        pos.genesis_time,
        hex::encode(pos.execution.block.block_hash),
        hex::encode(pos.genesis_state.genesis_validators_root)
    ));
    out
}

fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == N {
                    c.clone()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}
