//! The objects a proof-of-stake network keeps outside its Helm release
//! (`largeObjects: separate`): the genesis state's ConfigMaps and each validator
//! pod's keys Secret, as Kubernetes manifests the user applies before the release.
//!
//! They are the objects the chart creates itself with `largeObjects: release`, with
//! the same names and data, so the pods read them the same way either way; only
//! the labels differ (no Helm release owns them).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;

use crate::plan::Plan;
use crate::release::Placement;
use crate::values::ChartValues;

/// The folder under the output directory that holds them.
pub const DIR: &str = "objects";
/// The genesis state's ConfigMaps (public).
pub const GENESIS_STATE_FILE: &str = "genesis-state.yaml";
/// The validator pods' keys Secrets (private).
pub const VALIDATOR_KEYS_FILE: &str = "validator-keys.yaml";

/// The manifests of a network's separate objects, or `None` when its large
/// objects live in the release (or it has none: clique).
pub struct SeparateObjects {
    /// `genesis-state.yaml`: one ConfigMap per part of the gzipped genesis state.
    pub genesis_state: String,
    /// `validator-keys.yaml`: one Secret per validator pod.
    pub validator_keys: String,
    pub config_maps: usize,
    pub secrets: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    secret_type: Option<&'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    data: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    binary_data: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    labels: BTreeMap<&'static str, String>,
}

/// The labels of a separate object: what it is part of and who made it, so
/// `kubectl get/delete -l app.kubernetes.io/part-of=<network>` finds them.
fn labels(network: &str, component: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name", "kuberneteth".to_string()),
        ("app.kubernetes.io/part-of", network.to_string()),
        ("app.kubernetes.io/component", component.to_string()),
        (
            "app.kubernetes.io/managed-by",
            "kuberneteth-values".to_string(),
        ),
    ])
}

/// A multi-document manifest, each object after a `---` line.
fn manifest(header: &str, objects: &[Object]) -> Result<String, serde_norway::Error> {
    let mut text = header.to_string();
    for object in objects {
        text.push_str("---\n");
        text.push_str(&crate::pair::to_yaml(object)?);
    }
    Ok(text)
}

/// The separate objects of `plan`, named as `public` (its values) names them.
pub fn build(
    plan: &Plan,
    public: &ChartValues,
    header: &str,
) -> Result<Option<SeparateObjects>, serde_norway::Error> {
    let (Some(pos), Some(pos_values)) = (&plan.proof_of_stake, &public.proof_of_stake) else {
        return Ok(None);
    };
    if pos.placement != Placement::Separate {
        return Ok(None);
    }
    let network = &public.network.name;
    let config_maps: Vec<Object> = pos
        .genesis_state_parts()
        .zip(&pos_values.genesis_state.parts)
        .map(|(bytes, part)| Object {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: Metadata {
                name: part.config_map.clone(),
                labels: labels(network, "genesis"),
            },
            secret_type: None,
            data: BTreeMap::new(),
            binary_data: BTreeMap::from([("part".to_string(), BASE64.encode(bytes))]),
        })
        .collect();
    let mut secrets = Vec::new();
    for group in &public.node_groups {
        for node in &group.nodes {
            let (Some(keys), Some(client)) =
                (&node.validator_keys, pos.validator_clients.get(&node.name))
            else {
                continue;
            };
            let mut data = BTreeMap::new();
            // `validatorKeys.files` lists the wallet's files in this order (by path).
            for (i, bytes) in client.wallet_files.values().enumerate() {
                data.insert(format!("{}.wallet-{i}", node.name), BASE64.encode(bytes));
            }
            data.insert(
                format!("{}.wallet-password", node.name),
                BASE64.encode(&client.wallet_password),
            );
            let mut labels = labels(network, "validator");
            labels.insert("kuberneteth.io/group", group.name.clone());
            secrets.push(Object {
                api_version: "v1",
                kind: "Secret",
                metadata: Metadata {
                    name: keys.secret.clone(),
                    labels,
                },
                secret_type: Some("Opaque"),
                data,
                binary_data: BTreeMap::new(),
            });
        }
    }
    Ok(Some(SeparateObjects {
        genesis_state: manifest(header, &config_maps)?,
        validator_keys: manifest(header, &secrets)?,
        config_maps: config_maps.len(),
        secrets: secrets.len(),
    }))
}
