//! `export`'s proof-of-stake side: each node's beacon node and validator client
//! files, and the network's consensus files they share.

use std::path::Path;

use crate::consensus::prysm::{self, PrysmPaths};
use crate::output::{PendingFile, Visibility};
use crate::plan::proof_of_stake::{
    BeaconNodePlan, ProofOfStakePlan, ValidatorClientPlan, BEACON_API_PORT, BEACON_TCP_PORT,
    BEACON_UDP_PORT,
};
use crate::plan::{NodePlan, ENGINE_API_PORT};
use crate::values;

/// Where an exported node's consensus files are, relative to its folder, where
/// `beacon-chain $(cat beacon.args)` and `validator $(cat validator.args)` run (the
/// network's consensus files are two folders up, beside `genesis.json`).
pub(super) const EXPORT_PRYSM_PATHS: PrysmPaths<'static> = PrysmPaths {
    beacon_data_dir: "beacon/data",
    validator_data_dir: "validator/data",
    chain_config: "../../consensus/config.yaml",
    genesis_state: "../../consensus/genesis.ssz",
    jwt_secret: "jwt.hex",
    p2p_key: "beacon/p2p-key",
    wallet_dir: "validator/wallet",
    wallet_password: "validator/wallet-password",
};

/// A beacon node's multiaddr at an exported node's address.
pub(super) fn beacon_multiaddr(host: &str, beacon: &BeaconNodePlan) -> String {
    format!(
        "/ip4/{host}/tcp/{BEACON_TCP_PORT}/p2p/{}",
        beacon.identity.peer_id()
    )
}

/// What the consensus side of one exported node needs besides its own plan.
pub(super) struct ExportedConsensus<'a> {
    /// The node's own address: every listener binds to it.
    pub host: &'a str,
    /// The beacon nodes of every other exported node, at their addresses.
    pub peers: Vec<String>,
    pub metrics: bool,
    pub verbosity: u8,
}

/// The consensus side of one exported node: the beacon node's files, and a
/// validator pod's validator client files. Returns what `nodes.json` says about it.
pub(super) fn export_consensus_node(
    pos: &ProofOfStakePlan,
    dir: &Path,
    n: &NodePlan,
    at: ExportedConsensus,
    files: &mut Vec<PendingFile>,
) -> Option<serde_json::Value> {
    let paths = EXPORT_PRYSM_PATHS;
    let beacon = pos.beacon_nodes.get(&n.name)?;
    beacon_files(pos, beacon, dir, &at, files);
    let validator = pos.validator_clients.get(&n.name);
    if let Some(v) = validator {
        validator_files(pos, v, dir, &at, files);
    }
    Some(serde_json::json!({
        "peerId": beacon.identity.peer_id(),
        "enr": beacon.enr,
        "multiaddr": beacon_multiaddr(at.host, beacon),
        "tcpPort": BEACON_TCP_PORT,
        "udpPort": BEACON_UDP_PORT,
        "apiPort": BEACON_API_PORT,
        "validators": pos.validators.iter().filter(|v| v.node == n.name).count(),
        "wallet": validator.map(|_| paths.wallet_dir),
    }))
}

/// Arguments one a line, as `$(cat FILE)` splits them.
fn lines(args: Vec<String>) -> String {
    args.join("\n") + "\n"
}

/// The beacon node's P2P key, the JWT secret its geth shares, and its arguments
/// (`beacon.args`).
fn beacon_files(
    pos: &ProofOfStakePlan,
    beacon: &BeaconNodePlan,
    dir: &Path,
    at: &ExportedConsensus,
    files: &mut Vec<PendingFile>,
) {
    let paths = EXPORT_PRYSM_PATHS;
    files.push(PendingFile::new(
        dir.join(paths.jwt_secret),
        hex::encode(beacon.jwt_secret),
        Visibility::Private,
    ));
    files.push(PendingFile::new(
        dir.join(paths.p2p_key),
        beacon.identity.p2p_priv_key_file(),
        Visibility::Private,
    ));
    files.push(PendingFile::new(
        dir.join("beacon.args"),
        lines(prysm::standalone_beacon_flags(&prysm::BeaconInput {
            paths,
            ports: values::PRYSM_PORTS,
            execution_endpoint: format!("http://{}:{}", at.host, ENGINE_API_PORT),
            bind_host: at.host,
            peers: at.peers.clone(),
            fee_recipient: pos.fee_recipient(),
            metrics: at.metrics,
            supernode: pos.settings.fork == crate::config::ForkAtGenesis::Fulu,
            verbosity: prysm::verbosity(at.verbosity),
        })),
        Visibility::Public,
    ));
}

/// A validator pod's Prysm wallet, its password, and its validator client's
/// arguments (`validator.args`).
fn validator_files(
    pos: &ProofOfStakePlan,
    v: &ValidatorClientPlan,
    dir: &Path,
    at: &ExportedConsensus,
    files: &mut Vec<PendingFile>,
) {
    let paths = EXPORT_PRYSM_PATHS;
    for (path, bytes) in &v.wallet_files {
        files.push(PendingFile::new(
            dir.join(paths.wallet_dir).join(path),
            bytes.clone(),
            Visibility::Private,
        ));
    }
    files.push(PendingFile::new(
        dir.join(paths.wallet_password),
        v.wallet_password.clone(),
        Visibility::Private,
    ));
    files.push(PendingFile::new(
        dir.join("validator.args"),
        lines(prysm::standalone_validator_flags(&prysm::ValidatorInput {
            paths,
            ports: values::PRYSM_PORTS,
            bind_host: at.host,
            fee_recipient: pos.fee_recipient(),
            verbosity: prysm::verbosity(at.verbosity),
        })),
        Visibility::Public,
    ));
}

/// The network's consensus files, which every exported node's arguments name
/// two folders up: the chain config, the genesis state, and the genesis
/// validators (`validators.json`, for a person or a script to read).
pub(super) fn consensus_files(pos: &ProofOfStakePlan, out: &Path, files: &mut Vec<PendingFile>) {
    files.push(PendingFile::new(
        out.join("consensus").join("config.yaml"),
        pos.chain_config.clone(),
        Visibility::Public,
    ));
    files.push(PendingFile::new(
        out.join("consensus").join("genesis.ssz"),
        pos.genesis_state.ssz.clone(),
        Visibility::Public,
    ));
    files.push(PendingFile::new(
        out.join("consensus").join("validators.json"),
        super::pretty_json(&validators_json(pos)),
        Visibility::Public,
    ));
}

/// The genesis validators, for `validators.json`.
fn validators_json(pos: &ProofOfStakePlan) -> Vec<serde_json::Value> {
    pos.validators
        .iter()
        .map(|v| {
            serde_json::json!({
                "index": v.index,
                "pubkey": v.pubkey.to_string(),
                "node": v.node,
                "path": v.path.to_string(),
                "withdrawalCredentials": v.withdrawal_credentials.to_hex(),
            })
        })
        .collect()
}
