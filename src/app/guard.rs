//! `compile`'s genesis guard: what an earlier compile wrote into the output
//! folder decides whether this one may replace it.

use std::path::Path;

use super::failure::{exit, Failure};
use crate::config::{NetworkFile, NodeGroup, Role};
use crate::diagnostics::{display_path, excerpt, Diagnostic};
use crate::execution::geth::GethVersion;
use crate::input;
use crate::pair;
use crate::plan::proof_of_stake::pod_signing_keys;
use crate::secrets::MasterSecret;
use crate::values::{ChartValues, ExitValues};
use crate::yaml::Document;

/// What the guard found that the compile writes or says: the summary's lines on
/// signer votes and exits, and the exits the new values carry.
#[derive(Default)]
pub(super) struct Outcome {
    /// What the signers vote.
    pub votes: Vec<String>,
    /// Which validators exit, and what to run.
    pub exits_line: Option<String>,
    pub exits: Vec<ExitValues>,
    /// A pod that stays, whose beacon node the exits Job asks.
    pub exits_beacon_node: Option<String>,
}

/// Reads the values an earlier compile left in `values` (if any) and refuses a
/// new genesis over them unless `allow`, a signer removal clique could not vote
/// through, and a validator removal that would leave two thirds of the stake or
/// less; warns of a geth downgrade and of a pair torn by an interrupted compile.
/// `new`: the values about to be written; `file`: the network file, to point at;
/// `secret`: the master secret, for the keys of validator pods that leave;
/// `exit_command`: the `exit` command line the summary names. Returns what the
/// upgrade will do that the summary should say, and the exits.
pub(super) fn guard(
    values: &Path,
    secrets_values: &Path,
    new: &ChartValues,
    file: &NetworkSource,
    allow: bool,
    (secret, exit_command): (&MasterSecret, &str),
    warn: &mut dyn FnMut(String),
) -> Result<Outcome, Failure> {
    let Some(old) = read_existing(values)? else {
        return Ok(Outcome::default());
    };
    guard_existing(values, &old, new, file, allow, warn)?;
    warn_torn_pair(&old, values, secrets_values, warn);
    let votes = votes(&old, new);
    if !allow {
        votes.refuse_unsafe_removal(&old, file)?;
    }
    let mut outcome = Outcome {
        votes: votes.summary(),
        ..Outcome::default()
    };
    // A new genesis (allowed) is a new network: nothing of the old one exits.
    if new.proof_of_stake.is_some() && genesis_changes(&old, new).is_empty() {
        let exits = Exits::plan(&old, new, secret);
        exits.refuse_returning_pods(new, file)?;
        if !exits.leaving.is_empty()
            && matches!(&file.file.network.consensus, crate::config::Consensus::ProofOfStake(p) if p.mnemonic_file.is_some())
        {
            return Err(Failure::new(
                exit::REFUSED,
                file.at("/nodes", format!(
                    "validator pods {} would go, and `mnemonicFile` numbers validator keys in file order: removing pods would move the keys of the pods after them; keep the validator groups as they were",
                    exits.pods().join(", ")
                )),
            ));
        }
        if !allow {
            exits.refuse_unsafe_removal(file)?;
        }
        outcome.exits_line = exits.summary(exit_command);
        outcome.exits_beacon_node = (!exits.all().is_empty())
            .then(|| exits_beacon_node(&old, new))
            .flatten();
        outcome.exits = exits.all();
    }
    Ok(outcome)
}

/// The network file a compile read, to point a refusal at the entry to change.
pub(super) struct NetworkSource<'a> {
    pub display: &'a str,
    pub doc: &'a Document,
    pub file: &'a NetworkFile,
}

impl NetworkSource<'_> {
    fn at(&self, pointer: &str, message: String) -> String {
        Diagnostic::error(self.doc.position(pointer), display_path(pointer), message)
            .render(self.display)
    }

    /// The group named `name`, with its index.
    fn group(&self, name: &str) -> Option<(usize, &NodeGroup)> {
        self.file
            .nodes
            .iter()
            .enumerate()
            .find(|(_, g)| g.name == name)
    }

    /// Where a refused removal points: `replicas` of the first of `groups` still in
    /// the file, else the node list.
    fn replicas_of_first<'g>(&self, groups: impl IntoIterator<Item = &'g str>) -> String {
        groups
            .into_iter()
            .find_map(|name| self.group(name))
            .map_or_else(|| "/nodes".into(), |(i, _)| format!("/nodes/{i}/replicas"))
    }
}

/// The values an earlier compile wrote, if any. A file that exists but cannot
/// be read stops the compile: the genesis guard cannot be skipped by accident.
pub(super) fn read_existing(path: &Path) -> Result<Option<ChartValues>, Failure> {
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
    serde_norway::from_str(&text).map(Some).map_err(|e| {
        let why = excerpt(&e.to_string());
        if text.contains("# Generated by kuberneteth-values") {
            // Ours, from a release whose values take another shape.
            Failure::new(
                exit::REFUSED,
                format!("{}: was written by another release of kuberneteth-values ({why}), so the genesis guard cannot compare against it; nothing was written. Compile into a new -o directory, or move it away; a running network keeps the genesis it was installed with", path.display()),
            )
        } else {
            not_ours(why)
        }
    })
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
    file: &NetworkSource,
    allow: bool,
    warn: &mut dyn FnMut(String),
) -> Result<(), Failure> {
    let changes = genesis_changes(old, new);
    warn_downgrades(old, new, warn);
    if changes.is_empty() || allow {
        return Ok(());
    }
    let mut lines = vec![
        format!("{}: refusing to change {} of an existing network.", path.display(), changes.join(" and ")),
        "A running network cannot change its genesis: existing nodes would keep the old chain and never agree with new ones.".into(),
    ];
    let hints = genesis_replicas_hints(old, file);
    if !hints.is_empty() {
        lines.push("If you meant to add or remove signers or validators of the running network (signers are voted in and out, validators join by deposit), keep its genesis pods in the file:".into());
        lines.extend(hints);
    }
    lines.push("To start a new network instead, delete the release and its volumes, then pass --allow-genesis-change (or write to a new -o directory).".into());
    Err(Failure {
        code: exit::REFUSED,
        lines,
    })
}

/// Where the file's signer or validator groups no longer say which of their
/// pods are in the genesis (`genesisReplicas`), one positioned line each, from
/// what the earlier values recorded.
fn genesis_replicas_hints(old: &ChartValues, file: &NetworkSource) -> Vec<String> {
    let mut hints = Vec::new();
    for g in old.node_groups.iter().filter(|g| g.role.produces_blocks()) {
        let was = g.genesis_replicas.unwrap_or(g.replicas);
        let members = Members::of(g.role);
        match file.group(&g.name) {
            Some((i, now)) if now.role == g.role && now.genesis_replica_count() != was => {
                hints.push(file.at(&format!("/nodes/{i}"), format!(
                    "{was} of this group's pods hold genesis {}: set `genesisReplicas: {was}`, and `replicas` to the pods it should have now",
                    members.plural
                )));
            }
            None if was > 0 => hints.push(file.at("/nodes", format!(
                "group `{}` held {was} pods of genesis {}: keep it, with `genesisReplicas: {was}`{}",
                g.name,
                members.plural,
                members.leave_all
            ))),
            _ => {}
        }
    }
    for (i, g) in file.file.nodes.iter().enumerate() {
        let known = old.node_groups.iter().any(|o| o.name == g.name);
        if g.role.produces_blocks() && !known && g.genesis_replica_count() > 0 {
            hints.push(file.at(&format!("/nodes/{i}"), format!(
                "group `{}` is new: give it `genesisReplicas: 0`, so its {} {} rather than written into the genesis",
                g.name,
                Members::of(g.role).plural,
                Members::of(g.role).join
            )));
        }
    }
    hints
}

/// How the refusal's hints speak of a group's block producers.
struct Members {
    plural: &'static str,
    join: &'static str,
    leave_all: &'static str,
}

impl Members {
    fn of(role: Role) -> Self {
        match role {
            Role::Validator => Members {
                plural: "validators",
                join: "join by deposit",
                leave_all: "",
            },
            _ => Members {
                plural: "signers",
                join: "are voted in",
                leave_all: " and `replicas: 0` to vote all of them out",
            },
        }
    }
}

/// A signer the network should have: its address and pod.
type Signer = (String, String);

/// What the signers vote between the earlier values and these.
struct Votes {
    /// The signers the earlier values wanted.
    before: Vec<Signer>,
    /// Wanted now and not before: proposed in.
    added: Vec<Signer>,
    /// Wanted before and not now: proposed out.
    removed: Vec<Signer>,
}

fn wanted_signers(v: &ChartValues) -> Vec<Signer> {
    match &v.clique {
        Some(c) => c
            .signers
            .iter()
            .map(|s| (s.address.clone(), s.node.clone()))
            .collect(),
        // Values from before the signers were voted: the signer pods, which were
        // the genesis signers.
        None => v
            .node_groups
            .iter()
            .flat_map(|g| g.nodes.iter())
            .filter(|n| !n.signer_address.is_empty())
            .map(|n| (n.signer_address.clone(), n.name.clone()))
            .collect(),
    }
}

fn votes(old: &ChartValues, new: &ChartValues) -> Votes {
    let before = wanted_signers(old);
    let now = if new.clique.is_some() {
        wanted_signers(new)
    } else {
        Vec::new()
    };
    let missing = |from: &[Signer], not_in: &[Signer]| -> Vec<Signer> {
        from.iter()
            .filter(|s| !not_in.iter().any(|t| t.0 == s.0))
            .cloned()
            .collect()
    };
    Votes {
        added: missing(&now, &before),
        removed: missing(&before, &now),
        before,
    }
}

impl Votes {
    /// Clique counts a vote once more than half of the signers made it, and seals
    /// only while more than half take turns. The removed signers' pods go with
    /// the upgrade, so the signers that stay must be more than half of the set
    /// they vote in: then every removal passes (the set shrinks, the voters stay)
    /// and every addition too (the new signer votes as well).
    fn refuse_unsafe_removal(
        &self,
        old: &ChartValues,
        file: &NetworkSource,
    ) -> Result<(), Failure> {
        let total = self.before.len();
        let staying = total - self.removed.len();
        if self.removed.is_empty() || 2 * staying > total {
            return Ok(());
        }
        let most = total - (total / 2 + 1);
        let pods: Vec<&str> = self.removed.iter().map(|s| s.1.as_str()).collect();
        // At the first group (by the earlier values) that loses a pod and is still
        // in the file.
        let pointer = file.replicas_of_first(self.removed.iter().filter_map(|(_, pod)| {
            old.node_groups
                .iter()
                .find(|g| g.nodes.iter().any(|n| &n.name == pod))
                .map(|g| g.name.as_str())
        }));
        Err(Failure {
            code: exit::REFUSED,
            lines: vec![file.at(&pointer, format!(
                "removing {} of the {total} signers at once ({}) leaves {staying}: clique needs more than half of its signers to vote one out and to go on sealing; remove at most {most} now and the rest once their votes have passed (`clique.getSigners` on any node shows when the chain has them)",
                self.removed.len(),
                pods.join(", ")
            ))],
        })
    }

    /// One line for the compile's summary, when the upgrade votes.
    fn summary(&self) -> Vec<String> {
        if self.added.is_empty() && self.removed.is_empty() {
            return Vec::new();
        }
        let list = |v: &[Signer]| {
            v.iter()
                .map(|(a, p)| format!("{a} ({p})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            parts.push(format!("in: {}", list(&self.added)));
        }
        if !self.removed.is_empty() {
            parts.push(format!("out: {}", list(&self.removed)));
        }
        vec![format!(
            "signer votes: after helm upgrade, the signer pods propose {}; each passes once more than half of the signers have voted for it (`clique.getSigners` on any node shows the set)",
            parts.join("; ")
        )]
    }
}

/// The validator pods that leave with this compile, and those that left before.
struct Exits {
    /// The earlier values' exits, carried over.
    before: Vec<ExitValues>,
    /// Validator pods of the earlier values the new ones no longer have.
    leaving: Vec<ExitValues>,
    /// The validators of the earlier values' pods.
    total: u64,
}

impl Exits {
    fn plan(old: &ChartValues, new: &ChartValues, secret: &MasterSecret) -> Self {
        let (leaving, total) = leaving_pods(old, new, &|group, ordinal, count| {
            pod_signing_keys(secret, group, ordinal, count)
                .iter()
                .map(|k| k.public_key().to_string())
                .collect()
        });
        Exits {
            before: old
                .proof_of_stake
                .as_ref()
                .map(|p| p.exits.clone())
                .unwrap_or_default(),
            leaving,
            total,
        }
    }

    /// Every exit the new values carry: the earlier ones, then this compile's.
    fn all(&self) -> Vec<ExitValues> {
        self.before.iter().chain(&self.leaving).cloned().collect()
    }

    fn pods(&self) -> Vec<&str> {
        self.leaving.iter().map(|e| e.node.as_str()).collect()
    }

    fn leaving_validators(&self) -> u64 {
        self.leaving.iter().map(|e| e.pubkeys.len() as u64).sum()
    }

    /// A pod whose validators exited cannot come back: its keys (from its group and
    /// ordinal) are the exited ones, which never validate again.
    fn refuse_returning_pods(
        &self,
        new: &ChartValues,
        file: &NetworkSource,
    ) -> Result<(), Failure> {
        let mut lines = Vec::new();
        for g in new.node_groups.iter().filter(|g| g.role == Role::Validator) {
            let Some(first) = g
                .nodes
                .iter()
                .find(|n| self.before.iter().any(|e| e.node == n.name))
            else {
                continue;
            };
            let pointer = file.replicas_of_first([g.name.as_str()]);
            lines.push(file.at(&pointer, format!(
                "pod {} left the network, and its validators exited: their keys (from the group and the ordinal) can never validate again, so the pod cannot come back; keep `replicas` at {} or less, and add a new group (`genesisReplicas: 0`, joining by deposit) for new validators",
                first.name, first.ordinal
            )));
        }
        if lines.is_empty() {
            return Ok(());
        }
        Err(Failure {
            code: exit::REFUSED,
            lines,
        })
    }

    /// Finality needs more than two thirds of the stake attesting; the validators
    /// that leave attest until they have exited, but a removal of a third or more at
    /// once leaves the chain no margin once they have: refuse it.
    fn refuse_unsafe_removal(&self, file: &NetworkSource) -> Result<(), Failure> {
        let leaving = self.leaving_validators();
        let staying = self.total - leaving;
        if leaving == 0 || 3 * staying > 2 * self.total {
            return Ok(());
        }
        let most = self.total.saturating_sub(1) / 3;
        // At the first group (by the earlier values) that loses a pod and is still
        // in the file.
        let pointer = file.replicas_of_first(self.leaving.iter().map(|e| e.group.as_str()));
        Err(Failure {
            code: exit::REFUSED,
            lines: vec![file.at(&pointer, format!(
                "removing {leaving} of the {} validators at once ({}) leaves {staying}: finality needs more than two thirds of the validators attesting; remove at most {most} validators now and the rest once these have exited",
                self.total,
                self.pods().join(", ")
            ))],
        })
    }

    /// One line for the compile's summary, when pods leave.
    fn summary(&self, exit_command: &str) -> Option<String> {
        if self.leaving.is_empty() {
            return None;
        }
        Some(format!(
            "exits: the {} validators of {} leave by voluntary exit: before helm upgrade, run {exit_command} --beacon-api URL (it sends the exits and waits until the chain has them, an epoch or more each; a validator may exit once it has been active `shardCommitteePeriod` epochs); helm upgrade checks that every one has exited before it removes the pods",
            self.leaving_validators(),
            self.pods().join(", ")
        ))
    }
}

/// The validator pods of `old` that `new` no longer has, each with its validators'
/// public keys (`keys(group, ordinal, count)`), and the validators of `old`'s pods.
fn leaving_pods(
    old: &ChartValues,
    new: &ChartValues,
    keys: &dyn Fn(&str, u32, u32) -> Vec<String>,
) -> (Vec<ExitValues>, u64) {
    let stays = |name: &str| {
        new.node_groups
            .iter()
            .any(|g| g.role == Role::Validator && g.nodes.iter().any(|n| n.name == name))
    };
    let mut leaving = Vec::new();
    let mut total = 0;
    for g in old.node_groups.iter().filter(|g| g.role == Role::Validator) {
        for n in &g.nodes {
            let count = n.beacon.as_ref().map_or(0, |b| b.validators);
            total += u64::from(count);
            if count > 0 && !stays(&n.name) {
                leaving.push(ExitValues {
                    node: n.name.clone(),
                    group: g.name.clone(),
                    ordinal: n.ordinal,
                    pubkeys: keys(&g.name, n.ordinal, count),
                });
            }
        }
    }
    (leaving, total)
}

/// A pod that was there and stays, with a beacon node and its own Service: the exits
/// Job asks its Beacon API. Validator groups first.
fn exits_beacon_node(old: &ChartValues, new: &ChartValues) -> Option<String> {
    let was = |name: &str| {
        old.node_groups
            .iter()
            .any(|g| g.nodes.iter().any(|n| n.name == name))
    };
    let candidates = || {
        new.node_groups
            .iter()
            .filter(|g| g.node_services)
            .flat_map(|g| g.nodes.iter().map(move |n| (g, n)))
            .filter(|(_, n)| n.beacon.is_some())
    };
    candidates()
        .filter(|(g, _)| g.role == Role::Validator)
        .chain(candidates())
        .find(|(_, n)| was(&n.name))
        .or_else(|| candidates().next())
        .map(|(_, n)| n.name.clone())
}

/// What of the genesis differs from `old` to `new`, each as the refusal names it.
fn genesis_changes(old: &ChartValues, new: &ChartValues) -> Vec<&'static str> {
    let mut changes = Vec::new();
    // The genesis signers are in the genesis; the signers voted in and out since
    // are not, and may change.
    if old.genesis.json != new.genesis.json {
        changes.push("the genesis (chain id, consensus settings, gas limit, timestamp, genesis signers or prefunded accounts)");
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
