//! Deposits of validators that join a running network: the spec's `DepositData`,
//! signed under the deposit domain, with the roots the deposit contract and deposit
//! tools check (`deposit_message_root`, `deposit_data_root`).
//!
//! The deposit domain does not depend on the chain's history: it is
//! `compute_domain(DOMAIN_DEPOSIT, GENESIS_FORK_VERSION, zero root)`, so a deposit
//! signed offline at compile time is valid on the running chain. The containers are
//! small and fixed, so their SSZ roots are written out here chunk by chunk (with
//! `signing`'s pieces), as `fork::compute_fork_data_root` is.

use super::bls::{BlsPublicKey, ValidatorSecretKey};
use super::fork::Version;
use super::signing::{bytes_root, compute_domain, hash, sign, uint64_chunk};

/// `DOMAIN_DEPOSIT` (spec phase0).
const DOMAIN_DEPOSIT: [u8; 4] = [3, 0, 0, 0];

/// A signed deposit and the roots deposit tools print beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDeposit {
    pub pubkey: BlsPublicKey,
    pub withdrawal_credentials: [u8; 32],
    /// Gwei.
    pub amount: u64,
    pub signature: [u8; 96],
    /// `hash_tree_root(DepositMessage)`: what the signature signs, under the domain.
    pub deposit_message_root: [u8; 32],
    /// `hash_tree_root(DepositData)`: the deposit contract's `deposit_data_root`.
    pub deposit_data_root: [u8; 32],
}

/// `compute_domain(DOMAIN_DEPOSIT, genesis_fork_version, zero root)`.
pub fn deposit_domain(genesis_fork_version: Version) -> [u8; 32] {
    compute_domain(DOMAIN_DEPOSIT, genesis_fork_version, &[0u8; 32])
}

/// Signs a deposit of `amount` gwei for `key` with `withdrawal_credentials`.
pub fn sign_deposit(
    key: &ValidatorSecretKey,
    withdrawal_credentials: [u8; 32],
    amount: u64,
    genesis_fork_version: Version,
) -> SignedDeposit {
    let pubkey = key.public_key();
    let pubkey_root = bytes_root(&pubkey.0);
    // DepositMessage(pubkey, withdrawal_credentials, amount): three fields, four leaves.
    let deposit_message_root = hash(
        &hash(&pubkey_root, &withdrawal_credentials),
        &hash(&uint64_chunk(amount), &[0u8; 32]),
    );
    let signature = sign(
        key,
        &deposit_message_root,
        &deposit_domain(genesis_fork_version),
    );
    // DepositData(pubkey, withdrawal_credentials, amount, signature).
    let deposit_data_root = hash(
        &hash(&pubkey_root, &withdrawal_credentials),
        &hash(&uint64_chunk(amount), &bytes_root(&signature)),
    );
    SignedDeposit {
        pubkey,
        withdrawal_credentials,
        amount,
        signature,
        deposit_message_root,
        deposit_data_root,
    }
}

impl SignedDeposit {
    /// One entry of a `deposit_data-*.json` file, as ethstaker-deposit (and the
    /// staking-deposit-cli before it) writes them and deposit tools read them: hex
    /// without `0x`, the amount in gwei. `network_name` is the consensus config's
    /// `CONFIG_NAME`. No `deposit_cli_version`: this file comes from no such CLI.
    pub fn deposit_data_entry(
        &self,
        genesis_fork_version: Version,
        network_name: &str,
    ) -> serde_json::Value {
        serde_json::json!({
            "pubkey": self.pubkey.to_hex(),
            "withdrawal_credentials": hex::encode(self.withdrawal_credentials),
            "amount": self.amount,
            "signature": hex::encode(self.signature),
            "deposit_message_root": hex::encode(self.deposit_message_root),
            "deposit_data_root": hex::encode(self.deposit_data_root),
            "fork_version": hex::encode(genesis_fork_version.0),
            "network_name": network_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::bls::Seed;

    /// ethstaker-deposit 1.3.1 (`Credential(mnemonic="abandon … art", index=0,
    /// amount=32 ETH, GENESIS_FORK_VERSION=0x10001092, withdrawal address 0x…dEaD)
    /// .deposit_datum_dict`), an independent implementation (py_ecc, py-ssz).
    #[test]
    fn a_deposit_matches_ethstaker_deposit() {
        let seed = Seed::from_mnemonic(&format!("{}art", "abandon ".repeat(23)), "").unwrap();
        let keys = seed.validator(0);
        let mut credentials = [0u8; 32];
        credentials[0] = 1;
        credentials[30..].copy_from_slice(&[0xde, 0xad]);
        let d = sign_deposit(
            &keys.signing,
            credentials,
            32_000_000_000,
            Version([0x10, 0x00, 0x10, 0x92]),
        );
        assert_eq!(
            d.pubkey.to_hex(),
            "b384f767d964e100c8a9b21018d08c25ffebae268b3ab6d610353897541971726dbfc3c7463884c68a531515aab94c87"
        );
        assert_eq!(
            hex::encode(d.deposit_message_root),
            "e8fcb1dc1f15bb80cf22f127ff1dc72d94c3fb8737ff7eec3aefee1c646567bf"
        );
        assert_eq!(
            hex::encode(d.signature),
            "a953b9c19d7729b4251abfe08c501e559a9b862aab5ccf528d9072944ea5971b71f5ff05092ccdc9f74633bc2faca9920147a2369fa249bfacca2d78dfc6782ece353e0abaa3cba25b58dbd38604480f5989d7365f96ae132827d3632456d074"
        );
        assert_eq!(
            hex::encode(d.deposit_data_root),
            "8dff8dab3e19278ca2176764de135695660aa8a0844b2ac17b01c079318dc8d9"
        );
    }
}
