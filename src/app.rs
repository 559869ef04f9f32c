//! The commands of `kuberneteth-values`: each reads, checks, plans and writes
//! through the library's stages. Errors are values carrying their exit code.

use std::fmt::Write as _;
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::check::{self, Checked, CheckedNetwork, Context, ReleaseLimit};
use crate::config::{Kdf, Role};
use crate::diagnostics::{display_path, excerpt, Diagnostic};
use crate::execution::crypto::PrivateKey;
use crate::execution::geth::GethVersion;
use crate::execution::keystore;
use crate::input::{self, ReadError};
use crate::objects;
use crate::output::{OutputDir, OutputError, PendingFile, Visibility};
use crate::pair;
use crate::plan::{self, BroughtAccount, BroughtKeys, Endpoint, Keystores, Layout, Plan};
use crate::secrets::{MasterSecret, Origin};
use crate::values::{self, ChartValues};

/// The network compiled when no `-c` is given.
pub const DEFAULT_NETWORK: &str = include_str!("../values/kuberneteth.yaml");
pub const DEFAULT_NETWORK_NAME: &str = "<default network>";

/// Exit codes (documented in the README).
pub mod exit {
    pub const INVALID: u8 = 1;
    pub const USAGE: u8 = 2;
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
    pub fn new(code: u8, line: impl Into<String>) -> Self {
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
    /// Whether the network is a regular file (not `/dev/stdin`, a pipe, a device):
    /// only then is "beside the network file" a place to create the secret.
    pub regular: bool,
}

impl Source {
    pub fn load(config: Option<&Path>) -> Result<Self, Failure> {
        let Some(path) = config else {
            return Ok(Self {
                display: DEFAULT_NETWORK_NAME.into(),
                text: DEFAULT_NETWORK.into(),
                dir: PathBuf::from("."),
                default_secrets: PathBuf::from("kuberneteth.secrets.yaml"),
                regular: true,
            });
        };
        let display = path.display().to_string();
        let bytes = input::read_bounded(path, input::MAX_NETWORK_FILE).map_err(|e| match e {
            ReadError::Io(_) => Failure::new(
                exit::IO,
                format!("{display}: cannot read the network file: {e}"),
            ),
            ReadError::TooLarge { .. } => Failure::new(
                exit::INVALID,
                format!("{display}: the network file is {e}; nothing was written"),
            ),
        })?;
        let text = input::decode(bytes)
            .map_err(|e| invalid(&display, &[Diagnostic::error(e.position, "", e.message)]))?;
        let regular = fs::metadata(path).is_ok_and(|m| m.is_file());
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Self {
            display,
            text,
            default_secrets: dir.join("kuberneteth.secrets.yaml"),
            dir,
            regular,
        })
    }

    /// Checks the file in `ctx` (see [`check::Context`]); warnings are printed,
    /// errors become a failure.
    pub fn check(&self, ctx: Context, warn: &mut dyn FnMut(String)) -> Result<Checked, Failure> {
        match check::check(&self.text, ctx) {
            Ok(checked) => {
                for w in &checked.warnings {
                    warn(w.render(&self.display));
                }
                Ok(checked)
            }
            Err(diags) => Err(invalid(&self.display, &diags)),
        }
    }
}

/// Exit 1: every problem of the network file (or of the files it names), then
/// how many there were.
fn invalid(display: &str, diags: &[Diagnostic]) -> Failure {
    let errors = diags
        .iter()
        .filter(|d| d.severity == crate::diagnostics::Severity::Error)
        .count();
    let mut lines: Vec<String> = diags.iter().map(|d| d.render(display)).collect();
    lines.push(format!("{display}: {errors} error(s); nothing was written"));
    Failure {
        code: exit::INVALID,
        lines,
    }
}

/// Reads a brought file (relative to the network file), bounded in size.
fn read_brought(dir: &Path, file: &Path, limit: u64) -> Result<String, String> {
    let path = dir.join(file);
    let bytes =
        input::read_bounded(&path, limit).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))
}

/// Reads the keys the user brought (node key files, account keystores). Every
/// problem is reported at the entry of the network file that names the file.
pub fn load_brought(checked: &Checked, source: &Source) -> Result<BroughtKeys, Failure> {
    let cfg = checked.network.file();
    let dir = &source.dir;
    let mut brought = BroughtKeys::default();
    let mut problems = Vec::new();
    let mut problem = |pointer: String, message: String| {
        problems.push(Diagnostic::error(
            checked.doc.position(&pointer),
            display_path(&pointer),
            message,
        ))
    };
    for (gi, g) in cfg.nodes.iter().enumerate() {
        for (o, file) in g.node_key_files.iter().enumerate() {
            let key = read_brought(dir, file, input::MAX_NODE_KEY_FILE).and_then(|t| {
                PrivateKey::from_hex(&t).map_err(|e| format!("{}: {e}", file.display()))
            });
            match key {
                Ok(k) => {
                    brought.node_keys.insert((g.name.clone(), o as u32), k);
                }
                Err(e) => problem(format!("/nodes/{gi}/nodeKeyFiles/{o}"), e),
            }
        }
    }
    for (i, a) in cfg.accounts.iter().enumerate() {
        let (Some(name), Some(ks), Some(pw)) = (&a.name, &a.keystore, &a.password_file) else {
            continue;
        };
        let password = match read_brought(dir, pw, input::MAX_PASSWORD_FILE) {
            Ok(p) => p.trim_end_matches(['\n', '\r']).to_string(),
            Err(e) => {
                problem(format!("/accounts/{i}/passwordFile"), e);
                continue;
            }
        };
        let opened = read_brought(dir, ks, input::MAX_KEYSTORE_FILE).and_then(|json| {
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
            Err(e) => problem(format!("/accounts/{i}/keystore"), e),
        }
    }
    if let crate::config::Consensus::ProofOfStake(pos) = &cfg.network.consensus {
        if let Some(file) = &pos.mnemonic_file {
            let seed = read_brought(dir, file, input::MAX_PASSWORD_FILE).and_then(|text| {
                // One line of words; surrounding whitespace is not part of it.
                let phrase = text.split_whitespace().collect::<Vec<_>>().join(" ");
                crate::consensus::bls::Seed::from_mnemonic(&phrase, "")
                    .map_err(|e| format!("{}: {e}", file.display()))
            });
            match seed {
                Ok(s) => brought.validator_mnemonic = Some(s),
                Err(e) => problem(
                    "/network/consensus/proofOfStake/mnemonicFile".to_string(),
                    e,
                ),
            }
        }
    }
    if problems.is_empty() {
        return Ok(brought);
    }
    crate::diagnostics::sort(&mut problems);
    Err(invalid(&source.display, &problems))
}

/// Loads the master secret, creating it when `create` (compile, export). The
/// secret is only ever created beside a regular network file or where
/// `--secrets` says: next to `/dev/stdin` it would land in `/dev`.
fn load_secret(
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
fn without_release(now: u64) -> Context {
    Context {
        now,
        release_limit: ReleaseLimit::Ignore,
    }
}

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
/// `ctx`: see [`check::Context`].
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

/// The stages every command that needs keys runs: prepare, load the master secret, plan.
fn plan_network(
    prepared: (Source, Checked, BroughtKeys),
    secrets: Option<&Path>,
    create_secret: bool,
    keystores: Keystores,
    warn: &mut dyn FnMut(String),
) -> Result<(Source, Plan), Failure> {
    let (source, checked, brought) = prepared;
    let secret = load_secret(&source, secrets, create_secret, warn)?;
    let plan = build_plan(&checked.network, &secret, &brought, keystores);
    Ok((source, plan))
}

pub struct CompileOptions<'a> {
    pub config: Option<&'a Path>,
    pub out: &'a Path,
    pub secrets: Option<&'a Path>,
    pub allow_genesis_change: bool,
    /// The moment of the check and whether the network must fit one Helm release
    /// ([`ReleaseLimit::Enforce`] unless `--no-size-limit`); see [`check::Context`].
    pub context: Context,
}

/// compile: network file → values.yaml + secrets.values.yaml.
pub fn compile(
    opts: &CompileOptions,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<String>, Failure> {
    let prepared = prepare(opts.config, opts.context, warn)?;
    let (source, plan) = plan_network(prepared, opts.secrets, true, Keystores::Derive, warn)?;
    let cfg = &plan.config;
    let (mut public, mut private) = values::build(&plan);

    let values_path = opts.out.join("values.yaml");
    let secrets_values_path = opts.out.join("secrets.values.yaml");
    // One compile at a time per directory, and the guard reads what the last
    // complete compile wrote.
    let out = OutputDir::open(opts.out).map_err(|e| Failure::new(exit::IO, e.to_string()))?;
    if let Some(old) = read_existing(&values_path)? {
        guard_existing(&values_path, &old, &public, opts.allow_genesis_change, warn)?;
        warn_torn_pair(&old, &values_path, &secrets_values_path, warn);
    }

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
    let (public_yaml, private_yaml) = pair::stamp(&mut public, &mut private)
        .map_err(|e| Failure::new(exit::IO, format!("cannot write YAML: {e}")))?;
    let public_text = format!(
        "{}{public_yaml}",
        header("Public Helm values for this network: no private key material; safe to commit."),
    );
    let private_text = format!(
        "{}{private_yaml}",
        header("PRIVATE Helm values: node keys, keystores, passwords. Never commit or share this file."),
    );
    let objects_dir = opts.out.join(objects::DIR);
    let separate = objects::build(
        &plan,
        &public,
        &header("Kubernetes objects this network keeps outside its Helm release (largeObjects: separate); apply them first: kubectl apply --server-side -n NAMESPACE -f <this folder>"),
    )
    .map_err(|e| Failure::new(exit::IO, format!("cannot write YAML: {e}")))?;
    let mut files = Vec::new();
    if let Some(o) = &separate {
        files.push(PendingFile::new(
            objects_dir.join(objects::VALIDATOR_KEYS_FILE),
            o.validator_keys.clone(),
            Visibility::Private,
        ));
        files.push(PendingFile::new(
            objects_dir.join(objects::GENESIS_STATE_FILE),
            o.genesis_state.clone(),
            Visibility::Public,
        ));
    }
    // Secrets first: if the second rename fails, the new secrets sit beside the old
    // values.yaml, whose generation differs, so the chart and the next compile notice.
    files.push(PendingFile::new(
        &secrets_values_path,
        private_text,
        Visibility::Private,
    ));
    files.push(PendingFile::new(
        &values_path,
        public_text,
        Visibility::Public,
    ));
    out.write_all(&files, false)
        .map_err(|e| Failure::new(exit::IO, e.to_string()))?;
    if separate.is_none() {
        // Objects of an earlier compile that kept them outside the release would
        // only mislead now: the release holds them.
        out.remove_files(&[
            objects_dir.join(objects::VALIDATOR_KEYS_FILE),
            objects_dir.join(objects::GENESIS_STATE_FILE),
        ])
        .map_err(|e| Failure::new(exit::IO, e.to_string()))?;
    }
    let apply = format!(
        "kubectl apply --server-side -n NAMESPACE -f {}",
        objects_dir.display()
    );
    let mut lines = vec![format!(
        "wrote {} and {} ({} nodes in {} groups)",
        values_path.display(),
        secrets_values_path.display(),
        plan.all_nodes().count(),
        plan.groups.len()
    )];
    if let Some(o) = &separate {
        lines.push(format!(
            "wrote {} ({} ConfigMaps of genesis state, {} validator keys Secrets): they stay outside the Helm release",
            objects_dir.display(),
            o.config_maps,
            o.secrets
        ));
    }
    let next = match &separate {
        Some(_) => format!("{apply}, then {install}"),
        None => install.clone(),
    };
    lines.push(crate::rollout::summary(&plan));
    lines.push(match &plan.proof_of_stake {
        None => format!("next: {next}"),
        Some(pos) => format!(
            "next: {next} (genesis is at {}: install before then; validators start with it)",
            crate::execution::keystore::utc_text(pos.genesis_time)
        ),
    });
    Ok(lines)
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

/// inspect: a table of every node (never private keys). It makes no Helm
/// release, so the release limit does not apply.
/// `now`: the moment of the check, Unix seconds (see [`check::Context`]).
pub fn inspect(
    config: Option<&Path>,
    secrets: Option<&Path>,
    now: u64,
    warn: &mut dyn FnMut(String),
) -> Result<String, Failure> {
    let (_, plan) = plan_network(
        prepare(config, without_release(now), warn)?,
        secrets,
        false,
        Keystores::Skip,
        warn,
    )?;
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
    if let Some(pos) = &plan.proof_of_stake {
        out.push('\n');
        let mut beacons = vec![["NODE".to_string(), "BEACON PEER ID".into(), "ENR".into()]];
        for (node, b) in &pos.beacon_nodes {
            beacons.push([node.clone(), b.identity.peer_id(), b.enr.clone()]);
        }
        out.push_str(&table(&beacons));
        out.push('\n');
        let mut validators = vec![[
            "VALIDATOR".to_string(),
            "PUBKEY".into(),
            "NODE".into(),
            "KEY PATH".into(),
        ]];
        for v in &pos.validators {
            validators.push([
                v.index.to_string(),
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
    /// The moment of the check, Unix seconds (see [`check::Context`]). Files for
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

/// export: the per-node files for running or debugging outside Kubernetes.
/// Where an exported node's consensus files are, relative to its folder, where
/// `beacon-chain $(cat beacon.args)` and `validator $(cat validator.args)` run (the
/// network's consensus files are two folders up, beside `genesis.json`).
const EXPORT_PRYSM_PATHS: crate::consensus::prysm::PrysmPaths<'static> =
    crate::consensus::prysm::PrysmPaths {
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
fn beacon_multiaddr(host: &str, beacon: &plan::proof_of_stake::BeaconNodePlan) -> String {
    use plan::proof_of_stake::BEACON_TCP_PORT;
    format!(
        "/ip4/{host}/tcp/{BEACON_TCP_PORT}/p2p/{}",
        beacon.identity.peer_id()
    )
}

/// What the consensus side of one exported node needs besides its own plan.
struct ExportedConsensus<'a> {
    /// The node's own address: every listener binds to it.
    host: &'a str,
    /// The beacon nodes of every other exported node, at their addresses.
    peers: Vec<String>,
    metrics: bool,
    verbosity: u8,
}

/// The consensus side of one exported node: the beacon node's P2P key, the JWT
/// secret its geth shares and its arguments (`beacon.args`), and a validator pod's
/// Prysm wallet and its validator client's arguments (`validator.args`). Returns
/// what `nodes.json` says about it.
fn export_consensus_node(
    pos: &plan::proof_of_stake::ProofOfStakePlan,
    dir: &Path,
    n: &plan::NodePlan,
    at: ExportedConsensus,
    files: &mut Vec<PendingFile>,
) -> Option<serde_json::Value> {
    use crate::consensus::prysm;
    use plan::proof_of_stake::{BEACON_API_PORT, BEACON_TCP_PORT, BEACON_UDP_PORT};
    let paths = EXPORT_PRYSM_PATHS;
    let beacon = pos.beacon_nodes.get(&n.name)?;
    let lines = |args: Vec<String>| args.join("\n") + "\n";
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
            execution_endpoint: format!("http://{}:{}", at.host, plan::ENGINE_API_PORT),
            bind_host: at.host,
            peers: at.peers,
            fee_recipient: pos.fee_recipient(),
            metrics: at.metrics,
            supernode: pos.settings.fork == crate::config::ForkAtGenesis::Fulu,
            verbosity: prysm::verbosity(at.verbosity),
        })),
        Visibility::Public,
    ));
    let validator = pos.validator_clients.get(&n.name);
    if let Some(v) = validator {
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

/// The genesis validators, for `validators.json` and `inspect`.
fn validators_json(pos: &plan::proof_of_stake::ProofOfStakePlan) -> Vec<serde_json::Value> {
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
    let (_, plan) = plan_network(prepared, opts.secrets, true, Keystores::Derive, warn)?;

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
        // `geth init $(cat geth-init.args)`: the datadir, the database flags geth
        // must create it with (as the chart's init step passes them: proof of stake
        // runs the hash state scheme) and the genesis.
        let mut init_args = vec![format!("--datadir={}", layout.data_dir)];
        init_args.extend(
            args.iter()
                .filter(|a| a.starts_with("--state.scheme") || a.starts_with("--db.engine"))
                .cloned(),
        );
        init_args.push("../../genesis.json".into());
        files.push(PendingFile::new(
            opts.out.join(&dir).join("geth-init.args"),
            init_args.join("\n") + "\n",
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
        let beacon = plan.proof_of_stake.as_ref().and_then(|pos| {
            // Every other node's beacon node is a static peer, at its address.
            let peers = plan
                .all_nodes()
                .filter(|(_, o)| o.name != n.name)
                .filter_map(|(og, o)| {
                    let b = pos.beacon_nodes.get(&o.name)?;
                    Some(beacon_multiaddr(&endpoint(og, o).host, b))
                })
                .collect();
            let at = ExportedConsensus {
                host: &e.host,
                peers,
                metrics: plan.config.monitoring.metrics.enabled,
                verbosity: g.verbosity,
            };
            export_consensus_node(pos, &opts.out.join(&dir), n, at, &mut files)
        });
        nodes_json.push(serde_json::json!({
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
    // Serializing a JSON value to a string cannot fail (no I/O, string keys only).
    let pretty =
        |v: &Vec<serde_json::Value>| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
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
    if let Some(pos) = &plan.proof_of_stake {
        files.push(PendingFile::new(
            opts.out.join("consensus").join("config.yaml"),
            pos.chain_config.clone(),
            Visibility::Public,
        ));
        files.push(PendingFile::new(
            opts.out.join("consensus").join("genesis.ssz"),
            pos.genesis_state.ssz.clone(),
            Visibility::Public,
        ));
        files.push(PendingFile::new(
            opts.out.join("consensus").join("validators.json"),
            pretty(&validators_json(pos)),
            Visibility::Public,
        ));
    }
    let written = OutputDir::open(opts.out).and_then(|out| out.write_all(&files, true));
    written.map_err(|e| {
        let code = match e {
            OutputError::Conflict { .. } => exit::REFUSED,
            OutputError::Io { .. } => exit::IO,
        };
        Failure::new(code, e.to_string())
    })?;
    let keyed = match &plan.proof_of_stake {
        Some(pos) => format!("{} validators", pos.validators.len()),
        None => format!(
            "{} signers",
            plan.all_nodes()
                .filter(|(g, _)| g.config.role == Role::Signer)
                .count()
        ),
    };
    Ok(vec![format!(
        "exported {} nodes ({keyed}) and {} accounts to {}",
        total,
        plan.accounts.len(),
        opts.out.display()
    )])
}
