//! The network's fork schedule as the consensus layer sees it: fork versions,
//! the blob schedule (BPO forks), fork digests and the ENR `eth2` entry.
//!
//! Fork digests separate networks and forks on the p2p layer: two beacon nodes
//! only peer when their digests agree, so every input here (versions, epochs,
//! blob schedule, genesis validators root) must be byte-identical on all nodes.
//! The functions follow consensus-specs v1.7.0-alpha.11 (`phase0` and `fulu`
//! `beacon-chain.md`, `fulu/p2p-interface.md`), the version Prysm v7.1.6 is
//! built against.

use std::fmt;

use sha2::{Digest, Sha256};

/// `FAR_FUTURE_EPOCH`: a fork that is not scheduled.
pub const FAR_FUTURE_EPOCH: u64 = u64::MAX;

/// The consensus forks in order. `Phase0` is genesis (`GENESIS_FORK_VERSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fork {
    Phase0,
    Altair,
    Bellatrix,
    Capella,
    Deneb,
    Electra,
    Fulu,
    Gloas,
    Heze,
}

impl Fork {
    /// Every fork the pinned spec config names, oldest first.
    pub const ALL: [Fork; 9] = [
        Fork::Phase0,
        Fork::Altair,
        Fork::Bellatrix,
        Fork::Capella,
        Fork::Deneb,
        Fork::Electra,
        Fork::Fulu,
        Fork::Gloas,
        Fork::Heze,
    ];

    /// Position in [`Fork::ALL`].
    pub fn index(self) -> u8 {
        self as u8
    }

    /// The prefix of the config keys `<PREFIX>_FORK_VERSION` / `<PREFIX>_FORK_EPOCH`.
    pub fn config_prefix(self) -> &'static str {
        match self {
            Fork::Phase0 => "GENESIS",
            Fork::Altair => "ALTAIR",
            Fork::Bellatrix => "BELLATRIX",
            Fork::Capella => "CAPELLA",
            Fork::Deneb => "DENEB",
            Fork::Electra => "ELECTRA",
            Fork::Fulu => "FULU",
            Fork::Gloas => "GLOAS",
            Fork::Heze => "HEZE",
        }
    }
}

/// The network file's `fork` names the last fork a network starts in; later
/// forks (Gloas, Heze) are not final and stay at `FAR_FUTURE_EPOCH`.
pub use crate::config::ForkAtGenesis;
use crate::execution::pos_genesis::{BPO1_BLOBS, BPO2_BLOBS};

impl From<ForkAtGenesis> for Fork {
    fn from(fork: ForkAtGenesis) -> Self {
        match fork {
            ForkAtGenesis::Electra => Fork::Electra,
            ForkAtGenesis::Fulu => Fork::Fulu,
        }
    }
}

/// A 4-byte fork version; `Display` gives `0x`-hex, the config file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version(pub [u8; 4]);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// The first byte of every fork version this compiler assigns, before the fork
/// index is added. Public networks use first bytes 0x00-0x08 (mainnet, minimal,
/// holesky, Prysm's e2e and interop configs), 0x10-0x90 (hoodi, ephemery-style
/// devnets) and 0x90-0x97 (sepolia); 0x40-0x48 is taken by none of them.
pub const VERSION_PREFIX: u8 = 0x40;

/// This network's fork version for `fork`: `[0x40 + fork index, chain id
/// (low 24 bits, big-endian)]`. The first byte makes versions unique per fork
/// and unlike public networks; the chain id makes two private networks with
/// different chain ids disagree on every digest, so their nodes never peer.
pub fn fork_version(chain_id: u64, fork: Fork) -> Version {
    let id = chain_id.to_be_bytes();
    Version([VERSION_PREFIX + fork.index(), id[5], id[6], id[7]])
}

/// One Blob-Parameters-Only entry of `BLOB_SCHEDULE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobParameters {
    pub epoch: u64,
    pub max_blobs_per_block: u64,
}

/// `BLOB_SCHEDULE`, sorted by epoch with at most one entry per epoch.
///
/// The execution layer activates BPO forks in order, so when two BPOs share an
/// epoch the later one is in force. The spec's `get_blob_parameters` would pick
/// the first listed of two equal epochs and Prysm sorts them unstably, so
/// duplicates are collapsed here (keeping the later BPO) before anyone sees them,
/// as ethereum-genesis-generator does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlobSchedule(Vec<BlobParameters>);

impl BlobSchedule {
    /// `bpos` in execution-layer order (BPO1, BPO2, ...). Entries at
    /// `FAR_FUTURE_EPOCH` are not scheduled and are left out.
    pub fn new(bpos: impl IntoIterator<Item = BlobParameters>) -> Self {
        let mut entries: Vec<BlobParameters> = Vec::new();
        for bpo in bpos.into_iter().filter(|b| b.epoch != FAR_FUTURE_EPOCH) {
            match entries.iter_mut().find(|e| e.epoch == bpo.epoch) {
                Some(existing) => *existing = bpo,
                None => entries.push(bpo),
            }
        }
        entries.sort_by_key(|e| e.epoch);
        BlobSchedule(entries)
    }

    /// Mainnet's BPO1 (15 blobs) and BPO2 (21 blobs) at the given epochs: the
    /// limits the execution genesis schedules, so both layers agree.
    pub fn mainnet_bpos(bpo1_epoch: u64, bpo2_epoch: u64) -> Self {
        Self::new([
            BlobParameters {
                epoch: bpo1_epoch,
                max_blobs_per_block: BPO1_BLOBS.max,
            },
            BlobParameters {
                epoch: bpo2_epoch,
                max_blobs_per_block: BPO2_BLOBS.max,
            },
        ])
    }

    pub fn entries(&self) -> &[BlobParameters] {
        &self.0
    }
}

/// Everything that determines the fork digests of a network except the
/// genesis validators root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkSchedule {
    pub chain_id: u64,
    pub genesis_fork: ForkAtGenesis,
    pub blob_schedule: BlobSchedule,
    /// `MAX_BLOBS_PER_BLOCK_ELECTRA`: the blob limit from Electra until the
    /// first BPO (9 in both presets of the pinned spec).
    pub max_blobs_per_block_electra: u64,
}

impl ForkSchedule {
    pub fn version(&self, fork: Fork) -> Version {
        fork_version(self.chain_id, fork)
    }

    /// Every fork up to the genesis fork is active from epoch 0; later ones are
    /// not scheduled.
    pub fn epoch(&self, fork: Fork) -> u64 {
        if fork <= Fork::from(self.genesis_fork) {
            0
        } else {
            FAR_FUTURE_EPOCH
        }
    }

    /// The fork in force at `epoch` (spec `compute_fork_version`).
    pub fn fork_at(&self, epoch: u64) -> Fork {
        Fork::ALL
            .into_iter()
            .rev()
            .find(|f| self.epoch(*f) != FAR_FUTURE_EPOCH && epoch >= self.epoch(*f))
            .unwrap_or(Fork::Phase0)
    }

    /// Spec `get_blob_parameters` (Fulu).
    pub fn blob_parameters(&self, epoch: u64) -> BlobParameters {
        self.blob_schedule
            .entries()
            .iter()
            .rev()
            .find(|e| epoch >= e.epoch)
            .copied()
            .unwrap_or(BlobParameters {
                epoch: self.epoch(Fork::Electra),
                max_blobs_per_block: self.max_blobs_per_block_electra,
            })
    }

    /// Spec `compute_fork_digest` (Fulu): the fork data root's first 4 bytes,
    /// from Fulu on XOR-ed with the hash of the blob parameters in force.
    pub fn fork_digest(&self, genesis_validators_root: &[u8; 32], epoch: u64) -> [u8; 4] {
        let base =
            compute_fork_data_root(self.version(self.fork_at(epoch)), genesis_validators_root);
        let mut digest = [base[0], base[1], base[2], base[3]];
        if epoch < self.epoch(Fork::Fulu) {
            return digest;
        }
        let blobs = self.blob_parameters(epoch);
        let mut params = [0u8; 16];
        params[..8].copy_from_slice(&blobs.epoch.to_le_bytes());
        params[8..].copy_from_slice(&blobs.max_blobs_per_block.to_le_bytes());
        let mask: [u8; 32] = Sha256::digest(params).into();
        for (d, m) in digest.iter_mut().zip(mask) {
            *d ^= m;
        }
        digest
    }

    /// The first epoch after `epoch` at which a regular or BPO fork happens.
    fn next_fork_epoch(&self, epoch: u64) -> Option<u64> {
        let forks = Fork::ALL.into_iter().map(|f| self.epoch(f));
        let bpos = self.blob_schedule.entries().iter().map(|e| e.epoch);
        forks
            .chain(bpos)
            .filter(|e| *e != FAR_FUTURE_EPOCH && *e > epoch)
            .min()
    }

    /// The ENR `eth2` value of a node whose wall clock is at `epoch`
    /// (`fulu/p2p-interface.md`): with no fork ahead, the next version is the
    /// current one and the next epoch is `FAR_FUTURE_EPOCH`.
    pub fn enr_fork_id(&self, genesis_validators_root: &[u8; 32], epoch: u64) -> EnrForkId {
        let fork_digest = self.fork_digest(genesis_validators_root, epoch);
        match self.next_fork_epoch(epoch) {
            Some(next) => EnrForkId {
                fork_digest,
                next_fork_version: self.version(self.fork_at(next)),
                next_fork_epoch: next,
            },
            None => EnrForkId {
                fork_digest,
                next_fork_version: self.version(self.fork_at(epoch)),
                next_fork_epoch: FAR_FUTURE_EPOCH,
            },
        }
    }

    /// The ENR `nfd` value (Fulu): the digest of the next regular or BPO fork,
    /// zeros when none is scheduled.
    pub fn next_fork_digest(&self, genesis_validators_root: &[u8; 32], epoch: u64) -> [u8; 4] {
        match self.next_fork_epoch(epoch) {
            Some(next) => self.fork_digest(genesis_validators_root, next),
            None => [0; 4],
        }
    }
}

/// Spec `compute_fork_data_root`: `hash_tree_root(ForkData(version, root))`.
/// A two-field container of a `Bytes4` and a `Root` merkleizes to one SHA-256 of
/// the two chunks (the version right-padded to 32 bytes).
pub fn compute_fork_data_root(version: Version, genesis_validators_root: &[u8; 32]) -> [u8; 32] {
    let mut chunks = [0u8; 64];
    chunks[..4].copy_from_slice(&version.0);
    chunks[32..].copy_from_slice(genesis_validators_root);
    Sha256::digest(chunks).into()
}

/// `ENRForkID`, the value of the ENR `eth2` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrForkId {
    pub fork_digest: [u8; 4],
    pub next_fork_version: Version,
    pub next_fork_epoch: u64,
}

impl EnrForkId {
    /// SSZ: three fixed-size fields back to back, the epoch little-endian.
    pub fn to_ssz(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&self.fork_digest);
        out[4..8].copy_from_slice(&self.next_fork_version.0);
        out[8..].copy_from_slice(&self.next_fork_epoch.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fulu(chain_id: u64, blobs: BlobSchedule) -> ForkSchedule {
        ForkSchedule {
            chain_id,
            genesis_fork: ForkAtGenesis::Fulu,
            blob_schedule: blobs,
            max_blobs_per_block_electra: 9,
        }
    }

    #[test]
    fn versions_are_unique_per_fork_and_carry_the_chain_id() {
        let versions: Vec<Version> = Fork::ALL.iter().map(|f| fork_version(1337, *f)).collect();
        assert_eq!(versions[0].to_string(), "0x40000539");
        assert_eq!(versions[6].to_string(), "0x46000539");
        let mut unique = versions.clone();
        unique.dedup();
        assert_eq!(unique.len(), Fork::ALL.len());
        assert_eq!(
            fork_version(0x0123_4567_89ab_cdef, Fork::Altair).to_string(),
            "0x41abcdef"
        );
    }

    #[test]
    fn versions_never_collide_with_prysm_built_in_networks() {
        // Prysm refuses a config whose versions another built-in config owns
        // (config/params/configset.go `add`): mainnet, minimal, e2e, interop,
        // holesky, sepolia, hoodi use first bytes 0x00-0x08, 0x10-0x80, 0x90-0x97.
        for fork in Fork::ALL {
            let first = fork_version(u64::MAX, fork).0[0];
            assert!((0x40..=0x48).contains(&first), "{fork:?}");
        }
    }

    #[test]
    fn equal_bpo_epochs_collapse_to_the_later_bpo() {
        let s = BlobSchedule::mainnet_bpos(0, 0);
        assert_eq!(
            s.entries(),
            &[BlobParameters {
                epoch: 0,
                max_blobs_per_block: 21
            }]
        );
        let s = BlobSchedule::mainnet_bpos(10, FAR_FUTURE_EPOCH);
        assert_eq!(s.entries().len(), 1);
        let s = BlobSchedule::mainnet_bpos(20, 10);
        assert_eq!(s.entries()[0].epoch, 10);
    }

    #[test]
    fn forks_up_to_genesis_fork_start_at_zero() {
        let s = fulu(1337, BlobSchedule::default());
        assert_eq!(s.epoch(Fork::Fulu), 0);
        assert_eq!(s.epoch(Fork::Gloas), FAR_FUTURE_EPOCH);
        assert_eq!(s.fork_at(0), Fork::Fulu);
        assert_eq!(s.fork_at(1_000_000), Fork::Fulu);
        let e = ForkSchedule {
            genesis_fork: ForkAtGenesis::Electra,
            ..s
        };
        assert_eq!(e.fork_at(7), Fork::Electra);
        assert_eq!(e.epoch(Fork::Fulu), FAR_FUTURE_EPOCH);
    }

    #[test]
    fn enr_fork_id_without_a_next_fork_points_at_itself() {
        let s = fulu(1337, BlobSchedule::mainnet_bpos(0, 0));
        let id = s.enr_fork_id(&[0; 32], 0);
        assert_eq!(id.next_fork_version, fork_version(1337, Fork::Fulu));
        assert_eq!(id.next_fork_epoch, FAR_FUTURE_EPOCH);
        assert_eq!(&id.to_ssz()[8..], &[0xff; 8]);
        assert_eq!(s.next_fork_digest(&[0; 32], 0), [0; 4]);
    }

    #[test]
    fn a_later_bpo_is_the_next_fork() {
        let s = fulu(1337, BlobSchedule::mainnet_bpos(0, 5));
        let id = s.enr_fork_id(&[0; 32], 0);
        assert_eq!(id.next_fork_epoch, 5);
        assert_eq!(id.next_fork_version, fork_version(1337, Fork::Fulu));
        assert_ne!(s.fork_digest(&[0; 32], 0), s.fork_digest(&[0; 32], 5));
        assert_eq!(s.next_fork_digest(&[0; 32], 0), s.fork_digest(&[0; 32], 5));
    }

    /// Values computed by the executable spec (eth-consensus-specs 1.7.0a13);
    /// `scripts/oracle-fork-digest.sh` recomputes and checks every one.
    #[test]
    fn digests_match_the_executable_spec() {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("fork_vectors.json")).unwrap();
        assert!(cases.len() >= 5);
        let pairs = |v: &serde_json::Value| -> Vec<BlobParameters> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| BlobParameters {
                    epoch: p[0].as_u64().unwrap(),
                    max_blobs_per_block: p[1].as_u64().unwrap(),
                })
                .collect()
        };
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let blob_schedule = BlobSchedule::new(pairs(&case["bpos"]));
            assert_eq!(
                blob_schedule.entries(),
                pairs(&case["blob_schedule"]),
                "{name}"
            );
            let schedule = ForkSchedule {
                chain_id: case["chain_id"].as_u64().unwrap(),
                genesis_fork: match case["genesis_fork"].as_str().unwrap() {
                    "fulu" => ForkAtGenesis::Fulu,
                    _ => ForkAtGenesis::Electra,
                },
                blob_schedule,
                max_blobs_per_block_electra: case["max_blobs_per_block_electra"].as_u64().unwrap(),
            };
            let mut gvr = [0u8; 32];
            hex::decode_to_slice(case["genesis_validators_root"].as_str().unwrap(), &mut gvr)
                .unwrap();
            let epoch = case["epoch"].as_u64().unwrap();
            let hex_of = |key: &str| case[key].as_str().unwrap().to_string();
            assert_eq!(
                hex::encode(schedule.fork_digest(&gvr, epoch)),
                hex_of("fork_digest"),
                "{name}"
            );
            assert_eq!(
                hex::encode(schedule.enr_fork_id(&gvr, epoch).to_ssz()),
                hex_of("enr_fork_id"),
                "{name}"
            );
            assert_eq!(
                hex::encode(schedule.next_fork_digest(&gvr, epoch)),
                hex_of("next_fork_digest"),
                "{name}"
            );
        }
    }
}
