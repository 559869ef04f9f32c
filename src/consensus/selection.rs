//! Who proposes and who sits on the sync committee: the Electra versions of
//! consensus-specs `get_seed`, `compute_proposer_index`, `compute_proposer_indices`
//! and `get_next_sync_committee_indices`, which sample candidates from the shuffled
//! active set and accept each with probability `effective_balance /
//! MAX_EFFECTIVE_BALANCE_ELECTRA` using 16-bit random values.

use ethereum_hashing::hash_fixed;
use rayon::prelude::*;

use super::preset::MAX_EFFECTIVE_BALANCE_ELECTRA;
use super::shuffle::Shuffler;

pub type DomainType = [u8; 4];
pub const DOMAIN_BEACON_PROPOSER: DomainType = [0, 0, 0, 0];
pub const DOMAIN_SYNC_COMMITTEE: DomainType = [7, 0, 0, 0];

/// `get_seed(state, epoch, domain_type)` given the randao mix it reads
/// (`get_randao_mix(state, epoch + EPOCHS_PER_HISTORICAL_VECTOR - MIN_SEED_LOOKAHEAD - 1)`;
/// at genesis every mix is the execution genesis block hash).
pub fn seed(domain_type: DomainType, epoch: u64, mix: &[u8; 32]) -> [u8; 32] {
    let mut input = [0u8; 44];
    input[..4].copy_from_slice(&domain_type);
    input[4..12].copy_from_slice(&epoch.to_le_bytes());
    input[12..].copy_from_slice(mix);
    hash_fixed(&input)
}

/// The active validators and their effective balances, indexed like the registry.
pub struct Candidates<'a> {
    /// `get_active_validator_indices(state, epoch)`, in registry order.
    pub active: &'a [u64],
    /// `state.validators[i].effective_balance` for every registry index `i`.
    pub effective_balances: &'a [u64],
    pub shuffle_rounds: u8,
}

/// The random values `bytes_to_uint64(hash(seed + uint_to_bytes(i // 16))[i % 16 * 2 :][:2])`
/// for i = 0, 1, 2, …, hashing once per 16 values.
struct RandomValues {
    seed: [u8; 32],
    block: Option<(u64, [u8; 32])>,
}

impl RandomValues {
    fn new(seed: [u8; 32]) -> Self {
        Self { seed, block: None }
    }

    fn get(&mut self, i: u64) -> u64 {
        let wanted = i / 16;
        let bytes = match self.block {
            Some((block, bytes)) if block == wanted => bytes,
            _ => {
                let mut input = [0u8; 40];
                input[..32].copy_from_slice(&self.seed);
                input[32..].copy_from_slice(&wanted.to_le_bytes());
                let bytes = hash_fixed(&input);
                self.block = Some((wanted, bytes));
                bytes
            }
        };
        let offset = (i % 16 * 2) as usize;
        u64::from(u16::from_le_bytes([bytes[offset], bytes[offset + 1]]))
    }
}

/// `effective_balance * MAX_RANDOM_VALUE >= MAX_EFFECTIVE_BALANCE_ELECTRA * random_value`,
/// in u128 so no balance can overflow it.
fn accepts(effective_balance: u64, random_value: u64) -> bool {
    const MAX_RANDOM_VALUE: u128 = (1 << 16) - 1;
    u128::from(effective_balance) * MAX_RANDOM_VALUE
        >= u128::from(MAX_EFFECTIVE_BALANCE_ELECTRA) * u128::from(random_value)
}

impl Candidates<'_> {
    /// The registry index behind sample `i` and whether it is accepted.
    fn sample(
        &self,
        shuffler: &mut Shuffler,
        random: &mut RandomValues,
        i: u64,
    ) -> Option<(u64, bool)> {
        let count = shuffler.index_count();
        let position = shuffler.shuffled_index(i % count)?;
        let candidate = *self.active.get(usize::try_from(position).ok()?)?;
        let balance = *self
            .effective_balances
            .get(usize::try_from(candidate).ok()?)?;
        Some((candidate, accepts(balance, random.get(i))))
    }

    /// `compute_proposer_index(state, active, seed)`; `None` with no active validator.
    ///
    /// The loop ends because every active validator has at least
    /// `MIN_ACTIVATION_BALANCE`, so each sample is accepted with probability ≥ 1/64.
    pub fn proposer_index(&self, seed: [u8; 32]) -> Option<u64> {
        let mut shuffler = Shuffler::new(seed, self.active.len() as u64, self.shuffle_rounds)?;
        let mut random = RandomValues::new(seed);
        let mut i = 0u64;
        loop {
            let (candidate, accepted) = self.sample(&mut shuffler, &mut random, i)?;
            if accepted {
                return Some(candidate);
            }
            i += 1;
        }
    }

    /// `compute_proposer_indices(state, epoch, epoch_seed, active)`: one proposer per
    /// slot of `epoch`, each from the seed `hash(epoch_seed + uint_to_bytes(slot))`.
    pub fn proposer_indices(
        &self,
        epoch: u64,
        slots_per_epoch: u64,
        epoch_seed: &[u8; 32],
    ) -> Option<Vec<u64>> {
        let start_slot = epoch.checked_mul(slots_per_epoch)?;
        // Each slot shuffles under its own seed, so the slots are independent work;
        // the collected order is the slot order whatever the thread count.
        (0..slots_per_epoch)
            .into_par_iter()
            .map(|i| {
                let mut input = [0u8; 40];
                input[..32].copy_from_slice(epoch_seed);
                input[32..].copy_from_slice(&start_slot.checked_add(i)?.to_le_bytes());
                self.proposer_index(hash_fixed(&input))
            })
            .collect()
    }

    /// `get_next_sync_committee_indices(state)` given the seed of the next epoch:
    /// `size` indices, with possible duplicates, in selection order.
    pub fn sync_committee_indices(&self, seed: [u8; 32], size: usize) -> Option<Vec<u64>> {
        let mut shuffler = Shuffler::new(seed, self.active.len() as u64, self.shuffle_rounds)?;
        let mut random = RandomValues::new(seed);
        let mut indices = Vec::with_capacity(size);
        let mut i = 0u64;
        while indices.len() < size {
            let (candidate, accepted) = self.sample(&mut shuffler, &mut random, i)?;
            if accepted {
                indices.push(candidate);
            }
            i += 1;
        }
        Some(indices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::preset::MIN_ACTIVATION_BALANCE;

    #[test]
    fn acceptance_is_proportional_to_balance() {
        assert!(accepts(MAX_EFFECTIVE_BALANCE_ELECTRA, 65535));
        assert!(accepts(MIN_ACTIVATION_BALANCE, 1023));
        assert!(!accepts(MIN_ACTIVATION_BALANCE, 1024));
        assert!(accepts(0, 0));
        assert!(!accepts(0, 1));
    }

    #[test]
    fn random_values_are_little_endian_pairs() {
        let seed = [9u8; 32];
        let mut random = RandomValues::new(seed);
        let mut input = [0u8; 40];
        input[..32].copy_from_slice(&seed);
        input[32..].copy_from_slice(&1u64.to_le_bytes());
        let block1 = hash_fixed(&input);
        assert_eq!(
            random.get(17),
            u64::from(block1[2]) | u64::from(block1[3]) << 8
        );
    }

    #[test]
    fn no_active_validator_gives_none() {
        let candidates = Candidates {
            active: &[],
            effective_balances: &[],
            shuffle_rounds: 10,
        };
        assert_eq!(candidates.proposer_index([1; 32]), None);
        assert_eq!(candidates.sync_committee_indices([1; 32], 4), None);
    }
}
