//! The SSZ containers of the Electra and Fulu beacon state (consensus-specs
//! `specs/{phase0,altair,capella,deneb,electra,fulu}/beacon-chain.md`), with the
//! field order and types of the spec: SSZ bytes and hash tree roots follow from the
//! derives, so a field out of place changes both.

use ruint::aliases::U256;
use ssz_derive::Encode;
use ssz_types::{typenum::U4, BitVector, FixedVector, VariableList};
use tree_hash::Hash256;
use tree_hash_derive::TreeHash;

use super::preset::{
    HistoricalRootsLimit, MaxExtraDataBytes, PendingDepositsLimit, PresetSpec,
    ValidatorRegistryLimit,
};

pub type BlsPubkey = [u8; 48];
pub type BlsSignature = [u8; 96];
pub type Version = [u8; 4];

#[derive(Clone, Debug, Default, PartialEq, Encode, TreeHash)]
pub struct Fork {
    pub previous_version: Version,
    pub current_version: Version,
    pub epoch: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Encode, TreeHash)]
pub struct Checkpoint {
    pub epoch: u64,
    pub root: Hash256,
}

#[derive(Clone, Debug, Default, PartialEq, Encode, TreeHash)]
pub struct BeaconBlockHeader {
    pub slot: u64,
    pub proposer_index: u64,
    pub parent_root: Hash256,
    pub state_root: Hash256,
    pub body_root: Hash256,
}

#[derive(Clone, Debug, Default, PartialEq, Encode, TreeHash)]
pub struct Eth1Data {
    pub deposit_root: Hash256,
    pub deposit_count: u64,
    pub block_hash: Hash256,
}

#[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
pub struct Validator {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Hash256,
    pub effective_balance: u64,
    pub slashed: bool,
    pub activation_eligibility_epoch: u64,
    pub activation_epoch: u64,
    pub exit_epoch: u64,
    pub withdrawable_epoch: u64,
}

#[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
pub struct SyncCommittee<P: PresetSpec> {
    pub pubkeys: FixedVector<BlsPubkey, P::SyncCommitteeSize>,
    pub aggregate_pubkey: BlsPubkey,
}

/// The Deneb header layout, unchanged in Electra and Fulu.
#[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
pub struct ExecutionPayloadHeader {
    pub parent_hash: Hash256,
    pub fee_recipient: [u8; 20],
    pub state_root: Hash256,
    pub receipts_root: Hash256,
    pub logs_bloom: [u8; 256],
    pub prev_randao: Hash256,
    pub block_number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub timestamp: u64,
    pub extra_data: VariableList<u8, MaxExtraDataBytes>,
    pub base_fee_per_gas: U256,
    pub block_hash: Hash256,
    pub transactions_root: Hash256,
    pub withdrawals_root: Hash256,
    pub blob_gas_used: u64,
    pub excess_blob_gas: u64,
}

#[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
pub struct HistoricalSummary {
    pub block_summary_root: Hash256,
    pub state_summary_root: Hash256,
}

#[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
pub struct PendingDeposit {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Hash256,
    pub amount: u64,
    pub signature: BlsSignature,
    pub slot: u64,
}

#[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
pub struct PendingPartialWithdrawal {
    pub validator_index: u64,
    pub amount: u64,
    pub withdrawable_epoch: u64,
}

#[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
pub struct PendingConsolidation {
    pub source_index: u64,
    pub target_index: u64,
}

/// Defines the Electra state and the Fulu state, which is the Electra state plus
/// `proposer_lookahead` at the end, from one field list so the two cannot drift.
macro_rules! beacon_states {
    ($($(#[$doc:meta])* $field:ident : $ty:ty,)*) => {
        /// The Electra `BeaconState`.
        #[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
        pub struct BeaconStateElectra<P: PresetSpec> {
            $($(#[$doc])* pub $field: $ty,)*
        }

        /// The Fulu `BeaconState`: Electra's fields, then `proposer_lookahead`.
        #[derive(Clone, Debug, PartialEq, Encode, TreeHash)]
        pub struct BeaconStateFulu<P: PresetSpec> {
            $($(#[$doc])* pub $field: $ty,)*
            pub proposer_lookahead: FixedVector<u64, P::ProposerLookaheadSlots>,
        }

        impl<P: PresetSpec> BeaconStateFulu<P> {
            /// The Electra state's fields with the lookahead appended (the shape
            /// `upgrade_to_fulu` gives; the values are the caller's).
            pub fn from_electra(
                state: BeaconStateElectra<P>,
                proposer_lookahead: FixedVector<u64, P::ProposerLookaheadSlots>,
            ) -> Self {
                Self { $($field: state.$field,)* proposer_lookahead }
            }
        }
    };
}

beacon_states! {
    genesis_time: u64,
    genesis_validators_root: Hash256,
    slot: u64,
    fork: Fork,
    latest_block_header: BeaconBlockHeader,
    block_roots: FixedVector<Hash256, P::SlotsPerHistoricalRoot>,
    state_roots: FixedVector<Hash256, P::SlotsPerHistoricalRoot>,
    historical_roots: VariableList<Hash256, HistoricalRootsLimit>,
    eth1_data: Eth1Data,
    eth1_data_votes: VariableList<Eth1Data, P::SlotsPerEth1VotingPeriod>,
    eth1_deposit_index: u64,
    validators: VariableList<Validator, ValidatorRegistryLimit>,
    balances: VariableList<u64, ValidatorRegistryLimit>,
    randao_mixes: FixedVector<Hash256, P::EpochsPerHistoricalVector>,
    slashings: FixedVector<u64, P::EpochsPerSlashingsVector>,
    previous_epoch_participation: VariableList<u8, ValidatorRegistryLimit>,
    current_epoch_participation: VariableList<u8, ValidatorRegistryLimit>,
    justification_bits: BitVector<U4>,
    previous_justified_checkpoint: Checkpoint,
    current_justified_checkpoint: Checkpoint,
    finalized_checkpoint: Checkpoint,
    inactivity_scores: VariableList<u64, ValidatorRegistryLimit>,
    current_sync_committee: SyncCommittee<P>,
    next_sync_committee: SyncCommittee<P>,
    latest_execution_payload_header: ExecutionPayloadHeader,
    next_withdrawal_index: u64,
    next_withdrawal_validator_index: u64,
    historical_summaries: VariableList<HistoricalSummary, HistoricalRootsLimit>,
    deposit_requests_start_index: u64,
    deposit_balance_to_consume: u64,
    exit_balance_to_consume: u64,
    earliest_exit_epoch: u64,
    consolidation_balance_to_consume: u64,
    earliest_consolidation_epoch: u64,
    pending_deposits: VariableList<PendingDeposit, PendingDepositsLimit>,
    pending_partial_withdrawals: VariableList<PendingPartialWithdrawal, P::PendingPartialWithdrawalsLimit>,
    pending_consolidations: VariableList<PendingConsolidation, P::PendingConsolidationsLimit>,
}
