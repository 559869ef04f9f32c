//! What every signed beacon message shares: `compute_domain`, `compute_signing_root`
//! and the signature ciphersuite, with the SSZ pieces small fixed containers need.

use sha2::{Digest, Sha256};

use super::bls::ValidatorSecretKey;
use super::fork::{compute_fork_data_root, Version};

/// The proof-of-possession ciphersuite every beacon signature uses.
const SIGNATURE_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// SHA-256 of two chunks: one step of merkleization.
pub fn hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// A `uint64` as its SSZ chunk (little-endian, zero-padded).
pub fn uint64_chunk(value: u64) -> [u8; 32] {
    let mut chunk = [0u8; 32];
    chunk[..8].copy_from_slice(&value.to_le_bytes());
    chunk
}

/// The root of a fixed byte vector (`Bytes48`, `Bytes96`): its chunks, zero-padded
/// to a power of two, merkleized.
pub fn bytes_root(bytes: &[u8]) -> [u8; 32] {
    let mut chunks: Vec<[u8; 32]> = bytes
        .chunks(32)
        .map(|c| {
            let mut chunk = [0u8; 32];
            chunk[..c.len()].copy_from_slice(c);
            chunk
        })
        .collect();
    chunks.resize(chunks.len().next_power_of_two(), [0u8; 32]);
    while chunks.len() > 1 {
        chunks = chunks.chunks(2).map(|p| hash(&p[0], &p[1])).collect();
    }
    chunks[0]
}

/// Spec `compute_domain(domain_type, fork_version, genesis_validators_root)`.
pub fn compute_domain(
    domain_type: [u8; 4],
    version: Version,
    genesis_validators_root: &[u8; 32],
) -> [u8; 32] {
    let mut domain = [0u8; 32];
    domain[..4].copy_from_slice(&domain_type);
    domain[4..].copy_from_slice(&compute_fork_data_root(version, genesis_validators_root)[..28]);
    domain
}

/// Signs the object whose root is `object_root` under `domain` (spec
/// `compute_signing_root`, then `Sign`).
pub fn sign(key: &ValidatorSecretKey, object_root: &[u8; 32], domain: &[u8; 32]) -> [u8; 96] {
    key.sign(&hash(object_root, domain), SIGNATURE_DST)
}
