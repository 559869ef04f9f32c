//! Voluntary exits of validators that leave a running network: the spec's
//! `SignedVoluntaryExit`. Since Deneb the exit domain is fixed to the Capella fork
//! version (EIP-7044), so an exit signed once stays valid across later forks.

use super::bls::ValidatorSecretKey;
use super::fork::Version;
use super::signing::{compute_domain, hash, sign, uint64_chunk};

/// `DOMAIN_VOLUNTARY_EXIT` (spec phase0).
const DOMAIN_VOLUNTARY_EXIT: [u8; 4] = [4, 0, 0, 0];

/// The signature of `VoluntaryExit(epoch, validator_index)` by the validator's key,
/// under `compute_domain(DOMAIN_VOLUNTARY_EXIT, capella_fork_version,
/// genesis_validators_root)`.
pub fn sign_voluntary_exit(
    key: &ValidatorSecretKey,
    validator_index: u64,
    epoch: u64,
    capella_fork_version: Version,
    genesis_validators_root: &[u8; 32],
) -> [u8; 96] {
    let message_root = hash(&uint64_chunk(epoch), &uint64_chunk(validator_index));
    let domain = compute_domain(
        DOMAIN_VOLUNTARY_EXIT,
        capella_fork_version,
        genesis_validators_root,
    );
    sign(key, &message_root, &domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::bls::Seed;

    /// ethstaker-deposit 1.3.1 (`exit_transaction_generation` with
    /// `EXIT_FORK_VERSION=0x30001092`, a genesis validators root, validator 7, epoch
    /// 12, the key of `Credential(mnemonic="abandon … art", index=0)`), an independent
    /// implementation (py_ecc, py-ssz).
    #[test]
    fn an_exit_matches_ethstaker_deposit() {
        let seed = Seed::from_mnemonic(&format!("{}art", "abandon ".repeat(23)), "").unwrap();
        let mut root = [0u8; 32];
        root[..8].copy_from_slice(&hex::decode("5fa4013338b3b484").unwrap());
        let signature = sign_voluntary_exit(
            &seed.validator(0).signing,
            7,
            12,
            Version([0x30, 0x00, 0x10, 0x92]),
            &root,
        );
        assert_eq!(
            hex::encode(signature),
            "ab36e2aadb5b6f25c674a8fb66f9b60e1b24de2fb42009213dd85e8f0cabd7bef0b76c4c42e46af5228ea986fbf1ead1052a29c64606cce0c266f17f5b2bd1e09d75f58642bdad1e0f2a1c6ccf3dd5ca0935d480de0c9e73b8832b38800a2e04"
        );
    }
}
