//! `compile`: the network file into the Helm values pair (and, for a network
//! larger than one release, the objects applied beside it).

use std::path::{Path, PathBuf};

use super::failure::{exit, Failure};
use super::guard::{guard, NetworkSource};
use super::stages::{plan_network, prepare, Planned};
use crate::check::Context;
use crate::objects::{self, SeparateObjects};
use crate::output::{OutputDir, PendingFile, Visibility};
use crate::pair;
use crate::plan::{Keystores, Plan};
use crate::units::{ether_text, wei_of_gwei};
use crate::values;

pub struct CompileOptions<'a> {
    pub config: Option<&'a Path>,
    pub out: &'a Path,
    pub secrets: Option<&'a Path>,
    pub allow_genesis_change: bool,
    /// The moment of the check and whether the network must fit one Helm release
    /// ([`crate::check::ReleaseLimit::Enforce`] unless `--no-size-limit`); see [`Context`].
    pub context: Context,
}

/// Where a compile writes, inside `-o`: named once, for the files, the guard and
/// the summary alike.
struct Outputs {
    values: PathBuf,
    secrets_values: PathBuf,
    objects: PathBuf,
    /// The joining validators' deposits, for other deposit tools.
    deposit_data: PathBuf,
}

impl Outputs {
    fn new(out: &Path, network: &str) -> Self {
        Self {
            values: out.join("values.yaml"),
            secrets_values: out.join("secrets.values.yaml"),
            objects: out.join(objects::DIR),
            deposit_data: out.join(format!("deposit_data-{network}.json")),
        }
    }

    /// The Helm command that installs or upgrades the network from this pair.
    fn install(&self, network: &str) -> String {
        format!(
            "helm upgrade --install {network} chart/ -f {} -f {}",
            self.values.display(),
            self.secrets_values.display(),
        )
    }
}

/// compile: network file → values.yaml + secrets.values.yaml.
pub fn compile(
    opts: &CompileOptions,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<String>, Failure> {
    let prepared = prepare(opts.config, opts.context, warn)?;
    let Planned {
        source,
        plan,
        doc,
        secret,
    } = plan_network(prepared, opts.secrets, true, Keystores::Derive, warn)?;
    let (mut public, mut private) = values::build(&plan);
    let paths = Outputs::new(opts.out, &plan.config.network.name);
    // One compile at a time per directory, and the guard reads what the last
    // complete compile wrote.
    let out = OutputDir::open(opts.out).map_err(|e| Failure::new(exit::IO, e.to_string()))?;
    let network_source = NetworkSource {
        display: &source.display,
        doc: &doc,
        file: &plan.config,
    };
    let exit_command = format!(
        "kuberneteth-values exit{} -o {}",
        opts.config
            .map_or_else(String::new, |c| format!(" -c {}", c.display())),
        opts.out.display()
    );
    let outcome = guard(
        &paths.values,
        &paths.secrets_values,
        &public,
        &network_source,
        opts.allow_genesis_change,
        (&secret, &exit_command),
        warn,
    )?;
    if let Some(pos) = public.proof_of_stake.as_mut() {
        pos.exits = outcome.exits;
        pos.exits_beacon_node = outcome.exits_beacon_node;
    }

    let install = paths.install(&plan.config.network.name);
    let header = |what: &str| file_header(what, &source.display, &install);
    let (public_yaml, private_yaml) =
        pair::stamp(&mut public, &mut private).map_err(yaml_failure)?;
    let public_text = format!(
        "{}{public_yaml}",
        header("Public Helm values for this network: no private key material; safe to commit."),
    );
    let private_text = format!(
        "{}{private_yaml}",
        header("PRIVATE Helm values: node keys, keystores, passwords. Never commit or share this file."),
    );
    let separate = objects::build(
        &plan,
        &public,
        &header("Kubernetes objects this network keeps outside its Helm release (largeObjects: separate); apply them first: kubectl apply --server-side -n NAMESPACE -f <this folder>"),
    )
    .map_err(yaml_failure)?;
    let deposit_data = plan
        .proof_of_stake
        .as_ref()
        .and_then(|pos| pos.deposit_data_json());
    let mut files = output_files(&paths, separate.as_ref(), public_text, private_text);
    if let Some(json) = &deposit_data {
        files.insert(
            0,
            PendingFile::new(&paths.deposit_data, json.clone(), Visibility::Public),
        );
    }
    out.write_all(&files, false)
        .map_err(|e| Failure::new(exit::IO, e.to_string()))?;
    if deposit_data.is_none() {
        // Deposits of validators now in the genesis, or gone, would only mislead.
        out.remove_files(std::slice::from_ref(&paths.deposit_data))
            .map_err(|e| Failure::new(exit::IO, e.to_string()))?;
    }
    if separate.is_none() {
        // Objects of an earlier compile that kept them outside the release would
        // only mislead now: the release holds them.
        out.remove_files(&[
            paths.objects.join(objects::VALIDATOR_KEYS_FILE),
            paths.objects.join(objects::GENESIS_STATE_FILE),
        ])
        .map_err(|e| Failure::new(exit::IO, e.to_string()))?;
    }
    let mut lines = summary(&plan, &paths, separate.as_ref(), &install);
    // What the upgrade votes, deposits and exits goes before the "next:" line.
    let next = lines.pop();
    lines.extend(outcome.votes);
    lines.extend(deposits_summary(&plan, &paths, opts.config));
    lines.extend(outcome.exits_line);
    lines.extend(next);
    Ok(lines)
}

/// What the joining validators need after `helm upgrade`: their deposits.
fn deposits_summary(plan: &Plan, paths: &Outputs, config: Option<&Path>) -> Option<String> {
    let pos = plan.proof_of_stake.as_ref()?;
    let first = pos.deposits.first()?;
    let mut pods: Vec<&str> = pos.deposits.iter().map(|d| d.node.as_str()).collect();
    pods.dedup();
    let gwei = |g: u64| ether_text(wei_of_gwei(g));
    let total: u64 = pos.deposits.iter().map(|d| d.deposit.amount).sum();
    let config = config.map_or_else(String::new, |c| format!(" -c {}", c.display()));
    Some(format!(
        "deposits: {} validators of {} join by deposit ({} ether from a funded account, {} each): after helm upgrade, run kuberneteth-values deposit{config} --rpc URL --from ACCOUNT (it sends only what the chain lacks); {} holds the same deposits for other tools",
        pos.deposits.len(),
        pods.join(", "),
        gwei(total),
        gwei(first.deposit.amount),
        paths.deposit_data.display()
    ))
}

/// The comment every written file starts with: what it is, where it came from,
/// and how to use it, so a file found alone explains itself.
fn file_header(what: &str, source: &str, install: &str) -> String {
    format!(
        "# {what}\n# Generated by kuberneteth-values {} from {source}. Do not edit: change the network file and recompile.\n# Install or upgrade: {install}\n",
        env!("CARGO_PKG_VERSION"),
    )
}

fn yaml_failure(e: serde_norway::Error) -> Failure {
    Failure::new(exit::IO, format!("cannot write YAML: {e}"))
}

/// The files of one compile, in the order they are written.
fn output_files(
    paths: &Outputs,
    separate: Option<&SeparateObjects>,
    public_text: String,
    private_text: String,
) -> Vec<PendingFile> {
    let mut files = Vec::new();
    if let Some(o) = separate {
        files.push(PendingFile::new(
            paths.objects.join(objects::VALIDATOR_KEYS_FILE),
            o.validator_keys.clone(),
            Visibility::Private,
        ));
        files.push(PendingFile::new(
            paths.objects.join(objects::GENESIS_STATE_FILE),
            o.genesis_state.clone(),
            Visibility::Public,
        ));
    }
    // Secrets first: if the second rename fails, the new secrets sit beside the old
    // values.yaml, whose generation differs, so the chart and the next compile notice.
    files.push(PendingFile::new(
        &paths.secrets_values,
        private_text,
        Visibility::Private,
    ));
    files.push(PendingFile::new(
        &paths.values,
        public_text,
        Visibility::Public,
    ));
    files
}

/// What was written, how an upgrade rolls out, and what to run next.
fn summary(
    plan: &Plan,
    paths: &Outputs,
    separate: Option<&SeparateObjects>,
    install: &str,
) -> Vec<String> {
    let mut lines = vec![format!(
        "wrote {} and {} ({} nodes in {} groups)",
        paths.values.display(),
        paths.secrets_values.display(),
        plan.all_nodes().count(),
        plan.groups.len()
    )];
    if let Some(o) = separate {
        lines.push(format!(
            "wrote {} ({} ConfigMaps of genesis state, {} validator keys Secrets): they stay outside the Helm release",
            paths.objects.display(),
            o.config_maps,
            o.secrets
        ));
    }
    let next = match separate {
        Some(_) => format!(
            "kubectl apply --server-side -n NAMESPACE -f {}, then {install}",
            paths.objects.display()
        ),
        None => install.to_string(),
    };
    lines.push(crate::rollout::summary(plan));
    lines.push(match &plan.proof_of_stake {
        None => format!("next: {next}"),
        Some(pos) => format!(
            "next: {next} (genesis is at {}: install before then; validators start with it)",
            crate::execution::keystore::utc_text(pos.genesis_time)
        ),
    });
    lines
}
