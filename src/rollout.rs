//! What a rollout takes down at most, said by `compile` for the network it compiles.
//!
//! `helm upgrade` and `helm rollback` replace the pods of the coordinated groups
//! (signers, validators, bootnodes: [`Role::has_stable_identity`]) one at a time
//! across all of them (the chart's rollout Job), so the most a rollout takes down at
//! once is one such pod: the largest share of the block producers one pod holds.
//! Other groups (rpc, full) roll on their own, one pod per group at a time.

use crate::config::Role;
use crate::plan::Plan;

/// One line for `compile`'s output.
pub fn summary(plan: &Plan) -> String {
    let pods: Vec<String> = [Role::Signer, Role::Validator, Role::Bootnode]
        .into_iter()
        .filter_map(|role| {
            let count: u32 = plan
                .groups
                .iter()
                .filter(|g| g.config.role == role)
                .map(|g| g.config.replicas)
                .sum();
            let plural = if count == 1 { "" } else { "s" };
            (count > 0).then(|| format!("{count} {} pod{plural}", role.as_str()))
        })
        .collect();
    let producers = match plan.proof_of_stake {
        Some(_) => validators_down(plan),
        None => signers_down(plan),
    };
    format!(
        "rollout: helm upgrade and rollback replace the {} one at a time, across groups, \
         each Ready before the next; {producers}",
        pods.join(" and ")
    )
}

/// Clique: one signer down of `total`; sealing goes on while the rest are a majority.
fn signers_down(plan: &Plan) -> String {
    let total: u32 = plan
        .groups
        .iter()
        .filter(|g| g.config.role == Role::Signer)
        .map(|g| g.config.replicas)
        .sum();
    let majority = total / 2 + 1;
    if total == 0 {
        "no signer to take down".into()
    } else if total > majority {
        format!(
            "at most 1 of {total} signers is down at once; the other {} keep sealing (a majority is {majority})",
            total - 1
        )
    } else {
        format!(
            "at most 1 of {total} signers is down at once, and then sealing pauses until it is back: \
             {} cannot seal without it (a majority is {majority}; 3 or more signers keep sealing through a rollout)",
            total - 1
        )
    }
}

/// Proof of stake: the validators of the largest validator pod; finality goes on
/// while more than two thirds of the stake stays up.
fn validators_down(plan: &Plan) -> String {
    let pods = || {
        plan.groups
            .iter()
            .filter(|g| g.config.role == Role::Validator)
            .flat_map(|g| {
                std::iter::repeat_n(
                    u64::from(g.config.validators_per_pod.unwrap_or(0)),
                    g.config.replicas as usize,
                )
            })
    };
    let total: u64 = pods().sum();
    let largest = pods().max().unwrap_or(0);
    if total == 0 {
        return "no validator to take down".into();
    }
    let percent = largest as f64 * 100.0 / total as f64;
    let head = format!(
        "at most {largest} of {total} validators ({percent:.1}%) are down at once (the largest validator pod)"
    );
    if 3 * (total - largest) > 2 * total {
        format!("{head}; more than two thirds stay up, so finality goes on")
    } else if 3 * (total - largest) == 2 * total {
        format!(
            "{head}; exactly two thirds stay up: finality goes on only if every other validator attests in time \
             (spread the validators over more pods for a margin)"
        )
    } else {
        format!(
            "{head}; less than two thirds stay up, so finality pauses until that pod is back \
             (spread the validators over more pods)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{plan_of, Keystores};

    fn summary_of(nodes: &str, pos: bool) -> String {
        let consensus = if pos {
            "genesisTimestamp: 1798761600, consensus: {proofOfStake: {preset: minimal, client: {prysm: {beaconImage: example.com/prysm-minimal/beacon-chain, validatorImage: example.com/prysm-minimal/validator}}}}}\ngeth: {version: v1.17.10}"
        } else {
            "consensus: {clique: {}}}"
        };
        let text = format!("network: {{name: n, chainId: 31337, {consensus}\nnodes:\n{nodes}");
        summary(&plan_of(&text, [7; 32], Keystores::Skip))
    }

    #[test]
    fn clique_says_whether_the_other_signers_keep_sealing() {
        let three = summary_of(
            "  - {name: a, role: signer, replicas: 2}\n  - {name: b, role: signer, replicas: 1}\n  - {name: r, role: rpc}\n",
            false,
        );
        assert!(
            three.contains("replace the 3 signer pods one at a time"),
            "{three}"
        );
        assert!(three.contains("at most 1 of 3 signers"), "{three}");
        assert!(three.contains("the other 2 keep sealing"), "{three}");
        let two = summary_of("  - {name: a, role: signer, replicas: 2}\n", false);
        assert!(two.contains("sealing pauses"), "{two}");
    }

    #[test]
    fn proof_of_stake_names_the_largest_validator_pod_and_what_it_means_for_finality() {
        let quarter = summary_of(
            "  - {name: a, role: validator, replicas: 3, validatorsPerPod: 8}\n  - {name: b, role: validator, replicas: 1, validatorsPerPod: 8}\n",
            true,
        );
        assert!(
            quarter.contains("at most 8 of 32 validators (25.0%)"),
            "{quarter}"
        );
        assert!(quarter.contains("finality goes on"), "{quarter}");
        let third = summary_of(
            "  - {name: a, role: validator, replicas: 2, validatorsPerPod: 8}\n  - {name: b, role: validator, replicas: 1, validatorsPerPod: 8}\n",
            true,
        );
        assert!(third.contains("exactly two thirds"), "{third}");
        let half = summary_of(
            "  - {name: a, role: validator, replicas: 1, validatorsPerPod: 16}\n  - {name: b, role: validator, replicas: 2, validatorsPerPod: 8}\n",
            true,
        );
        assert!(
            half.contains("at most 16 of 32 validators (50.0%)"),
            "{half}"
        );
        assert!(half.contains("finality pauses"), "{half}");
    }
}
