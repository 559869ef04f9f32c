//! The genesis `BeaconState` of a proof-of-stake network, built directly (as
//! ethereum-genesis-generator and the spec's own test harness do) rather than by
//! replaying deposits through phase0 genesis and seven fork upgrades: no deposit is
//! counted, every counter starts at zero, and the computed fields (sync committees,
//! proposer lookahead, `genesis_validators_root`) follow the spec functions.
//!
//! Clients never rebuild genesis; they load these bytes, so what matters is that
//! they are a well-formed state of the chosen preset and fork, identical on every
//! node, and tied to the execution genesis block by its hash.

use std::collections::HashMap;

use blst::min_pk::{AggregatePublicKey, PublicKey};
use ssz::Encode;
use ssz_types::{BitVector, FixedVector, VariableList};
use tree_hash::{Hash256, TreeHash};

use crate::execution::block::GenesisBlock;

use super::containers::{
    BeaconBlockHeader, BeaconStateElectra, BeaconStateFulu, BlsPubkey, Checkpoint, Eth1Data,
    ExecutionPayloadHeader, SyncCommittee, Validator,
};
use super::preset::{
    Mainnet, Minimal, Preset, PresetSpec, EFFECTIVE_BALANCE_INCREMENT,
    MAX_EFFECTIVE_BALANCE_ELECTRA, MIN_ACTIVATION_BALANCE, MIN_SEED_LOOKAHEAD,
};
use super::roots::{
    default_block_body_root, empty_deposit_root, empty_transactions_root, empty_withdrawals_root,
};
use super::selection::{self, Candidates, DOMAIN_BEACON_PROPOSER, DOMAIN_SYNC_COMMITTEE};

pub const GENESIS_EPOCH: u64 = 0;
pub const FAR_FUTURE_EPOCH: u64 = u64::MAX;
/// Electra's "no deposit request seen yet" marker.
pub const UNSET_DEPOSIT_REQUESTS_START_INDEX: u64 = u64::MAX;
pub const COMPOUNDING_WITHDRAWAL_PREFIX: u8 = 0x02;
pub const MAX_EXTRA_DATA_BYTES: usize = 32;

/// The fork the chain starts in (at epoch 0): the network file's `fork`.
pub use crate::config::ForkAtGenesis;

/// One validator of the genesis registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisValidator {
    /// Compressed BLS12-381 G1 public key.
    pub pubkey: [u8; 48],
    pub withdrawal_credentials: [u8; 32],
    pub balance_gwei: u64,
}

#[derive(Clone, Debug)]
pub struct GenesisStateInput<'a> {
    pub preset: Preset,
    pub fork: ForkAtGenesis,
    pub genesis_time: u64,
    /// `fork.previous_version`: the version of the fork before `fork`
    /// (e.g. `ELECTRA_FORK_VERSION` for a Fulu genesis).
    pub previous_fork_version: [u8; 4],
    /// `fork.current_version`: the version of `fork` itself.
    pub current_fork_version: [u8; 4],
    pub validators: &'a [GenesisValidator],
    pub execution_block: &'a GenesisBlock,
}

/// The serialized state and the roots other files refer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisState {
    /// The SSZ bytes of `genesis.ssz`.
    pub ssz: Vec<u8>,
    pub state_root: [u8; 32],
    pub genesis_validators_root: [u8; 32],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("the genesis state needs at least one validator")]
    NoValidators,
    #[error(
        "no validator has the {} gwei activation balance, so no one could propose",
        MIN_ACTIVATION_BALANCE
    )]
    NoActiveValidator,
    #[error("{count} validators exceed the registry limit")]
    TooManyValidators { count: usize },
    #[error("execution extra_data has {len} bytes, at most {MAX_EXTRA_DATA_BYTES} fit the payload header")]
    ExtraDataTooLong { len: usize },
    #[error("validator {index} has no valid BLS public key (0x{pubkey}), so the sync committee cannot be aggregated")]
    InvalidPubkey { index: u64, pubkey: String },
    #[error("the genesis state cannot hold {what}")]
    Internal { what: &'static str },
}

/// Builds and serializes the genesis state for `input.preset` and `input.fork`.
pub fn build(input: &GenesisStateInput) -> Result<GenesisState, StateError> {
    match input.preset {
        Preset::Mainnet => build_for::<Mainnet>(input),
        Preset::Minimal => build_for::<Minimal>(input),
    }
}

fn build_for<P: PresetSpec>(input: &GenesisStateInput) -> Result<GenesisState, StateError> {
    if input.validators.is_empty() {
        return Err(StateError::NoValidators);
    }
    let block = input.execution_block;
    let count = input.validators.len();
    let registry = input
        .validators
        .iter()
        .map(genesis_validator)
        .collect::<Vec<_>>();
    let effective_balances = registry
        .iter()
        .map(|v| v.effective_balance)
        .collect::<Vec<_>>();
    let balances = input
        .validators
        .iter()
        .map(|v| v.balance_gwei)
        .collect::<Vec<_>>();
    let validators =
        VariableList::new(registry).map_err(|_| StateError::TooManyValidators { count })?;
    let genesis_validators_root = validators.tree_hash_root();

    // At genesis every validator that is active at epoch 0 stays active through
    // the lookahead and the next epoch, so one active set serves every selection.
    let active = validators
        .iter()
        .enumerate()
        .filter(|(_, v)| v.activation_epoch == GENESIS_EPOCH && v.exit_epoch > GENESIS_EPOCH)
        .map(|(i, _)| i as u64)
        .collect::<Vec<_>>();
    if active.is_empty() {
        return Err(StateError::NoActiveValidator);
    }
    let candidates = Candidates {
        active: &active,
        effective_balances: &effective_balances,
        shuffle_rounds: P::SHUFFLE_ROUND_COUNT,
    };
    let mix = block.block_hash;

    let sync_committee = sync_committee::<P>(&candidates, &validators, &mix)?;
    let header = payload_header::<P>(block)?;
    let zeros =
        || VariableList::new(vec![0; count]).map_err(|_| StateError::TooManyValidators { count });

    let electra = BeaconStateElectra::<P> {
        genesis_time: input.genesis_time,
        genesis_validators_root,
        slot: 0,
        fork: super::containers::Fork {
            previous_version: input.previous_fork_version,
            current_version: input.current_fork_version,
            epoch: GENESIS_EPOCH,
        },
        latest_block_header: BeaconBlockHeader {
            body_root: default_block_body_root::<P>(),
            ..BeaconBlockHeader::default()
        },
        block_roots: FixedVector::from_elem(Hash256::ZERO),
        state_roots: FixedVector::from_elem(Hash256::ZERO),
        historical_roots: VariableList::empty(),
        eth1_data: Eth1Data {
            deposit_root: empty_deposit_root(),
            deposit_count: 0,
            block_hash: Hash256::from(block.block_hash),
        },
        eth1_data_votes: VariableList::empty(),
        eth1_deposit_index: 0,
        validators,
        balances: VariableList::new(balances)
            .map_err(|_| StateError::TooManyValidators { count })?,
        randao_mixes: FixedVector::from_elem(Hash256::from(mix)),
        slashings: FixedVector::from_elem(0),
        previous_epoch_participation: zeros()?,
        current_epoch_participation: zeros()?,
        justification_bits: BitVector::new(),
        previous_justified_checkpoint: Checkpoint::default(),
        current_justified_checkpoint: Checkpoint::default(),
        finalized_checkpoint: Checkpoint::default(),
        inactivity_scores: VariableList::new(vec![0; count])
            .map_err(|_| StateError::TooManyValidators { count })?,
        current_sync_committee: sync_committee.clone(),
        next_sync_committee: sync_committee,
        latest_execution_payload_header: header,
        next_withdrawal_index: 0,
        next_withdrawal_validator_index: 0,
        historical_summaries: VariableList::empty(),
        // The spec's test harness (`create_genesis_state`): Electra keeps the
        // "unset" marker `upgrade_to_electra` writes; Fulu uses
        // `eth1_data.deposit_count`, 0 here. With no eth1 deposit counted both let
        // deposit requests through from the first block (`min(deposit_count, start)`
        // is 0 either way), and the first request of an Electra chain sets it.
        deposit_requests_start_index: match input.fork {
            ForkAtGenesis::Electra => UNSET_DEPOSIT_REQUESTS_START_INDEX,
            ForkAtGenesis::Fulu => 0,
        },
        deposit_balance_to_consume: 0,
        exit_balance_to_consume: 0,
        earliest_exit_epoch: GENESIS_EPOCH,
        consolidation_balance_to_consume: 0,
        earliest_consolidation_epoch: 0,
        pending_deposits: VariableList::empty(),
        pending_partial_withdrawals: VariableList::empty(),
        pending_consolidations: VariableList::empty(),
    };

    let (ssz, state_root) = match input.fork {
        ForkAtGenesis::Electra => (electra.as_ssz_bytes(), electra.tree_hash_root()),
        ForkAtGenesis::Fulu => {
            let lookahead = proposer_lookahead::<P>(&candidates, &mix)?;
            let fulu = BeaconStateFulu::from_electra(electra, lookahead);
            (fulu.as_ssz_bytes(), fulu.tree_hash_root())
        }
    };
    Ok(GenesisState {
        ssz,
        state_root: state_root.0,
        genesis_validators_root: genesis_validators_root.0,
    })
}

/// The registry entry the spec's genesis gives a deposit of `balance_gwei`:
/// effective balance rounded down to the increment and capped by
/// `get_max_effective_balance` (2048 ETH for compounding 0x02 credentials, 32 ETH
/// otherwise), active from epoch 0 when it reaches `MIN_ACTIVATION_BALANCE`.
fn genesis_validator(validator: &GenesisValidator) -> Validator {
    let max_effective_balance =
        if validator.withdrawal_credentials[0] == COMPOUNDING_WITHDRAWAL_PREFIX {
            MAX_EFFECTIVE_BALANCE_ELECTRA
        } else {
            MIN_ACTIVATION_BALANCE
        };
    let balance = validator.balance_gwei;
    let effective_balance =
        (balance - balance % EFFECTIVE_BALANCE_INCREMENT).min(max_effective_balance);
    let activation = if effective_balance >= MIN_ACTIVATION_BALANCE {
        GENESIS_EPOCH
    } else {
        FAR_FUTURE_EPOCH
    };
    Validator {
        pubkey: validator.pubkey,
        withdrawal_credentials: Hash256::from(validator.withdrawal_credentials),
        effective_balance,
        slashed: false,
        activation_eligibility_epoch: activation,
        activation_epoch: activation,
        exit_epoch: FAR_FUTURE_EPOCH,
        withdrawable_epoch: FAR_FUTURE_EPOCH,
    }
}

/// `get_next_sync_committee(state)` at genesis: the members selected for epoch 1
/// and the aggregate of their public keys (duplicates counted, as the spec does).
fn sync_committee<P: PresetSpec>(
    candidates: &Candidates,
    validators: &[Validator],
    mix: &[u8; 32],
) -> Result<SyncCommittee<P>, StateError> {
    let epoch = GENESIS_EPOCH + 1;
    let seed = selection::seed(DOMAIN_SYNC_COMMITTEE, epoch, mix);
    let indices = candidates
        .sync_committee_indices(seed, P::SYNC_COMMITTEE_SIZE)
        .ok_or(StateError::NoActiveValidator)?;
    let pubkey_of = |index: u64| -> Result<BlsPubkey, StateError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| validators.get(i))
            .map(|v| v.pubkey)
            .ok_or(StateError::Internal {
                what: "a sync committee member outside the registry",
            })
    };
    let pubkeys = indices
        .iter()
        .map(|&i| pubkey_of(i))
        .collect::<Result<Vec<_>, _>>()?;

    // Decompressing and subgroup-checking a key is the expensive part; members
    // repeat when the registry is smaller than the committee.
    let mut points: HashMap<u64, PublicKey> = HashMap::new();
    for &index in &indices {
        if let std::collections::hash_map::Entry::Vacant(slot) = points.entry(index) {
            let bytes = pubkey_of(index)?;
            // KeyValidate: on the curve, in the subgroup, not the identity.
            let point = PublicKey::key_validate(&bytes).map_err(|_| StateError::InvalidPubkey {
                index,
                pubkey: hex::encode(bytes),
            })?;
            slot.insert(point);
        }
    }
    let members = indices
        .iter()
        .filter_map(|index| points.get(index))
        .collect::<Vec<_>>();
    let aggregate =
        AggregatePublicKey::aggregate(&members, false).map_err(|_| StateError::Internal {
            what: "an aggregate of the sync committee keys",
        })?;
    Ok(SyncCommittee {
        pubkeys: FixedVector::new(pubkeys).map_err(|_| StateError::Internal {
            what: "a sync committee of another size",
        })?,
        aggregate_pubkey: aggregate.to_public_key().compress(),
    })
}

/// Fulu `initialize_proposer_lookahead(state)`: the proposers of the current epoch
/// and the `MIN_SEED_LOOKAHEAD` epochs after it.
fn proposer_lookahead<P: PresetSpec>(
    candidates: &Candidates,
    mix: &[u8; 32],
) -> Result<FixedVector<u64, P::ProposerLookaheadSlots>, StateError> {
    let mut lookahead = Vec::new();
    for epoch in GENESIS_EPOCH..=GENESIS_EPOCH + MIN_SEED_LOOKAHEAD {
        let seed = selection::seed(DOMAIN_BEACON_PROPOSER, epoch, mix);
        let proposers = candidates
            .proposer_indices(epoch, P::SLOTS_PER_EPOCH, &seed)
            .ok_or(StateError::NoActiveValidator)?;
        lookahead.extend(proposers);
    }
    FixedVector::new(lookahead).map_err(|_| StateError::Internal {
        what: "a lookahead of another length",
    })
}

/// The payload header of the execution genesis block, with the roots of its empty
/// transaction and withdrawal lists.
fn payload_header<P: PresetSpec>(
    block: &GenesisBlock,
) -> Result<ExecutionPayloadHeader, StateError> {
    let extra_data =
        VariableList::new(block.extra_data.clone()).map_err(|_| StateError::ExtraDataTooLong {
            len: block.extra_data.len(),
        })?;
    Ok(ExecutionPayloadHeader {
        parent_hash: Hash256::from(block.parent_hash),
        fee_recipient: block.fee_recipient.0 .0,
        state_root: Hash256::from(block.state_root),
        receipts_root: Hash256::from(block.receipts_root),
        logs_bloom: block.logs_bloom,
        prev_randao: Hash256::from(block.prev_randao),
        block_number: block.number,
        gas_limit: block.gas_limit,
        gas_used: block.gas_used,
        timestamp: block.timestamp,
        extra_data,
        base_fee_per_gas: block.base_fee_per_gas,
        block_hash: Hash256::from(block.block_hash),
        transactions_root: empty_transactions_root(),
        withdrawals_root: empty_withdrawals_root::<P>(),
        blob_gas_used: block.blob_gas_used,
        excess_blob_gas: block.excess_blob_gas,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::crypto::Address;
    use blst::min_pk::SecretKey;
    use ruint::aliases::U256;

    fn pubkey(i: u32) -> [u8; 48] {
        let mut ikm = [0u8; 32];
        ikm[..4].copy_from_slice(&i.to_le_bytes());
        ikm[4..].copy_from_slice(b"kuberneteth state unit test.");
        SecretKey::key_gen(&ikm, &[]).unwrap().sk_to_pk().compress()
    }

    fn validators(n: u32) -> Vec<GenesisValidator> {
        (0..n)
            .map(|i| GenesisValidator {
                pubkey: pubkey(i),
                withdrawal_credentials: [0; 32],
                balance_gwei: MIN_ACTIVATION_BALANCE,
            })
            .collect()
    }

    fn block() -> GenesisBlock {
        GenesisBlock {
            parent_hash: [0; 32],
            fee_recipient: Address::new([0; 20]),
            state_root: [1; 32],
            receipts_root: [2; 32],
            logs_bloom: [0; 256],
            prev_randao: [0; 32],
            number: 0,
            gas_limit: 30_000_000,
            gas_used: 0,
            timestamp: 1_700_000_000,
            extra_data: Vec::new(),
            base_fee_per_gas: U256::from(1_000_000_000u64),
            block_hash: [0xee; 32],
            blob_gas_used: 0,
            excess_blob_gas: 0,
        }
    }

    fn input<'a>(
        preset: Preset,
        fork: ForkAtGenesis,
        validators: &'a [GenesisValidator],
        block: &'a GenesisBlock,
    ) -> GenesisStateInput<'a> {
        GenesisStateInput {
            preset,
            fork,
            genesis_time: 1_700_000_060,
            previous_fork_version: [0x50, 0, 0, 0],
            current_fork_version: [0x60, 0, 0, 0],
            validators,
            execution_block: block,
        }
    }

    /// Lengths measured with the executable spec (POS_FACTS §1.6: mainnet/64 is
    /// 2,746,705 bytes, minimal/8 is 12,137); each validator adds 139 bytes
    /// (121 registry + 8 balance + 2 participation + 8 inactivity score).
    #[test]
    fn is_deterministic_and_has_the_spec_length() {
        let block = block();
        let eight = validators(8);
        let a = build(&input(Preset::Minimal, ForkAtGenesis::Fulu, &eight, &block)).unwrap();
        let b = build(&input(Preset::Minimal, ForkAtGenesis::Fulu, &eight, &block)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.ssz.len(), 12_137);
        let sixty_four = validators(64);
        let mainnet = build(&input(
            Preset::Mainnet,
            ForkAtGenesis::Fulu,
            &sixty_four,
            &block,
        ))
        .unwrap();
        assert_eq!(mainnet.ssz.len(), 2_746_705);
        // Electra lacks the 64-slot (minimal: 16-slot) lookahead of u64s.
        let electra = build(&input(
            Preset::Minimal,
            ForkAtGenesis::Electra,
            &eight,
            &block,
        ))
        .unwrap();
        assert_eq!(electra.ssz.len(), 12_137 - 16 * 8);
        assert_eq!(electra.genesis_validators_root, a.genesis_validators_root);
        assert_ne!(electra.state_root, a.state_root);
    }

    #[test]
    fn refuses_what_cannot_form_a_state() {
        let block = block();
        assert_eq!(
            build(&input(Preset::Minimal, ForkAtGenesis::Fulu, &[], &block)),
            Err(StateError::NoValidators)
        );
        let mut poor = validators(4);
        for v in &mut poor {
            v.balance_gwei = MIN_ACTIVATION_BALANCE - 1;
        }
        assert_eq!(
            build(&input(Preset::Minimal, ForkAtGenesis::Fulu, &poor, &block)),
            Err(StateError::NoActiveValidator)
        );
        let mut long = block.clone();
        long.extra_data = vec![0; 33];
        let four = validators(4);
        assert_eq!(
            build(&input(Preset::Minimal, ForkAtGenesis::Fulu, &four, &long)),
            Err(StateError::ExtraDataTooLong { len: 33 })
        );
        let mut broken = validators(1);
        broken[0].pubkey = [0xff; 48];
        assert!(matches!(
            build(&input(
                Preset::Minimal,
                ForkAtGenesis::Fulu,
                &broken,
                &block
            )),
            Err(StateError::InvalidPubkey { index: 0, .. })
        ));
    }

    #[test]
    fn effective_balance_and_activation_follow_the_credentials() {
        let make = |prefix: u8, balance_gwei: u64| {
            let mut withdrawal_credentials = [0u8; 32];
            withdrawal_credentials[0] = prefix;
            genesis_validator(&GenesisValidator {
                pubkey: [0; 48],
                withdrawal_credentials,
                balance_gwei,
            })
        };
        let eth = EFFECTIVE_BALANCE_INCREMENT;
        assert_eq!(make(0x00, 40 * eth).effective_balance, 32 * eth);
        assert_eq!(make(0x01, 40 * eth).effective_balance, 32 * eth);
        assert_eq!(make(0x02, 100 * eth + 5).effective_balance, 100 * eth);
        assert_eq!(make(0x02, 5000 * eth).effective_balance, 2048 * eth);
        assert_eq!(make(0x00, 32 * eth).activation_epoch, GENESIS_EPOCH);
        let poor = make(0x00, 32 * eth - 1);
        assert_eq!(poor.effective_balance, 31 * eth);
        assert_eq!(poor.activation_epoch, FAR_FUTURE_EPOCH);
        assert_eq!(poor.activation_eligibility_epoch, FAR_FUTURE_EPOCH);
    }
}
