//! Validator keys, EIP-2335 keystores and the Prysm wallet, written for an
//! independent check: with `VALIDATOR_KEYS_ORACLE_DIR` set, the files land there and
//! `tests/oracle/validator_keys.py` (ethstaker-deposit, py_ecc) re-derives and
//! decrypts everything (`scripts/oracle-validator-keys.sh` runs both).

use kuberneteth::execution::crypto::AddressExt;
use std::fs;
use std::path::Path;
use std::time::Instant;

use kuberneteth::consensus::bls::{KeyPath, Seed, WithdrawalCredentials};
use kuberneteth::consensus::keystore::{self, Kdf, KeystoreNonces};
use kuberneteth::consensus::prysm_wallet;
use kuberneteth::execution::crypto::Address;
use kuberneteth::secrets::MasterSecret;
use serde_json::json;

/// A password that only matches after NFKD and control-character removal.
const UNICODE_PASSWORD: &str = "𝔱𝔢𝔰𝔱\u{7f}p\u{e4}ss\u{85}w\u{fb01}rd🔑";

fn nonces(master: &MasterSecret, label: &str) -> KeystoreNonces {
    KeystoreNonces {
        salt: master.derive_bytes(&format!("{label}/salt")),
        iv: master.derive_bytes(&format!("{label}/iv")),
        uuid: master.derive_bytes(&format!("{label}/uuid")),
    }
}

struct Source {
    name: &'static str,
    seed: Seed,
    /// What the oracle needs to rebuild the seed.
    description: serde_json::Value,
    indices: &'static [u32],
}

fn sources(master: &MasterSecret) -> Vec<Source> {
    let trezor = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let long = bip39::Mnemonic::from_entropy(&[0x5a; 32])
        .expect("32 bytes of entropy")
        .to_string();
    let pod_seed: [u8; 32] = master.derive_bytes("validators/pod-a/seed");
    vec![
        Source {
            name: "trezor",
            seed: Seed::from_mnemonic(trezor, "TREZOR").expect("valid mnemonic"),
            description: json!({"mnemonic": trezor, "passphrase": "TREZOR"}),
            indices: &[0, 1, 7],
        },
        Source {
            name: "long",
            seed: Seed::from_mnemonic(&long, "").expect("valid mnemonic"),
            description: json!({"mnemonic": long, "passphrase": ""}),
            indices: &[0, 41],
        },
        Source {
            name: "pod-a",
            seed: Seed::from_bytes(pod_seed),
            description: json!({"seed": hex::encode(pod_seed)}),
            indices: &[0, 1, 2, 1000],
        },
    ]
}

#[test]
fn writes_keys_for_the_oracle() {
    let master = MasterSecret::from_bytes([0x42; 32]);
    let out = std::env::var_os("VALIDATOR_KEYS_ORACLE_DIR");
    let address = Address::new([0x5e; 20]);
    let mut entries = Vec::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut wallet_keys = Vec::new();
    let mut strong_done = false;
    for source in sources(&master) {
        for &index in source.indices {
            let keys = source.seed.validator(index);
            let label = format!("{}/{index}", source.name);
            // One keystore per KDF at full strength; the rest light (fast).
            let (kdf, kdf_name) = if !strong_done && source.name == "trezor" {
                (Kdf::STANDARD, "standard")
            } else if source.name == "long" && index == 0 {
                (Kdf::PBKDF2_STANDARD, "pbkdf2")
            } else {
                (Kdf::LIGHT, "light")
            };
            strong_done |= kdf == Kdf::STANDARD;
            let password = if index % 2 == 0 {
                UNICODE_PASSWORD.to_string()
            } else {
                master.derive_token(&format!("{label}/password"))
            };
            let path = keys.signing_path();
            let text = keystore::encrypt(
                &keys.signing,
                &password,
                kdf,
                &nonces(&master, &label),
                Some(&path),
                "",
            )
            .expect("encrypts");
            // Our own reader agrees before anything is handed to the oracle.
            let opened = keystore::decrypt(&text, &password).expect("decrypts");
            assert_eq!(opened.key.public_key(), keys.pubkey());
            let name = format!("keystore-{}-{index}.json", source.name);
            files.push((name.clone(), text.into_bytes()));
            files.push((format!("{name}.password"), password.into_bytes()));
            entries.push(json!({
                "source": source.description,
                "index": index,
                "path": path.to_string(),
                "withdrawal_path": KeyPath::withdrawal(index).to_string(),
                "pubkey": keys.pubkey().to_hex(),
                "withdrawal_pubkey": keys.withdrawal_pubkey().to_hex(),
                "credentials": {
                    "0x00": WithdrawalCredentials::bls(&keys.withdrawal_pubkey()).to_hex(),
                    "0x01": WithdrawalCredentials::execution(&address).to_hex(),
                    "0x02": WithdrawalCredentials::compounding(&address).to_hex(),
                },
                "keystore": name,
                "kdf": kdf_name,
            }));
            if source.name == "pod-a" {
                wallet_keys.push(keys.signing.clone());
            }
        }
    }
    let wallet_password = master.derive_token("validators/pod-a/wallet-password");
    let wallet = prysm_wallet::wallet_files(
        &wallet_keys,
        &wallet_password,
        Kdf::LIGHT,
        &nonces(&master, "validators/pod-a/wallet"),
    )
    .expect("wallet");
    for (path, bytes) in wallet {
        let back = prysm_wallet::read_accounts(&bytes, &wallet_password).expect("reads");
        assert_eq!(back.len(), wallet_keys.len());
        files.push((format!("prysm/{path}"), bytes));
    }
    files.push((
        "prysm/wallet-password.txt".into(),
        wallet_password.into_bytes(),
    ));
    let summary = json!({
        "address": address.to_lower_hex(),
        "validators": entries,
        "prysm_wallet": {
            "dir": "prysm",
            "password_file": "prysm/wallet-password.txt",
            "pubkeys": wallet_keys.iter().map(|k| k.public_key().to_hex()).collect::<Vec<_>>(),
        },
    });
    let Some(out) = out else { return };
    let out = Path::new(&out);
    for (name, bytes) in files {
        let path = out.join(name);
        fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        fs::write(path, bytes).expect("write");
    }
    let text = serde_json::to_string_pretty(&summary).expect("json");
    fs::write(out.join("validators.json"), text).expect("write");
}

/// Timings for the report: `cargo test --release --test validator_keys -- --ignored --nocapture`.
#[test]
#[ignore = "timing, run in a release build"]
fn measure() {
    let seed = Seed::from_bytes([3; 32]);
    let n = 200;
    let start = Instant::now();
    let keys: Vec<_> = (0..n).map(|i| seed.validator(i)).collect();
    let per_validator = start.elapsed() / n;
    let nonces = KeystoreNonces {
        salt: [1; 32],
        iv: [2; 16],
        uuid: [3; 16],
    };
    let time = |kdf: Kdf| {
        let start = Instant::now();
        keystore::encrypt(&keys[0].signing, "pw", kdf, &nonces, None, "").expect("encrypts");
        start.elapsed()
    };
    println!("derivation per validator (signing + withdrawal key): {per_validator:?}");
    println!("keystore standard (scrypt 2^18): {:?}", time(Kdf::STANDARD));
    println!(
        "keystore pbkdf2 (2^18 rounds): {:?}",
        time(Kdf::PBKDF2_STANDARD)
    );
    println!("keystore light (scrypt 2^12 p=6): {:?}", time(Kdf::LIGHT));
    let signing: Vec<_> = keys.iter().map(|k| k.signing.clone()).collect();
    let start = Instant::now();
    prysm_wallet::wallet_files(&signing, "pw", Kdf::STANDARD, &nonces).expect("wallet");
    println!("prysm wallet, {n} keys, scrypt 2^18: {:?}", start.elapsed());
}
