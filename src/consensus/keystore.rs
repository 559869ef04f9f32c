//! EIP-2335 (version 4) keystores: a BLS secret key encrypted with a password, the
//! format every consensus client's validator client imports.
//!
//! Writing is deterministic: the caller supplies salt, IV and UUID (derived from the
//! master secret), so recompiling gives the same file byte for byte. The KDF and
//! cipher primitives are the ones the execution layer's V3 keystores use.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::consensus::bls::{BlsPublicKey, KeyPath, ValidatorSecretKey};
use crate::execution::keystore::{aes_128_ctr, scrypt32, uuid_v4};
pub use crate::execution::keystore::{KeystoreNonces, ScryptParams};

/// How the password is stretched into the decryption key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kdf {
    Scrypt(ScryptParams),
    /// PBKDF2-HMAC-SHA256 with `c` rounds.
    Pbkdf2 {
        c: u32,
    },
}

impl Kdf {
    /// What staking-deposit-cli writes: scrypt n=262144 r=8 p=1 (≈256 MiB, ≈1 s per key).
    pub const STANDARD: Self = Self::Scrypt(ScryptParams::STANDARD);
    /// For devnets and tests (scrypt n=4096 r=8 p=1, ≈4 MiB, a few milliseconds):
    /// one wallet per validator pod is written on every compile and read by the
    /// validator client at every start. Not geth's light setting (p=6): nothing
    /// here needs to match it, and it is six times the work.
    pub const LIGHT: Self = Self::Scrypt(ScryptParams {
        log_n: 12,
        r: 8,
        p: 1,
    });
    /// What Prysm writes into its wallets: PBKDF2 with 262144 rounds.
    pub const PBKDF2_STANDARD: Self = Self::Pbkdf2 { c: 262_144 };
}

/// Refused above these, so a brought keystore cannot make decryption take
/// gigabytes or minutes.
const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
const MAX_SCRYPT_P: u32 = 16;
const MAX_PBKDF2_ROUNDS: u32 = 1 << 24;

#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("not an EIP-2335 keystore: {0}")]
    Format(String),
    #[error("wrong password (the keystore checksum does not match)")]
    WrongPassword,
    #[error("unsupported keystore: {0}")]
    Unsupported(String),
}

/// The three modules of a keystore's `crypto` section. Prysm stores its whole
/// wallet under the same structure, so this is shared with the wallet writer.
#[derive(Serialize, Deserialize)]
pub(crate) struct Crypto {
    kdf: KdfModule,
    checksum: ChecksumModule,
    cipher: CipherModule,
}

#[derive(Serialize, Deserialize)]
struct KdfModule {
    function: String,
    params: KdfParams,
    message: String,
}

/// scrypt's and PBKDF2's parameters in one struct: the `function` says which are set.
#[derive(Serialize, Deserialize)]
struct KdfParams {
    dklen: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    c: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prf: Option<String>,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ChecksumModule {
    function: String,
    params: serde_json::Map<String, serde_json::Value>,
    message: String,
}

#[derive(Serialize, Deserialize)]
struct CipherModule {
    function: String,
    params: CipherParams,
    message: String,
}

#[derive(Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

/// Field order as staking-deposit-cli writes it.
#[derive(Serialize, Deserialize)]
struct KeystoreFile {
    crypto: Crypto,
    #[serde(default)]
    description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pubkey: Option<String>,
    path: String,
    uuid: String,
    version: u32,
}

/// EIP-2335's password rule: NFKD, then drop the C0 (U+0000–U+001F), DEL (U+007F)
/// and C1 (U+0080–U+009F) control characters.
pub fn normalize_password(password: &str) -> Zeroizing<String> {
    Zeroizing::new(
        password
            .nfkd()
            .filter(|&c| !matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'))
            .collect(),
    )
}

fn stretch(password: &str, salt: &[u8], kdf: Kdf) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let password = normalize_password(password);
    match kdf {
        Kdf::Scrypt(params) => {
            // 128·r·n bytes; u128 so that no n (≤ 2^63) or r can overflow it.
            let memory = (128u128 * u128::from(params.r)) << params.log_n.min(64);
            if params.log_n == 0 || memory > u128::from(MAX_SCRYPT_MEMORY) {
                return Err(KeystoreError::Unsupported(format!(
                    "scrypt n=2^{} r={} needs more than {} MiB",
                    params.log_n,
                    params.r,
                    MAX_SCRYPT_MEMORY >> 20
                )));
            }
            if params.p == 0 || params.p > MAX_SCRYPT_P {
                return Err(KeystoreError::Unsupported(format!(
                    "scrypt p={} (1 to {MAX_SCRYPT_P} accepted)",
                    params.p
                )));
            }
            scrypt32(password.as_bytes(), salt, params)
                .ok_or_else(|| KeystoreError::Unsupported("scrypt parameters out of range".into()))
        }
        Kdf::Pbkdf2 { c } => {
            if c == 0 || c > MAX_PBKDF2_ROUNDS {
                return Err(KeystoreError::Unsupported(format!(
                    "pbkdf2 c={c} (1 to {MAX_PBKDF2_ROUNDS} accepted)"
                )));
            }
            let mut out = Zeroizing::new([0u8; 32]);
            pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(password.as_bytes(), salt, c, &mut *out);
            Ok(out)
        }
    }
}

fn checksum(derived: &[u8; 32], ciphertext: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(&derived[16..32]);
    h.update(ciphertext);
    h.finalize().into()
}

/// Encrypts any secret bytes under the EIP-2335 modules.
pub(crate) fn encrypt_secret(
    secret: &[u8],
    password: &str,
    kdf: Kdf,
    salt: &[u8; 32],
    iv: &[u8; 16],
) -> Result<Crypto, KeystoreError> {
    let derived = stretch(password, salt, kdf)?;
    let mut ciphertext = secret.to_vec();
    aes_128_ctr(&derived, iv, &mut ciphertext);
    let params = match kdf {
        Kdf::Scrypt(p) => KdfParams {
            dklen: 32,
            n: Some(1u64 << p.log_n),
            r: Some(p.r),
            p: Some(p.p),
            c: None,
            prf: None,
            salt: hex::encode(salt),
        },
        Kdf::Pbkdf2 { c } => KdfParams {
            dklen: 32,
            n: None,
            r: None,
            p: None,
            c: Some(c),
            prf: Some("hmac-sha256".into()),
            salt: hex::encode(salt),
        },
    };
    Ok(Crypto {
        kdf: KdfModule {
            function: match kdf {
                Kdf::Scrypt(_) => "scrypt",
                Kdf::Pbkdf2 { .. } => "pbkdf2",
            }
            .into(),
            params,
            message: String::new(),
        },
        checksum: ChecksumModule {
            function: "sha256".into(),
            params: serde_json::Map::new(),
            message: hex::encode(checksum(&derived, &ciphertext)),
        },
        cipher: CipherModule {
            function: "aes-128-ctr".into(),
            params: CipherParams {
                iv: hex::encode(iv),
            },
            message: hex::encode(ciphertext),
        },
    })
}

fn kdf_of(module: &KdfModule) -> Result<Kdf, KeystoreError> {
    let p = &module.params;
    if p.dklen != 32 {
        return Err(KeystoreError::Unsupported(format!(
            "kdf dklen {} (only 32 is supported)",
            p.dklen
        )));
    }
    match module.function.as_str() {
        "scrypt" => {
            let (Some(n), Some(r), Some(p)) = (p.n, p.r, p.p) else {
                return Err(KeystoreError::Format("scrypt needs n, r and p".into()));
            };
            if n < 2 || !n.is_power_of_two() || r == 0 {
                return Err(KeystoreError::Unsupported(format!(
                    "scrypt n={n} r={r}: n must be a power of two above 1, r positive"
                )));
            }
            Ok(Kdf::Scrypt(ScryptParams {
                log_n: n.trailing_zeros() as u8,
                r,
                p,
            }))
        }
        "pbkdf2" => {
            if p.prf.as_deref() != Some("hmac-sha256") {
                return Err(KeystoreError::Unsupported(format!(
                    "pbkdf2 prf {:?} (only hmac-sha256)",
                    p.prf
                )));
            }
            let c =
                p.c.ok_or_else(|| KeystoreError::Format("pbkdf2 needs c".into()))?;
            Ok(Kdf::Pbkdf2 { c })
        }
        other => Err(KeystoreError::Unsupported(format!("kdf {other:?}"))),
    }
}

fn hex_field(name: &str, text: &str) -> Result<Vec<u8>, KeystoreError> {
    hex::decode(text).map_err(|_| KeystoreError::Format(format!("{name} is not hex")))
}

/// Decrypts the modules with `password`; the checksum decides whether it was right.
pub(crate) fn decrypt_secret(
    crypto: &Crypto,
    password: &str,
) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    let kdf = kdf_of(&crypto.kdf)?;
    if crypto.checksum.function != "sha256" {
        return Err(KeystoreError::Unsupported(format!(
            "checksum {:?}",
            crypto.checksum.function
        )));
    }
    if crypto.cipher.function != "aes-128-ctr" {
        return Err(KeystoreError::Unsupported(format!(
            "cipher {:?}",
            crypto.cipher.function
        )));
    }
    let salt = hex_field("kdf salt", &crypto.kdf.params.salt)?;
    let iv: [u8; 16] = hex_field("cipher iv", &crypto.cipher.params.iv)?
        .try_into()
        .map_err(|_| KeystoreError::Format("the cipher iv must be 16 bytes".into()))?;
    let ciphertext = hex_field("cipher message", &crypto.cipher.message)?;
    let expected = hex_field("checksum message", &crypto.checksum.message)?;
    let derived = stretch(password, &salt, kdf)?;
    if checksum(&derived, &ciphertext).as_slice() != expected.as_slice() {
        return Err(KeystoreError::WrongPassword);
    }
    let mut plain = Zeroizing::new(ciphertext);
    aes_128_ctr(&derived, &iv, &mut plain);
    Ok(plain)
}

/// Encrypts a validator key into keystore JSON text. `path` is the key's EIP-2334
/// path (`""` in the file when `None`); `description` is free text.
pub fn encrypt(
    key: &ValidatorSecretKey,
    password: &str,
    kdf: Kdf,
    nonces: &KeystoreNonces,
    path: Option<&KeyPath>,
    description: &str,
) -> Result<String, KeystoreError> {
    let file = KeystoreFile {
        crypto: encrypt_secret(&*key.to_bytes(), password, kdf, &nonces.salt, &nonces.iv)?,
        description: description.into(),
        pubkey: Some(key.public_key().to_hex()),
        path: path.map(ToString::to_string).unwrap_or_default(),
        uuid: uuid_v4(nonces.uuid),
        version: 4,
    };
    serde_json::to_string_pretty(&file).map_err(|e| KeystoreError::Format(e.to_string()))
}

/// A keystore opened with its password.
#[derive(Debug)]
pub struct Decrypted {
    pub key: ValidatorSecretKey,
    /// The `path` field; `None` when the file leaves it empty.
    pub path: Option<KeyPath>,
    pub uuid: String,
}

/// Opens a keystore; KDF parameters come from the file (within the limits above).
/// When the file states a `pubkey`, it must belong to the decrypted key.
pub fn decrypt(json: &str, password: &str) -> Result<Decrypted, KeystoreError> {
    let file: KeystoreFile =
        serde_json::from_str(json).map_err(|e| KeystoreError::Format(e.to_string()))?;
    if file.version != 4 {
        return Err(KeystoreError::Unsupported(format!(
            "version {} (EIP-2335 keystores are version 4)",
            file.version
        )));
    }
    let plain = decrypt_secret(&file.crypto, password)?;
    let key = ValidatorSecretKey::from_bytes(&plain)
        .map_err(|e| KeystoreError::Format(format!("the decrypted secret: {e}")))?;
    if let Some(stated) = file.pubkey.as_deref().filter(|s| !s.is_empty()) {
        let stated = hex_field("pubkey", stated.strip_prefix("0x").unwrap_or(stated))?;
        let stated = BlsPublicKey::from_bytes(&stated)
            .map_err(|e| KeystoreError::Format(format!("pubkey: {e}")))?;
        if stated != key.public_key() {
            return Err(KeystoreError::Format(format!(
                "the file says pubkey {stated} but the key belongs to {}",
                key.public_key()
            )));
        }
    }
    let path = if file.path.is_empty() {
        None
    } else {
        Some(
            file.path
                .parse()
                .map_err(|e| KeystoreError::Format(format!("path: {e}")))?,
        )
    };
    Ok(Decrypted {
        key,
        path,
        uuid: file.uuid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::bls::Seed;

    const PASSWORD: &str = "𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑";
    const SECRET: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
    const PUBKEY: &str = "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07";
    const SALT: &str = "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3";
    const IV: &str = "264daa3f303d7259501c93d997d84fe6";

    /// ERC-2335 §Test Cases, verbatim.
    const SCRYPT_VECTOR: &str = r#"{
    "crypto": {
        "kdf": {
            "function": "scrypt",
            "params": {
                "dklen": 32,
                "n": 262144,
                "p": 1,
                "r": 8,
                "salt": "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
            },
            "message": ""
        },
        "checksum": {
            "function": "sha256",
            "params": {},
            "message": "d2217fe5f3e9a1e34581ef8a78f7c9928e436d36dacc5e846690a5581e8ea484"
        },
        "cipher": {
            "function": "aes-128-ctr",
            "params": {
                "iv": "264daa3f303d7259501c93d997d84fe6"
            },
            "message": "06ae90d55fe0a6e9c5c3bc5b170827b2e5cce3929ed3f116c2811e6366dfe20f"
        }
    },
    "description": "This is a test keystore that uses scrypt to secure the secret.",
    "pubkey": "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07",
    "path": "m/12381/60/3141592653/589793238",
    "uuid": "1d85ae20-35c5-4611-98e8-aa14a633906f",
    "version": 4
}"#;

    const PBKDF2_VECTOR: &str = r#"{
    "crypto": {
        "kdf": {
            "function": "pbkdf2",
            "params": {
                "dklen": 32,
                "c": 262144,
                "prf": "hmac-sha256",
                "salt": "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
            },
            "message": ""
        },
        "checksum": {
            "function": "sha256",
            "params": {},
            "message": "8a9f5d9912ed7e75ea794bc5a89bca5f193721d30868ade6f73043c6ea6febf1"
        },
        "cipher": {
            "function": "aes-128-ctr",
            "params": {
                "iv": "264daa3f303d7259501c93d997d84fe6"
            },
            "message": "cee03fde2af33149775b7223e7845e4fb2c8ae1792e5f99fe9ecf474cc8c16ad"
        }
    },
    "description": "This is a test keystore that uses PBKDF2 to secure the secret.",
    "pubkey": "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07",
    "path": "m/12381/60/0/0",
    "uuid": "64625def-3331-4eea-ab6f-782f3ed16a83",
    "version": 4
}"#;

    fn array<const N: usize>(hex_text: &str) -> [u8; N] {
        hex::decode(hex_text.replace('-', ""))
            .unwrap()
            .try_into()
            .unwrap()
    }

    fn vector_nonces(uuid: &str) -> KeystoreNonces {
        KeystoreNonces {
            salt: array(SALT),
            iv: array(IV),
            uuid: array(uuid),
        }
    }

    fn json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap()
    }

    /// Decrypts the vector, then encrypts its secret with the vector's salt, IV and
    /// UUID and expects the same keystore, field for field.
    fn check_vector(vector: &str, kdf: Kdf) {
        let v = json(vector);
        let opened = decrypt(vector, PASSWORD).unwrap();
        assert_eq!(hex::encode(*opened.key.to_bytes()), SECRET);
        assert_eq!(opened.key.public_key().to_hex(), PUBKEY);
        assert!(matches!(
            decrypt(vector, "testpassword"),
            Err(KeystoreError::WrongPassword)
        ));
        let written = encrypt(
            &opened.key,
            PASSWORD,
            kdf,
            &vector_nonces(v["uuid"].as_str().unwrap()),
            opened.path.as_ref(),
            v["description"].as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(json(&written), v);
    }

    #[test]
    fn erc2335_scrypt_vector() {
        check_vector(SCRYPT_VECTOR, Kdf::STANDARD);
    }

    #[test]
    fn erc2335_pbkdf2_vector() {
        check_vector(PBKDF2_VECTOR, Kdf::PBKDF2_STANDARD);
    }

    #[test]
    fn passwords_are_normalized() {
        // The ERC-2335 example: mathematical letters fold to ASCII under NFKD.
        assert_eq!(
            normalize_password(PASSWORD).as_bytes(),
            array::<16>("7465737470617373776f7264f09f9491")
        );
        // C0, DEL and C1 control characters go; other characters stay.
        assert_eq!(
            normalize_password("a\u{0}b\tc\nd\u{7f}e\u{85}f\u{9f}g\u{a0}").as_str(),
            "abcdefg "
        );
        // NFKD decomposes: "é" (one code point) becomes "e" + combining acute.
        assert_eq!(normalize_password("\u{e9}").as_str(), "e\u{301}");
    }

    #[test]
    fn light_round_trip_and_refusals() {
        let key = Seed::from_bytes([5; 32]).validator(1).signing;
        let nonces = KeystoreNonces {
            salt: [1; 32],
            iv: [2; 16],
            uuid: [3; 16],
        };
        let path = KeyPath::signing(1);
        let a = encrypt(&key, "pw\n", Kdf::LIGHT, &nonces, Some(&path), "").unwrap();
        let b = encrypt(&key, "pw", Kdf::LIGHT, &nonces, Some(&path), "").unwrap();
        // Same bytes twice; the newline is a control character, so both passwords match.
        assert_eq!(a, b);
        let opened = decrypt(&a, "pw").unwrap();
        assert_eq!(opened.key.public_key(), key.public_key());
        assert_eq!(opened.path, Some(path));
        assert_eq!(opened.uuid, "03030303-0303-4303-8303-030303030303");
        assert!(matches!(
            decrypt(&a, "pw2"),
            Err(KeystoreError::WrongPassword)
        ));
        let other = Seed::from_bytes([6; 32]).validator(1).pubkey();
        let lying = a.replace(&key.public_key().to_hex(), &other.to_hex());
        assert!(matches!(
            decrypt(&lying, "pw"),
            Err(KeystoreError::Format(_))
        ));
        let v3 = a.replace("\"version\": 4", "\"version\": 3");
        assert!(matches!(
            decrypt(&v3, "pw"),
            Err(KeystoreError::Unsupported(_))
        ));
        let huge = a.replace("\"n\": 4096", "\"n\": 4194304");
        assert!(matches!(
            decrypt(&huge, "pw"),
            Err(KeystoreError::Unsupported(_))
        ));
    }
}
