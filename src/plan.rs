//! The network plan: every identity, key and text the outputs need, derived purely
//! from the checked network (see [`CheckedNetwork`]), the master secret and any
//! brought keys.

use std::collections::BTreeMap;

use rayon::prelude::*;
use ruint::aliases::U256;

use crate::check::{AccountKey, CheckedConsensus, CheckedNetwork};
use crate::config::{Consensus, Kdf, NetworkFile, NodeGroup, PullPolicy, Role};
use crate::execution::crypto::{Address, PrivateKey};
use crate::execution::genesis::{genesis_json, GenesisInput};
use crate::execution::geth::{self, GethVersion, HttpInput, Release, TomlInput};
use crate::execution::keystore::{self, ScryptParams};
use crate::names;
use crate::secrets::MasterSecret;

pub mod proof_of_stake;

/// Keys the user brought instead of letting them be derived.
#[derive(Default)]
pub struct BroughtKeys {
    /// By (group name, ordinal).
    pub node_keys: BTreeMap<(String, u32), PrivateKey>,
    /// By account name: the key, the keystore text as brought, its password.
    pub accounts: BTreeMap<String, BroughtAccount>,
    /// The seed of the validators' BIP-39 mnemonic (`mnemonicFile`).
    pub validator_mnemonic: Option<crate::consensus::bls::Seed>,
}

pub struct BroughtAccount {
    pub key: PrivateKey,
    pub keystore_json: String,
    pub password: String,
}

pub struct Plan {
    pub config: NetworkFile,
    pub network_id: u64,
    pub groups: Vec<GroupPlan>,
    pub accounts: Vec<AccountPlan>,
    pub genesis_json: String,
    /// The password of every signer keystore.
    pub keystore_password: String,
    pub ethstats_secret: String,
    /// Validators, genesis state, consensus config and beacon identities.
    pub proof_of_stake: Option<proof_of_stake::ProofOfStakePlan>,
}

pub struct GroupPlan {
    pub config: NodeGroup,
    pub version: GethVersion,
    /// geth's memory limit in bytes, which sizes its cache.
    pub geth_memory_limit: u64,
    pub image: String,
    pub pull_policy: PullPolicy,
    pub verbosity: u8,
    pub extra_flags: Vec<String>,
    pub nodes: Vec<NodePlan>,
}

pub struct NodePlan {
    pub name: String,
    pub ordinal: u32,
    pub node_key: PrivateKey,
    pub signer: Option<SignerPlan>,
}

pub struct SignerPlan {
    pub key: PrivateKey,
    /// `None` when the plan was built without keystores (`Keystores::Skip`).
    pub keystore: Option<KeystoreFile>,
}

/// Whether to derive keystores: slow with the standard KDF, and not needed to
/// list identities (`inspect`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keystores {
    Derive,
    Skip,
}

#[derive(Clone)]
pub struct KeystoreFile {
    pub file_name: String,
    pub json: String,
}

pub struct AccountPlan {
    pub name: Option<String>,
    pub address: Address,
    pub balance_wei: U256,
    /// The balance as the user wrote it (for messages and NOTES).
    pub balance_text: String,
    /// Generated or brought accounts: the keystore and its password.
    pub keystore: Option<(KeystoreFile, String)>,
    /// Generated or brought accounts: the key, which signs the deposits the
    /// `deposit` command sends. None for an outside address.
    pub key: Option<PrivateKey>,
}

/// Where each node is reached, for enode URLs and the TOML.
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

/// How a node's files are laid out, for the TOML and flags.
pub struct Layout<'a> {
    pub data_dir: &'a str,
    pub paths: geth::FlagPaths<'a>,
    /// `Some(url)` writes `[Ethstats] URL`.
    pub ethstats_url: Option<String>,
    /// The P2P port this node listens on, when it is not its group's (several
    /// nodes on one host).
    pub listen_port: Option<u16>,
    /// The address every listener binds to, when not every interface (several
    /// nodes on one host, one address each).
    pub bind_host: Option<&'a str>,
    /// The Kubernetes namespace of the Services (or its placeholder), for the
    /// namespaced names clients may reach RPC under; `None` outside Kubernetes.
    pub namespace: Option<&'a str>,
}

/// Placeholders the chart's init step replaces (pod name, ethstats secret), so the
/// TOML in the public values carries no secret and one text serves every pod.
pub const NODE_NAME_PLACEHOLDER: &str = "__NODE_NAME__";
pub const ETHSTATS_SECRET_PLACEHOLDER: &str = "__ETHSTATS_SECRET__";
/// Replaced by the chart with the release namespace and the cluster's DNS domain.
pub const NAMESPACE_PLACEHOLDER: &str = "__NAMESPACE__";
pub const CLUSTER_DOMAIN_PLACEHOLDER: &str = "__CLUSTER_DOMAIN__";
pub const ETHSTATS_PORT: u16 = 3000;
/// geth's engine API port (its default), where the pod's beacon node connects.
pub const ENGINE_API_PORT: u16 = 8551;

impl Plan {
    pub fn all_nodes(&self) -> impl Iterator<Item = (&GroupPlan, &NodePlan)> {
        self.groups
            .iter()
            .flat_map(|g| g.nodes.iter().map(move |n| (g, n)))
    }

    /// The proof-of-stake settings, when the network runs proof of stake.
    pub fn proof_of_stake(&self) -> Option<&crate::config::ProofOfStake> {
        match &self.config.network.consensus {
            Consensus::ProofOfStake(p) => Some(p),
            Consensus::Clique(_) => None,
        }
    }

    pub fn period(&self) -> u64 {
        match &self.config.network.consensus {
            Consensus::Clique(c) => c.period,
            Consensus::ProofOfStake(p) => p.seconds_per_slot,
        }
    }

    /// Enodes of the nodes every node keeps connected to: signers and bootnodes.
    pub fn static_enodes(
        &self,
        endpoint: &dyn Fn(&GroupPlan, &NodePlan) -> Endpoint,
    ) -> Vec<String> {
        self.enodes_where(endpoint, |g| g.config.role.has_stable_identity())
    }

    pub fn bootnode_enodes(
        &self,
        endpoint: &dyn Fn(&GroupPlan, &NodePlan) -> Endpoint,
    ) -> Vec<String> {
        self.enodes_where(endpoint, |g| g.config.role == Role::Bootnode)
    }

    fn enodes_where(
        &self,
        endpoint: &dyn Fn(&GroupPlan, &NodePlan) -> Endpoint,
        keep: impl Fn(&GroupPlan) -> bool,
    ) -> Vec<String> {
        self.all_nodes()
            .filter(|(g, _)| keep(g))
            .map(|(g, n)| {
                let e = endpoint(g, n);
                n.node_key.public_key().enode(&e.host, e.port, e.port)
            })
            .collect()
    }

    /// In the cluster a node is reached by its own Service, named like the pod.
    pub fn service_endpoint(g: &GroupPlan, n: &NodePlan) -> Endpoint {
        Endpoint {
            host: n.name.clone(),
            port: g.config.p2p_port,
        }
    }

    /// Host names a client may use for a group's RPC: localhost, its Service's
    /// names (short, and in `namespace`: `.ns`, `.ns.svc`, `.ns.svc.<cluster domain>`),
    /// the Ingress host and the user's own. geth matches them exactly.
    pub fn rpc_vhosts(&self, g: &GroupPlan, namespace: Option<&str>) -> Vec<String> {
        let service = names::rpc_service(&self.config.network.name, &g.config.name);
        let mut hosts = vec!["localhost".to_string(), service.clone()];
        if let Some(ns) = namespace {
            let domain = format!(".svc.{CLUSTER_DOMAIN_PLACEHOLDER}");
            for suffix in ["", ".svc", &domain] {
                hosts.push(format!("{service}.{ns}{suffix}"));
            }
        }
        if let Some(rpc) = &g.config.rpc {
            if rpc.ingress.enabled {
                hosts.push(rpc.ingress.host.clone());
            }
            hosts.extend(rpc.vhosts.iter().cloned());
        }
        hosts.dedup();
        hosts
    }

    /// The geth TOML of a group.
    pub fn toml(
        &self,
        g: &GroupPlan,
        layout: &Layout,
        endpoint: &dyn Fn(&GroupPlan, &NodePlan) -> Endpoint,
    ) -> String {
        let statics = self.static_enodes(endpoint);
        let boots = self.bootnode_enodes(endpoint);
        let rpc = g.config.rpc.as_ref();
        let modules = || {
            rpc.map(|r| r.api.iter().map(|a| a.as_str()).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let vhosts = self.rpc_vhosts(g, layout.namespace);
        geth::toml(&TomlInput {
            release: Release { version: g.version },
            network_id: self.network_id,
            gas_limit: self.config.network.gas_limit,
            data_dir: layout.data_dir,
            http: rpc.filter(|r| r.http).map(|r| HttpInput {
                port: r.http_port,
                modules: modules(),
                origins: &r.cors,
                vhosts: vhosts.clone(),
            }),
            ws: rpc.filter(|r| r.ws).map(|r| HttpInput {
                port: r.ws_port,
                modules: modules(),
                origins: &r.cors,
                vhosts: Vec::new(),
            }),
            p2p_port: layout.listen_port.unwrap_or(g.config.p2p_port),
            max_peers: g.config.max_peers,
            bootstrap_nodes: &boots,
            static_nodes: &statics,
            ethstats_url: layout.ethstats_url.clone(),
            bind_host: layout.bind_host,
            engine_api: self.proof_of_stake().map(|_| geth::EngineApi {
                port: ENGINE_API_PORT,
                jwt_secret_path: layout.paths.jwt_secret,
            }),
        })
    }

    /// The geth flags of a group (without the per-pod signer address).
    pub fn flags(&self, g: &GroupPlan, layout: &Layout) -> Vec<String> {
        geth::flags(&geth::FlagInput {
            release: Release { version: g.version },
            paths: geth::FlagPaths { ..layout.paths },
            verbosity: g.verbosity,
            metrics_port: self
                .config
                .monitoring
                .metrics
                .enabled
                .then_some(g.config.metrics_port),
            bind_host: layout.bind_host,
            signer: g.config.role == Role::Signer,
            network_id: self.network_id,
            cache_mib: geth::cache_mib(Some(g.geth_memory_limit)),
            state_every_block: self.proof_of_stake().is_some(),
            extra: &g.extra_flags,
        })
    }

    /// The in-cluster ethstats URL with the placeholders the chart fills in.
    pub fn cluster_ethstats_url(&self) -> Option<String> {
        self.config.monitoring.ethstats.enabled.then(|| {
            format!(
                "{NODE_NAME_PLACEHOLDER}:{ETHSTATS_SECRET_PLACEHOLDER}@{}:{ETHSTATS_PORT}",
                names::ethstats(&self.config.network.name)
            )
        })
    }
}

/// Derivation labels: stable names for every secret, independent of file order.
mod label {
    pub fn node_key(group: &str, ordinal: u32) -> String {
        format!("nodekey/{group}/{ordinal}")
    }
    pub fn signer(group: &str, ordinal: u32) -> String {
        format!("signer/{group}/{ordinal}")
    }
    pub fn account(name: &str) -> String {
        format!("account/{name}")
    }
    pub fn account_password(name: &str) -> String {
        format!("account-password/{name}")
    }
    pub const KEYSTORE_PASSWORD: &str = "keystore-password";
    pub const ETHSTATS_SECRET: &str = "ethstats-secret";
}

/// Called once per keystore derived (for a progress bar).
pub type Progress<'a> = &'a (dyn Fn() + Sync);

/// Encrypts keystores with the network's KDF, or skips them (`Keystores::Skip`),
/// ticking `progress` for each one encrypted.
struct Sealer<'a> {
    secret: &'a MasterSecret,
    params: ScryptParams,
    /// The genesis time, which keystore file names carry.
    timestamp: u64,
    keystores: Keystores,
    progress: Progress<'a>,
}

impl Sealer<'_> {
    fn seal(&self, label: &str, key: &PrivateKey, password: &str) -> Option<KeystoreFile> {
        if self.keystores == Keystores::Skip {
            return None;
        }
        let nonces = self.secret.keystore_nonces(label);
        let json = keystore::encrypt(key, password, self.params, &nonces)
            .expect("scrypt parameters are the fixed, valid presets");
        (self.progress)();
        Some(KeystoreFile {
            file_name: keystore::file_name(self.timestamp, &key.address()),
            json,
        })
    }
}

/// Builds the plan. Deriving standard-strength keystores is the slow part; they are
/// derived in parallel.
pub fn build(
    network: &CheckedNetwork,
    secret: &MasterSecret,
    brought: &BroughtKeys,
    keystores: Keystores,
    progress: Progress,
) -> Plan {
    let config = network.file();
    let sealer = Sealer {
        secret,
        params: match config.keystore.kdf {
            Kdf::Standard => ScryptParams::STANDARD,
            Kdf::Light => ScryptParams::LIGHT,
        },
        timestamp: network.genesis_time(),
        keystores,
        progress,
    };
    let keystore_password = secret.derive_token(label::KEYSTORE_PASSWORD);
    let signers = signers(network, &sealer, &keystore_password);
    let mut plan = Plan {
        network_id: config.network.network_id.unwrap_or(config.network.chain_id),
        config: config.clone(),
        groups: groups(network, secret, brought, signers),
        accounts: accounts(network, brought, &sealer),
        genesis_json: String::new(),
        keystore_password,
        ethstats_secret: secret.derive_token(label::ETHSTATS_SECRET),
        proof_of_stake: None,
    };
    let alloc: Vec<(Address, U256)> = plan
        .accounts
        .iter()
        .map(|a| (a.address, a.balance_wei))
        .collect();
    match network.consensus() {
        CheckedConsensus::ProofOfStake(pos) => {
            let pos = proof_of_stake::build(
                network,
                pos,
                secret,
                brought.validator_mnemonic.as_ref(),
                &alloc,
                keystores,
                progress,
            );
            plan.genesis_json = pos.execution.json.clone();
            plan.proof_of_stake = Some(pos);
        }
        CheckedConsensus::Clique(clique) => {
            plan.genesis_json = genesis_json(&GenesisInput {
                chain_id: config.network.chain_id,
                period: clique.period,
                epoch: clique.epoch,
                gas_limit: config.network.gas_limit,
                timestamp: network.genesis_time(),
                signers: &genesis_signers(network, secret),
                alloc: &alloc,
            });
        }
    }
    plan
}

/// The signers in the genesis, in file order: each signer group's first
/// `genesisReplicas` ordinals, whether their pods still run or have left.
fn genesis_signers(network: &CheckedNetwork, secret: &MasterSecret) -> Vec<Address> {
    network
        .file()
        .nodes
        .iter()
        .filter(|g| g.role == Role::Signer)
        .flat_map(|g| {
            (0..g.genesis_replica_count())
                .map(|o| secret.derive_key(&label::signer(&g.name, o)).address())
        })
        .collect()
}

/// Each running signer's key and keystore, by (group index, ordinal); keystores
/// are encrypted in parallel.
fn signers(
    network: &CheckedNetwork,
    sealer: &Sealer,
    password: &str,
) -> BTreeMap<(usize, u32), SignerPlan> {
    struct SignerJob {
        group: usize,
        ordinal: u32,
        label: String,
        key: PrivateKey,
    }
    let mut jobs = Vec::new();
    for (gi, g) in network.file().nodes.iter().enumerate() {
        if g.role == Role::Signer {
            for o in 0..g.replicas {
                let l = label::signer(&g.name, o);
                let key = sealer.secret.derive_key(&l);
                jobs.push(SignerJob {
                    group: gi,
                    ordinal: o,
                    label: l,
                    key,
                });
            }
        }
    }
    let sealed: Vec<Option<KeystoreFile>> = jobs
        .par_iter()
        .map(|j| sealer.seal(&j.label, &j.key, password))
        .collect();
    jobs.into_iter()
        .zip(sealed)
        .map(|(j, keystore)| {
            (
                (j.group, j.ordinal),
                SignerPlan {
                    key: j.key,
                    keystore,
                },
            )
        })
        .collect()
}

/// Each group's settings (the network's where the group sets none) and nodes.
fn groups(
    network: &CheckedNetwork,
    secret: &MasterSecret,
    brought: &BroughtKeys,
    mut signers: BTreeMap<(usize, u32), SignerPlan>,
) -> Vec<GroupPlan> {
    let config = network.file();
    network
        .groups()
        .enumerate()
        .map(|(gi, (g, checked))| {
            let nodes = (0..g.replicas)
                .map(|o| NodePlan {
                    name: names::node(&config.network.name, &g.name, o),
                    ordinal: o,
                    node_key: brought
                        .node_keys
                        .get(&(g.name.clone(), o))
                        .cloned()
                        .unwrap_or_else(|| secret.derive_key(&label::node_key(&g.name, o))),
                    signer: signers.remove(&(gi, o)),
                })
                .collect();
            let mut extra_flags = config.geth.extra_flags.clone();
            extra_flags.extend(g.geth.extra_flags.iter().cloned());
            let mut group_config = g.clone();
            // An `rpc` group without an `rpc:` block serves the default RPC (HTTP).
            if g.role == Role::Rpc && group_config.rpc.is_none() {
                group_config.rpc = Some(crate::config::Rpc::default());
            }
            GroupPlan {
                config: group_config,
                version: checked.geth_version,
                geth_memory_limit: checked.geth_memory_limit,
                image: g
                    .geth
                    .image
                    .clone()
                    .unwrap_or_else(|| config.geth.image.clone()),
                pull_policy: g.geth.pull_policy.unwrap_or(config.geth.pull_policy),
                verbosity: g.geth.verbosity.unwrap_or(config.geth.verbosity),
                extra_flags,
                nodes,
            }
        })
        .collect()
}

/// Accounts: generated ones get a key and keystore; brought ones keep theirs.
fn accounts(network: &CheckedNetwork, brought: &BroughtKeys, sealer: &Sealer) -> Vec<AccountPlan> {
    let accounts: Vec<_> = network.accounts().collect();
    accounts
        .par_iter()
        .map(|(a, checked)| {
            let balance_wei = checked.balance_wei;
            let balance_text = match &a.balance {
                crate::config::Balance::Wei(n) => format!("{n} wei"),
                crate::config::Balance::Text(t) => t.trim().to_string(),
            };
            let name = match &checked.key {
                AccountKey::Outside(address) => {
                    return AccountPlan {
                        name: None,
                        address: *address,
                        balance_wei,
                        balance_text,
                        keystore: None,
                        key: None,
                    }
                }
                AccountKey::Named(name) => name.clone(),
            };
            if let Some(b) = brought.accounts.get(&name) {
                return AccountPlan {
                    address: b.key.address(),
                    name: Some(name),
                    balance_wei,
                    balance_text,
                    keystore: Some((
                        KeystoreFile {
                            file_name: keystore::file_name(sealer.timestamp, &b.key.address()),
                            json: b.keystore_json.clone(),
                        },
                        b.password.clone(),
                    )),
                    key: Some(b.key.clone()),
                };
            }
            let l = label::account(&name);
            let key = sealer.secret.derive_key(&l);
            let password = sealer.secret.derive_token(&label::account_password(&name));
            let ks = sealer.seal(&l, &key, &password);
            AccountPlan {
                address: key.address(),
                name: Some(name),
                balance_wei,
                balance_text,
                keystore: ks.map(|ks| (ks, password)),
                key: Some(key),
            }
        })
        .collect()
}

/// The number of keystores `build` will derive (for sizing a progress bar).
pub fn keystore_count(network: &CheckedNetwork) -> u64 {
    let config = network.file();
    let signers: u64 = config
        .nodes
        .iter()
        .filter(|g| g.role == Role::Signer)
        .map(|g| u64::from(g.replicas))
        .sum();
    let accounts = config
        .accounts
        .iter()
        .filter(|a| a.address.is_none() && a.keystore.is_none())
        .count() as u64;
    signers + accounts + proof_of_stake::wallet_count(config)
}

/// Test support: the plan of a network file's text (which must pass the checks).
#[cfg(test)]
pub(crate) fn plan_of(text: &str, secret: [u8; 32], keystores: Keystores) -> Plan {
    // At time 0 no genesis is past: the plan never depends on the moment anyway.
    let ctx = crate::check::Context {
        now: 0,
        release_limit: crate::check::ReleaseLimit::Ignore,
    };
    let checked = crate::check::check(text, ctx).unwrap_or_else(|d| panic!("{d:?}"));
    let secret = MasterSecret::from_bytes(secret);
    build(
        &checked.network,
        &secret,
        &BroughtKeys::default(),
        keystores,
        &|| {},
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed master secret (0x00, 0x01, … 0x1f) and one of everything that is derived.
    fn known_plan() -> Plan {
        plan_of(
            "network: {name: kat, chainId: 31337, consensus: {clique: {}}}\n\
             nodes:\n  - {name: signer, role: signer}\n  - {name: rpc, role: rpc}\n\
             accounts:\n  - {name: deployer, balance: 1 ether}\n\
             keystore: {kdf: light}\n",
            std::array::from_fn(|i| i as u8),
            Keystores::Derive,
        )
    }

    fn keystore_nonces(json: &str) -> (String, String, String) {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let s = |p: &str| v.pointer(p).unwrap().as_str().unwrap().to_string();
        (
            s("/crypto/kdfparams/salt"),
            s("/crypto/cipherparams/iv"),
            s("/id"),
        )
    }

    /// Every derivation label, pinned: a changed label or derivation re-keys every
    /// existing network on upgrade, so it must fail here and be made deliberately.
    /// The answers are HKDF-SHA256(salt "kuberneteth/derive/v1", secret, label),
    /// computed independently (Python hmac/hashlib; the oracle repeats the check).
    #[test]
    fn derivation_labels_have_known_answers() {
        let plan = known_plan();
        let signer = &plan.groups[0].nodes[0];
        let rpc = &plan.groups[1].nodes[0];
        let signer_plan = signer.signer.as_ref().unwrap();
        assert_eq!(
            signer.node_key.to_hex(),
            "0591aef5765c140f2ede74d091375b1419129f4f47ccc710cb4a44ed5c4d6dd5",
            "label nodekey/signer/0"
        );
        assert_eq!(
            rpc.node_key.to_hex(),
            "ebbfa77fcd4d8aa9d0e8b8f2fc2d4a3d5914b88a5ad8853a4c518b561fed9c4a",
            "label nodekey/rpc/0"
        );
        assert_eq!(
            signer_plan.key.to_hex(),
            "8a7dd7cfb78e9e511a3b35a43d049cdfaf2f8fb2787671f59c15285746f07a5d",
            "label signer/signer/0"
        );
        assert_eq!(
            plan.keystore_password, "65ccad40e9ba78e13a139e779c79ba2a",
            "label keystore-password"
        );
        assert_eq!(
            plan.ethstats_secret, "b252fbd58ea787244a317417074e2b52",
            "label ethstats-secret"
        );
        assert_eq!(
            keystore_nonces(&signer_plan.keystore.as_ref().unwrap().json),
            (
                "660b3cb4cdd40fefe65582b35c5057e640f8eca3620ab635c4cb004e83b608d5".into(),
                "b6ca6e09a004fd55927d28aaa8448d44".into(),
                "829c6903-95bb-4a56-8886-73ba89238b64".into()
            ),
            "labels signer/signer/0/keystore-{{salt,iv,uuid}}"
        );

        let account = &plan.accounts[0];
        let (keystore, password) = account.keystore.as_ref().unwrap();
        let account_key = PrivateKey::from_hex(
            "a41b6b11ecf06d24a04b30e89f229cbb710cd66d148da25ec90814b04f633dbb",
        )
        .unwrap();
        assert_eq!(
            account.address,
            account_key.address(),
            "label account/deployer"
        );
        assert_eq!(
            password, "229dec15f096c90a240df3942f5bb155",
            "label account-password/deployer"
        );
        assert_eq!(
            keystore_nonces(&keystore.json),
            (
                "d86629a91969743ccc83a59d34a7fa1c129e9c5a7ca6937f4b90c6a4a88e0857".into(),
                "7b38c2df151bcb75ac11669328d1728f".into(),
                "9237775a-559a-4aa6-8320-677e20487640".into()
            ),
            "labels account/deployer/keystore-{{salt,iv,uuid}}"
        );
        let opened = crate::execution::keystore::decrypt(&keystore.json, password).unwrap();
        assert_eq!(opened.to_hex(), account_key.to_hex());
    }
}
