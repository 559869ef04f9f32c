//! The commands of `kuberneteth-values`: each reads, checks, plans and writes
//! through the library's stages. Errors are values carrying their exit code.

use std::fmt::Write as _;
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::check::{self, Checked};
use crate::config::{Kdf, NetworkFile, Role};
use crate::crypto::PrivateKey;
use crate::diagnostics::Diagnostic;
use crate::geth::GethVersion;
use crate::keystore;
use crate::output::{self, PendingFile, Visibility};
use crate::plan::{self, BroughtAccount, BroughtKeys, Endpoint, Keystores, Layout, Plan};
use crate::secrets::{MasterSecret, Origin};
use crate::values::{self, ChartValues};

/// The network compiled when no `-c` is given.
pub const DEFAULT_NETWORK: &str = include_str!("../values/kuberneteth.yaml");
pub const DEFAULT_NETWORK_NAME: &str = "<default network>";

/// Exit codes (documented in the README).
pub mod exit {
    pub const INVALID: u8 = 1;
    pub const REFUSED: u8 = 3;
    pub const IO: u8 = 4;
}

/// A failure with the exit code it maps to and the lines to print.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub lines: Vec<String>,
}

impl Failure {
    fn new(code: u8, line: impl Into<String>) -> Self {
        Self {
            code,
            lines: vec![line.into()],
        }
    }
}

/// Where the network comes from.
pub struct Source {
    /// Shown in messages.
    pub display: String,
    pub text: String,
    /// Directory relative paths in the file are resolved against.
    pub dir: PathBuf,
    /// Default location of the secrets file.
    pub default_secrets: PathBuf,
}

impl Source {
    pub fn load(config: Option<&Path>) -> Result<Self, Failure> {
        match config {
            None => Ok(Self {
                display: DEFAULT_NETWORK_NAME.into(),
                text: DEFAULT_NETWORK.into(),
                dir: PathBuf::from("."),
                default_secrets: PathBuf::from("kuberneteth.secrets.yaml"),
            }),
            Some(path) => {
                let text = fs::read_to_string(path).map_err(|e| {
                    Failure::new(
                        exit::IO,
                        format!("{}: cannot read the network file: {e}", path.display()),
                    )
                })?;
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                Ok(Self {
                    display: path.display().to_string(),
                    text,
                    default_secrets: dir.join("kuberneteth.secrets.yaml"),
                    dir,
                })
            }
        }
    }

    /// Checks the file; warnings are printed, errors become a failure.
    pub fn check(&self, warn: &mut dyn FnMut(String)) -> Result<NetworkFile, Failure> {
        match check::check(&self.text) {
            Ok(Checked { config, warnings }) => {
                for w in warnings {
                    warn(w.render(&self.display));
                }
                Ok(config)
            }
            Err(diags) => Err(self.failure(&diags)),
        }
    }

    fn failure(&self, diags: &[Diagnostic]) -> Failure {
        let errors = diags
            .iter()
            .filter(|d| d.severity == crate::diagnostics::Severity::Error)
            .count();
        let mut lines: Vec<String> = diags.iter().map(|d| d.render(&self.display)).collect();
        lines.push(format!(
            "{}: {errors} error(s); nothing was written",
            self.display
        ));
        Failure {
            code: exit::INVALID,
            lines,
        }
    }
}

/// Reads the keys the user brought (node key files, account keystores).
pub fn load_brought(cfg: &NetworkFile, dir: &Path, display: &str) -> Result<BroughtKeys, Failure> {
    let mut brought = BroughtKeys::default();
    let mut problems = Vec::new();
    let read = |p: &Path| {
        fs::read_to_string(dir.join(p)).map_err(|e| format!("{}: {e}", dir.join(p).display()))
    };
    for (gi, g) in cfg.nodes.iter().enumerate() {
        for (o, file) in g.node_key_files.iter().enumerate() {
            match read(file).and_then(|t| {
                PrivateKey::from_hex(&t).map_err(|e| format!("{}: {e}", file.display()))
            }) {
                Ok(k) => {
                    brought.node_keys.insert((g.name.clone(), o as u32), k);
                }
                Err(e) => problems.push(format!("{display}: nodes[{gi}].nodeKeyFiles[{o}]: {e}")),
            }
        }
    }
    for (i, a) in cfg.accounts.iter().enumerate() {
        if let (Some(name), Some(ks), Some(pw)) = (&a.name, &a.keystore, &a.password_file) {
            let opened = read(ks).and_then(|json| {
                let password = read(pw)?;
                let password = password.trim_end_matches(['\n', '\r']).to_string();
                let key = keystore::decrypt(&json, &password)
                    .map_err(|e| format!("{}: {e}", ks.display()))?;
                Ok(BroughtAccount {
                    key,
                    keystore_json: json,
                    password,
                })
            });
            match opened {
                Ok(b) => {
                    brought.accounts.insert(name.clone(), b);
                }
                Err(e) => problems.push(format!("{display}: accounts[{i}].keystore: {e}")),
            }
        }
    }
    if problems.is_empty() {
        Ok(brought)
    } else {
        problems.push(format!(
            "{display}: brought keys could not be read; nothing was written"
        ));
        Err(Failure {
            code: exit::INVALID,
            lines: problems,
        })
    }
}

fn load_secret(
    path: &Path,
    create: bool,
    note: &mut dyn FnMut(String),
) -> Result<MasterSecret, Failure> {
    let io = |e: crate::secrets::SecretsError| Failure::new(exit::IO, e.to_string());
    if create {
        let (secret, origin) = MasterSecret::load_or_create(path).map_err(io)?;
        if origin == Origin::Created {
            note(format!(
                "created {} (mode 0600): the master secret every key is derived from. Back it up and keep it out of git",
                path.display()
            ));
        }
        Ok(secret)
    } else {
        MasterSecret::load(path).map_err(|e| {
            Failure::new(
                exit::IO,
                format!("{e}\nhint: `compile` creates the secrets file on its first run"),
            )
        })
    }
}

/// Builds the plan, with a progress bar for slow keystores on a terminal.
pub fn build_plan(
    cfg: &NetworkFile,
    secret: &MasterSecret,
    brought: &BroughtKeys,
    keystores: Keystores,
) -> Plan {
    let count = plan::keystore_count(cfg);
    let bar = if keystores == Keystores::Derive
        && cfg.keystore.kdf == Kdf::Standard
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
    let plan = plan::build(cfg, secret, brought, keystores, &tick);
    bar.finish_and_clear();
    plan
}

/// The stages every command that needs keys runs: read, check, load brought keys
/// and the master secret, plan.
fn plan_network(
    config: Option<&Path>,
    secrets: Option<&Path>,
    create_secret: bool,
    keystores: Keystores,
    warn: &mut dyn FnMut(String),
) -> Result<(Source, Plan), Failure> {
    let source = Source::load(config)?;
    let cfg = source.check(warn)?;
    let brought = load_brought(&cfg, &source.dir, &source.display)?;
    let secrets_path = secrets.unwrap_or(&source.default_secrets).to_path_buf();
    let secret = load_secret(&secrets_path, create_secret, warn)?;
    let plan = build_plan(&cfg, &secret, &brought, keystores);
    Ok((source, plan))
}

pub struct CompileOptions<'a> {
    pub config: Option<&'a Path>,
    pub out: &'a Path,
    pub secrets: Option<&'a Path>,
    pub allow_genesis_change: bool,
}

/// compile: network file → values.yaml + secrets.values.yaml.
pub fn compile(
    opts: &CompileOptions,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<String>, Failure> {
    let (source, plan) = plan_network(opts.config, opts.secrets, true, Keystores::Derive, warn)?;
    let cfg = &plan.config;
    let (public, private) = values::build(&plan);

    let values_path = opts.out.join("values.yaml");
    let secrets_values_path = opts.out.join("secrets.values.yaml");
    guard_existing(&values_path, &public, opts.allow_genesis_change, warn)?;

    let install = format!(
        "helm upgrade --install {name} chart/ -f {} -f {}",
        values_path.display(),
        secrets_values_path.display(),
        name = cfg.network.name
    );
    let header = |what: &str| {
        format!(
            "# {what}\n# Generated by kuberneteth-values {} from {}. Do not edit: change the network file and recompile.\n# Install or upgrade: {install}\n",
            env!("CARGO_PKG_VERSION"),
            source.display
        )
    };
    let yaml = |v: &dyn erased::Ser| {
        v.to_yaml()
            .map_err(|e| Failure::new(exit::IO, format!("cannot write YAML: {e}")))
    };
    let public_text = format!(
        "{}{}",
        header("Public Helm values for this network: no private key material; safe to commit."),
        yaml(&public)?
    );
    let private_text = format!(
        "{}{}",
        header("PRIVATE Helm values: node keys, keystores, passwords. Never commit or share this file."),
        yaml(&private)?
    );
    output::write_all(
        &[
            PendingFile::new(&values_path, public_text, Visibility::Public),
            PendingFile::new(&secrets_values_path, private_text, Visibility::Private),
        ],
        false,
    )
    .map_err(|e| Failure::new(exit::IO, e.to_string()))?;
    Ok(vec![
        format!(
            "wrote {} and {} ({} nodes in {} groups)",
            values_path.display(),
            secrets_values_path.display(),
            plan.all_nodes().count(),
            plan.groups.len()
        ),
        format!("next: {install}"),
    ])
}

/// Serialization to YAML for the two value types, without generics in the caller.
mod erased {
    pub trait Ser {
        fn to_yaml(&self) -> Result<String, serde_norway::Error>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_yaml(&self) -> Result<String, serde_norway::Error> {
            serde_norway::to_string(self).map(|y| crate::yamlout::quote_ambiguous(&y))
        }
    }
}

/// A running network cannot change its genesis: refuse when an earlier output
/// exists with another genesis or signer set, unless explicitly allowed.
fn guard_existing(
    path: &Path,
    new: &ChartValues,
    allow: bool,
    warn: &mut dyn FnMut(String),
) -> Result<(), Failure> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(());
    };
    let old: ChartValues = serde_norway::from_str(&text).map_err(|e| {
        Failure::new(
            exit::REFUSED,
            format!("{}: exists but is not a kuberneteth values file ({e}); move it away or choose another -o", path.display()),
        )
    })?;
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
    if signers(&old) != signers(new) {
        changes.push("the signer set");
    }
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

/// inspect: a table of every node (never private keys).
pub fn inspect(
    config: Option<&Path>,
    secrets: Option<&Path>,
    warn: &mut dyn FnMut(String),
) -> Result<String, Failure> {
    let (_, plan) = plan_network(config, secrets, false, Keystores::Skip, warn)?;
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
    let mut out = table(&rows);
    if !plan.accounts.is_empty() {
        out.push('\n');
        let mut acc = vec![["ACCOUNT".to_string(), "ADDRESS".into(), "BALANCE".into()]];
        for a in &plan.accounts {
            acc.push([
                a.name.clone().unwrap_or_else(|| "(outside)".into()),
                a.address.to_string(),
                a.balance_text.clone(),
            ]);
        }
        out.push_str(&table(&acc));
    }
    Ok(out)
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

pub struct ExportOptions<'a> {
    pub config: Option<&'a Path>,
    pub out: &'a Path,
    pub secrets: Option<&'a Path>,
    pub ip_range: Option<std::net::Ipv4Addr>,
    pub port_range: Option<u16>,
}

/// export: the per-node files for running or debugging outside Kubernetes.
pub fn export(opts: &ExportOptions, warn: &mut dyn FnMut(String)) -> Result<Vec<String>, Failure> {
    let (_, plan) = plan_network(opts.config, opts.secrets, true, Keystores::Derive, warn)?;

    // Node i (in plan order) gets the address ip_range + i (127.0.0.1 + i by
    // default) and, when given, the P2P port port_range + i. Each node binds all
    // its listeners to its own address, so nodes on one host never clash.
    let ip_range = opts.ip_range.unwrap_or(std::net::Ipv4Addr::LOCALHOST);
    let index: Vec<(String, usize)> = plan
        .all_nodes()
        .enumerate()
        .map(|(i, (_, n))| (n.name.clone(), i))
        .collect();
    let position = |n: &plan::NodePlan| {
        index
            .iter()
            .find(|(name, _)| *name == n.name)
            .map(|(_, i)| *i)
            .unwrap_or(0)
    };
    let total = index.len();
    if u32::from(ip_range).checked_add(total as u32).is_none() {
        return Err(Failure::new(
            exit::INVALID,
            "--ip-range: not enough addresses after the start",
        ));
    }
    if let Some(p) = opts.port_range {
        if (p as usize) + total > 65535 {
            return Err(Failure::new(
                exit::INVALID,
                "--port-range: not enough ports after the start",
            ));
        }
    }
    let endpoint = |g: &plan::GroupPlan, n: &plan::NodePlan| {
        let i = position(n);
        Endpoint {
            host: std::net::Ipv4Addr::from(u32::from(ip_range) + i as u32).to_string(),
            port: opts
                .port_range
                .map(|p| p + i as u16)
                .unwrap_or(g.config.p2p_port),
        }
    };

    let mut files = vec![PendingFile::new(
        opts.out.join("genesis.json"),
        plan.genesis_json.clone(),
        Visibility::Public,
    )];
    let mut nodes_json = Vec::new();
    for (g, n) in plan.all_nodes() {
        let dir = Path::new("nodes").join(&n.name);
        let e = endpoint(g, n);
        let layout = Layout {
            data_dir: "data",
            paths: crate::geth::FlagPaths {
                config: "config.toml",
                nodekey: "nodekey",
                keystore: "keystore",
                password: "password",
            },
            ethstats_url: None,
            listen_port: Some(e.port),
            bind_host: Some(&e.host),
            namespace: None,
        };
        let toml = plan.toml(g, &layout, &endpoint);
        let mut args = plan.flags(g, &layout);
        let pk = n.node_key.public_key();
        let signer_address = n.signer.as_ref().map(|s| s.key.address().to_string());
        if let Some(addr) = &signer_address {
            args.push(format!("--miner.etherbase={addr}"));
            args.push(format!("--unlock={addr}"));
        }
        files.push(PendingFile::new(
            opts.out.join(&dir).join("config.toml"),
            toml,
            Visibility::Public,
        ));
        files.push(PendingFile::new(
            opts.out.join(&dir).join("geth.args"),
            args.join("\n") + "\n",
            Visibility::Public,
        ));
        files.push(PendingFile::new(
            opts.out.join(&dir).join("nodekey"),
            n.node_key.to_hex(),
            Visibility::Private,
        ));
        if let Some(ks) = n.signer.as_ref().and_then(|s| s.keystore.as_ref()) {
            files.push(PendingFile::new(
                opts.out.join(&dir).join("keystore").join(&ks.file_name),
                ks.json.clone(),
                Visibility::Private,
            ));
            files.push(PendingFile::new(
                opts.out.join(&dir).join("password"),
                plan.keystore_password.clone(),
                Visibility::Private,
            ));
        }
        nodes_json.push(serde_json::json!({
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
            "signerAddress": signer_address,
            "gethVersion": g.version.to_string(),
            "dir": dir.to_string_lossy(),
        }));
    }
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
                opts.out.join(&dir).join("keystore.json"),
                ks.json.clone(),
                Visibility::Private,
            ));
            files.push(PendingFile::new(
                opts.out.join(&dir).join("password"),
                password.clone(),
                Visibility::Private,
            ));
            entry["keystore"] = dir.join("keystore.json").to_string_lossy().into();
            entry["password"] = dir.join("password").to_string_lossy().into();
        }
        accounts_json.push(entry);
    }
    let pretty = |v: &Vec<serde_json::Value>| serde_json::to_string_pretty(v).expect("json") + "\n";
    files.push(PendingFile::new(
        opts.out.join("nodes.json"),
        pretty(&nodes_json),
        Visibility::Public,
    ));
    files.push(PendingFile::new(
        opts.out.join("accounts.json"),
        pretty(&accounts_json),
        Visibility::Public,
    ));
    output::write_all(&files, true).map_err(|e| {
        let code = match e {
            output::OutputError::Conflict { .. } => exit::REFUSED,
            _ => exit::IO,
        };
        Failure::new(code, e.to_string())
    })?;
    let signers = plan
        .all_nodes()
        .filter(|(g, _)| g.config.role == Role::Signer)
        .count();
    Ok(vec![format!(
        "exported {} nodes ({signers} signers) and {} accounts to {}",
        total,
        plan.accounts.len(),
        opts.out.display()
    )])
}
