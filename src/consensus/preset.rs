//! The consensus presets (`mainnet`, `minimal`): the compile-time constants that fix
//! the sizes of the beacon state's vectors and lists, so a state of one preset is a
//! different SSZ type from a state of the other and a client must run the same one.
//!
//! The numbers are those of consensus-specs `presets/{mainnet,minimal}/*.yaml`
//! (spec release 1.7.0a13); only the constants the genesis state needs are here.

use std::fmt::Debug;

use ssz_types::typenum::{
    Unsigned, U1099511627776, U134217728, U16, U16777216, U2048, U262144, U32, U4, U512, U64,
    U65536, U8192,
};

/// Which preset a network runs (the network file's `preset`), chosen at run time;
/// [`PresetSpec`] carries the same choice as a type so the SSZ containers get
/// their exact sizes.
pub use crate::config::Preset;

impl Preset {
    /// The `PRESET_BASE` value of the consensus config.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Mainnet => "mainnet",
            Preset::Minimal => "minimal",
        }
    }

    pub fn slots_per_epoch(self) -> u64 {
        match self {
            Preset::Mainnet => Mainnet::SLOTS_PER_EPOCH,
            Preset::Minimal => Minimal::SLOTS_PER_EPOCH,
        }
    }

    pub fn sync_committee_size(self) -> usize {
        match self {
            Preset::Mainnet => Mainnet::SYNC_COMMITTEE_SIZE,
            Preset::Minimal => Minimal::SYNC_COMMITTEE_SIZE,
        }
    }
}

/// A bound the size parameters share, so containers generic over a preset can
/// derive `Clone`, `Debug` and `PartialEq`.
pub trait Size: Unsigned + Clone + Debug + PartialEq + Send + Sync + 'static {}
impl<T: Unsigned + Clone + Debug + PartialEq + Send + Sync + 'static> Size for T {}

/// A preset as a type: the SSZ lengths as typenum sizes, the rest as constants.
pub trait PresetSpec: Clone + Debug + PartialEq + Send + Sync + 'static {
    const PRESET: Preset;
    const SLOTS_PER_EPOCH: u64;
    const SHUFFLE_ROUND_COUNT: u8;
    const SYNC_COMMITTEE_SIZE: usize = Self::SyncCommitteeSize::USIZE;

    type SlotsPerHistoricalRoot: Size;
    type EpochsPerHistoricalVector: Size;
    type EpochsPerSlashingsVector: Size;
    /// `EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH`, the `eth1_data_votes` limit.
    type SlotsPerEth1VotingPeriod: Size;
    type SyncCommitteeSize: Size;
    /// `SYNC_COMMITTEE_SIZE / 8`: the bytes of the block body's sync-committee bits.
    type SyncCommitteeBitsBytes: Size;
    type MaxWithdrawalsPerPayload: Size;
    type PendingPartialWithdrawalsLimit: Size;
    type PendingConsolidationsLimit: Size;
    /// `(MIN_SEED_LOOKAHEAD + 1) * SLOTS_PER_EPOCH`, the Fulu `proposer_lookahead` length.
    type ProposerLookaheadSlots: Size;
}

/// Limits that are the same in both presets.
pub type ValidatorRegistryLimit = U1099511627776;
pub type HistoricalRootsLimit = U16777216;
pub type PendingDepositsLimit = U134217728;
pub type MaxBytesPerTransaction = ssz_types::typenum::U1073741824;
pub type MaxTransactionsPerPayload = ssz_types::typenum::U1048576;
pub type MaxExtraDataBytes = U32;

/// Constants that are the same in both presets (phase0/electra preset files).
pub const MIN_SEED_LOOKAHEAD: u64 = 1;
pub const EFFECTIVE_BALANCE_INCREMENT: u64 = 1_000_000_000;
pub const MIN_ACTIVATION_BALANCE: u64 = 32_000_000_000;
pub const MAX_EFFECTIVE_BALANCE_ELECTRA: u64 = 2_048_000_000_000;
pub const MAX_PROPOSER_SLASHINGS: usize = 16;
pub const MAX_ATTESTER_SLASHINGS_ELECTRA: usize = 1;
pub const MAX_ATTESTATIONS_ELECTRA: usize = 8;
pub const MAX_DEPOSITS: usize = 16;
pub const MAX_VOLUNTARY_EXITS: usize = 16;
pub const MAX_BLS_TO_EXECUTION_CHANGES: usize = 16;
pub const MAX_BLOB_COMMITMENTS_PER_BLOCK: usize = 4096;
pub const MAX_DEPOSIT_REQUESTS_PER_PAYLOAD: usize = 8192;
pub const MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD: usize = 16;
pub const MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD: usize = 2;
/// `DEPOSIT_CONTRACT_TREE_DEPTH + 1`: the deposit list's limit is `2**32`.
pub const DEPOSIT_LIST_LIMIT: usize = 1 << 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mainnet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Minimal;

impl PresetSpec for Mainnet {
    const PRESET: Preset = Preset::Mainnet;
    const SLOTS_PER_EPOCH: u64 = 32;
    const SHUFFLE_ROUND_COUNT: u8 = 90;
    type SlotsPerHistoricalRoot = U8192;
    type EpochsPerHistoricalVector = U65536;
    type EpochsPerSlashingsVector = U8192;
    type SlotsPerEth1VotingPeriod = U2048;
    type SyncCommitteeSize = U512;
    type SyncCommitteeBitsBytes = U64;
    type MaxWithdrawalsPerPayload = U16;
    type PendingPartialWithdrawalsLimit = U134217728;
    type PendingConsolidationsLimit = U262144;
    type ProposerLookaheadSlots = U64;
}

impl PresetSpec for Minimal {
    const PRESET: Preset = Preset::Minimal;
    const SLOTS_PER_EPOCH: u64 = 8;
    const SHUFFLE_ROUND_COUNT: u8 = 10;
    type SlotsPerHistoricalRoot = U64;
    type EpochsPerHistoricalVector = U64;
    type EpochsPerSlashingsVector = U64;
    type SlotsPerEth1VotingPeriod = U32;
    type SyncCommitteeSize = U32;
    type SyncCommitteeBitsBytes = U4;
    type MaxWithdrawalsPerPayload = U4;
    type PendingPartialWithdrawalsLimit = U64;
    type PendingConsolidationsLimit = U64;
    type ProposerLookaheadSlots = U16;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived sizes must agree with the constants they are products of.
    fn check<P: PresetSpec>() {
        assert_eq!(
            P::ProposerLookaheadSlots::U64,
            (MIN_SEED_LOOKAHEAD + 1) * P::SLOTS_PER_EPOCH
        );
        assert_eq!(P::SyncCommitteeBitsBytes::USIZE * 8, P::SYNC_COMMITTEE_SIZE);
        let voting_epochs = match P::PRESET {
            Preset::Mainnet => 64,
            Preset::Minimal => 4,
        };
        assert_eq!(
            P::SlotsPerEth1VotingPeriod::U64,
            voting_epochs * P::SLOTS_PER_EPOCH
        );
        assert_eq!(P::PRESET.slots_per_epoch(), P::SLOTS_PER_EPOCH);
    }

    #[test]
    fn derived_sizes_agree() {
        check::<Mainnet>();
        check::<Minimal>();
    }
}
