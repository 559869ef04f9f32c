//! Kubernetes object names derived from the network and group names. The compiler
//! fixes them (enode URLs name Services), so the chart uses these, never its own.

use std::collections::BTreeMap;

use crate::config::{NetworkFile, Role};

/// Pods, per-node Services and enode hosts: `<network>-<group>-<ordinal>`.
pub fn node(network: &str, group: &str, ordinal: u32) -> String {
    format!("{network}-{group}-{ordinal}")
}

/// The StatefulSet of a group.
pub fn statefulset(network: &str, group: &str) -> String {
    format!("{network}-{group}")
}

/// The headless Service of a group.
pub fn peers_service(network: &str, group: &str) -> String {
    format!("{network}-{group}-peers")
}

/// The RPC Service of an `rpc` group.
pub fn rpc_service(network: &str, group: &str) -> String {
    format!("{network}-{group}-rpc")
}

/// The ethstats dashboard's Service and Deployment.
pub fn ethstats(network: &str) -> String {
    format!("{network}-ethstats")
}

/// The NetworkPolicies of the release's own pods beside the groups' (`<network>-<group>`):
/// the ethstats server's, and the rollout Job's and helm test's, which take no connection.
pub fn release_policies(network: &str) -> [String; 3] {
    ["ethstats", "rollout", "test"].map(|c| format!("{network}-{c}"))
}

/// A DNS-1123 label (Service names, pod host names) has at most 63 characters.
const LABEL_MAX: usize = 63;
/// The StatefulSet controller adds `-<10-char hash>` in the `controller-revision-hash`
/// label value (at most 63), so a StatefulSet name must stay within 52.
const STATEFULSET_MAX: usize = 52;

/// Every derived name that is too long or collides, as (JSON pointer, message).
pub fn check(cfg: &NetworkFile) -> Vec<(String, String)> {
    let net = &cfg.network.name;
    let mut problems = Vec::new();
    let mut services: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |name: String,
                     owner: String,
                     pointer: String,
                     problems: &mut Vec<(String, String)>| {
        if let Some(other) = services.insert(name.clone(), owner.clone()) {
            problems.push((pointer, format!("the Service name `{name}` is derived twice ({other} and {owner}); rename one of the groups")));
        }
    };
    // NetworkPolicies are named apart from Services: a group's is its StatefulSet's name.
    let mut policies: BTreeMap<String, String> = release_policies(net)
        .into_iter()
        .map(|name| (name, "the chart's own pods".to_string()))
        .collect();
    let mut seen_groups = std::collections::BTreeSet::new();
    for (i, g) in cfg.nodes.iter().enumerate() {
        // A repeated group name is reported on its own; its names would only echo it.
        if !seen_groups.insert(g.name.as_str()) {
            continue;
        }
        let pointer = format!("/nodes/{i}/name");
        let last = node(net, &g.name, g.replicas.saturating_sub(1));
        let sts = statefulset(net, &g.name);
        let too_long = |name: &str, max: usize, what: &str| {
            (name.len() > max).then(|| {
                format!(
                    "the {what} `{name}` has {} characters, above Kubernetes' limit of {max}; shorten the network or group name",
                    name.len()
                )
            })
        };
        for p in [
            too_long(&sts, STATEFULSET_MAX, "StatefulSet name"),
            too_long(&last, LABEL_MAX, "pod name"),
            too_long(&peers_service(net, &g.name), LABEL_MAX, "Service name"),
        ]
        .into_iter()
        .flatten()
        {
            problems.push((pointer.clone(), p));
        }
        let owner = format!("group `{}`", g.name);
        if let Some(other) = policies.insert(sts.clone(), owner.clone()) {
            problems.push((pointer.clone(), format!("the NetworkPolicy name `{sts}` is derived twice ({other} and {owner}); rename the group (`ethstats`, `rollout` and `test` name the chart's own pods' policies)")));
        }
        claim(
            peers_service(net, &g.name),
            owner.clone(),
            pointer.clone(),
            &mut problems,
        );
        if g.role == Role::Rpc {
            claim(
                rpc_service(net, &g.name),
                owner.clone(),
                pointer.clone(),
                &mut problems,
            );
        }
        if g.role.has_stable_identity() {
            for o in 0..g.replicas {
                claim(
                    node(net, &g.name, o),
                    owner.clone(),
                    pointer.clone(),
                    &mut problems,
                );
            }
        }
    }
    claim(
        ethstats(net),
        "the ethstats dashboard".into(),
        "/network/name".into(),
        &mut problems,
    );
    problems.sort();
    problems.dedup();
    problems
}
