//! The rules a schema cannot express, section by section: the chain, the node
//! groups, the extra flags, the derived names, the consensus engine, the accounts.
//! A rule that parses a value hands it on, so the [`CheckedNetwork`] holds exactly
//! what the rules accepted.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{Consensus, NetworkFile, NodeGroup, Role, Rpc};
use crate::diagnostics::Diagnostic;
use crate::execution::crypto::{Address, AddressExt};
use crate::execution::geth::{check_support, Engine, GethVersion};
use crate::names;
use crate::units::parse_balance;
use crate::yaml::Document;

use super::findings::Findings;
use super::network::{AccountKey, CheckedAccount, CheckedConsensus, CheckedGroup, CheckedNetwork};
use super::Context;

/// Public chain ids a private network must not reuse (replayable signatures, wallet confusion).
const PUBLIC_CHAIN_IDS: &[(u64, &str)] = &[
    (1, "Ethereum mainnet"),
    (3, "Ropsten"),
    (4, "Rinkeby"),
    (5, "Goerli"),
    (10, "OP Mainnet"),
    (42, "Kovan"),
    (56, "BNB Smart Chain"),
    (61, "Ethereum Classic"),
    (63, "Mordor"),
    (100, "Gnosis"),
    (137, "Polygon"),
    (250, "Fantom"),
    (324, "zkSync Era"),
    (8453, "Base"),
    (17000, "Holesky"),
    (42161, "Arbitrum One"),
    (43114, "Avalanche C-Chain"),
    (59144, "Linea"),
    (560048, "Hoodi"),
    (11155111, "Sepolia"),
];

/// Checks `cfg` against every rule, into `diags`. The checked network when no rule
/// refused a value it parses (the caller still looks for other errors).
pub(super) fn semantic(
    cfg: NetworkFile,
    doc: &Document,
    ctx: Context,
    diags: &mut Vec<Diagnostic>,
) -> Option<CheckedNetwork> {
    let f = &mut Findings::new(doc, diags);
    chain(&cfg, f);
    let groups = groups(&cfg, f);
    extra_flags(&cfg, f);
    // Derived Kubernetes names must fit and must not collide.
    for (pointer, problem) in names::check(&cfg) {
        f.error(&pointer, problem);
    }
    let consensus = consensus(&cfg, ctx, f);
    let accounts = accounts(&cfg, f);
    if !cfg.keystore.secret {
        f.warning("/keystore/secret", "signer keystores will be stored in a ConfigMap, readable by anyone who can read ConfigMaps in the namespace; `secret: true` keeps them in a Secret".into());
    }
    Some(CheckedNetwork::new(cfg, groups?, accounts?, consensus?))
}

/// Chain identity: no public network's ids.
fn chain(cfg: &NetworkFile, f: &mut Findings) {
    if let Some((_, name)) = PUBLIC_CHAIN_IDS
        .iter()
        .find(|(id, _)| *id == cfg.network.chain_id)
    {
        f.error("/network/chainId", format!(
            "chain id {} belongs to {name}; pick an unused id (e.g. a random number above 100000) so signatures cannot be replayed there",
            cfg.network.chain_id
        ));
    }
    if cfg.network.network_id == Some(1) {
        f.error(
            "/network/networkId",
            "network id 1 is Ethereum mainnet's; pick another".into(),
        );
    }
}

/// Node groups: unique names, then each group's own rules.
fn groups(cfg: &NetworkFile, f: &mut Findings) -> Option<Vec<CheckedGroup>> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in cfg.nodes.iter().enumerate() {
        if let Some(first) = seen.insert(&g.name, i) {
            f.error(
                &format!("/nodes/{i}/name"),
                format!(
                    "group name `{}` is already used by nodes[{first}]; group names must be unique",
                    g.name
                ),
            );
        }
    }
    // Every group is checked, so every problem is reported, before any is given up on.
    let checked: Vec<Option<CheckedGroup>> = cfg
        .nodes
        .iter()
        .enumerate()
        .map(|(i, g)| group(cfg, i, g, f))
        .collect();
    checked.into_iter().collect()
}

/// One group's version, role settings, ports, key files and resources.
fn group(cfg: &NetworkFile, i: usize, g: &NodeGroup, f: &mut Findings) -> Option<CheckedGroup> {
    let at = |k: &str| format!("/nodes/{i}{k}");
    let geth_version = geth_version(cfg, i, g, f);
    role_settings(i, g, f);
    if let Some(rpc) = &g.rpc {
        rpc_settings(i, rpc, f);
    }
    ports(i, g, f);
    if g.node_key_files.len() > g.replicas as usize {
        f.error(
            &at("/nodeKeyFiles"),
            format!(
                "{} node key files for {} replicas; give at most one per replica",
                g.node_key_files.len(),
                g.replicas
            ),
        );
    }
    let geth_memory_limit =
        super::resources::rules(cfg, g, &|p: &str| at(&format!("/resources{p}")), f);
    if g.partition > g.replicas {
        f.warning(
            &at("/partition"),
            format!(
                "partition {} is above replicas {}: no pod of this group will be updated",
                g.partition, g.replicas
            ),
        );
    }
    Some(CheckedGroup {
        geth_version: geth_version?,
        geth_memory_limit: geth_memory_limit?,
    })
}

/// The group's geth release (its own or the network's), which must run the
/// network's consensus engine.
fn geth_version(
    cfg: &NetworkFile,
    i: usize,
    g: &NodeGroup,
    f: &mut Findings,
) -> Option<GethVersion> {
    let tag = g.geth.version.as_deref().unwrap_or(&cfg.geth.version);
    let tag_pointer = if g.geth.version.is_some() {
        format!("/nodes/{i}/geth/version")
    } else {
        "/geth/version".to_string()
    };
    let version = GethVersion::parse(tag)
        .map_err(|e| f.error(&tag_pointer, e))
        .ok()?;
    let engine = match &cfg.network.consensus {
        Consensus::Clique(_) => Engine::Clique,
        Consensus::ProofOfStake(pos) => Engine::ProofOfStake(pos.fork),
    };
    check_support(engine, version)
        .map_err(|e| f.error(&tag_pointer, e))
        .ok()?;
    Some(version)
}

/// `validatorsPerPod` and `rpc` belong to the roles that use them.
fn role_settings(i: usize, g: &NodeGroup, f: &mut Findings) {
    let at = |k: &str| format!("/nodes/{i}{k}");
    match (g.validators_per_pod, g.role) {
        (None, Role::Validator) => f.error(&at(""), "a validator group needs `validatorsPerPod`, the number of genesis validators each pod holds".into()),
        (Some(_), role) if role != Role::Validator => f.error(&at("/validatorsPerPod"), format!(
            "`validatorsPerPod` applies to groups with `role: validator`, and this group is `{}`",
            role.as_str()
        )),
        _ => {}
    }
    match (g.genesis_replicas, g.role) {
        (Some(_), role) if !role.produces_blocks() => f.error(&at("/genesisReplicas"), format!(
            "`genesisReplicas` (the pods whose signers or validators are in the genesis) applies to groups with `role: signer` or `role: validator`, and this group is `{}`; its `replicas` can change at any time",
            role.as_str()
        )),
        _ => {}
    }
    if g.replicas == 0 && !(g.role.produces_blocks() && g.genesis_replica_count() > 0) {
        f.error(&at("/replicas"), match g.role {
            Role::Signer => "a signer group with `replicas: 0` and no genesis signers does nothing; remove the group".into(),
            Role::Validator => "a validator group with `replicas: 0` and no genesis validators does nothing; remove the group (its validators exit first, as `compile` says)".into(),
            _ => "`replicas: 0`: only a signer or validator group whose genesis pods all left (`genesisReplicas` above 0) keeps no pod; remove the group, or give it at least one replica".into(),
        });
    }
    match (&g.rpc, g.role) {
        (Some(_), Role::Validator) => f.error(&at("/rpc"), "validators never expose RPC (their pods hold validator keys); add a group with `role: rpc` instead".into()),
        (Some(_), Role::Signer) => f.error(&at("/rpc"), "signers never expose RPC (it would need --allow-insecure-unlock with an unlocked sealing key); add a group with `role: rpc` instead".into()),
        (Some(_), Role::Bootnode | Role::Full) => f.error(&at("/rpc"), format!(
            "`rpc` settings apply to groups with `role: rpc`, and this group is `{}`",
            g.role.as_str()
        )),
        _ => {}
    }
}

/// An `rpc` block serves something, routes only what it serves, and opens no
/// door to every web page or host name.
fn rpc_settings(i: usize, rpc: &Rpc, f: &mut Findings) {
    let at = |k: &str| format!("/nodes/{i}/rpc{k}");
    if rpc.ingress.enabled && rpc.ingress.host.is_empty() {
        f.error(
            &at("/ingress"),
            "an enabled ingress needs `host`, the name it serves".into(),
        );
    }
    if rpc.ingress.enabled && !rpc.http {
        f.error(
            &at("/ingress"),
            "the ingress routes HTTP RPC, but `http` is false".into(),
        );
    }
    if !rpc.http && !rpc.ws {
        f.error(
            &at(""),
            "an rpc group must serve `http` or `ws` (or both); a node without JSON-RPC is `role: full`".into(),
        );
    }
    if rpc.cors.iter().any(|c| c == "*") {
        f.warning(&at("/cors"), "`*` lets any web page use this RPC from a visitor's browser; list your wallet/dapp origins instead".into());
    }
    if rpc.vhosts.iter().any(|c| c == "*") {
        f.warning(
            &at("/vhosts"),
            "`*` accepts any Host header (DNS rebinding); list the host names you use".into(),
        );
    }
}

/// Each port a node listens on is its own.
fn ports(i: usize, g: &NodeGroup, f: &mut Findings) {
    let mut ports: Vec<(u16, &str)> =
        vec![(g.p2p_port, "p2pPort"), (g.metrics_port, "metricsPort")];
    if let Some(rpc) = &g.rpc {
        if rpc.http {
            ports.push((rpc.http_port, "rpc.httpPort"));
        }
        if rpc.ws {
            ports.push((rpc.ws_port, "rpc.wsPort"));
        }
    }
    ports.sort();
    for w in ports.windows(2) {
        if w[0].0 == w[1].0 {
            f.error(
                &format!("/nodes/{i}"),
                format!(
                    "port {} is used by both {} and {}; each port of a node must be distinct",
                    w[0].0, w[0].1, w[1].1
                ),
            );
        }
    }
}

/// Extra flags must not undo the RPC and unlock rules.
fn extra_flags(cfg: &NetworkFile, f: &mut Findings) {
    let flag_lists = std::iter::once(("/geth/extraFlags".to_string(), &cfg.geth.extra_flags))
        .chain(
            cfg.nodes
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("/nodes/{i}/geth/extraFlags"), &g.geth.extra_flags)),
        );
    for (base, flags) in flag_lists {
        for (j, flag) in flags.iter().enumerate() {
            if let Some(problem) = crate::execution::geth::extra_flag_problem(flag) {
                f.error(&format!("{base}/{j}"), problem);
            }
        }
    }
}

/// Each engine has its own sealing role; someone must seal, and someone should
/// serve RPC.
fn consensus(cfg: &NetworkFile, ctx: Context, f: &mut Findings) -> Option<CheckedConsensus> {
    let role_at = |role: Role| cfg.nodes.iter().position(|g| g.role == role);
    if !cfg.nodes.iter().any(|g| g.role == Role::Rpc) {
        f.warning("/nodes", "no group has `role: rpc`: nothing serves JSON-RPC to users, and `helm test` has nothing to check".into());
    }
    match &cfg.network.consensus {
        Consensus::ProofOfStake(pos) => {
            if let Some(i) = role_at(Role::Signer) {
                f.error(&format!("/nodes/{i}/role"), "`role: signer` seals clique blocks; a proof-of-stake network has `role: validator` groups instead".into());
            }
            super::proof_of_stake::rules(cfg, pos, ctx, f)
                .map(|pos| CheckedConsensus::ProofOfStake(Box::new(pos)))
        }
        Consensus::Clique(clique) => {
            if let Some(i) = role_at(Role::Validator) {
                f.error(&format!("/nodes/{i}/role"), "`role: validator` needs `consensus: {proofOfStake: ...}`; a clique network has `role: signer` groups".into());
            }
            let count = |n: fn(&NodeGroup) -> u32| -> u32 {
                cfg.nodes
                    .iter()
                    .filter(|g| g.role == Role::Signer)
                    .map(n)
                    .sum()
            };
            let signers = count(|g| g.replicas);
            if role_at(Role::Signer).is_none() {
                f.error("/nodes", "a clique network needs at least one node group with `role: signer`, or no block is ever sealed".into());
            } else if count(NodeGroup::genesis_replica_count) == 0 {
                f.error("/nodes", "no signer group has a signer in the genesis (every `genesisReplicas` is 0), so no block is ever sealed; a new network's signers are its genesis signers (leave `genesisReplicas` out)".into());
            } else if signers == 0 {
                f.error("/nodes", "every signer group has `replicas: 0`: no pod would seal a block; keep at least one signer running".into());
            } else if signers < 3 {
                let i = role_at(Role::Signer).unwrap_or(0);
                f.warning(&format!("/nodes/{i}/replicas"), format!(
                    "{signers} signer(s): clique needs a majority online, so restarting one of them (as every upgrade does) stops the chain; use 3 or more"
                ));
            }
            Some(CheckedConsensus::Clique(clique.clone()))
        }
    }
}

/// Accounts: a balance, exactly one of a name and an address, a brought keystore
/// with its password, and no name or address twice.
fn accounts(cfg: &NetworkFile, f: &mut Findings) -> Option<Vec<CheckedAccount>> {
    let mut names_seen = BTreeSet::new();
    let mut addresses_seen = BTreeSet::new();
    let mut checked = Vec::new();
    for (i, a) in cfg.accounts.iter().enumerate() {
        let at = |k: &str| format!("/accounts/{i}{k}");
        let balance_wei = parse_balance(&a.balance).map_err(|e| f.error(&at("/balance"), e));
        if let Some(n) = &a.name {
            if !names_seen.insert(n.clone()) {
                f.error(
                    &at("/name"),
                    format!("account name `{n}` is used twice; names must be unique"),
                );
            }
        }
        // `Some(None)`: an address that does not parse (reported).
        let address = a.address.as_deref().map(|text| {
            let parsed = Address::parse(text)
                .map_err(|e| f.error(&at("/address"), e))
                .ok()?;
            if !addresses_seen.insert(parsed) {
                f.error(
                    &at("/address"),
                    format!("address {parsed} is funded twice; merge the balances"),
                );
            }
            Some(parsed)
        });
        let key = match (&a.name, address, &a.keystore) {
            (Some(name), None, _) => Some(AccountKey::Named(name.clone())),
            (None, Some(address), None) => address.map(AccountKey::Outside),
            (Some(_), Some(_), _) => {
                f.error(&at(""), "give either `name` (a generated or brought key) or `address` (an outside account), not both".into());
                None
            }
            (None, None, _) => {
                f.error(&at(""), "an account needs `name` (a key generated for it, or naming a brought `keystore`) or `address` (an outside account)".into());
                None
            }
            (None, Some(_), Some(_)) => {
                f.error(&at("/keystore"), "a brought keystore needs `name`, not `address` (the address is read from the keystore)".into());
                None
            }
        };
        if a.keystore.is_some() != a.password_file.is_some() {
            f.error(&at(""), "`keystore` and `passwordFile` go together: a brought keystore needs the file holding its password".into());
        }
        checked.push(
            key.zip(balance_wei.ok())
                .map(|(key, balance_wei)| CheckedAccount { key, balance_wei }),
        );
    }
    checked.into_iter().collect()
}
