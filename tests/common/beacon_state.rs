//! Reading an exported `genesis.ssz` by hand, from the consensus spec's field
//! list rather than from the compiler's own containers, so a test of what the
//! state holds does not repeat the code that wrote it.
//!
//! A Fulu or Electra `BeaconState` is its fixed-size fields in order, a 4-byte
//! little-endian offset standing in for each variable-size one (lists, and the
//! execution payload header, whose `extra_data` is a list), then the
//! variable-size fields' bytes in the same order. Proposer lookahead, the one
//! field Fulu adds, comes after everything read here, so one layout serves both
//! forks.

#![allow(dead_code)] // each suite reads the parts it checks

/// The preset sizes that place fields in the state.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    slots_per_historical_root: usize,
    epochs_per_historical_vector: usize,
    epochs_per_slashings_vector: usize,
    sync_committee_size: usize,
}

fn sizes(preset: &str) -> Sizes {
    match preset {
        "minimal" => Sizes {
            slots_per_historical_root: 64,
            epochs_per_historical_vector: 64,
            epochs_per_slashings_vector: 64,
            sync_committee_size: 32,
        },
        "mainnet" => Sizes {
            slots_per_historical_root: 8192,
            epochs_per_historical_vector: 65_536,
            epochs_per_slashings_vector: 8192,
            sync_committee_size: 512,
        },
        other => panic!("no preset {other}"),
    }
}

/// Bytes of one `Validator`: pubkey, withdrawal_credentials, effective_balance,
/// slashed, then four epochs.
pub const VALIDATOR_BYTES: usize = 48 + 32 + 8 + 1 + 4 * 8;

/// One registry entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    pub pubkey: [u8; 48],
    pub withdrawal_credentials: [u8; 32],
    pub effective_balance: u64,
    pub slashed: bool,
    pub activation_eligibility_epoch: u64,
    pub activation_epoch: u64,
    pub exit_epoch: u64,
    pub withdrawable_epoch: u64,
}

/// The fields of `latest_execution_payload_header` the tests compare with the
/// execution genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadHeader {
    pub fee_recipient: [u8; 20],
    pub block_number: u64,
    pub timestamp: u64,
    pub block_hash: [u8; 32],
}

/// A genesis state of the named preset (`minimal` or `mainnet`).
pub struct BeaconState<'a> {
    ssz: &'a [u8],
    sizes: Sizes,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn offset_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

impl<'a> BeaconState<'a> {
    pub fn new(ssz: &'a [u8], preset: &str) -> Self {
        let state = BeaconState {
            ssz,
            sizes: sizes(preset),
        };
        // The first offset (historical_roots) points just past the fixed part,
        // which must hold every field read here: a wrong preset fails at once.
        let fixed_end = offset_at(ssz, state.historical_roots_offset_at());
        assert!(
            fixed_end > state.payload_header_offset_at() + 4 && fixed_end <= ssz.len(),
            "not a {preset} BeaconState: fixed part ends at {fixed_end} of {} bytes",
            ssz.len()
        );
        state
    }

    /// genesis_time, genesis_validators_root, slot, fork, latest_block_header,
    /// block_roots, state_roots.
    fn historical_roots_offset_at(&self) -> usize {
        8 + 32 + 8 + 16 + 112 + 2 * 32 * self.sizes.slots_per_historical_root
    }

    /// After historical_roots (offset), eth1_data, eth1_data_votes (offset),
    /// eth1_deposit_index.
    fn validators_offset_at(&self) -> usize {
        self.historical_roots_offset_at() + 4 + 72 + 4 + 8
    }

    fn balances_offset_at(&self) -> usize {
        self.validators_offset_at() + 4
    }

    /// After balances (offset), randao_mixes, slashings.
    fn previous_participation_offset_at(&self) -> usize {
        self.balances_offset_at()
            + 4
            + 32 * self.sizes.epochs_per_historical_vector
            + 8 * self.sizes.epochs_per_slashings_vector
    }

    /// After both participation lists (offsets), justification_bits, three
    /// checkpoints, inactivity_scores (offset) and two sync committees.
    fn payload_header_offset_at(&self) -> usize {
        self.previous_participation_offset_at()
            + 4
            + 4
            + 1
            + 3 * 40
            + 4
            + 2 * (48 * self.sizes.sync_committee_size + 48)
    }

    pub fn genesis_time(&self) -> u64 {
        u64_at(self.ssz, 0)
    }

    pub fn genesis_validators_root(&self) -> [u8; 32] {
        self.ssz[8..40].try_into().unwrap()
    }

    pub fn validators(&self) -> Vec<Validator> {
        let start = offset_at(self.ssz, self.validators_offset_at());
        let end = offset_at(self.ssz, self.balances_offset_at());
        assert!(
            start <= end && (end - start).is_multiple_of(VALIDATOR_BYTES),
            "validators list from {start} to {end}: not whole records"
        );
        self.ssz[start..end]
            .chunks_exact(VALIDATOR_BYTES)
            .map(|v| Validator {
                pubkey: v[0..48].try_into().unwrap(),
                withdrawal_credentials: v[48..80].try_into().unwrap(),
                effective_balance: u64_at(v, 80),
                slashed: match v[88] {
                    0 => false,
                    1 => true,
                    b => panic!("slashed is the byte {b}"),
                },
                activation_eligibility_epoch: u64_at(v, 89),
                activation_epoch: u64_at(v, 97),
                exit_epoch: u64_at(v, 105),
                withdrawable_epoch: u64_at(v, 113),
            })
            .collect()
    }

    pub fn balances(&self) -> Vec<u64> {
        let start = offset_at(self.ssz, self.balances_offset_at());
        let end = offset_at(self.ssz, self.previous_participation_offset_at());
        assert!(
            start <= end && (end - start).is_multiple_of(8),
            "balances list"
        );
        self.ssz[start..end]
            .chunks_exact(8)
            .map(|b| u64_at(b, 0))
            .collect()
    }

    /// parent_hash, fee_recipient, state_root, receipts_root, logs_bloom,
    /// prev_randao, block_number, gas_limit, gas_used, timestamp, extra_data
    /// (offset), base_fee_per_gas, block_hash, ...
    pub fn latest_execution_payload_header(&self) -> PayloadHeader {
        let h = &self.ssz[offset_at(self.ssz, self.payload_header_offset_at())..];
        let number_at = 32 + 20 + 32 + 32 + 256 + 32;
        let timestamp_at = number_at + 3 * 8;
        let hash_at = timestamp_at + 8 + 4 + 32;
        PayloadHeader {
            fee_recipient: h[32..52].try_into().unwrap(),
            block_number: u64_at(h, number_at),
            timestamp: u64_at(h, timestamp_at),
            block_hash: h[hash_at..hash_at + 32].try_into().unwrap(),
        }
    }
}

/// Withdrawal credentials to an execution address: the prefix (0x01, or 0x02
/// compounding), 11 zero bytes, the 20-byte address (`0x` and 40 hex digits, any case).
pub fn address_credentials(prefix: u8, address: &str) -> [u8; 32] {
    let hex = address.strip_prefix("0x").expect("0x address");
    let mut out = [0u8; 32];
    out[0] = prefix;
    hex::decode_to_slice(hex, &mut out[12..]).expect("a 20-byte address");
    out
}
