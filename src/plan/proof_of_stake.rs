//! The proof-of-stake part of the plan: which pod holds which validator, the
//! execution and beacon genesis, the consensus config, each pod's beacon identity
//! and engine-API secret, and the signed deposits of validators that join a
//! running network. Pure: the same inputs give the same bytes.

use crate::release::{Placement, GENESIS_STATE_PART_BYTES};
use std::collections::BTreeMap;
use std::io::Write as _;

use rayon::prelude::*;
use ruint::aliases::U256;

use crate::check::{CheckedNetwork, CheckedProofOfStake};
use crate::config::{ForkAtGenesis, Kdf, NetworkFile, ProofOfStake, Role};
use crate::consensus::bls::{
    BlsPublicKey, KeyPath, Seed, ValidatorSecretKey, WithdrawalCredentials,
};
use crate::consensus::chain_config::{ChainConfig, DEFAULT_ETH1_FOLLOW_DISTANCE};
use crate::consensus::deposit::{sign_deposit, SignedDeposit};
use crate::consensus::fork::{BlobSchedule, Fork, ForkSchedule};
use crate::consensus::identity::{BeaconIdentity, EnrFields, P2pPorts};
use crate::consensus::keystore::Kdf as KeystoreKdf;
use crate::consensus::prysm_wallet;
use crate::consensus::state::{self, GenesisState, GenesisValidator};
use crate::execution::crypto::{Address, PrivateKey};
use crate::execution::pos_genesis::{self, ExecutionGenesis, PosFork, PosGenesisInput};
use crate::names;
use crate::secrets::MasterSecret;

use super::{Keystores, Progress};

/// Prysm's default P2P ports: TCP (libp2p), UDP (discovery v5). The beacon nodes
/// run libp2p over TCP only (`--disable-quic`), so their records carry no QUIC port.
pub const BEACON_TCP_PORT: u16 = 13000;
pub const BEACON_UDP_PORT: u16 = 12000;
/// The beacon node's REST API (readiness, users, tools).
pub const BEACON_API_PORT: u16 = 3500;
/// The beacon node's gRPC API, on the pod's localhost for its validator client.
pub const BEACON_GRPC_PORT: u16 = 4000;
/// Prometheus metrics of the beacon node and of the validator client (Prysm's defaults).
pub const BEACON_METRICS_PORT: u16 = 8080;
pub const VALIDATOR_METRICS_PORT: u16 = 8081;

/// Derivation labels of the consensus layer's secrets.
mod label {
    pub fn validator_seed(group: &str, ordinal: u32) -> String {
        format!("validator-seed/{group}/{ordinal}")
    }
    pub fn wallet(group: &str, ordinal: u32) -> String {
        format!("validator-wallet/{group}/{ordinal}")
    }
    pub fn wallet_password(group: &str, ordinal: u32) -> String {
        format!("validator-wallet-password/{group}/{ordinal}")
    }
    pub fn beacon_node_key(group: &str, ordinal: u32) -> String {
        format!("beacon-nodekey/{group}/{ordinal}")
    }
    pub fn jwt(group: &str, ordinal: u32) -> String {
        format!("jwt/{group}/{ordinal}")
    }
}

/// Where validator keys come from.
pub enum ValidatorSeeds<'a> {
    /// One EIP-2333 tree per pod, seeded from the master secret with the pod's
    /// label: adding pods or validators never changes an existing key.
    PerPod(&'a MasterSecret),
    /// The user's BIP-39 mnemonic: EIP-2334 indices in file order, as deposit
    /// tools number them.
    Mnemonic(&'a Seed),
}

/// One validator: in the genesis, or joining by deposit.
pub struct ValidatorPlan {
    /// Index in the genesis registry (file order: group, pod, slot in the pod);
    /// none for a validator that joins by deposit (the chain numbers it then).
    pub index: Option<u64>,
    /// The pod holding the key (exactly one).
    pub node: String,
    /// EIP-2334 signing-key path within the pod's tree or the mnemonic's.
    pub path: KeyPath,
    pub pubkey: BlsPublicKey,
    pub withdrawal_credentials: WithdrawalCredentials,
}

/// A deposit that brings a joining validator in.
pub struct DepositPlan {
    /// The pod whose validator client holds the key.
    pub node: String,
    pub deposit: SignedDeposit,
}

/// The consensus side of one pod.
pub struct BeaconNodePlan {
    pub identity: BeaconIdentity,
    /// The node's P2P key (hex for Prysm's `--p2p-priv-key`).
    pub key: PrivateKey,
    pub enr: String,
    /// The engine-API secret this pod's geth and beacon node share.
    pub jwt_secret: [u8; 32],
}

/// A validator pod's wallet: the files Prysm's validator client loads.
pub struct ValidatorClientPlan {
    pub wallet_password: String,
    /// Path under `--wallet-dir` → bytes; empty when keystores are skipped.
    pub wallet_files: BTreeMap<String, Vec<u8>>,
}

pub struct ProofOfStakePlan {
    pub settings: ProofOfStake,
    /// The consensus config's `CONFIG_NAME`.
    pub config_name: String,
    /// Where the deposit contract is, in the execution genesis.
    pub deposit_contract: Address,
    /// Read through [`Self::fee_recipient`], in the form the clients take.
    fee_recipient: Address,
    pub genesis_time: u64,
    pub execution: ExecutionGenesis,
    pub schedule: ForkSchedule,
    /// `config.yaml` of the consensus clients.
    pub chain_config: String,
    pub genesis_state: GenesisState,
    /// `genesis.ssz`, gzipped (a mainnet-preset state is larger than a ConfigMap).
    pub genesis_state_gz: Vec<u8>,
    /// Where the genesis state and the wallets live (`largeObjects`, resolved).
    pub placement: Placement,
    /// Genesis validators in registry order, then the joining ones in file order.
    pub validators: Vec<ValidatorPlan>,
    /// The joining validators' deposits, in file order (group, pod, slot in the pod).
    pub deposits: Vec<DepositPlan>,
    /// By node name.
    pub beacon_nodes: BTreeMap<String, BeaconNodePlan>,
    /// By node name, validator pods only.
    pub validator_clients: BTreeMap<String, ValidatorClientPlan>,
}

impl ProofOfStakePlan {
    /// The fee recipient in its EIP-55 form, as both Prysm clients' flags carry it.
    pub fn fee_recipient(&self) -> String {
        self.fee_recipient.to_string()
    }

    pub fn slots_per_epoch(&self) -> u64 {
        self.settings.preset.slots_per_epoch()
    }

    /// The joining validators' deposits as a `deposit_data-*.json` file, for
    /// other deposit tools; none when every validator is in the genesis.
    pub fn deposit_data_json(&self) -> Option<String> {
        if self.deposits.is_empty() {
            return None;
        }
        let version = self.schedule.version(Fork::Phase0);
        let entries: Vec<serde_json::Value> = self
            .deposits
            .iter()
            .map(|d| d.deposit.deposit_data_entry(version, &self.config_name))
            .collect();
        // A Vec of JSON values always serializes.
        Some(serde_json::to_string_pretty(&entries).expect("JSON values serialize") + "\n")
    }

    /// The gzipped genesis state in the parts the ConfigMaps hold, in order.
    pub fn genesis_state_parts(&self) -> std::slice::Chunks<'_, u8> {
        self.genesis_state_gz.chunks(GENESIS_STATE_PART_BYTES)
    }
}

/// A validator pod and its place in the genesis registry.
struct Pod {
    group: String,
    ordinal: u32,
    node: String,
    /// The registry index of its first validator; none for a pod that joins by
    /// deposit.
    first_index: Option<u64>,
    /// From a mnemonic, the EIP-2334 index of its first validator: file order,
    /// every pod counted.
    first_key_index: u64,
    count: u32,
    /// The pod runs (its ordinal is below `replicas`); a genesis pod that left
    /// (its validators exited) still has its validators in the genesis state.
    running: bool,
}

fn validator_pods(config: &NetworkFile) -> Vec<Pod> {
    let mut pods = Vec::new();
    let (mut next, mut next_key) = (0u64, 0u64);
    for g in config.nodes.iter().filter(|g| g.role == Role::Validator) {
        let count = g.validators_per_pod.unwrap_or(0);
        for ordinal in 0..g.replicas.max(g.genesis_replica_count()) {
            let genesis = ordinal < g.genesis_replica_count();
            pods.push(Pod {
                group: g.name.clone(),
                ordinal,
                node: names::node(&config.network.name, &g.name, ordinal),
                first_index: genesis.then_some(next),
                first_key_index: next_key,
                count,
                running: ordinal < g.replicas,
            });
            if genesis {
                next += u64::from(count);
            }
            next_key += u64::from(count);
        }
    }
    pods
}

/// The signing keys of the validators a pod holds (`count` of them), derived from the
/// master secret as [`build`] derives every pod's (label `validator-seed/{group}/{ordinal}`,
/// EIP-2334 indices from 0): for the exits of pods that leave, which the plan no longer has.
pub fn pod_signing_keys(
    secret: &MasterSecret,
    group: &str,
    ordinal: u32,
    count: u32,
) -> Vec<ValidatorSecretKey> {
    let seed = Seed::from_bytes(secret.derive_bytes(&label::validator_seed(group, ordinal)));
    let tree = seed.validators();
    (0..count).map(|j| tree.validator(j).signing).collect()
}

/// A pod's validator keys in registry order: the secret keys for its wallet, and
/// the public part for the registry.
struct PodKeys {
    secret_keys: Vec<ValidatorSecretKey>,
    public: Vec<(KeyPath, BlsPublicKey, WithdrawalCredentials)>,
}

fn pod_keys(
    pod: &Pod,
    seeds: &ValidatorSeeds,
    withdrawal: Option<&WithdrawalCredentials>,
) -> PodKeys {
    let pod_seed;
    let (seed, first) = match seeds {
        ValidatorSeeds::PerPod(secret) => {
            pod_seed = Seed::from_bytes(
                secret.derive_bytes(&label::validator_seed(&pod.group, pod.ordinal)),
            );
            (&pod_seed, 0u64)
        }
        ValidatorSeeds::Mnemonic(seed) => (*seed, pod.first_key_index),
    };
    let tree = seed.validators();
    let mut keys = PodKeys {
        secret_keys: Vec::with_capacity(pod.count as usize),
        public: Vec::with_capacity(pod.count as usize),
    };
    for j in 0..u64::from(pod.count) {
        // The checks bound the registry far below 2^32 validators.
        let index = u32::try_from(first + j).expect("validator index fits EIP-2334");
        let v = tree.validator(index);
        let creds = match withdrawal {
            Some(c) => *c,
            None => WithdrawalCredentials::bls(&v.withdrawal_pubkey()),
        };
        keys.public
            .push((v.signing_path(), v.signing.public_key(), creds));
        keys.secret_keys.push(v.signing);
    }
    keys
}

fn schedule(config: &NetworkFile, settings: &ProofOfStake) -> ForkSchedule {
    ForkSchedule {
        chain_id: config.network.chain_id,
        genesis_fork: settings.fork,
        blob_schedule: match settings.fork {
            ForkAtGenesis::Fulu => BlobSchedule::mainnet_bpos(0, 0),
            ForkAtGenesis::Electra => BlobSchedule::default(),
        },
        max_blobs_per_block_electra: pos_genesis::PRAGUE_BLOBS.max,
    }
}

/// Gzip with a fixed header (no name, no time), so the bytes depend on the state only.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    encoder.write_all(bytes).expect("in-memory write");
    encoder.finish().expect("in-memory write")
}

/// Builds the proof-of-stake plan. `alloc` is the execution premine (accounts).
pub fn build(
    network: &CheckedNetwork,
    pos: &CheckedProofOfStake,
    secret: &MasterSecret,
    mnemonic: Option<&Seed>,
    alloc: &[(Address, U256)],
    keystores: Keystores,
    progress: Progress,
) -> ProofOfStakePlan {
    let config = network.file();
    let seeds = match mnemonic {
        Some(seed) => ValidatorSeeds::Mnemonic(seed),
        None => ValidatorSeeds::PerPod(secret),
    };
    // Keys, pod by pod in parallel (derivation is the slow part of large networks).
    let pods = validator_pods(config);
    let keyed: Vec<PodKeys> = pods
        .par_iter()
        .map(|pod| pod_keys(pod, &seeds, pos.withdrawal.as_ref()))
        .collect();
    // The execution genesis, then the beacon state that embeds its block.
    let execution = execution_genesis(config, pos, alloc);
    let schedule = schedule(config, &pos.settings);
    let genesis_keys: Vec<&PodKeys> = pods
        .iter()
        .zip(&keyed)
        .filter(|(pod, _)| pod.first_index.is_some())
        .map(|(_, keys)| keys)
        .collect();
    let genesis_state = genesis_state(pos, &schedule, &genesis_keys, &execution);
    let validator_count = genesis_keys.iter().map(|k| k.public.len() as u64).sum();
    let chain_config = ChainConfig {
        preset: pos.settings.preset,
        name: pos.config_name.clone(),
        schedule: schedule.clone(),
        validator_count,
        genesis_time: pos.genesis_time,
        slot: pos.slot,
        deposit_contract: pos.deposit_contract,
        eth1_follow_distance: DEFAULT_ETH1_FOLLOW_DISTANCE,
        shard_committee_period: pos.settings.shard_committee_period,
    }
    .render()
    .expect("the checks require a validator, and the spec keys are the presets' own");
    ProofOfStakePlan {
        settings: pos.settings.clone(),
        config_name: pos.config_name.as_str().to_string(),
        deposit_contract: pos.deposit_contract,
        fee_recipient: pos.fee_recipient,
        genesis_time: pos.genesis_time,
        beacon_nodes: beacon_nodes(config, secret, &schedule, &genesis_state),
        validator_clients: wallets(config, secret, &pods, &keyed, keystores, progress),
        deposits: deposits(pos, &schedule, &pods, &keyed),
        validators: validators(&pods, keyed),
        execution,
        schedule,
        chain_config,
        genesis_state_gz: gzip(&genesis_state.ssz),
        genesis_state,
        placement: crate::release::placement(config, &pos.settings),
    }
}

/// The execution layer's genesis: the premine, with the system contracts and the
/// deposit contract in place.
fn execution_genesis(
    config: &NetworkFile,
    pos: &CheckedProofOfStake,
    alloc: &[(Address, U256)],
) -> ExecutionGenesis {
    pos_genesis::pos_genesis(&PosGenesisInput {
        fork: match pos.settings.fork {
            ForkAtGenesis::Electra => PosFork::Prague,
            ForkAtGenesis::Fulu => PosFork::Osaka,
        },
        gas_limit: config.network.gas_limit,
        deposit_contract_address: pos.deposit_contract,
        ..PosGenesisInput::new(config.network.chain_id, pos.genesis_time, alloc)
    })
    .expect("checked: chain id, gas limit and premine addresses")
}

/// The beacon chain's genesis state: the genesis pods' validators, in registry
/// order, over the execution genesis block.
fn genesis_state(
    pos: &CheckedProofOfStake,
    schedule: &ForkSchedule,
    keyed: &[&PodKeys],
    execution: &ExecutionGenesis,
) -> GenesisState {
    let genesis_fork = match pos.settings.fork {
        ForkAtGenesis::Electra => Fork::Electra,
        ForkAtGenesis::Fulu => Fork::Fulu,
    };
    let previous_fork = Fork::ALL[usize::from(genesis_fork.index()) - 1];
    let validators: Vec<GenesisValidator> = keyed
        .iter()
        .flat_map(|k| &k.public)
        .map(|(_, pubkey, creds)| GenesisValidator {
            pubkey: pubkey.0,
            withdrawal_credentials: *creds.as_bytes(),
            balance_gwei: pos.validator_balance_gwei,
        })
        .collect();
    state::build(&state::GenesisStateInput {
        preset: pos.settings.preset,
        fork: pos.settings.fork,
        genesis_time: pos.genesis_time,
        previous_fork_version: schedule.version(previous_fork).0,
        current_fork_version: schedule.version(genesis_fork).0,
        validators: &validators,
        execution_block: &execution.block,
    })
    .expect("checked: validators with valid keys and the activation balance")
}

/// Validator pods: one Prysm wallet each, holding exactly that pod's keys, by
/// node name; wallets are encrypted in parallel.
fn wallets(
    config: &NetworkFile,
    secret: &MasterSecret,
    pods: &[Pod],
    keyed: &[PodKeys],
    keystores: Keystores,
    progress: Progress,
) -> BTreeMap<String, ValidatorClientPlan> {
    let keystore_kdf = match config.keystore.kdf {
        Kdf::Standard => KeystoreKdf::STANDARD,
        Kdf::Light => KeystoreKdf::LIGHT,
    };
    let wallets: Vec<(String, ValidatorClientPlan)> = pods
        .par_iter()
        .zip(keyed.par_iter())
        .filter(|(pod, _)| pod.running)
        .map(|(pod, keys)| {
            let password = secret.derive_token(&label::wallet_password(&pod.group, pod.ordinal));
            let wallet_files = if keystores == Keystores::Derive {
                let nonces = secret.keystore_nonces(&label::wallet(&pod.group, pod.ordinal));
                let files =
                    prysm_wallet::wallet_files(&keys.secret_keys, &password, keystore_kdf, &nonces)
                        .expect("a derived token is a valid wallet password");
                progress();
                files
            } else {
                BTreeMap::new()
            };
            (
                pod.node.clone(),
                ValidatorClientPlan {
                    wallet_password: password,
                    wallet_files,
                },
            )
        })
        .collect();
    wallets.into_iter().collect()
}

/// Every pod's beacon node: its identity, record and engine-API secret, by node name.
fn beacon_nodes(
    config: &NetworkFile,
    secret: &MasterSecret,
    schedule: &ForkSchedule,
    genesis_state: &GenesisState,
) -> BTreeMap<String, BeaconNodePlan> {
    let gvr = genesis_state.genesis_validators_root;
    let fulu = schedule.genesis_fork == ForkAtGenesis::Fulu;
    config
        .nodes
        .iter()
        .flat_map(|g| (0..g.replicas).map(move |o| (g, o)))
        .map(|(g, o)| {
            let key = secret.derive_key(&label::beacon_node_key(&g.name, o));
            let identity = BeaconIdentity::new(&key).expect("a derived key is a valid identity");
            let enr = identity
                .enr(&EnrFields {
                    ports: P2pPorts {
                        tcp: BEACON_TCP_PORT,
                        udp: BEACON_UDP_PORT,
                        quic: None,
                    },
                    ip: None,
                    fork_id: schedule.enr_fork_id(&gvr, 0),
                    next_fork_digest: fulu.then(|| schedule.next_fork_digest(&gvr, 0)),
                    custody_group_count: fulu.then_some(4),
                })
                .expect("an ENR of fixed fields fits its size limit");
            (
                names::node(&config.network.name, &g.name, o),
                BeaconNodePlan {
                    identity,
                    key,
                    enr,
                    jwt_secret: secret.derive_bytes(&label::jwt(&g.name, o)),
                },
            )
        })
        .collect()
}

/// The joining pods' deposits: each validator's balance, signed under the
/// network's deposit domain (its genesis fork version), in parallel.
fn deposits(
    pos: &CheckedProofOfStake,
    schedule: &ForkSchedule,
    pods: &[Pod],
    keyed: &[PodKeys],
) -> Vec<DepositPlan> {
    let genesis_fork_version = schedule.version(Fork::Phase0);
    let per_pod: Vec<Vec<DepositPlan>> = pods
        .par_iter()
        .zip(keyed.par_iter())
        .filter(|(pod, _)| pod.first_index.is_none())
        .map(|(pod, keys)| {
            keys.secret_keys
                .iter()
                .zip(&keys.public)
                .map(|(key, (_, _, creds))| DepositPlan {
                    node: pod.node.clone(),
                    deposit: sign_deposit(
                        key,
                        *creds.as_bytes(),
                        pos.validator_balance_gwei,
                        genesis_fork_version,
                    ),
                })
                .collect()
        })
        .collect();
    per_pod.into_iter().flatten().collect()
}

/// Every validator a running pod holds, each with its pod: the genesis ones in
/// registry order (without those of genesis pods that left), then the joining ones.
fn validators(pods: &[Pod], keyed: Vec<PodKeys>) -> Vec<ValidatorPlan> {
    let mut all: Vec<ValidatorPlan> = pods
        .iter()
        .zip(keyed)
        .filter(|(pod, _)| pod.running)
        .flat_map(|(pod, keys)| {
            keys.public
                .into_iter()
                .enumerate()
                .map(move |(j, (path, pubkey, creds))| ValidatorPlan {
                    index: pod.first_index.map(|first| first + j as u64),
                    node: pod.node.clone(),
                    path,
                    pubkey,
                    withdrawal_credentials: creds,
                })
        })
        .collect();
    // Stable: the joining ones keep file order.
    all.sort_by_key(|v| v.index.is_none());
    all
}

/// The number of wallets `build` encrypts (for sizing a progress bar).
pub fn wallet_count(config: &NetworkFile) -> u64 {
    config
        .nodes
        .iter()
        .filter(|g| g.role == Role::Validator)
        .map(|g| u64::from(g.replicas))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{plan_of, Keystores};

    /// Every proof-of-stake derivation label, pinned like the execution layer's
    /// (`plan::tests::derivation_labels_have_known_answers`): HKDF-SHA256 of the
    /// secret 0x00…0x1f, computed independently with Python's hmac/hashlib; the
    /// validator keys from that seed with ethstaker-deposit and py_ecc.
    #[test]
    fn derivation_labels_have_known_answers() {
        let plan = plan_of(
            "network: {name: kat, chainId: 31337, genesisTimestamp: 1798761600,\n  \
             consensus: {proofOfStake: {preset: minimal, client: {prysm: {beaconImage: example.com/prysm-minimal/beacon-chain, validatorImage: example.com/prysm-minimal/validator}}}}}\n\
             geth: {version: v1.17.10}\n\
             nodes:\n  - {name: val, role: validator, validatorsPerPod: 2}\n  - {name: rpc, role: rpc}\n\
             keystore: {kdf: light}\n",
            std::array::from_fn(|i| i as u8),
            Keystores::Derive,
        );
        let pos = plan.proof_of_stake.as_ref().unwrap();
        // validator-seed/val/0 = 79cd8a6b…09f59812: its EIP-2334 keys 0 and 1, and
        // the BLS withdrawal credentials of key 0's withdrawal key.
        assert_eq!(
            pos.validators[0].pubkey.to_hex(),
            "b0da0fb10bb2b103e0948f7e79afe84d6c50b3b49ab0f27bb84478b15107ab39168b00ad3c2048eb353d75f120bfe347",
            "label validator-seed/val/0, m/12381/3600/0/0/0"
        );
        assert_eq!(
            pos.validators[1].pubkey.to_hex(),
            "a1620c72627240b395b9a1d59a69004b39057d1f68ba88ff409d13c069feae164ac36c8ac09aa8fa75acfc67e23a06db",
            "label validator-seed/val/0, m/12381/3600/1/0/0"
        );
        assert_eq!(
            pos.validators[0].withdrawal_credentials.to_hex(),
            "0x00287482b469503ce31d9daff607918649c00800d6fd94106ecfa9db4a0c5cf2",
            "m/12381/3600/0/0 of validator-seed/val/0"
        );
        let val = &pos.beacon_nodes["kat-val-0"];
        assert_eq!(
            val.key.to_hex(),
            "b3ab5274f3f6291143215bb87ecf0783f6eaa2c1fb33c539e0f566efba425da4",
            "label beacon-nodekey/val/0"
        );
        assert_eq!(
            hex::encode(val.jwt_secret),
            "cad0e5d96fed11486f49d721f9db7014ec5523fad9087cc918f71e15a3356d73",
            "label jwt/val/0"
        );
        assert_eq!(
            hex::encode(pos.beacon_nodes["kat-rpc-0"].jwt_secret),
            "5c43bb71ffecf734e41ab8624fdd27fc31318b1b17f3a217c3bd7c31bf7289fc",
            "label jwt/rpc/0"
        );
        let wallet = &pos.validator_clients["kat-val-0"];
        assert_eq!(
            wallet.wallet_password, "591ac18fca5820bd696ad0e4762649e4",
            "label validator-wallet-password/val/0"
        );
        let file = &wallet.wallet_files[prysm_wallet::ACCOUNTS_KEYSTORE_PATH];
        let v: serde_json::Value = serde_json::from_slice(file).unwrap();
        assert_eq!(
            v["crypto"]["kdf"]["params"]["salt"],
            "f37c2d0f1bab84b0855bc00564fa769b9747eb1d6215948f184588d19ad7083b",
            "label validator-wallet/val/0/keystore-salt"
        );
        assert_eq!(
            v["crypto"]["cipher"]["params"]["iv"], "18616d7c2ab01de765b1cbcd7a43ad1e",
            "label validator-wallet/val/0/keystore-iv"
        );
        assert!(
            !pos.validator_clients.contains_key("kat-rpc-0"),
            "an rpc pod holds no validator"
        );
        // The keys of a pod that leaves derive as the plan derived them.
        let secret = MasterSecret::from_bytes(std::array::from_fn(|i| i as u8));
        let keys = pod_signing_keys(&secret, "val", 0, 2);
        assert_eq!(keys.len(), 2);
        for (k, v) in keys.iter().zip(&pos.validators) {
            assert_eq!(k.public_key(), v.pubkey);
        }
        assert_ne!(
            pod_signing_keys(&secret, "val", 1, 1)[0].public_key(),
            pos.validators[0].pubkey
        );
    }
}
