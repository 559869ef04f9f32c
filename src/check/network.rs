//! What the checks hand the plan: the network file, and each of its values that
//! needed parsing, in the type the rule that accepted it parsed it into.
//!
//! A value is parsed once, by its rule. The plan reads the parsed value and never
//! parses again, so a rule and a parser cannot drift apart into a panic.

use ruint::aliases::U256;

use crate::config::{Account, Clique, NetworkFile, NodeGroup, ProofOfStake};
use crate::consensus::bls::WithdrawalCredentials;
use crate::consensus::chain_config::{ConfigName, SlotSeconds};
use crate::execution::crypto::Address;
use crate::execution::geth::GethVersion;

/// A network file that passed every rule, with what the rules parsed of it.
/// Only [`crate::check::check`] makes one (its fields are private), so whatever
/// takes a `CheckedNetwork` never meets a value no rule accepted.
pub struct CheckedNetwork {
    file: NetworkFile,
    /// One per `file.nodes`, in the same order.
    groups: Vec<CheckedGroup>,
    /// One per `file.accounts`, in the same order.
    accounts: Vec<CheckedAccount>,
    consensus: CheckedConsensus,
}

/// What the rules parsed of a node group.
pub struct CheckedGroup {
    /// The group's own `geth.version`, or the network's.
    pub geth_version: GethVersion,
    /// geth's memory limit in bytes (the group's `resources` over its role's
    /// default), which sizes geth's cache.
    pub geth_memory_limit: u64,
}

/// What the rules parsed of a prefunded account.
pub struct CheckedAccount {
    pub key: AccountKey,
    pub balance_wei: U256,
}

/// Whose key funds an account. The file has `name` and `address` side by side;
/// the rules accept exactly one of them.
pub enum AccountKey {
    /// A key generated for the name, or the brought keystore of that name.
    Named(String),
    /// An outside account: only its address is known.
    Outside(Address),
}

/// The consensus engine with its settings, parsed.
pub enum CheckedConsensus {
    Clique(Clique),
    ProofOfStake(Box<CheckedProofOfStake>),
}

/// A proof-of-stake network's settings, with every value the genesis and the
/// consensus config need in its parsed form.
pub struct CheckedProofOfStake {
    /// The settings as written.
    pub settings: ProofOfStake,
    /// `network.genesisTimestamp`, which proof of stake requires.
    pub genesis_time: u64,
    pub slot: SlotSeconds,
    pub deposit_contract: Address,
    pub fee_recipient: Address,
    /// Credentials to `withdrawal.address`; `None`: each validator's own BLS key.
    pub withdrawal: Option<WithdrawalCredentials>,
    /// Each genesis validator's balance, in the consensus layer's whole gwei.
    pub validator_balance_gwei: u64,
    /// The consensus config's `CONFIG_NAME`.
    pub config_name: ConfigName,
}

impl CheckedNetwork {
    /// Joins what the rules parsed to the file they accepted. `groups` and
    /// `accounts` come one per the file's node group and account, in order.
    pub(super) fn new(
        file: NetworkFile,
        groups: Vec<CheckedGroup>,
        accounts: Vec<CheckedAccount>,
        consensus: CheckedConsensus,
    ) -> Self {
        debug_assert_eq!(groups.len(), file.nodes.len());
        debug_assert_eq!(accounts.len(), file.accounts.len());
        Self {
            file,
            groups,
            accounts,
            consensus,
        }
    }

    /// The network file as written (defaults filled in).
    pub fn file(&self) -> &NetworkFile {
        &self.file
    }

    /// Each node group with what the rules parsed of it, in file order.
    pub fn groups(&self) -> impl Iterator<Item = (&NodeGroup, &CheckedGroup)> {
        self.file.nodes.iter().zip(&self.groups)
    }

    /// Each prefunded account with what the rules parsed of it, in file order.
    pub fn accounts(&self) -> impl Iterator<Item = (&Account, &CheckedAccount)> {
        self.file.accounts.iter().zip(&self.accounts)
    }

    pub fn consensus(&self) -> &CheckedConsensus {
        &self.consensus
    }

    /// The genesis block's timestamp: proof of stake's genesis time, or clique's
    /// `genesisTimestamp` (0 when unset).
    pub fn genesis_time(&self) -> u64 {
        match &self.consensus {
            CheckedConsensus::ProofOfStake(pos) => pos.genesis_time,
            CheckedConsensus::Clique(_) => self.file.network.genesis_timestamp.unwrap_or(0),
        }
    }
}
