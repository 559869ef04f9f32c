//! Prysm's "imported" (local) wallet, written offline.
//!
//! Prysm's validator client does not read EIP-2335 keystores directly: it reads a
//! wallet directory holding one subdirectory named after the keymanager kind
//! (`direct` for imported keys) and, inside it, `accounts/all-accounts.keystore.json`.
//! That file is itself an EIP-2335 `crypto` section, under the wallet password,
//! whose plaintext is the JSON `{"private_keys": [...], "public_keys": [...]}` with
//! each key base64-encoded (Go's encoding of `[]byte`). Prysm reads any scrypt or
//! PBKDF2 parameters, so the compiler can write it with its own salt, IV and UUID
//! and the result is deterministic; no `validator accounts import` step is needed.
//!
//! Read at runtime by Prysm v7.1.6 `validator/keymanager/local/keymanager.go`
//! (`initializeAccountKeystore`) and `validator/accounts/wallet/wallet.go`.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::consensus::bls::{BlsPublicKey, ValidatorSecretKey};
use crate::consensus::keystore::{
    decrypt_secret, encrypt_secret, Crypto, Kdf, KeystoreError, KeystoreNonces,
};
use crate::execution::keystore::uuid_v4;

/// Where the accounts keystore lives, relative to `--wallet-dir`. `direct` is the
/// directory name of Prysm's local keymanager kind; the wallet directory must hold
/// exactly one keymanager directory.
pub const ACCOUNTS_KEYSTORE_PATH: &str = "direct/accounts/all-accounts.keystore.json";

/// Prysm's wrapper around the crypto section (`AccountsKeystoreRepresentation`).
#[derive(Serialize, Deserialize)]
struct AccountsKeystore {
    crypto: Crypto,
    uuid: String,
    version: u32,
    name: String,
}

/// The encrypted payload (`accountStore`); Go encodes `[][]byte` as base64 strings.
#[derive(Serialize, Deserialize)]
struct AccountStore {
    private_keys: Vec<String>,
    public_keys: Vec<String>,
}

/// The wallet's files for `keys`, as paths relative to the wallet directory mapped
/// to their bytes. The validator client then starts with
/// `--wallet-dir=<dir> --wallet-password-file=<file holding password>`.
pub fn wallet_files(
    keys: &[ValidatorSecretKey],
    password: &str,
    kdf: Kdf,
    nonces: &KeystoreNonces,
) -> Result<BTreeMap<String, Vec<u8>>, KeystoreError> {
    // Prysm trims trailing newlines from the password file and refuses an empty password.
    if password.is_empty() || password.ends_with(['\r', '\n']) {
        return Err(KeystoreError::Format(
            "a Prysm wallet password must be non-empty and not end in a newline".into(),
        ));
    }
    let store = AccountStore {
        private_keys: keys.iter().map(|k| BASE64.encode(*k.to_bytes())).collect(),
        public_keys: keys
            .iter()
            .map(|k| BASE64.encode(k.public_key().0))
            .collect(),
    };
    let plain = Zeroizing::new(
        serde_json::to_vec(&store).map_err(|e| KeystoreError::Format(e.to_string()))?,
    );
    let mut private_keys = store.private_keys;
    private_keys.iter_mut().for_each(zeroize::Zeroize::zeroize);
    let file = AccountsKeystore {
        crypto: encrypt_secret(&plain, password, kdf, &nonces.salt, &nonces.iv)?,
        uuid: uuid_v4(nonces.uuid),
        version: 4,
        name: "keystore".into(),
    };
    let mut text =
        serde_json::to_vec_pretty(&file).map_err(|e| KeystoreError::Format(e.to_string()))?;
    text.push(b'\n');
    Ok(BTreeMap::from([(ACCOUNTS_KEYSTORE_PATH.to_string(), text)]))
}

/// Opens an accounts keystore the way Prysm does: the keys, in wallet order, each
/// checked against its stated public key.
pub fn read_accounts(
    json: &[u8],
    password: &str,
) -> Result<Vec<ValidatorSecretKey>, KeystoreError> {
    let file: AccountsKeystore =
        serde_json::from_slice(json).map_err(|e| KeystoreError::Format(e.to_string()))?;
    let plain = decrypt_secret(&file.crypto, password)?;
    let store: AccountStore =
        serde_json::from_slice(&plain).map_err(|e| KeystoreError::Format(e.to_string()))?;
    if store.private_keys.len() != store.public_keys.len() {
        return Err(KeystoreError::Format(
            "unequal numbers of private and public keys".into(),
        ));
    }
    let decode = |what: &str, text: &str| {
        BASE64
            .decode(text)
            .map(Zeroizing::new)
            .map_err(|_| KeystoreError::Format(format!("a {what} key is not base64")))
    };
    store
        .private_keys
        .iter()
        .zip(&store.public_keys)
        .map(|(sk, pk)| {
            let key = ValidatorSecretKey::from_bytes(&decode("private", sk)?)
                .map_err(|e| KeystoreError::Format(e.to_string()))?;
            let stated = BlsPublicKey::from_bytes(&decode("public", pk)?)
                .map_err(|e| KeystoreError::Format(e.to_string()))?;
            if stated != key.public_key() {
                return Err(KeystoreError::Format(format!(
                    "public key {stated} does not belong to its private key"
                )));
            }
            Ok(key)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::bls::Seed;

    fn nonces() -> KeystoreNonces {
        KeystoreNonces {
            salt: [4; 32],
            iv: [5; 16],
            uuid: [6; 16],
        }
    }

    #[test]
    fn wallet_round_trip_is_deterministic() {
        let seed = Seed::from_bytes([8; 32]);
        let keys: Vec<_> = (0..3).map(|i| seed.validator(i).signing).collect();
        let a = wallet_files(&keys, "wallet-pw", Kdf::LIGHT, &nonces()).unwrap();
        let b = wallet_files(&keys, "wallet-pw", Kdf::LIGHT, &nonces()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.keys().collect::<Vec<_>>(), [ACCOUNTS_KEYSTORE_PATH]);
        let json = &a[ACCOUNTS_KEYSTORE_PATH];
        let v: serde_json::Value = serde_json::from_slice(json).unwrap();
        assert_eq!(v["name"], "keystore");
        assert_eq!(v["version"], 4);
        let opened = read_accounts(json, "wallet-pw").unwrap();
        let pubkeys: Vec<_> = opened.iter().map(|k| k.public_key()).collect();
        let want: Vec<_> = keys.iter().map(|k| k.public_key()).collect();
        assert_eq!(pubkeys, want);
        assert!(matches!(
            read_accounts(json, "wallet-pW"),
            Err(KeystoreError::WrongPassword)
        ));
    }

    #[test]
    fn passwords_prysm_would_change_are_refused() {
        let keys = [Seed::from_bytes([8; 32]).validator(0).signing];
        for bad in ["", "pw\n", "pw\r\n"] {
            assert!(wallet_files(&keys, bad, Kdf::LIGHT, &nonces()).is_err());
        }
    }
}
