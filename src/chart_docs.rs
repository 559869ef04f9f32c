//! The chart's own documentation, generated from the chart's values schema and types
//! as `docs/CONFIG.md` is from the network file's: `chart/values.yaml` (every value with
//! a `## @param` comment and its chart default; values absent by default as
//! commented-out examples) and `chart/README.md` (install, upgrade, roll back, test,
//! and the values table).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::{self, PullPolicy, Resources, ServiceType};
use crate::consensus::prysm;
use crate::consensus::prysm_wallet::ACCOUNTS_KEYSTORE_PATH;
use crate::docs::{deref, description_of, object_of, table_cell, type_of};
use crate::plan::{ENGINE_API_PORT, ETHSTATS_PORT};
use crate::release::Placement;
use crate::sizing::{self, Container};
use crate::values::{
    self, AccountValues, BeaconNodeValues, BeaconPorts, BeaconSecretValues, ChartValues,
    CliqueValues, ContainerResources, ExitValues, GenesisValues, GroupValues, Image, ImageDefaults,
    IngressValues, KeystoreValue, KeystoreValues, NameRef, NetworkValues, NodeValues, PdbValues,
    Ports, ProofOfStakeValues, RpcServiceValues, RpcValues, SecretValues, SignerValues,
    StorageValues, Toggle, UpdateStrategy, ValidatorWalletValues, PRYSM_PATHS, PRYSM_PORTS,
};
use crate::values::{
    genesis_state_config_map, validator_keys_secret, GenesisStatePartValues, GenesisStateValues,
    ValidatorKeysValues, WalletFileValues,
};

/// The chart's defaults: what the chart renders without the compiler's values (the
/// shared objects only: no node groups). The compiler sets every value but
/// `clusterDomain`; where the network file has a default, this is it.
pub fn chart_defaults() -> ChartValues {
    ChartValues {
        generation: String::new(),
        network: NetworkValues {
            name: "devnet".into(),
            chain_id: 4242,
            network_id: 4242,
            consensus: "clique".into(),
            clique_period: 5,
        },
        image: ImageDefaults {
            repository: config::default_image(),
            pull_policy: PullPolicy::default(),
        },
        image_pull_secrets: Vec::new(),
        genesis: GenesisValues::default(),
        clique: None,
        proof_of_stake: None,
        keystore: KeystoreValues {
            secret: config::Keystore::default().secret,
        },
        node_groups: Vec::new(),
        ethstats: values::ethstats_values(&config::Ethstats::default()),
        metrics: values::metrics_values(&config::Metrics::default()),
        network_policy: Toggle {
            enabled: config::NetworkPolicy::default().enabled,
        },
        rollout: values::rollout_values(&config::Rollout::default()),
        accounts: Vec::new(),
        tests: Toggle { enabled: true },
        cluster_domain: Some("cluster.local".into()),
        secrets: Some(SecretValues::default()),
    }
}

/// The values absent from the defaults, shown commented out: a proof-of-stake network
/// with one validator group, a prefunded account, an image pull Secret and the secrets
/// of its nodes; the few values of clique networks only (`clique`, a signer group's
/// `genesisReplicas` and `voteSigners`) are shown on it too. Placeholders in angle brackets stand for what the compiler derives.
fn example() -> ChartValues {
    const NODE: &str = "devnet-validator-0";
    const PEER_ID: &str = "16Uiu2HAm<peer id>";
    const FEE_RECIPIENT: &str = "0x000000000000000000000000000000000000dEaD";
    let geth_version = "v1.17.10";
    let group = serde_json::from_value::<config::NodeGroup>(serde_json::json!({
        "name": "validator",
        "role": "validator",
        "validatorsPerPod": 64,
    }))
    .expect("a valid node group");
    let rpc = config::Rpc::default();
    let prysm_config = config::Prysm::default();
    let prysm_image = |repository: &str| Image {
        repository: repository.into(),
        tag: prysm_config.version.clone(),
        pull_policy: PullPolicy::IfNotPresent,
    };
    let verbosity = prysm::verbosity(config::Geth::default().verbosity);
    let size = |c| sizing::container_resources(group.role, c, &Resources::default());
    let mut v = chart_defaults();
    v.network.consensus = "proofOfStake".into();
    v.network.clique_period = 12;
    v.image_pull_secrets = vec![NameRef {
        name: "registry-credentials".into(),
    }];
    // A clique network's wanted signers, shown beside the proof-of-stake example
    // (a network has one or the other).
    v.clique = Some(CliqueValues {
        signers: vec![SignerValues {
            address: "0x<40 hex, EIP-55>".into(),
            node: "devnet-signer-0".into(),
        }],
    });
    v.proof_of_stake = Some(ProofOfStakeValues {
        client: "prysm".into(),
        beacon_image: prysm_image(&prysm_config.beacon_image),
        validator_image: prysm_image(&prysm_config.validator_image),
        preset: "mainnet".into(),
        fork: "fulu".into(),
        genesis_time: 1_798_761_600,
        seconds_per_slot: 12,
        slots_per_epoch: 32,
        fee_recipient: FEE_RECIPIENT.into(),
        chain_config:
            "PRESET_BASE: 'mainnet'\nCONFIG_NAME: 'devnet-4242'\nDEPOSIT_CHAIN_ID: 4242\n".into(),
        large_objects: Placement::Release,
        genesis_state: GenesisStateValues {
            sha256: "<64 hex>".into(),
            parts: vec![GenesisStatePartValues {
                config_map: genesis_state_config_map("devnet", 0),
                sha256: "<64 hex>".into(),
                data: Some("H4sIAAAAAAAC/<base64>".into()),
            }],
        },
        genesis_validators_root: "0x<64 hex>".into(),
        execution_genesis_hash: "0x<64 hex>".into(),
        ports: BeaconPorts {
            tcp: PRYSM_PORTS.tcp,
            udp: PRYSM_PORTS.udp,
            api: PRYSM_PORTS.api,
            grpc: PRYSM_PORTS.grpc,
            beacon_metrics: PRYSM_PORTS.beacon_metrics,
            validator_metrics: PRYSM_PORTS.validator_metrics,
        },
        engine_api_port: ENGINE_API_PORT,
        exits: vec![ExitValues {
            node: "devnet-validator-3".into(),
            group: "validator".into(),
            ordinal: 3,
            pubkeys: vec!["0x<96 hex>".into()],
        }],
        exits_beacon_node: Some("devnet-validator-0".into()),
    });
    v.node_groups = vec![GroupValues {
        name: group.name.clone(),
        role: group.role,
        replicas: group.replicas,
        // Signer groups' (shown on this one example group, as `voteSigners` is).
        genesis_replicas: Some(group.replicas),
        geth_version: geth_version.into(),
        image: Image {
            repository: config::default_image(),
            tag: geth_version.into(),
            pull_policy: PullPolicy::IfNotPresent,
        },
        config: format!(
            "[Eth]\nNetworkId = 4242\nSyncMode = \"full\"\n\n[Node.P2P]\nNoDiscovery = true\n\
             StaticNodes = [\"enode://<128 hex>@{NODE}:{p2p}\"]\n\n[Ethstats]\n\
             URL = \"__NODE_NAME__:__ETHSTATS_SECRET__@devnet-ethstats:{ETHSTATS_PORT}\"\n",
            p2p = group.p2p_port
        ),
        args: vec![
            "--config=/run/kuberneteth/config.toml".into(),
            "--nodekey=/run/kuberneteth/nodekey".into(),
            "--networkid=4242".into(),
        ],
        new_database_args: crate::execution::geth::new_database_flags(true),
        beacon_args: prysm::beacon_flags(&prysm::BeaconInput {
            paths: PRYSM_PATHS,
            ports: PRYSM_PORTS,
            execution_endpoint: format!("http://127.0.0.1:{ENGINE_API_PORT}"),
            bind_host: "0.0.0.0",
            peers: vec![prysm::peer_multiaddr(NODE, PRYSM_PORTS.tcp, PEER_ID)],
            fee_recipient: FEE_RECIPIENT.into(),
            metrics: true,
            supernode: true,
            verbosity,
        }),
        validator_args: prysm::validator_flags(&prysm::ValidatorInput {
            paths: PRYSM_PATHS,
            ports: PRYSM_PORTS,
            bind_host: "0.0.0.0",
            fee_recipient: FEE_RECIPIENT.into(),
            verbosity,
        }),
        unlock_signer: false,
        peer_hosts: vec![NODE.into()],
        node_services: group.role.has_stable_identity(),
        nodes: vec![NodeValues {
            name: NODE.into(),
            ordinal: 0,
            node_id: "<64 hex>".into(),
            enode: format!("enode://<128 hex>@{NODE}:{}", group.p2p_port),
            signer_address: String::new(),
            beacon: Some(BeaconNodeValues {
                peer_id: PEER_ID.into(),
                enr: "enr:<base64>".into(),
                validators: group.validators_per_pod.unwrap_or(0),
            }),
            validator_keys: Some(ValidatorKeysValues {
                secret: validator_keys_secret(NODE),
                files: vec![WalletFileValues {
                    path: ACCOUNTS_KEYSTORE_PATH.into(),
                    sha256: "<64 hex>".into(),
                }],
            }),
        }],
        ports: Ports {
            p2p: group.p2p_port,
            http: rpc.http_port,
            ws: rpc.ws_port,
            metrics: group.metrics_port,
        },
        rpc: RpcValues {
            http: false,
            ws: false,
            modules: Vec::new(),
            service: RpcServiceValues {
                service_type: ServiceType::default(),
                annotations: BTreeMap::new(),
                http_node_port: 0,
                ws_node_port: 0,
                load_balancer_source_ranges: Vec::new(),
            },
            ingress: IngressValues {
                enabled: false,
                class_name: String::new(),
                host: String::new(),
                annotations: BTreeMap::new(),
                tls_secret_name: String::new(),
            },
            allowed_from: Vec::new(),
        },
        storage: StorageValues {
            size: group.storage.size.clone(),
            storage_class: group.storage.storage_class.clone(),
        },
        resources: ContainerResources {
            geth: size(Container::Geth),
            beacon: Some(size(Container::Beacon)),
            validator: Some(size(Container::Validator)),
            init: size(Container::Init),
            vote_signers: Some(size(Container::VoteSigners)),
        },
        node_selector: BTreeMap::new(),
        tolerations: Vec::new(),
        affinity: serde_json::json!({}),
        update_strategy: UpdateStrategy {
            partition: 0,
            coordinated: true,
        },
        pod_disruption_budget: PdbValues {
            enabled: true,
            min_available: 1,
        },
    }];
    v.accounts = vec![AccountValues {
        name: "deployer".into(),
        address: "0x<40 hex, EIP-55>".into(),
        balance: "1000000 ether".into(),
    }];
    v.secrets = Some(SecretValues {
        generation: String::new(),
        node_keys: BTreeMap::new(),
        signer_keystores: BTreeMap::from([(
            "devnet-signer-0".into(),
            KeystoreValue {
                file_name: "UTC--1970-01-01T00-00-00.000000000Z--<40 hex>".into(),
                json: "{\"address\": \"<40 hex>\", \"crypto\": {}, \"version\": 3}".into(),
            },
        )]),
        keystore_password: String::new(),
        ethstats_secret: String::new(),
        beacon: BTreeMap::from([(
            NODE.into(),
            BeaconSecretValues {
                node_key: "<64 hex>".into(),
                jwt_secret: "<64 hex>".into(),
            },
        )]),
        validator_wallets: BTreeMap::from([(
            NODE.into(),
            ValidatorWalletValues {
                password: "<32 hex>".into(),
                files: BTreeMap::from([(
                    "direct/accounts/all-accounts.keystore.json".into(),
                    "<EIP-2335 keystore JSON>".into(),
                )]),
            },
        )]),
    });
    v
}

/// One documented value: a key, its place, what it is, its chart default and its value
/// in the example.
struct Param {
    key: String,
    /// `nodeGroups[].name`: `[]` is each item of a list, `<node>` each node's entry of a map.
    path: String,
    ty: String,
    description: String,
    /// None: absent by default.
    default: Option<Value>,
    example: Option<Value>,
    nested: Nested,
}

enum Nested {
    Leaf,
    /// A mapping: its keys.
    Object(Vec<Param>),
    /// A list of mappings: the keys of each item.
    List(Vec<Param>),
    /// A map by node name of mappings: the keys of each entry.
    Map(Vec<Param>),
}

/// Every value of the chart, from its schema, in the types' order.
fn tree() -> Vec<Param> {
    let schema = crate::values::json_schema();
    let defaults = serde_json::to_value(chart_defaults()).expect("values serialize");
    let example = serde_json::to_value(example()).expect("values serialize");
    params(&schema, &schema, Some(&defaults), Some(&example), "")
}

fn params(
    root: &Value,
    node: &Value,
    default: Option<&Value>,
    example: Option<&Value>,
    prefix: &str,
) -> Vec<Param> {
    let Some(props) = object_of(root, node)
        .and_then(|o| o.get("properties"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    // The order of the types (the example sets every value), then any other key.
    let mut keys: Vec<&String> = example
        .and_then(Value::as_object)
        .map(|o| o.keys().filter(|k| props.contains_key(*k)).collect())
        .unwrap_or_default();
    let rest: Vec<&String> = props.keys().filter(|k| !keys.contains(k)).collect();
    keys.extend(rest);
    keys.into_iter()
        .map(|key| {
            let prop = &props[key];
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            let default = default.and_then(|v| v.get(key));
            let example = example.and_then(|v| v.get(key));
            let resolved = deref(root, prop);
            let nested = if object_of(root, prop).is_some() {
                Nested::Object(params(root, prop, default, example, &path))
            } else if let Some(items) = resolved
                .get("items")
                .filter(|i| object_of(root, i).is_some())
            {
                Nested::List(params(
                    root,
                    items,
                    first_item(default),
                    first_item(example),
                    &format!("{path}[]"),
                ))
            } else if let Some(entry) = resolved
                .get("additionalProperties")
                .filter(|a| object_of(root, a).is_some())
            {
                Nested::Map(params(
                    root,
                    entry,
                    first_entry(default),
                    first_entry(example),
                    &format!("{path}.<node>"),
                ))
            } else {
                Nested::Leaf
            };
            Param {
                key: key.clone(),
                path,
                ty: type_of(root, prop),
                description: description_of(root, prop)
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                default: default.cloned(),
                example: example.cloned(),
                nested,
            }
        })
        .collect()
}

/// A list's first item: the one its documentation shows.
fn first_item(list: Option<&Value>) -> Option<&Value> {
    list?.as_array()?.first()
}

/// A map's first entry's value: the one its documentation shows.
fn first_entry(map: Option<&Value>) -> Option<&Value> {
    map?.as_object()?.values().next()
}

/// Title and introduction of each top-level value's `## @section`.
const SECTIONS: &[(&str, &str, &str)] = &[
    ("generation", "Generation", ""),
    ("network", "Network", ""),
    ("image", "geth image", ""),
    ("imagePullSecrets", "Image pull Secrets", ""),
    ("genesis", "Genesis", ""),
    (
        "clique",
        "Clique signers",
        "Written by the compiler for a clique network; absent for proof of stake. Each\n\
         signer pod's `vote-signers` container votes the chain's signer set toward\n\
         `clique.signers` (README, \"Add and remove signers\"). Commented out: an example.",
    ),
    (
        "proofOfStake",
        "Proof of stake",
        "Written by the compiler for a proof-of-stake network; absent for clique. With it\n\
         every pod runs a Prysm beacon node beside geth, and validator pods a validator\n\
         client. Commented out: an example.",
    ),
    ("keystore", "Keystores", ""),
    (
        "nodeGroups",
        "Node groups",
        "One StatefulSet `<network>-<group>` per item, every key written by the compiler.\n\
         Empty by default. Commented out: an example item, a validator group of a\n\
         proof-of-stake network (a clique signer group has `role: signer`, a signer\n\
         address per node, `unlockSigner: true`, its `genesisReplicas` and\n\
         `resources.voteSigners`, and no beacon or validator values; the example shows\n\
         those two too).",
    ),
    ("ethstats", "ethstats", ""),
    ("metrics", "Metrics", ""),
    ("networkPolicy", "NetworkPolicy", ""),
    (
        "rollout",
        "Rollout",
        "On `helm upgrade` and `helm rollback`, a hook Job replaces the pods of the\n\
         coordinated groups (signer, validator and bootnode groups) one at a time across\n\
         all of them, highest ordinal first, each Ready before the next: their\n\
         StatefulSets hold every pod (partition 2147483647) and the Job walks each\n\
         partition down, then back. Give `helm upgrade` a `--timeout` long enough for it.",
    ),
    ("accounts", "Accounts", ""),
    ("tests", "Tests", ""),
    (
        "clusterDomain",
        "Cluster domain",
        "The one value the compiler never writes: set it at install time when the\n\
         cluster's DNS domain is not `cluster.local` (`--set clusterDomain=...`).",
    ),
    (
        "secrets",
        "Secrets",
        "Written by the compiler into secrets.values.yaml; they end up in Secrets only\n\
         (signer keystores in a ConfigMap when keystore.secret is false).",
    ),
];

const VALUES_HEADER: &str = "\
## kuberneteth chart values: every value, documented, with the chart's defaults.
##
## Generated by `kuberneteth-values docs --chart-values` from the types the compiler
## writes the values with (`make schema`); a test keeps it in step. Do not edit.
##
## Real networks are not written by hand: `kuberneteth-values compile` turns one
## kuberneteth.yaml into `values.yaml` (public) and `secrets.values.yaml` (private key
## material), which set every value below but `clusterDomain`:
##
##   helm upgrade --install NAME chart/ -f out/values.yaml -f out/secrets.values.yaml --wait
##
## With these defaults alone (no node groups) the chart renders only the shared objects.
## Values absent by default (proof of stake, list items, map entries) are shown as
## commented-out examples; `[]` in a path means each item of a list, `<node>` each
## node's entry of a map by node name.
";

/// `chart/values.yaml`: every value with a `## @param path description` comment and
/// its chart default, nested as YAML, a `## @section` per top-level value.
pub fn values_yaml() -> String {
    let mut lines: Vec<String> = VALUES_HEADER.lines().map(String::from).collect();
    for p in tree() {
        let (title, intro) = SECTIONS
            .iter()
            .find(|(key, _, _)| *key == p.key)
            .map_or((p.key.as_str(), ""), |(_, title, intro)| (*title, *intro));
        lines.push(String::new());
        lines.push(format!("## @section {title}"));
        lines.extend(intro.lines().map(|l| format!("## {l}")));
        lines.push(String::new());
        entry(&p, 0, false, &mut lines);
    }
    lines.join("\n") + "\n"
}

/// A value's `## @param` line and its YAML: its default, or in an example its example
/// value. A value absent by default, and the items of a list or map, are examples.
fn entry(p: &Param, indent: usize, in_example: bool, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    out.push(format!("{pad}## @param {} {}", p.path, p.description));
    if in_example {
        out.extend(value_lines(p, indent, true));
        return;
    }
    match (&p.default, &p.nested) {
        (None, _) => out.extend(commented(value_lines(p, indent, true))),
        (Some(default), Nested::List(_) | Nested::Map(_)) => {
            out.extend(commented(value_lines(p, indent, true)));
            out.push(format!("{pad}{}: {}", scalar(&p.key), flow(default)));
        }
        _ => out.extend(value_lines(p, indent, false)),
    }
}

fn commented(lines: Vec<String>) -> impl Iterator<Item = String> {
    lines.into_iter().map(|l| {
        if l.is_empty() {
            "#".to_string()
        } else {
            format!("# {l}")
        }
    })
}

/// The YAML of one value (without its `## @param` line).
fn value_lines(p: &Param, indent: usize, in_example: bool) -> Vec<String> {
    let pad = " ".repeat(indent);
    let key = scalar(&p.key);
    let value = if in_example { &p.example } else { &p.default };
    let Some(value) = value else {
        return vec![format!("{pad}{key}: null")];
    };
    let mut out = vec![format!("{pad}{key}:")];
    match &p.nested {
        Nested::Leaf => return leaf_lines(&pad, &key, value),
        Nested::Object(children) => {
            for c in children {
                entry(c, indent + 2, in_example, &mut out);
            }
        }
        Nested::List(children) => {
            let mut item = Vec::new();
            for c in children {
                entry(c, indent + 4, true, &mut item);
            }
            // The item's first key carries the list's `- `, its comment beside the dash.
            for line in item.iter_mut() {
                if line.trim_start().starts_with('#') {
                    line.replace_range(indent + 2..indent + 4, "");
                } else {
                    line.replace_range(indent + 2..indent + 4, "- ");
                    break;
                }
            }
            out.extend(item);
        }
        Nested::Map(children) => {
            let name = value
                .as_object()
                .and_then(|o| o.keys().next())
                .map_or("<node>", String::as_str);
            out.push(format!("{pad}  {}:", scalar(name)));
            for c in children {
                entry(c, indent + 4, true, &mut out);
            }
        }
    }
    out
}

/// A value without documented parts: inline, a block scalar for text of several lines,
/// a block list when inline would be long.
fn leaf_lines(pad: &str, key: &str, value: &Value) -> Vec<String> {
    if let Some(text) = value.as_str().filter(|t| t.contains('\n')) {
        let body = text.strip_suffix('\n').unwrap_or(text);
        let fits = !body.ends_with('\n')
            && !body.starts_with(' ')
            && !body.contains('\r')
            && body.lines().all(|l| l.trim_end() == l);
        if fits {
            let chomp = if text.ends_with('\n') { "" } else { "-" };
            let mut out = vec![format!("{pad}{key}: |{chomp}")];
            out.extend(body.lines().map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{pad}  {l}")
                }
            }));
            return out;
        }
    }
    let inline = format!("{pad}{key}: {}", flow(value));
    match value.as_array() {
        Some(items) if inline.len() > 88 => std::iter::once(format!("{pad}{key}:"))
            .chain(items.iter().map(|i| format!("{pad}  - {}", flow(i))))
            .collect(),
        _ => vec![inline],
    }
}

/// A value in YAML flow style.
fn flow(value: &Value) -> String {
    match value {
        Value::String(s) => scalar(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// A string as a YAML scalar: plain when every YAML parser (1.1 and 1.2) reads it back
/// as that string, else double-quoted.
fn scalar(s: &str) -> String {
    let Some(first) = s.chars().next() else {
        return "\"\"".into();
    };
    let words = ["true", "false", "yes", "no", "on", "off", "y", "n", "null"];
    let number_like = first.is_ascii_digit()
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || "xXoO._+-:".contains(c));
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=@".contains(c))
        && (first.is_ascii_alphanumeric() || first == '/' || s.starts_with("--"))
        && !number_like
        && !words.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

fn flatten<'a>(params: &'a [Param], out: &mut Vec<&'a Param>) {
    for p in params {
        out.push(p);
        match &p.nested {
            Nested::Leaf => {}
            Nested::Object(c) | Nested::List(c) | Nested::Map(c) => flatten(c, out),
        }
    }
}

/// The values table: one row per value with its type, chart default and description.
pub fn values_table() -> String {
    let tree = tree();
    let mut rows = Vec::new();
    flatten(&tree, &mut rows);
    let mut out = String::from("| value | type | default | description |\n|---|---|---|---|\n");
    for p in rows {
        let default = match (&p.nested, &p.default) {
            (Nested::Object(_), _) | (_, None) => String::new(),
            (_, Some(d)) => format!("`{}`", table_cell(&flow(d))),
        };
        out.push_str(&format!(
            "| `{}` | {} | {default} | {} |\n",
            p.path,
            p.ty,
            table_cell(&p.description)
        ));
    }
    out
}

const README: &str = r#"# kuberneteth chart

A private Ethereum network on Kubernetes: **clique** (proof of authority) on geth v1.13,
or **proof of stake** on current geth beside Prysm beacon nodes and validator clients.
Per node group (signer, validator, bootnode, rpc, full) a StatefulSet with a volume per
pod, and a Service per pod for the nodes the others keep connected to (signers,
validators, bootnodes); genesis and config ConfigMaps; key Secrets; JSON-RPC Services and
an optional Ingress; an ethstats dashboard; metrics with an optional ServiceMonitor,
PrometheusRule and Grafana dashboard; PodDisruptionBudgets that keep a clique majority
(or more than two thirds of the stake) up; a NetworkPolicy; a rollout Job; `helm test`.

Generated by `kuberneteth-values docs --chart-readme` (`make schema`) from the types the
compiler writes the values with; a test keeps it in step. Do not edit.

## Values come from the compiler

Never write this chart's values by hand. `kuberneteth-values compile` turns one
`kuberneteth.yaml` ([its options](../docs/CONFIG.md)) into two files:

- `out/values.yaml`: everything public: node groups, genesis, geth TOML and flags,
  Prysm flags, enodes, peer ids, accounts;
- `out/secrets.values.yaml`: the private key material: node keys, signer keystores and
  their password, beacon node keys and JWT secrets, validator wallets. Keep it secret.

Both carry one `generation`: the chart refuses a pair from different compiles. The
chart's own `values.yaml` holds only defaults (no node groups: alone, the chart renders
only the shared objects), and `values.schema.json` makes Helm refuse malformed values.

```sh
kuberneteth-values compile -c kuberneteth.yaml -o out
```

## Install

```sh
helm upgrade --install NAME chart/ -f out/values.yaml -f out/secrets.values.yaml --wait
```

A pod is Ready once its geth (and beacon node) has peers and is in step; NOTES say how to
reach JSON-RPC, the Beacon API and ethstats. Set `clusterDomain` (`--set
clusterDomain=...`) when the cluster's DNS domain is not `cluster.local`. For proof of
stake, install before the genesis time (`genesisTimestamp`), and never install the same
values twice (another release, namespace or cluster) while one runs: each validator key
is in exactly one pod, and two validator clients with one key sign twice and are slashed.

## Upgrade

Change `kuberneteth.yaml` (e.g. `geth.version`,
`consensus.proofOfStake.client.prysm.version`, a group's replicas), compile again into
the same `out/` (it refuses to change the genesis of the running network), then run the
same command with a timeout for the rollout:

```sh
kuberneteth-values compile -c kuberneteth.yaml -o out
helm upgrade --install NAME chart/ -f out/values.yaml -f out/secrets.values.yaml --wait --timeout 30m
```

The rollout Job `<network>-rollout` replaces the signer, validator and bootnode pods one
at a time across all their groups, each Ready before the next (`rollout.podReadySeconds`
bounds one pod); rpc and full groups roll by themselves. If a pod never becomes Ready the
Job fails, the upgrade with it, and the Job stays with its logs:
`kubectl logs job/<network>-rollout --all-containers`.

## Roll back

```sh
helm rollback NAME --wait --timeout 30m
```

restores the previous revision, the rollout Job replacing the pods the same way. geth
databases are forward-only: a pod that already ran a newer geth may be unable to open its
database with an older one.

## Test

```sh
helm test NAME
```

checks, through the first node group serving `eth` over HTTP, the chain id, that the node
has peers (when it serves `net`) and that new blocks arrive (`tests.enabled`).

## Uninstall

```sh
helm uninstall NAME --wait
```

removes every object of the release. The volumes stay (PersistentVolumeClaims
`data-<pod>`, with the chain and the validators' slashing-protection databases): a new
install of the same values resumes on them. Delete them only to start a new network:
`kubectl delete pvc -l app.kubernetes.io/instance=NAME`.

## Values

Every value, its type, its chart default (empty: absent or nested) and what it does.
`[]` in a path means each item of a list, `<node>` each node's entry of a map by node
name. [`values.yaml`](values.yaml) shows the same with examples of the values absent by
default.

"#;

/// `chart/README.md`: what the chart is, how to install, upgrade, roll back, test and
/// uninstall it, and the values table.
pub fn readme() -> String {
    String::from(README) + &values_table()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Role;

    fn schema_accepts(values: &Value) {
        let schema = crate::values::json_schema();
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(values)
            .map(|e| format!("{}: {e}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn values_yaml_reads_as_the_chart_defaults() {
        let text = values_yaml();
        let read: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(read, serde_json::to_value(chart_defaults()).unwrap());
        let _: ChartValues = serde_json::from_value(read.clone()).unwrap();
        schema_accepts(&read);
    }

    #[test]
    fn the_commented_examples_read_as_the_example() {
        let mut lines = Vec::new();
        for p in tree() {
            entry(&p, 0, true, &mut lines);
        }
        let read: Value = serde_norway::from_str(&lines.join("\n")).unwrap();
        assert_eq!(read, serde_json::to_value(example()).unwrap());
        schema_accepts(&read);
        // Every commented-out line of values.yaml is a line of the example.
        let text = values_yaml();
        for l in text.lines().filter(|l| l.starts_with("# ")) {
            assert!(lines.iter().any(|e| e.trim() == l[2..].trim()), "{l}");
        }
    }

    #[test]
    fn every_value_has_a_param_line_and_a_section() {
        let text = values_yaml();
        let tree = tree();
        let mut all = Vec::new();
        flatten(&tree, &mut all);
        for p in all {
            assert!(
                text.contains(&format!("## @param {} ", p.path)),
                "{} has no @param line",
                p.path
            );
        }
        for p in &tree {
            assert!(
                SECTIONS.iter().any(|(key, _, _)| *key == p.key),
                "{} has no section title",
                p.key
            );
        }
        assert!(text.contains("## @param proofOfStake.beaconImage.tag "));
        assert!(text.contains("## @param nodeGroups[].validatorArgs "));
        assert!(text.contains("## @param nodeGroups[].nodes[].beacon.validators "));
        assert!(text.contains("## @param secrets.validatorWallets.<node>.files "));
    }

    #[test]
    fn scalars_read_back_as_the_same_string() {
        for s in [
            "",
            "1",
            "0x00ab",
            "1e5",
            "10m",
            "64Mi",
            "yes",
            "No",
            "null",
            "v1.13.15",
            "--config=/x",
            "a: b",
            "#x",
            "<64 hex>",
            "x,y",
            "-",
            "…",
        ] {
            let read: Value = serde_norway::from_str(&format!("k: {}", scalar(s))).unwrap();
            assert_eq!(read["k"], Value::String(s.into()), "{s:?} as {}", scalar(s));
        }
        assert_eq!(scalar("10m"), "10m");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("0x00ab"), "\"0x00ab\"");
    }

    #[test]
    fn an_example_group_uses_the_role_it_claims() {
        let e = example();
        let g = &e.node_groups[0];
        assert_eq!(g.role, Role::Validator);
        assert_eq!(g.replicas as usize, g.nodes.len());
    }
}
