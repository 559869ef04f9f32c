//! The swap-or-not shuffle of consensus-specs `compute_shuffled_index`
//! (phase0 beacon-chain.md, "Misc"), with the hashes a round needs cached so that
//! shuffling many indices under one seed costs one pivot hash per round and one
//! source hash per (round, 256-position bucket) instead of two hashes per round and
//! index — the genesis sync committee shuffles tens of thousands of indices.

use ethereum_hashing::hash_fixed;

/// Positions that share one source hash: each hash gives 256 bits.
const POSITIONS_PER_SOURCE: u64 = 256;

/// `compute_shuffled_index(index, index_count, seed)` for one index; `None` when
/// `index >= index_count` (the spec's assertion).
pub fn compute_shuffled_index(
    index: u64,
    index_count: u64,
    seed: &[u8; 32],
    rounds: u8,
) -> Option<u64> {
    Shuffler::new(*seed, index_count, rounds)?.shuffled_index(index)
}

/// Shuffles indices of one list (`index_count`) under one seed.
pub struct Shuffler {
    seed: [u8; 32],
    index_count: u64,
    /// `bytes_to_uint64(hash(seed + round)[0:8]) % index_count` per round.
    pivots: Vec<u64>,
    /// `hash(seed + round + uint32(position // 256))`, filled on first use;
    /// indexed `round * buckets + bucket`.
    sources: Vec<Option<[u8; 32]>>,
    buckets: usize,
}

impl Shuffler {
    /// `None` for an empty list, which has nothing to shuffle (the spec asserts
    /// `index < index_count`, so no index is valid).
    pub fn new(seed: [u8; 32], index_count: u64, rounds: u8) -> Option<Self> {
        if index_count == 0 {
            return None;
        }
        let pivots = (0..rounds)
            .map(|round| {
                let mut input = [0u8; 33];
                input[..32].copy_from_slice(&seed);
                input[32] = round;
                let digest = hash_fixed(&input);
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                u64::from_le_bytes(first) % index_count
            })
            .collect::<Vec<_>>();
        let buckets = usize::try_from(index_count.div_ceil(POSITIONS_PER_SOURCE)).ok()?;
        Some(Self {
            seed,
            index_count,
            sources: vec![None; pivots.len().checked_mul(buckets)?],
            pivots,
            buckets,
        })
    }

    pub fn index_count(&self) -> u64 {
        self.index_count
    }

    /// The shuffled position of `index`; `None` when `index >= index_count`.
    pub fn shuffled_index(&mut self, index: u64) -> Option<u64> {
        if index >= self.index_count {
            return None;
        }
        let count = self.index_count;
        let mut index = index;
        for round in 0..self.pivots.len() {
            let pivot = self.pivots[round];
            // (pivot + index_count - index) % index_count, without overflow for
            // counts near 2**64.
            let flip = if pivot >= index {
                pivot - index
            } else {
                count - (index - pivot)
            } % count;
            let position = index.max(flip);
            let source = self.source(round, position / POSITIONS_PER_SOURCE);
            let byte = source[((position % POSITIONS_PER_SOURCE) / 8) as usize];
            if (byte >> (position % 8)) & 1 == 1 {
                index = flip;
            }
        }
        Some(index)
    }

    fn source(&mut self, round: usize, bucket: u64) -> [u8; 32] {
        // bucket < buckets, which fits usize (checked in `new`).
        let slot = round * self.buckets + bucket as usize;
        if let Some(hash) = self.sources[slot] {
            return hash;
        }
        let mut input = [0u8; 37];
        input[..32].copy_from_slice(&self.seed);
        input[32] = round as u8;
        // The spec's uint32: position // 256 < 2**56 / 256 always fits for real
        // registries (at most 2**40 validators).
        input[33..].copy_from_slice(&(bucket as u32).to_le_bytes());
        let hash = hash_fixed(&input);
        self.sources[slot] = Some(hash);
        hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rounds, seed, index_count, (index, shuffled index) pairs.
    type Case = (u8, [u8; 32], u64, &'static [(u64, u64)]);

    fn counting_seed() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    /// Expected values were computed once with the executable consensus spec
    /// (PyPI eth-consensus-specs 1.7.0a13: `fulu.mainnet.compute_shuffled_index`,
    /// 90 rounds, and `fulu.minimal.compute_shuffled_index`, 10 rounds) and pinned.
    #[test]
    fn matches_the_consensus_spec() {
        let reverse: [u8; 32] = std::array::from_fn(|i| 31 - i as u8);
        let cases: [Case; 4] = [
            (
                90,
                counting_seed(),
                10,
                &[
                    (0, 5),
                    (1, 2),
                    (2, 3),
                    (3, 1),
                    (4, 9),
                    (5, 6),
                    (6, 7),
                    (7, 4),
                    (8, 0),
                    (9, 8),
                ],
            ),
            (
                10,
                counting_seed(),
                7,
                &[(0, 0), (1, 2), (2, 4), (3, 5), (4, 6), (5, 3), (6, 1)],
            ),
            (
                90,
                [0xab; 32],
                1000,
                &[
                    (0, 731),
                    (1, 241),
                    (255, 965),
                    (256, 678),
                    (511, 727),
                    (512, 152),
                    (999, 48),
                ],
            ),
            (
                10,
                reverse,
                300,
                &[(0, 64), (100, 246), (256, 62), (299, 138)],
            ),
        ];
        for (rounds, seed, count, expected) in cases {
            let mut shuffler = Shuffler::new(seed, count, rounds).unwrap();
            for &(index, want) in expected {
                assert_eq!(
                    shuffler.shuffled_index(index),
                    Some(want),
                    "rounds {rounds}, count {count}, index {index}"
                );
                assert_eq!(
                    compute_shuffled_index(index, count, &seed, rounds),
                    Some(want)
                );
            }
        }
    }

    #[test]
    fn is_a_permutation() {
        for count in [1u64, 2, 3, 255, 256, 257, 1000] {
            let mut shuffler = Shuffler::new([7u8; 32], count, 90).unwrap();
            let mut seen = vec![false; count as usize];
            for i in 0..count {
                let j = shuffler.shuffled_index(i).unwrap();
                assert!(!seen[j as usize], "count {count}: {j} twice");
                seen[j as usize] = true;
            }
        }
    }

    #[test]
    fn cached_and_single_agree_and_bounds_are_refused() {
        let seed = [0x42u8; 32];
        let mut shuffler = Shuffler::new(seed, 600, 90).unwrap();
        for i in [0u64, 1, 255, 256, 599] {
            assert_eq!(
                shuffler.shuffled_index(i),
                compute_shuffled_index(i, 600, &seed, 90)
            );
        }
        assert_eq!(shuffler.shuffled_index(600), None);
        assert!(Shuffler::new(seed, 0, 90).is_none());
    }
}
