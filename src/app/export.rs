//! `export`: the files to run or debug a network's nodes outside Kubernetes,
//! each node on its own address so that many share one host.

mod consensus;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use self::consensus::{
    beacon_multiaddr, consensus_files, export_consensus_node, ExportedConsensus, EXPORT_PRYSM_PATHS,
};
use super::failure::{exit, Failure};
use super::stages::{plan_network, prepare, without_release};
use crate::config::Role;
use crate::output::{OutputDir, OutputError, PendingFile, Visibility};
use crate::plan::proof_of_stake::ProofOfStakePlan;
use crate::plan::{Endpoint, GroupPlan, Keystores, Layout, NodePlan, Plan};

pub struct ExportOptions<'a> {
    pub config: Option<&'a Path>,
    pub out: &'a Path,
    pub secrets: Option<&'a Path>,
    pub ip_range: Option<Ipv4Addr>,
    pub port_range: Option<u16>,
    /// The moment of the check, Unix seconds (see [`crate::check::Context`]). Files for
    /// running outside Kubernetes make no Helm release: the release limit does not apply.
    pub now: u64,
}

/// `--ip-range` and `--port-range` must give each of `nodes` nodes a usable
/// address: no port 0, nothing past 65535 or 255.255.255.255.
fn check_ranges(opts: &ExportOptions, nodes: u64) -> Result<(), Failure> {
    let last = nodes.saturating_sub(1);
    if let Some(ip) = opts.ip_range {
        if u64::from(u32::from(ip)) + last > u64::from(u32::MAX) {
            return Err(Failure::new(
                exit::USAGE,
                format!("--ip-range {ip}: {nodes} nodes need {nodes} addresses from the start, and they run past 255.255.255.255; choose a lower start"),
            ));
        }
    }
    if let Some(p) = opts.port_range {
        if p == 0 {
            return Err(Failure::new(
                exit::USAGE,
                "--port-range 0: port 0 is no port a peer can dial; choose a start from 1 (e.g. 30303)",
            ));
        }
        if u64::from(p) + last > 65535 {
            return Err(Failure::new(
                exit::USAGE,
                format!("--port-range {p}: {nodes} nodes need {nodes} ports from the start, and they run past 65535; choose a lower start"),
            ));
        }
    }
    Ok(())
}

/// Node i (in plan order) gets the address ip_range + i (127.0.0.1 + i by
/// default) and, when given, the P2P port port_range + i. Each node binds all
/// its listeners to its own address, so nodes on one host never clash.
struct Addresses {
    ip_range: Ipv4Addr,
    port_range: Option<u16>,
    /// Each node's name with its place in plan order.
    index: Vec<(String, usize)>,
}

impl Addresses {
    fn new(plan: &Plan, opts: &ExportOptions) -> Self {
        Self {
            ip_range: opts.ip_range.unwrap_or(Ipv4Addr::LOCALHOST),
            port_range: opts.port_range,
            index: plan
                .all_nodes()
                .enumerate()
                .map(|(i, (_, n))| (n.name.clone(), i))
                .collect(),
        }
    }

    fn endpoint(&self, g: &GroupPlan, n: &NodePlan) -> Endpoint {
        let i = self
            .index
            .iter()
            .find(|(name, _)| *name == n.name)
            .map(|(_, i)| *i)
            .unwrap_or(0);
        Endpoint {
            host: Ipv4Addr::from(u32::from(self.ip_range) + i as u32).to_string(),
            port: self
                .port_range
                .map(|p| p + i as u16)
                .unwrap_or(g.config.p2p_port),
        }
    }
}

/// export: the per-node files for running or debugging outside Kubernetes.
pub fn export(opts: &ExportOptions, warn: &mut dyn FnMut(String)) -> Result<Vec<String>, Failure> {
    let prepared = prepare(opts.config, without_release(opts.now), warn)?;
    // Command-line mistakes are found before anything (even the secret) is created.
    let nodes: u64 = prepared
        .1
        .network
        .file()
        .nodes
        .iter()
        .map(|g| u64::from(g.replicas))
        .sum();
    check_ranges(opts, nodes)?;
    let plan = plan_network(prepared, opts.secrets, true, Keystores::Derive, warn)?.plan;
    let at = Addresses::new(&plan, opts);

    let mut files = vec![PendingFile::new(
        opts.out.join("genesis.json"),
        plan.genesis_json.clone(),
        Visibility::Public,
    )];
    let mut nodes_json = Vec::new();
    for (g, n) in plan.all_nodes() {
        nodes_json.push(export_node(&plan, &at, opts.out, g, n, &mut files));
    }
    let accounts_json = export_accounts(&plan, opts.out, &mut files);
    files.push(PendingFile::new(
        opts.out.join("nodes.json"),
        pretty_json(&nodes_json),
        Visibility::Public,
    ));
    files.push(PendingFile::new(
        opts.out.join("accounts.json"),
        pretty_json(&accounts_json),
        Visibility::Public,
    ));
    if let Some(pos) = &plan.proof_of_stake {
        consensus_files(pos, opts.out, &mut files);
    }
    let written = OutputDir::open(opts.out).and_then(|out| out.write_all(&files, true));
    written.map_err(|e| {
        let code = match e {
            OutputError::Conflict { .. } => exit::REFUSED,
            OutputError::Io { .. } => exit::IO,
        };
        Failure::new(code, e.to_string())
    })?;
    Ok(vec![summary(&plan, at.index.len(), opts.out)])
}

/// Serializing a JSON value to a string cannot fail (no I/O, string keys only).
fn pretty_json(v: &[serde_json::Value]) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// One exported node: where its files go and where it listens.
struct ExportedNode<'a> {
    g: &'a GroupPlan,
    n: &'a NodePlan,
    /// The node's folder, inside the output folder.
    dir: PathBuf,
    endpoint: Endpoint,
    signer_address: Option<String>,
}

/// One node's files, geth's and its consensus side's, in `nodes/<name>/`; returns
/// its `nodes.json` entry.
fn export_node(
    plan: &Plan,
    at: &Addresses,
    out: &Path,
    g: &GroupPlan,
    n: &NodePlan,
    files: &mut Vec<PendingFile>,
) -> serde_json::Value {
    let dir = Path::new("nodes").join(&n.name);
    let node = ExportedNode {
        g,
        n,
        dir: out.join(&dir),
        endpoint: at.endpoint(g, n),
        signer_address: n.signer.as_ref().map(|s| s.key.address().to_string()),
    };
    geth_files(plan, at, &node, files);
    let e = &node.endpoint;
    let beacon = plan.proof_of_stake.as_ref().and_then(|pos| {
        let consensus = ExportedConsensus {
            host: &e.host,
            peers: beacon_peers(plan, pos, at, n),
            metrics: plan.config.monitoring.metrics.enabled,
            verbosity: g.verbosity,
        };
        export_consensus_node(pos, &node.dir, n, consensus, files)
    });
    let pk = n.node_key.public_key();
    serde_json::json!({
        "beacon": beacon,
        "name": n.name,
        "group": g.config.name,
        "role": g.config.role.as_str(),
        "ordinal": n.ordinal,
        "publicKey": pk.to_hex(),
        "nodeId": hex::encode(pk.node_id()),
        "enode": pk.enode(&e.host, e.port, e.port),
        "ip": e.host.clone(),
        "host": e.host,
        "p2pPort": e.port,
        "httpPort": g.config.rpc.as_ref().filter(|r| r.http).map(|r| r.http_port),
        "signerAddress": node.signer_address,
        "gethVersion": g.version.to_string(),
        "dir": dir.to_string_lossy(),
    })
}

/// An exported node's files, relative to its folder, where geth runs.
fn node_layout(e: &Endpoint) -> Layout<'_> {
    Layout {
        data_dir: "data",
        paths: crate::execution::geth::FlagPaths {
            config: "config.toml",
            nodekey: "nodekey",
            keystore: "keystore",
            password: "password",
            // The file the beacon node reads too (beacon.args).
            jwt_secret: EXPORT_PRYSM_PATHS.jwt_secret,
        },
        ethstats_url: None,
        listen_port: Some(e.port),
        bind_host: Some(&e.host),
        namespace: None,
    }
}

/// geth's files of one node: its TOML, its arguments for `geth` and `geth init`,
/// its node key and, for a signer, its keystore and password.
fn geth_files(plan: &Plan, at: &Addresses, node: &ExportedNode, files: &mut Vec<PendingFile>) {
    let (g, n, dir) = (node.g, node.n, &node.dir);
    let layout = node_layout(&node.endpoint);
    let toml = plan.toml(g, &layout, &|g, n| at.endpoint(g, n));
    let mut args = plan.flags(g, &layout);
    if let Some(addr) = &node.signer_address {
        args.push(format!("--miner.etherbase={addr}"));
        args.push(format!("--unlock={addr}"));
    }
    files.push(PendingFile::new(
        dir.join("config.toml"),
        toml,
        Visibility::Public,
    ));
    files.push(PendingFile::new(
        dir.join("geth.args"),
        args.join("\n") + "\n",
        Visibility::Public,
    ));
    // `geth init $(cat geth-init.args)`: the datadir, the database flags geth
    // must create it with (as the chart's init step passes them: proof of stake
    // runs the hash state scheme, in LevelDB) and the genesis.
    let mut init_args = vec![format!("--datadir={}", layout.data_dir)];
    init_args.extend(
        args.iter()
            .filter(|a| a.starts_with("--state.scheme") || a.starts_with("--db.engine"))
            .cloned(),
    );
    init_args.extend(crate::execution::geth::new_database_flags(
        plan.proof_of_stake.is_some(),
    ));
    init_args.push("../../genesis.json".into());
    files.push(PendingFile::new(
        dir.join("geth-init.args"),
        init_args.join("\n") + "\n",
        Visibility::Public,
    ));
    files.push(PendingFile::new(
        dir.join("nodekey"),
        n.node_key.to_hex(),
        Visibility::Private,
    ));
    if let Some(ks) = n.signer.as_ref().and_then(|s| s.keystore.as_ref()) {
        files.push(PendingFile::new(
            dir.join("keystore").join(&ks.file_name),
            ks.json.clone(),
            Visibility::Private,
        ));
        files.push(PendingFile::new(
            dir.join("password"),
            plan.keystore_password.clone(),
            Visibility::Private,
        ));
    }
}

/// Every other node's beacon node is a static peer, at its address.
fn beacon_peers(plan: &Plan, pos: &ProofOfStakePlan, at: &Addresses, n: &NodePlan) -> Vec<String> {
    plan.all_nodes()
        .filter(|(_, o)| o.name != n.name)
        .filter_map(|(og, o)| {
            let b = pos.beacon_nodes.get(&o.name)?;
            Some(beacon_multiaddr(&at.endpoint(og, o).host, b))
        })
        .collect()
}

/// The prefunded accounts, with the keystore and password of each the network
/// holds the key of, in `accounts/<name>/`; returns `accounts.json`.
fn export_accounts(
    plan: &Plan,
    out: &Path,
    files: &mut Vec<PendingFile>,
) -> Vec<serde_json::Value> {
    let mut accounts_json = Vec::new();
    for a in &plan.accounts {
        let mut entry = serde_json::json!({
            "name": a.name,
            "address": a.address.to_string(),
            "balanceWei": a.balance_wei.to_string(),
            "keystore": null,
            "password": null,
        });
        if let (Some(name), Some((ks, password))) = (&a.name, &a.keystore) {
            let dir = Path::new("accounts").join(name);
            files.push(PendingFile::new(
                out.join(&dir).join("keystore.json"),
                ks.json.clone(),
                Visibility::Private,
            ));
            files.push(PendingFile::new(
                out.join(&dir).join("password"),
                password.clone(),
                Visibility::Private,
            ));
            entry["keystore"] = dir.join("keystore.json").to_string_lossy().into();
            entry["password"] = dir.join("password").to_string_lossy().into();
        }
        accounts_json.push(entry);
    }
    accounts_json
}

/// The line `export` ends with: how many nodes, keyed how, and where.
fn summary(plan: &Plan, nodes: usize, out: &Path) -> String {
    let keyed = match &plan.proof_of_stake {
        Some(pos) => format!("{} validators", pos.validators.len()),
        None => format!(
            "{} signers",
            plan.all_nodes()
                .filter(|(g, _)| g.config.role == Role::Signer)
                .count()
        ),
    };
    format!(
        "exported {} nodes ({keyed}) and {} accounts to {}",
        nodes,
        plan.accounts.len(),
        out.display()
    )
}
