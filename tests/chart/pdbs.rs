//! PodDisruptionBudgets: a clique majority, over two thirds of the stake, no needless block.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::Value;

use crate::support::{
    compile, examples, name, network_name, node_groups, of_kind, parse_docs, pods, read_yaml,
    render, scratch, selects, str_map,
};

#[test]
fn pdbs_keep_a_clique_majority_and_never_block_a_drain_they_could_allow() {
    // Replica counts of non-signer groups seen: 1, 2 and 3 or more must all be pinned.
    let mut sizes = BTreeSet::new();
    for ex in examples() {
        let docs = ex.render();
        let pods = pods(&docs);
        let pdbs = of_kind(&docs, "PodDisruptionBudget");
        let (mut signers, mut disruptable, mut signer_groups) = (0i64, 0i64, Vec::new());
        let mut validator_groups = Vec::new();
        let stake = stake_per_pod(&ex.public());
        for sts in of_kind(&docs, "StatefulSet") {
            let labels = str_map(&sts["spec"]["template"]["metadata"]["labels"]);
            let replicas = sts["spec"]["replicas"].as_i64().unwrap();
            let covering: Vec<&&Value> = pdbs
                .iter()
                .filter(|p| selects(&str_map(&p["spec"]["selector"]["matchLabels"]), &labels))
                .collect();
            assert!(covering.len() <= 1, "{}: overlapping PDBs", ex.name);
            if let Some(pdb) = covering.first() {
                // The PDB selects only this StatefulSet's pods.
                let sel = str_map(&pdb["spec"]["selector"]["matchLabels"]);
                for p in pods.iter().filter(|p| selects(&sel, &p.labels)) {
                    assert_eq!(p.owner, format!("StatefulSet/{}", name(sts)));
                }
                let min = pdb["spec"]["minAvailable"].as_i64().unwrap();
                // A PDB keeps at least one pod (one that keeps none is left out).
                assert!(
                    (1..=replicas).contains(&min),
                    "{}: PDB {} keeps {min} of {replicas}",
                    ex.name,
                    name(pdb)
                );
            }
            // How many pods of this group a drain may evict at once (all without a PDB).
            let allowed = replicas
                - covering
                    .first()
                    .map_or(0, |p| p["spec"]["minAvailable"].as_i64().unwrap());
            if labels["app.kubernetes.io/component"] == "validator" {
                // Proof of stake: a validator group has a PDB, even of one pod,
                // unless the rest of the stake lets the whole group go.
                validator_groups.push(ValidatorGroupPdb {
                    name: name(sts).to_string(),
                    replicas,
                    allowed,
                    stake: stake[name(sts)],
                });
            } else if labels["app.kubernetes.io/component"] == "signer" {
                signers += replicas;
                disruptable += allowed;
                signer_groups.push((name(sts), allowed));
            } else {
                // Any other group: one pod at a time, so a drain neither waits forever
                // (minAvailable = replicas) nor empties the group. A single pod gets no
                // PDB: keeping it would block every drain.
                sizes.insert(replicas.min(3));
                let what = if replicas == 1 {
                    "no PDB"
                } else {
                    "minAvailable = replicas - 1"
                };
                assert_eq!(
                    allowed,
                    1,
                    "{}: {} has {replicas} replicas: {what}",
                    ex.name,
                    name(sts)
                );
                assert_eq!(covering.is_empty(), replicas == 1, "{}: {what}", ex.name);
            }
        }
        // Clique seals while a majority of all signers is up: the PDBs together may
        // never let more than (signers - majority) signers go at once.
        let spare = signers - (signers / 2 + 1);
        if signers > 1 {
            assert!(
                disruptable <= spare,
                "{}: the PDBs let {disruptable} of {signers} signers go at once; a clique majority is {}",
                ex.name,
                signers - spare
            );
        }
        if !validator_groups.is_empty() {
            check_validator_pdbs(&ex.name, &validator_groups);
        }
        // When the clique can spare a signer, a drain may take one.
        if spare > 0 {
            for (sts, allowed) in signer_groups {
                assert!(
                    allowed >= 1,
                    "{}: the PDB of {sts} blocks every drain",
                    ex.name
                );
            }
        }
    }
    assert_eq!(
        sizes,
        BTreeSet::from([1, 2, 3]),
        "the examples must have non-signer groups of 1, 2 and 3+ replicas"
    );
}

/// A validator group as its PDB sees it: pods, how many a drain may evict at once,
/// and the stake (genesis validators) of each pod.
#[derive(Debug)]
struct ValidatorGroupPdb {
    name: String,
    replicas: i64,
    allowed: i64,
    stake: i64,
}

/// Validators per pod of each validator group (by StatefulSet name), from the
/// compiled nodes' beacon identities (every pod of a group holds as many).
fn stake_per_pod(public: &Value) -> BTreeMap<String, i64> {
    let net = network_name(public);
    node_groups(public)
        .iter()
        .filter(|g| g["role"] == "validator")
        .map(|g| {
            let counts: BTreeSet<i64> = g["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["beacon"]["validators"].as_i64().unwrap())
                .collect();
            assert_eq!(counts.len(), 1, "pods of {} hold unlike stakes", g["name"]);
            let group = g["name"].as_str().unwrap();
            (format!("{net}-{group}"), *counts.first().unwrap())
        })
        .collect()
}

/// Finality needs two thirds of the stake attesting. A drain may evict the allowed
/// pods of every validator group together: what stays must hold more than two
/// thirds, and the PDBs may not hold back a pod the stake could spare (one more pod
/// of any group not already allowed whole would leave two thirds or less).
fn check_validator_pdbs(ctx: &str, groups: &[ValidatorGroupPdb]) {
    let total: i64 = groups.iter().map(|g| g.replicas * g.stake).sum();
    let gone: i64 = groups.iter().map(|g| g.allowed * g.stake).sum();
    assert!(total > 0, "{ctx}: no stake");
    assert!(
        3 * (total - gone) > 2 * total,
        "{ctx}: the PDBs let {gone} of {total} validators go at once: {groups:?}"
    );
    for g in groups.iter().filter(|g| g.allowed < g.replicas) {
        assert!(
            3 * (total - gone - g.stake) <= 2 * total,
            "{ctx}: the PDB of {} holds back a pod the stake could spare: {groups:?}",
            g.name
        );
    }
}

/// The validator groups' PDBs in other shapes than the examples': one pod, a few,
/// two groups of unlike stake per pod (in both orders), a group too big to spare.
#[test]
fn pos_pdbs_keep_more_than_two_thirds_of_the_stake_in_every_shape() {
    let shapes: &[&[(u32, u32)]] = &[
        &[(1, 8)],
        &[(2, 4)],
        &[(4, 16)],
        &[(7, 2)],
        &[(3, 8), (2, 3)],
        &[(2, 3), (3, 8)],
        &[(1, 10), (5, 1)],
        &[(1, 1), (4, 4)],
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let mut text = String::from(
            "network:\n  name: shape\n  chainId: 434310\n  genesisTimestamp: 1798761600\n  consensus:\n    proofOfStake:\n      preset: minimal\n      client: {prysm: {beaconImage: example.com/prysm-minimal/beacon-chain, validatorImage: example.com/prysm-minimal/validator}}\ngeth:\n  version: v1.17.10\nnodes:\n",
        );
        for (j, (replicas, per_pod)) in shape.iter().enumerate() {
            text.push_str(&format!(
                "  - name: v{j}\n    role: validator\n    replicas: {replicas}\n    validatorsPerPod: {per_pod}\n"
            ));
        }
        text.push_str("  - name: rpc\n    role: rpc\n    rpc:\n      http: true\n");
        let dir = scratch().join("pdb-shapes").join(i.to_string());
        fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("kuberneteth.yaml");
        fs::write(&cfg, text).unwrap();
        let (v, s) = compile(&cfg, &dir.join("compiled"));
        let docs = parse_docs(&render(&[&v, &s]));
        let stake = stake_per_pod(&read_yaml(&v));
        let mut groups = Vec::new();
        for (j, (replicas, per_pod)) in shape.iter().enumerate() {
            let sts = format!("shape-v{j}");
            // No PDB: the group may go whole.
            let min = of_kind(&docs, "PodDisruptionBudget")
                .into_iter()
                .find(|p| name(p) == sts)
                .map_or(0, |pdb| pdb["spec"]["minAvailable"].as_i64().unwrap());
            assert_eq!(stake[&sts], i64::from(*per_pod), "{sts}");
            groups.push(ValidatorGroupPdb {
                name: sts,
                replicas: i64::from(*replicas),
                allowed: i64::from(*replicas) - min,
                stake: i64::from(*per_pod),
            });
        }
        check_validator_pdbs(&format!("shape {shape:?}"), &groups);
    }
}
