//! The Helm values: the contract between the compiler and the chart.
//!
//! These types are the single source of `chart/values.schema.json`. Everything the
//! chart reads is written explicitly; texts that must keep exact integers (geth
//! TOML, genesis) are ready strings, because Helm turns YAML integers into floats.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::{
    ConsensusClient, ForkAtGenesis, PullPolicy, Resources, Role, Rpc, ServiceType,
};
use crate::consensus::prysm::{self, PrysmPaths, PrysmPorts};
use crate::plan::proof_of_stake::{
    ProofOfStakePlan, BEACON_API_PORT, BEACON_GRPC_PORT, BEACON_METRICS_PORT, BEACON_TCP_PORT,
    BEACON_UDP_PORT, VALIDATOR_METRICS_PORT,
};
use crate::plan::{GroupPlan, Layout, NodePlan, Plan, ETHSTATS_PORT};
use crate::release::Placement;
use crate::sizing::{self, Container};

/// The paths inside a pod that the chart's init step fills.
pub const RUN_DIR: &str = "/run/kuberneteth";
pub const DATA_DIR: &str = "/data";

/// Where a pod's consensus files are: the databases on the pod's volume, the
/// config from the consensus ConfigMap, the genesis state unpacked by the init
/// step, the secrets in the in-memory run folder.
pub const PRYSM_PATHS: PrysmPaths<'static> = PrysmPaths {
    beacon_data_dir: "/data/beacon",
    validator_data_dir: "/data/validator",
    chain_config: "/etc/kuberneteth/consensus/config.yaml",
    genesis_state: "/var/lib/kuberneteth/consensus/genesis.ssz",
    jwt_secret: "/run/kuberneteth/jwt.hex",
    p2p_key: "/run/kuberneteth/beacon-p2p-key",
    wallet_dir: "/run/kuberneteth/validator-wallet",
    wallet_password: "/run/kuberneteth/validator-wallet-password",
};

pub const PRYSM_PORTS: PrysmPorts = PrysmPorts {
    tcp: BEACON_TCP_PORT,
    udp: BEACON_UDP_PORT,
    api: BEACON_API_PORT,
    grpc: BEACON_GRPC_PORT,
    beacon_metrics: BEACON_METRICS_PORT,
    validator_metrics: VALIDATOR_METRICS_PORT,
};

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "kuberneteth chart values")]
pub struct ChartValues {
    /// Digest shared with `secrets.generation`: the chart refuses a values file and a
    /// secrets values file from different compiles (empty: not checked).
    #[serde(default)]
    pub generation: String,
    /// The network: its name, chain id and consensus engine.
    pub network: NetworkValues,
    /// The network's geth image (`geth.image`, `geth.pullPolicy`); informational: each node
    /// group carries its own resolved image.
    pub image: ImageDefaults,
    /// Secrets to pull images with, on every pod (`geth.imagePullSecrets`).
    pub image_pull_secrets: Vec<NameRef>,
    /// The execution genesis (genesis.json), shared by every geth.
    pub genesis: GenesisValues,
    /// Clique: the signer set the signers vote toward. Absent for proof of stake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clique: Option<CliqueValues>,
    /// Proof of stake: the consensus client (Prysm), its images, the beacon genesis and
    /// config. Absent for clique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_of_stake: Option<ProofOfStakeValues>,
    /// Where signer keystores live in the cluster.
    pub keystore: KeystoreValues,
    /// The node groups, in the network file's order: one StatefulSet `<network>-<group>`
    /// each.
    pub node_groups: Vec<GroupValues>,
    /// The ethstats network dashboard; every geth reports under its pod name.
    pub ethstats: EthstatsValues,
    /// Prometheus metrics and what consumes them.
    pub metrics: MetricsValues,
    /// Kubernetes NetworkPolicy for the network's pods: P2P only among them, RPC from
    /// `rpc.allowedFrom`, ethstats from the nodes.
    pub network_policy: Toggle,
    /// The rollout Job: how `helm upgrade` and `helm rollback` replace the pods of
    /// coordinated groups (signer, validator and bootnode groups), one at a time.
    pub rollout: RolloutValues,
    /// Prefunded accounts (their genesis balances), listed in NOTES.
    pub accounts: Vec<AccountValues>,
    /// The `helm test` pod `<network>-test-rpc`: chain id, peers, blocks advancing; it
    /// needs a node group serving `eth` over HTTP.
    pub tests: Toggle,
    /// The cluster's DNS domain (chart default `cluster.local`): the fully qualified
    /// RPC Service name geth accepts as a virtual host ends with it. Set by the
    /// operator at install time, never by the compiler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    ))]
    pub cluster_domain: Option<String>,
    /// Private material; written to `secrets.values.yaml` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SecretValues>,
}

/// The signer set of a clique network, as the network file wants it now.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CliqueValues {
    /// Every running signer pod, in file order. The `vote-signers` container of each
    /// signer pod proposes (`clique.propose` over its geth's IPC) each of these the
    /// chain does not count as a signer yet, and every signer the chain counts that is
    /// not here out, until the chain's signer set is this list. The genesis signers are
    /// in `genesis.json`.
    pub signers: Vec<SignerValues>,
}

/// A signer the network should have.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignerValues {
    /// EIP-55 address.
    pub address: String,
    /// Its pod.
    pub node: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkValues {
    /// The network name (DNS-1123 label): the prefix of every object name.
    #[schemars(
        regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 53)
    )]
    pub name: String,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// devp2p network id (the chain id unless the network file sets one); compiled into
    /// every geth's `args`.
    pub network_id: u64,
    /// The consensus engine: `clique` or `proofOfStake`.
    pub consensus: String,
    /// Seconds between blocks: the clique period, or for proof of stake the slot time
    /// (`helm test` waits for a new block).
    pub clique_period: u64,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageDefaults {
    /// geth image repository.
    pub repository: String,
    /// geth image pull policy.
    pub pull_policy: PullPolicy,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    /// Image repository.
    pub repository: String,
    /// Image tag: a release, never a floating tag.
    pub tag: String,
    /// Image pull policy.
    pub pull_policy: PullPolicy,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NameRef {
    /// Name of an image pull Secret in the release's namespace.
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GenesisValues {
    /// genesis.json text, verbatim in the `<network>-genesis` ConfigMap (exact integers:
    /// the chart never re-encodes it). `geth init` writes it into an empty datadir and
    /// stops a pod whose volume holds another chain.
    pub json: String,
}

/// What every pod of a proof-of-stake network needs beside geth.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProofOfStakeValues {
    /// The consensus client (`prysm`).
    pub client: String,
    /// The Prysm beacon node image (`beaconImage` and `version` of
    /// `consensus.proofOfStake.client.prysm`).
    pub beacon_image: Image,
    /// The Prysm validator client image (`validatorImage` and `version` of
    /// `consensus.proofOfStake.client.prysm`).
    pub validator_image: Image,
    /// The consensus preset: `mainnet` or `minimal`.
    pub preset: String,
    /// The fork the chain starts at (`fulu`, `electra`).
    pub fork: String,
    /// Beacon genesis time in Unix seconds (the network file's `genesisTimestamp`):
    /// validators start proposing then.
    pub genesis_time: u64,
    /// Seconds per slot.
    pub seconds_per_slot: u64,
    /// Slots per epoch (32 for the `mainnet` preset, 8 for `minimal`); the finality alert
    /// counts epochs.
    pub slots_per_epoch: u64,
    /// EIP-55 address that receives the proposers' priority fees.
    pub fee_recipient: String,
    /// The consensus clients' `config.yaml` text (ConfigMap `<network>-consensus`).
    pub chain_config: String,
    /// Where the genesis state and the validators' wallets live: `release` (the chart
    /// creates their ConfigMaps and Secrets from these values) or `separate` (applied
    /// before the release from the compiler's `objects/`; the chart only names them).
    pub large_objects: Placement,
    /// `genesis.ssz`, gzipped, in parts of at most 256 KiB, one ConfigMap each.
    pub genesis_state: GenesisStateValues,
    /// `0x`-hex; clients log it, and it is part of every fork digest.
    pub genesis_validators_root: String,
    /// The execution genesis block hash (`0x`-hex), also the beacon state's eth1 block.
    pub execution_genesis_hash: String,
    /// Beacon node ports: TCP (libp2p), UDP (discovery v5), REST API, gRPC (the
    /// pod's localhost only), and the metrics of the beacon node and validator client.
    /// libp2p runs over TCP only (no QUIC).
    pub ports: BeaconPorts,
    /// The engine API port on each pod's localhost.
    pub engine_api_port: u16,
    /// Validator pods removed from the network (this compile's and every earlier
    /// one's): their validators leave by voluntary exit (`kuberneteth-values exit`),
    /// and `helm upgrade` runs the Job `<network>-exits` first, which waits until
    /// every one has exited, so the pods go only then. A pod listed here never comes
    /// back (its keys exited); the compiler refuses it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exits: Vec<ExitValues>,
    /// The pod whose beacon node the exits Job asks (Beacon API, `ports.api`): one that
    /// stays. Set with `exits`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exits_beacon_node: Option<String>,
}

/// A validator pod that left, and the validators it held, which exit.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExitValues {
    /// The pod's name, `<network>-<group>-<ordinal>`.
    pub node: String,
    /// Its group.
    pub group: String,
    /// Its StatefulSet ordinal.
    pub ordinal: u32,
    /// Its validators' public keys (`0x`-hex, 48 bytes), in key order.
    pub pubkeys: Vec<String>,
}

/// The genesis state as the pods rebuild it: the parts in order, gunzipped.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisStateValues {
    /// SHA-256 of `genesis.ssz` (hex): each pod's init step checks the state it
    /// rebuilds against it before the beacon node reads it.
    pub sha256: String,
    /// The gzipped state's parts, in order.
    pub parts: Vec<GenesisStatePartValues>,
}

/// One part of the gzipped genesis state: a ConfigMap with the key `part`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisStatePartValues {
    /// The ConfigMap's name, `<network>-genesis-state-<index>`.
    pub config_map: String,
    /// SHA-256 of the part (hex), checked by each pod's init step.
    pub sha256: String,
    /// The part, base64, when the chart creates the ConfigMap (`largeObjects:
    /// release`); absent when it is applied separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// A validator pod's keys Secret, `<pod>-validator-keys`: its Prysm wallet and the
/// wallet's password.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidatorKeysValues {
    /// The Secret's name.
    pub secret: String,
    /// The wallet's files, checked by the pod's init step against their SHA-256.
    pub files: Vec<WalletFileValues>,
}

/// A file of a validator pod's wallet.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WalletFileValues {
    /// Path under `--wallet-dir`.
    pub path: String,
    /// SHA-256 of the file (hex).
    pub sha256: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BeaconPorts {
    /// Beacon node libp2p port (TCP), also on the per-pod Services of validator and
    /// bootnode pods.
    pub tcp: u16,
    /// Beacon node discovery v5 port (UDP).
    pub udp: u16,
    /// Beacon API (REST) port; readiness and NOTES use it.
    pub api: u16,
    /// Beacon node gRPC port, which the validator client uses; on the pod's localhost only.
    pub grpc: u16,
    /// Beacon node metrics port.
    pub beacon_metrics: u16,
    /// Validator client metrics port.
    pub validator_metrics: u16,
}

/// A node's beacon identity, public part.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BeaconNodeValues {
    /// libp2p peer id (`16Uiu2…`).
    pub peer_id: String,
    /// EIP-778 record (`enr:…`), without an IP (pod IPs are not known in advance).
    pub enr: String,
    /// Genesis validators this node's validator client holds.
    pub validators: u32,
}

/// A node's consensus-layer secrets.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BeaconSecretValues {
    /// The beacon node's P2P key (64 hex, no 0x: Prysm's `--p2p-priv-key` file).
    pub node_key: String,
    /// The engine-API JWT secret geth and the beacon node share (64 hex).
    pub jwt_secret: String,
}

/// A validator pod's Prysm wallet.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidatorWalletValues {
    /// The wallet's password (Prysm's `--wallet-password-file`).
    pub password: String,
    /// Files under `--wallet-dir`, by relative path: EIP-2335 keystore JSON text.
    pub files: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeystoreValues {
    /// `true`: signer keystores in a Secret. `false`: in a ConfigMap (readable by anyone
    /// who can read ConfigMaps; not recommended; NOTES warns).
    pub secret: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    /// Render it; `false` leaves it out.
    pub enabled: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupValues {
    /// The group name (DNS-1123 label): StatefulSet `<network>-<group>`, pods
    /// `<network>-<group>-<ordinal>`.
    #[schemars(
        regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 40)
    )]
    pub name: String,
    /// What the group does in the network.
    pub role: Role,
    /// Number of nodes (pods) in the group.
    #[schemars(range(min = 0))]
    pub replicas: u32,
    /// Signer and validator groups: how many of the group's pods are in the genesis
    /// (the network file's `genesisReplicas`, default `replicas`). Read by the
    /// compiler's genesis guard; the chart does not use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis_replicas: Option<u32>,
    /// The geth release (= image tag), for the version label.
    pub geth_version: String,
    /// The group's geth image (`geth`, or the group's own override).
    pub image: Image,
    /// geth TOML text with `__NODE_NAME__` and `__ETHSTATS_SECRET__` placeholders (the init
    /// step fills them) and `__NAMESPACE__` and `__CLUSTER_DOMAIN__` (the chart fills
    /// them).
    pub config: String,
    /// geth flags for this release and role, in order.
    pub args: Vec<String>,
    /// Flags the init step's `geth init` adds when it creates the database (an empty
    /// datadir): proof of stake keeps geth's database in LevelDB, whose writes survive
    /// a killed geth. geth opens an existing database with the engine that made it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_database_args: Vec<String>,
    /// Proof of stake: the Prysm beacon node's flags (empty for clique).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beacon_args: Vec<String>,
    /// Proof of stake, validator groups: the Prysm validator client's flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validator_args: Vec<String>,
    /// Append `--miner.etherbase` and `--unlock` with the pod's signer address.
    pub unlock_signer: bool,
    /// Host names in `config` the init step resolves to Service IPs.
    pub peer_hosts: Vec<String>,
    /// Give each pod its own ClusterIP Service, named like the pod (a stable address:
    /// signer, validator and bootnode groups).
    pub node_services: bool,
    /// The group's nodes, one per pod, in ordinal order.
    pub nodes: Vec<NodeValues>,
    /// geth's ports in the group's pods.
    pub ports: Ports,
    /// JSON-RPC exposure; only `rpc` groups serve it.
    pub rpc: RpcValues,
    /// The persistent volume of each pod: geth's datadir, and for proof of stake the beacon
    /// node's and validator client's databases.
    pub storage: StorageValues,
    /// Requests and limits of each container of the group's pods (the role's defaults,
    /// README "Sizing", with the network file's `resources` over them).
    pub resources: ContainerResources,
    /// Node labels the group's pods must run on (Kubernetes `nodeSelector`).
    pub node_selector: BTreeMap<String, String>,
    /// Kubernetes tolerations, passed through unchanged.
    pub tolerations: Vec<serde_json::Value>,
    /// Kubernetes affinity, passed through unchanged (`{}`: none).
    pub affinity: serde_json::Value,
    /// How `helm upgrade` and `helm rollback` replace the group's pods.
    pub update_strategy: UpdateStrategy,
    /// The group's PodDisruptionBudget: how many of its pods a drain may take at once.
    pub pod_disruption_budget: PdbValues,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeValues {
    /// Pod name, `<network>-<group>-<ordinal>`; also its Service's name in groups with
    /// `nodeServices`.
    pub name: String,
    /// The pod's StatefulSet ordinal.
    pub ordinal: u32,
    /// keccak256 of the public key, as `admin_nodeInfo.id` shows it.
    pub node_id: String,
    /// enode URL; its host is the pod's Service name, which the init step resolves to the
    /// Service IP.
    pub enode: String,
    /// EIP-55 address for signers, empty otherwise.
    pub signer_address: String,
    /// Proof of stake: the beacon node's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<BeaconNodeValues>,
    /// Proof of stake, validator pods: the Secret with the pod's wallet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_keys: Option<ValidatorKeysValues>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ports {
    /// devp2p TCP and UDP port.
    pub p2p: u16,
    /// Port of JSON-RPC over HTTP, in the pod and on the Service.
    pub http: u16,
    /// Port of JSON-RPC over WebSocket, in the pod and on the Service.
    pub ws: u16,
    /// Prometheus metrics port (path `/debug/metrics/prometheus`).
    pub metrics: u16,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RpcValues {
    /// Serve JSON-RPC over HTTP (Service `<network>-<group>-rpc`).
    pub http: bool,
    /// Serve JSON-RPC over WebSocket.
    pub ws: bool,
    /// API namespaces served (what `helm test` may call).
    pub modules: Vec<String>,
    /// The Kubernetes Service in front of an RPC group.
    pub service: RpcServiceValues,
    /// An Ingress (networking.k8s.io/v1) for the HTTP RPC port.
    pub ingress: IngressValues,
    /// NetworkPolicy peers allowed to reach RPC (Kubernetes NetworkPolicyPeer objects);
    /// empty = anyone.
    pub allowed_from: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RpcServiceValues {
    /// Service type: `ClusterIP`, `NodePort` or `LoadBalancer`.
    #[serde(rename = "type")]
    pub service_type: ServiceType,
    /// Annotations of the Service (e.g. a cloud load balancer's settings).
    pub annotations: BTreeMap<String, String>,
    /// Fixed node port for HTTP (NodePort/LoadBalancer); 0 lets Kubernetes choose.
    pub http_node_port: u16,
    /// Fixed node port for WebSocket (NodePort/LoadBalancer); 0 lets Kubernetes choose.
    pub ws_node_port: u16,
    /// CIDRs allowed through a LoadBalancer.
    pub load_balancer_source_ranges: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressValues {
    /// Create the Ingress `<network>-<group>-rpc`.
    pub enabled: bool,
    /// IngressClass to use; empty uses the cluster's default class.
    pub class_name: String,
    /// Host name served.
    pub host: String,
    /// Annotations of the Ingress (e.g. for the ingress controller).
    pub annotations: BTreeMap<String, String>,
    /// Secret holding the TLS certificate; empty = plain HTTP.
    pub tls_secret_name: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageValues {
    /// Volume size (Kubernetes quantity).
    pub size: String,
    /// StorageClass name; empty uses the cluster default.
    pub storage_class: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UpdateStrategy {
    /// Pods with an ordinal below this keep the old version on upgrade (canary rollouts).
    pub partition: u32,
    /// Replaced by the release's rollout Job, one pod at a time across every
    /// coordinated group, rather than by its StatefulSet alone (signer, validator and
    /// bootnode groups: those the network cannot lose several of at once).
    pub coordinated: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PdbValues {
    /// Create the PodDisruptionBudget `<network>-<group>` (not for a single rpc, full or
    /// bootnode pod, nor for a validator group a drain may empty).
    pub enabled: bool,
    /// Pods of the group a drain must leave running: together a clique majority of the
    /// signers, more than two thirds of the stake for validators, all but one pod
    /// otherwise.
    pub min_available: u32,
}

/// Requests and limits of each container of a group's pods (`crate::sizing`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerResources {
    /// geth. Its `--cache` is a quarter of its memory limit.
    #[serde(default)]
    pub geth: Resources,
    /// The beacon node (proof of stake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<Resources>,
    /// The validator client (proof-of-stake validator groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<Resources>,
    /// Each init step (`geth init`, preparing keys and config).
    #[serde(default)]
    pub init: Resources,
    /// Clique signer groups: the `vote-signers` container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_signers: Option<Resources>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EthstatsValues {
    /// Run the dashboard `<network>-ethstats` and have every geth report to it.
    pub enabled: bool,
    /// ethstats server image; it reads `WS_SECRET` and listens on `port`.
    pub image: Image,
    /// ethstats server port: the HTTP dashboard and the nodes' WebSocket.
    pub port: u16,
    /// The Kubernetes Service `<network>-ethstats`.
    pub service: ServiceValues,
    /// Requests and limits of the ethstats server.
    pub resources: Resources,
}

/// The hook Job that replaces the pods of coordinated groups on `helm upgrade` and
/// `helm rollback`, one at a time (`chart/templates/job-rollout.yaml`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutValues {
    /// Image of the rollout Job: `kubectl` at /bin/kubectl (no shell needed); one kubectl
    /// command per step.
    pub image: Image,
    /// Seconds a replaced pod may take to be Ready before the rollout fails (and `helm
    /// upgrade` with it): `helm rollback` then restores the previous revision.
    pub pod_ready_seconds: u32,
    /// Requests and limits of each step's container.
    pub resources: Resources,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceValues {
    /// Service type: `ClusterIP`, `NodePort` or `LoadBalancer`.
    #[serde(rename = "type")]
    pub service_type: ServiceType,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricsValues {
    /// Expose the nodes' Prometheus metrics (geth's; for proof of stake also the beacon
    /// node's and validator client's) on each group's peers Service, with `prometheus.io`
    /// pod annotations.
    pub enabled: bool,
    /// A prometheus-operator ServiceMonitor.
    pub service_monitor: ServiceMonitorValues,
    /// A PrometheusRule with alerts: head not advancing, no peers; for proof of stake also
    /// finality stalled and a beacon node without peers.
    pub prometheus_rule: PrometheusRuleValues,
    /// A ConfigMap with a Grafana dashboard.
    pub dashboard: DashboardValues,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceMonitorValues {
    /// Create the ServiceMonitor `<network>`.
    pub enabled: bool,
    /// Scrape interval.
    pub interval: String,
    /// Extra labels (to match your Prometheus' `serviceMonitorSelector`).
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusRuleValues {
    /// Create the PrometheusRule `<network>`.
    pub enabled: bool,
    /// Extra labels (to match your Prometheus' `ruleSelector`).
    pub labels: BTreeMap<String, String>,
    /// Minutes without a new block before the head-stalled alert fires.
    pub head_stalled_minutes: u32,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DashboardValues {
    /// Create the ConfigMap `<network>-dashboard`.
    pub enabled: bool,
    /// Labels of the ConfigMap: `grafana_dashboard: "1"` (what Grafana's dashboard sidecar
    /// looks for) and the network file's `labels`.
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountValues {
    /// The account's name; empty for an outside address.
    pub name: String,
    /// The account's EIP-55 address.
    pub address: String,
    /// Genesis balance as the network file gives it (e.g. `1000000 ether`).
    pub balance: String,
}

/// What `secrets.values.yaml` holds: only the private part.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrivateValues {
    /// Private material: key material, passwords, the ethstats secret.
    pub secrets: SecretValues,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretValues {
    /// The `generation` of the values.yaml this file was written with.
    #[serde(default)]
    pub generation: String,
    /// Node keys (devp2p) by node name (64 hex, no 0x).
    pub node_keys: BTreeMap<String, String>,
    /// Signer keystores (V3) by node name.
    pub signer_keystores: BTreeMap<String, KeystoreValue>,
    /// Password of every signer keystore.
    pub keystore_password: String,
    /// Shared secret of the ethstats server (`WS_SECRET`); every geth reports with it.
    pub ethstats_secret: String,
    /// Proof of stake: beacon node keys and JWT secrets by node name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub beacon: BTreeMap<String, BeaconSecretValues>,
    /// Proof of stake: validator pods' wallets by node name, when the chart creates
    /// their Secrets (`largeObjects: release`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub validator_wallets: BTreeMap<String, ValidatorWalletValues>,
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeystoreValue {
    /// File name in geth's keystore folder (`UTC--<time>--<address>`).
    pub file_name: String,
    /// The V3 keystore JSON text.
    pub json: String,
}

/// The in-pod file layout the chart implements.
pub fn pod_layout(plan: &Plan) -> Layout<'static> {
    Layout {
        data_dir: DATA_DIR,
        paths: crate::execution::geth::FlagPaths {
            config: "/run/kuberneteth/config.toml",
            nodekey: "/run/kuberneteth/nodekey",
            keystore: "/run/kuberneteth/keystore",
            password: "/run/kuberneteth/password",
            jwt_secret: "/run/kuberneteth/jwt.hex",
        },
        ethstats_url: plan.cluster_ethstats_url(),
        listen_port: None,
        bind_host: None,
        namespace: Some(crate::plan::NAMESPACE_PLACEHOLDER),
    }
}

fn split_image(image: &str) -> (String, String) {
    // The tag follows the last `:` after the last `/` (a registry may have a port).
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(i) => (
            image[..slash + i].to_string(),
            image[slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

/// An image reference (`repository:tag`) as the chart's image values.
pub(crate) fn image_values(reference: &str) -> Image {
    let (repository, tag) = split_image(reference);
    Image {
        repository,
        tag,
        pull_policy: PullPolicy::IfNotPresent,
    }
}

/// The ethstats server's values from the network file's `monitoring.ethstats`.
pub(crate) fn ethstats_values(e: &crate::config::Ethstats) -> EthstatsValues {
    EthstatsValues {
        enabled: e.enabled,
        image: image_values(&e.image),
        port: ETHSTATS_PORT,
        service: ServiceValues::default(),
        resources: sizing::ethstats_resources(),
    }
}

/// The metrics values from the network file's `monitoring.metrics`.
pub(crate) fn metrics_values(metrics: &crate::config::Metrics) -> MetricsValues {
    let mut dashboard_labels = BTreeMap::from([("grafana_dashboard".to_string(), "1".to_string())]);
    dashboard_labels.extend(metrics.labels.clone());
    MetricsValues {
        enabled: metrics.enabled,
        service_monitor: ServiceMonitorValues {
            enabled: metrics.enabled && metrics.service_monitor,
            interval: "30s".into(),
            labels: metrics.labels.clone(),
        },
        prometheus_rule: PrometheusRuleValues {
            enabled: metrics.enabled && metrics.alerts,
            labels: metrics.labels.clone(),
            head_stalled_minutes: metrics.head_stalled_minutes,
        },
        dashboard: DashboardValues {
            enabled: metrics.enabled && metrics.dashboard,
            labels: dashboard_labels,
        },
    }
}

/// The rollout Job's values from the network file's `rollout`.
pub(crate) fn rollout_values(rollout: &crate::config::Rollout) -> RolloutValues {
    RolloutValues {
        image: image_values(&rollout.image),
        pod_ready_seconds: rollout.pod_ready_seconds,
        resources: sizing::rollout_resources(),
    }
}

/// One group's values: its StatefulSet, its Services and its budget.
fn group_values(plan: &Plan, g: &GroupPlan) -> GroupValues {
    let layout = pod_layout(plan);
    let cfg = &g.config;
    let rpc = cfg.rpc.clone().unwrap_or_default();
    let peer_hosts = plan
        .all_nodes()
        .filter(|(pg, _)| pg.config.role.has_stable_identity())
        .map(|(_, n)| n.name.clone())
        .collect();
    GroupValues {
        name: cfg.name.clone(),
        role: cfg.role,
        replicas: cfg.replicas,
        genesis_replicas: cfg
            .role
            .produces_blocks()
            .then(|| cfg.genesis_replica_count()),
        geth_version: g.version.to_string(),
        image: Image {
            repository: g.image.clone(),
            tag: g.version.to_string(),
            pull_policy: g.pull_policy,
        },
        config: plan.toml(g, &layout, &Plan::service_endpoint),
        args: plan.flags(g, &layout),
        new_database_args: crate::execution::geth::new_database_flags(
            plan.proof_of_stake.is_some(),
        ),
        beacon_args: plan
            .proof_of_stake
            .as_ref()
            .map(|pos| beacon_args(plan, g, pos))
            .unwrap_or_default(),
        validator_args: validator_args(plan, g),
        unlock_signer: cfg.role == Role::Signer
            && crate::execution::geth::Release { version: g.version }.clique_sealing_flags(),
        peer_hosts,
        node_services: cfg.role.has_stable_identity(),
        nodes: g.nodes.iter().map(|n| node_values(plan, g, n)).collect(),
        ports: Ports {
            p2p: cfg.p2p_port,
            http: rpc.http_port,
            ws: rpc.ws_port,
            metrics: cfg.metrics_port,
        },
        rpc: rpc_values(&rpc, cfg.rpc.is_some()),
        storage: StorageValues {
            size: cfg.storage.size.clone(),
            storage_class: cfg.storage.storage_class.clone(),
        },
        resources: resource_values(plan, g),
        node_selector: cfg.node_selector.clone(),
        tolerations: cfg.tolerations.clone(),
        affinity: if cfg.affinity.is_null() {
            serde_json::json!({})
        } else {
            cfg.affinity.clone()
        },
        update_strategy: UpdateStrategy {
            partition: cfg.partition,
            coordinated: cfg.role.has_stable_identity(),
        },
        pod_disruption_budget: pdb_values(plan, g),
    }
}

/// How many of a group's pods a drain may take at once, by what its role must
/// keep running.
fn pdb_values(plan: &Plan, g: &GroupPlan) -> PdbValues {
    let cfg = &g.config;
    match cfg.role {
        Role::Signer => signer_pdb(plan, g),
        Role::Validator => validator_pdb(plan, g),
        _ => PdbValues {
            enabled: cfg.replicas > 1,
            min_available: cfg.replicas.saturating_sub(1).max(1),
        },
    }
}

/// Keep a clique majority of all signers. The signers that may be spared at
/// once are shared out among the signer groups in plan order, so the groups'
/// PodDisruptionBudgets together never allow more than that.
fn signer_pdb(plan: &Plan, g: &GroupPlan) -> PdbValues {
    let cfg = &g.config;
    let signer_groups = || plan.groups.iter().filter(|g| g.config.role == Role::Signer);
    let signers_total: u32 = signer_groups().map(|g| g.config.replicas).sum();
    let spare = signers_total - (signers_total / 2 + 1);
    let before: u32 = signer_groups()
        .take_while(|other| other.config.name != cfg.name)
        .map(|other| other.config.replicas)
        .sum();
    let allowance = spare.saturating_sub(before).min(cfg.replicas);
    PdbValues {
        enabled: true,
        min_available: cfg.replicas - allowance,
    }
}

/// Keep more than two thirds of the stake: finality needs two thirds of it
/// attesting. The stake that may be spared at once is shared out among the
/// validator groups in plan order, as for signers. Only the genesis validators
/// are sure to be active (the joining ones wait for their deposits), so the
/// spare is a third of theirs, and a joining pod spends it as if active: the
/// budget holds before and after the joining validators are.
fn validator_pdb(plan: &Plan, g: &GroupPlan) -> PdbValues {
    let cfg = &g.config;
    let stake = |g: &GroupPlan| u64::from(g.config.validators_per_pod.unwrap_or(0));
    let validator_groups = || {
        plan.groups
            .iter()
            .filter(|g| g.config.role == Role::Validator)
    };
    let total: u64 = validator_groups()
        .map(|g| stake(g) * u64::from(g.config.genesis_replica_count().min(g.config.replicas)))
        .sum();
    // The largest stake whose absence leaves 3 * (total - spare) > 2 * total.
    let mut spare = total.saturating_sub(1) / 3;
    let mut allowance = 0;
    for other in validator_groups() {
        let per_pod = stake(other).max(1);
        let pods = (spare / per_pod).min(u64::from(other.config.replicas));
        if other.config.name == cfg.name {
            allowance = pods as u32;
            break;
        }
        spare -= pods * per_pod;
    }
    // A group whose every pod may go (a small share of a large stake)
    // needs no budget: minAvailable 0 would only clutter the cluster.
    PdbValues {
        enabled: allowance < cfg.replicas,
        min_available: cfg.replicas - allowance,
    }
}

/// One pod's identities: its enode, its signer address and, for proof of stake,
/// its beacon node and the Secret of its validator wallet.
fn node_values(plan: &Plan, g: &GroupPlan, n: &NodePlan) -> NodeValues {
    let e = Plan::service_endpoint(g, n);
    let pk = n.node_key.public_key();
    NodeValues {
        name: n.name.clone(),
        ordinal: n.ordinal,
        node_id: hex::encode(pk.node_id()),
        enode: pk.enode(&e.host, e.port, e.port),
        signer_address: n
            .signer
            .as_ref()
            .map(|s| s.key.address().to_string())
            .unwrap_or_default(),
        beacon: plan.proof_of_stake.as_ref().and_then(|pos| {
            let b = pos.beacon_nodes.get(&n.name)?;
            Some(BeaconNodeValues {
                peer_id: b.identity.peer_id(),
                enr: b.enr.clone(),
                validators: g.config.validators_per_pod.unwrap_or(0),
            })
        }),
        validator_keys: plan.proof_of_stake.as_ref().and_then(|pos| {
            let v = pos.validator_clients.get(&n.name)?;
            Some(ValidatorKeysValues {
                secret: validator_keys_secret(&n.name),
                files: v
                    .wallet_files
                    .iter()
                    .map(|(path, bytes)| WalletFileValues {
                        path: path.clone(),
                        sha256: sha256_hex(bytes),
                    })
                    .collect(),
            })
        }),
    }
}

/// A group's JSON-RPC exposure. `rpc` is the group's settings or their defaults;
/// only a group that has them (`has_rpc`) serves anything.
fn rpc_values(rpc: &Rpc, has_rpc: bool) -> RpcValues {
    RpcValues {
        http: has_rpc && rpc.http,
        ws: has_rpc && rpc.ws,
        modules: if has_rpc {
            rpc.api.iter().map(|a| a.as_str().to_string()).collect()
        } else {
            Vec::new()
        },
        service: RpcServiceValues {
            service_type: rpc.service.service_type,
            annotations: rpc.service.annotations.clone(),
            http_node_port: rpc.service.http_node_port.unwrap_or(0),
            ws_node_port: rpc.service.ws_node_port.unwrap_or(0),
            load_balancer_source_ranges: rpc.service.load_balancer_source_ranges.clone(),
        },
        ingress: IngressValues {
            enabled: rpc.ingress.enabled,
            class_name: rpc.ingress.class_name.clone(),
            host: rpc.ingress.host.clone(),
            annotations: rpc.ingress.annotations.clone(),
            tls_secret_name: rpc.ingress.tls_secret_name.clone(),
        },
        allowed_from: rpc.allowed_from.clone(),
    }
}

/// Each container's requests and limits; the consensus containers only where
/// the pod runs them.
fn resource_values(plan: &Plan, g: &GroupPlan) -> ContainerResources {
    let cfg = &g.config;
    let size = |c| sizing::container_resources(cfg.role, c, cfg.resources.given(c));
    let pos = plan.proof_of_stake.is_some();
    ContainerResources {
        geth: size(Container::Geth),
        beacon: pos.then(|| size(Container::Beacon)),
        validator: (pos && cfg.role == Role::Validator).then(|| size(Container::Validator)),
        init: size(Container::Init),
        vote_signers: (!pos && cfg.role == Role::Signer).then(|| size(Container::VoteSigners)),
    }
}

/// A validator group's validator client flags; none for other groups.
fn validator_args(plan: &Plan, g: &GroupPlan) -> Vec<String> {
    match &plan.proof_of_stake {
        Some(pos) if g.config.role == Role::Validator => {
            prysm::validator_flags(&prysm::ValidatorInput {
                paths: PRYSM_PATHS,
                ports: PRYSM_PORTS,
                bind_host: "0.0.0.0",
                fee_recipient: pos.fee_recipient(),
                verbosity: prysm::verbosity(g.verbosity),
            })
        }
        _ => Vec::new(),
    }
}

/// The beacon node of every pod of a group keeps connected to the stable nodes
/// (validators, bootnodes) through their Services, as geth does.
fn beacon_args(plan: &Plan, g: &GroupPlan, pos: &ProofOfStakePlan) -> Vec<String> {
    let peers = plan
        .all_nodes()
        .filter(|(pg, _)| pg.config.role.has_stable_identity())
        .filter_map(|(_, n)| {
            let b = pos.beacon_nodes.get(&n.name)?;
            Some(prysm::peer_multiaddr(
                &n.name,
                BEACON_TCP_PORT,
                &b.identity.peer_id(),
            ))
        })
        .collect();
    prysm::beacon_flags(&prysm::BeaconInput {
        paths: PRYSM_PATHS,
        ports: PRYSM_PORTS,
        execution_endpoint: format!("http://127.0.0.1:{}", crate::plan::ENGINE_API_PORT),
        bind_host: "0.0.0.0",
        peers,
        fee_recipient: pos.fee_recipient(),
        metrics: plan.config.monitoring.metrics.enabled,
        supernode: pos.settings.fork == ForkAtGenesis::Fulu,
        verbosity: prysm::verbosity(g.verbosity),
    })
}

fn proof_of_stake_values(network: &str, pos: &ProofOfStakePlan) -> ProofOfStakeValues {
    use base64::Engine as _;
    let ConsensusClient::Prysm(prysm) = &pos.settings.client;
    let image = |repository: &str| Image {
        repository: repository.to_string(),
        tag: prysm.version.clone(),
        pull_policy: PullPolicy::IfNotPresent,
    };
    ProofOfStakeValues {
        client: "prysm".into(),
        beacon_image: image(&prysm.beacon_image),
        validator_image: image(&prysm.validator_image),
        preset: pos.settings.preset.name().into(),
        fork: match pos.settings.fork {
            ForkAtGenesis::Electra => "electra".into(),
            ForkAtGenesis::Fulu => "fulu".into(),
        },
        genesis_time: pos.genesis_time,
        seconds_per_slot: pos.settings.seconds_per_slot,
        slots_per_epoch: pos.slots_per_epoch(),
        fee_recipient: pos.fee_recipient(),
        chain_config: pos.chain_config.clone(),
        large_objects: pos.placement,
        genesis_state: GenesisStateValues {
            sha256: sha256_hex(&pos.genesis_state.ssz),
            parts: pos
                .genesis_state_parts()
                .enumerate()
                .map(|(i, part)| GenesisStatePartValues {
                    config_map: genesis_state_config_map(network, i),
                    sha256: sha256_hex(part),
                    data: (pos.placement == Placement::Release)
                        .then(|| base64::engine::general_purpose::STANDARD.encode(part)),
                })
                .collect(),
        },
        genesis_validators_root: format!(
            "0x{}",
            hex::encode(pos.genesis_state.genesis_validators_root)
        ),
        execution_genesis_hash: format!("0x{}", hex::encode(pos.execution.block.block_hash)),
        ports: BeaconPorts {
            tcp: PRYSM_PORTS.tcp,
            udp: PRYSM_PORTS.udp,
            api: PRYSM_PORTS.api,
            grpc: PRYSM_PORTS.grpc,
            beacon_metrics: PRYSM_PORTS.beacon_metrics,
            validator_metrics: PRYSM_PORTS.validator_metrics,
        },
        engine_api_port: crate::plan::ENGINE_API_PORT,
        exits: Vec::new(),
        exits_beacon_node: None,
    }
}

/// The public values (no private key material) and the private ones.
pub fn build(plan: &Plan) -> (ChartValues, PrivateValues) {
    let cfg = &plan.config;
    let public = ChartValues {
        generation: String::new(),
        network: NetworkValues {
            name: cfg.network.name.clone(),
            chain_id: cfg.network.chain_id,
            network_id: plan.network_id,
            consensus: match plan.proof_of_stake {
                Some(_) => "proofOfStake".into(),
                None => "clique".into(),
            },
            clique_period: plan.period(),
        },
        image: ImageDefaults {
            repository: cfg.geth.image.clone(),
            pull_policy: cfg.geth.pull_policy,
        },
        image_pull_secrets: cfg
            .geth
            .image_pull_secrets
            .iter()
            .map(|n| NameRef { name: n.clone() })
            .collect(),
        genesis: GenesisValues {
            json: plan.genesis_json.clone(),
        },
        clique: plan.proof_of_stake.is_none().then(|| CliqueValues {
            signers: plan
                .all_nodes()
                .filter_map(|(_, n)| {
                    n.signer.as_ref().map(|s| SignerValues {
                        address: s.key.address().to_string(),
                        node: n.name.clone(),
                    })
                })
                .collect(),
        }),
        proof_of_stake: plan
            .proof_of_stake
            .as_ref()
            .map(|pos| proof_of_stake_values(&cfg.network.name, pos)),
        keystore: KeystoreValues {
            secret: cfg.keystore.secret,
        },
        node_groups: plan.groups.iter().map(|g| group_values(plan, g)).collect(),
        ethstats: ethstats_values(&cfg.monitoring.ethstats),
        metrics: metrics_values(&cfg.monitoring.metrics),
        network_policy: Toggle {
            enabled: cfg.network_policy.enabled,
        },
        rollout: rollout_values(&cfg.rollout),
        accounts: plan
            .accounts
            .iter()
            .map(|a| AccountValues {
                name: a.name.clone().unwrap_or_default(),
                address: a.address.to_string(),
                balance: a.balance_text.clone(),
            })
            .collect(),
        tests: Toggle {
            enabled: plan
                .groups
                .iter()
                .any(|g| g.config.rpc.as_ref().is_some_and(|r| r.http)),
        },
        cluster_domain: None,
        secrets: None,
    };
    let private = private_values(plan);
    (public, private)
}

/// The private values: every key and password, kept apart from the public
/// values so that file alone is safe to share.
fn private_values(plan: &Plan) -> PrivateValues {
    PrivateValues {
        secrets: SecretValues {
            generation: String::new(),
            node_keys: plan
                .all_nodes()
                .map(|(_, n)| (n.name.clone(), n.node_key.to_hex()))
                .collect(),
            signer_keystores: plan
                .all_nodes()
                .filter_map(|(_, n)| {
                    let ks = n.signer.as_ref()?.keystore.as_ref()?;
                    Some((
                        n.name.clone(),
                        KeystoreValue {
                            file_name: ks.file_name.clone(),
                            json: ks.json.clone(),
                        },
                    ))
                })
                .collect(),
            keystore_password: plan.keystore_password.clone(),
            ethstats_secret: plan.ethstats_secret.clone(),
            beacon: plan
                .proof_of_stake
                .iter()
                .flat_map(|pos| &pos.beacon_nodes)
                .map(|(node, b)| {
                    (
                        node.clone(),
                        BeaconSecretValues {
                            node_key: b.identity.p2p_priv_key_file(),
                            jwt_secret: hex::encode(b.jwt_secret),
                        },
                    )
                })
                .collect(),
            validator_wallets: plan
                .proof_of_stake
                .iter()
                .filter(|pos| pos.placement == Placement::Release)
                .flat_map(|pos| &pos.validator_clients)
                .map(|(node, v)| {
                    (
                        node.clone(),
                        ValidatorWalletValues {
                            password: v.wallet_password.clone(),
                            files: v
                                .wallet_files
                                .iter()
                                .map(|(path, bytes)| {
                                    (path.clone(), String::from_utf8_lossy(bytes).into_owned())
                                })
                                .collect(),
                        },
                    )
                })
                .collect(),
        },
    }
}

/// The name of a validator pod's keys Secret.
pub fn validator_keys_secret(node: &str) -> String {
    format!("{node}-validator-keys")
}

/// The name of the ConfigMap of the genesis state's part `index`.
pub fn genesis_state_config_map(network: &str, index: usize) -> String {
    format!("{network}-genesis-state-{index}")
}

/// SHA-256 as lowercase hex, as `sha256sum` prints it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The JSON Schema Helm checks values against (`chart/values.schema.json`).
pub fn json_schema() -> serde_json::Value {
    // A schema is plain JSON data: serializing it has no failure path.
    serde_json::to_value(schemars::schema_for!(ChartValues)).expect("a schema always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{plan_of, Keystores};

    /// The public values of a network with `signers` signers and a group `g` of
    /// `replicas` nodes with `role`.
    fn values_with(signers: u32, role: &str, replicas: u32) -> ChartValues {
        let text = format!(
            "network: {{name: n, chainId: 31337, consensus: {{clique: {{}}}}}}\n\
             nodes:\n  - {{name: signer, role: signer, replicas: {signers}}}\n  \
             - {{name: g, role: {role}, replicas: {replicas}}}\n"
        );
        build(&plan_of(&text, [7; 32], Keystores::Skip)).0
    }

    /// How many pods of a group a drain may take at once (None: no PDB, all of them).
    fn disruptions_allowed(g: &GroupValues) -> Option<u32> {
        let pdb = &g.pod_disruption_budget;
        pdb.enabled.then(|| {
            g.replicas
                .checked_sub(pdb.min_available)
                .expect("minAvailable <= replicas")
        })
    }

    #[test]
    fn a_non_signer_group_lets_a_drain_take_one_pod_at_a_time() {
        for role in ["rpc", "full", "bootnode"] {
            for replicas in 1..=4 {
                let v = values_with(3, role, replicas);
                let g = &v.node_groups[1];
                // One pod: no PDB (minAvailable 1 of 1 would block every drain);
                // more: minAvailable = replicas - 1, so a drain never waits forever.
                let want = if replicas == 1 { None } else { Some(1) };
                assert_eq!(disruptions_allowed(g), want, "{role} × {replicas}");
            }
        }
    }

    #[test]
    fn signer_pdb_keeps_a_clique_majority_and_allows_what_it_can_spare() {
        for signers in 1..=6 {
            let v = values_with(signers, "rpc", 1);
            let spare = signers - (signers / 2 + 1);
            assert_eq!(
                disruptions_allowed(&v.node_groups[0]),
                Some(spare),
                "{signers} signers"
            );
        }
    }

    #[test]
    fn signer_groups_together_never_spare_more_than_the_clique_can() {
        for shape in [[2u32, 2, 0], [2, 2, 1], [1, 1, 1], [3, 1, 0], [4, 4, 4]] {
            let mut text = String::from(
                "network: {name: n, chainId: 31337, consensus: {clique: {}}}\nnodes:\n",
            );
            for (i, r) in shape.iter().enumerate().filter(|(_, r)| **r > 0) {
                text += &format!("  - {{name: s{i}, role: signer, replicas: {r}}}\n");
            }
            let v = build(&plan_of(&text, [7; 32], Keystores::Skip)).0;
            let total: u32 = shape.iter().sum();
            let spare = total - (total / 2 + 1);
            let allowed: u32 = v
                .node_groups
                .iter()
                .map(|g| disruptions_allowed(g).unwrap())
                .sum();
            // Never more than a majority allows, and no drain blocked that it would allow.
            assert_eq!(allowed, spare, "signer groups {shape:?}");
        }
    }

    #[test]
    fn validator_pdbs_together_keep_more_than_two_thirds_of_the_stake() {
        // (replicas, validators per pod) of each validator group.
        for shape in [
            vec![(2u32, 4u32)],
            vec![(3, 4)],
            vec![(4, 16)],
            vec![(7, 1)],
            vec![(3, 8), (2, 4)],
            vec![(1, 32), (6, 2)],
            vec![(1, 1), (4, 4)],
        ] {
            check_validator_pdbs(&shape, &[]);
        }
        // Joining pods (replicas, validators per pod, genesisReplicas 0) spend the
        // genesis stake's spare as if active.
        check_validator_pdbs(&[(3, 16)], &[(1, 4)]);
        check_validator_pdbs(&[(2, 16), (1, 16)], &[(1, 4)]);
        check_validator_pdbs(&[(4, 8)], &[(2, 8)]);
    }

    /// The drains' budgets leave more than two thirds of the genesis stake up
    /// (joining pods counted down when drained), and spare all they can.
    fn check_validator_pdbs(genesis: &[(u32, u32)], joining: &[(u32, u32)]) {
        let shape: Vec<(u32, u32)> = genesis.iter().chain(joining).copied().collect();
        let mut text = String::from(
            "network: {name: n, chainId: 31337, genesisTimestamp: 1798761600, \
             consensus: {proofOfStake: {preset: minimal, client: {prysm: {beaconImage: example.com/prysm-minimal/beacon-chain, validatorImage: example.com/prysm-minimal/validator}}}}}\ngeth: {version: v1.17.10}\nnodes:\n",
        );
        for (i, (replicas, per_pod)) in shape.iter().enumerate() {
            let joins = if i >= genesis.len() {
                ", genesisReplicas: 0"
            } else {
                ""
            };
            text += &format!(
                "  - {{name: v{i}, role: validator, replicas: {replicas}, validatorsPerPod: {per_pod}{joins}}}\n"
            );
        }
        let v = build(&plan_of(&text, [7; 32], Keystores::Skip)).0;
        let total: u32 = genesis.iter().map(|(r, p)| r * p).sum();
        let allowed: Vec<u32> = v
            .node_groups
            .iter()
            .map(|g| disruptions_allowed(g).unwrap_or(g.replicas))
            .collect();
        let down: u32 = allowed.iter().zip(&shape).map(|(a, (_, p))| a * p).sum();
        // What the drains may take together leaves more than two thirds up ...
        assert!(3 * (total - down) > 2 * total, "{shape:?}: {allowed:?}");
        // ... and one more pod of any group that still has one up would not.
        for (a, (replicas, per_pod)) in allowed.iter().zip(&shape) {
            if a < replicas {
                assert!(
                    3 * (total - down - per_pod) <= 2 * total,
                    "{shape:?}: {allowed:?} spares too little"
                );
            }
        }
    }

    #[test]
    fn image_split() {
        assert_eq!(split_image("a/b:c"), ("a/b".into(), "c".into()));
        assert_eq!(
            split_image("reg:5000/a/b:c"),
            ("reg:5000/a/b".into(), "c".into())
        );
        assert_eq!(
            split_image("reg:5000/a"),
            ("reg:5000/a".into(), "latest".into())
        );
    }
}
