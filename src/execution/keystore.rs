//! Web3 Secret Storage (V3) keystores, the format geth reads from `<datadir>/keystore`.
//!
//! Writing is deterministic: the caller supplies salt, IV and UUID bytes (derived from
//! the master secret), so recompiling gives the same file byte for byte.

use crate::execution::crypto::AddressExt;
use aes::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::execution::crypto::{keccak256, Address, PrivateKey};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// How hard the keystore's password is to brute-force, and how long a write takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScryptParams {
    pub log_n: u8,
    pub r: u32,
    pub p: u32,
}

impl ScryptParams {
    /// geth's default: n=262144 r=8 p=1 (≈256 MiB, ≈1 s per key).
    pub const STANDARD: Self = Self {
        log_n: 18,
        r: 8,
        p: 1,
    };
    /// geth's `--lightkdf`: n=4096 r=8 p=6.
    pub const LIGHT: Self = Self {
        log_n: 12,
        r: 8,
        p: 6,
    };
}

/// The random-looking inputs of a keystore (V3 or EIP-2335), supplied by the caller.
pub struct KeystoreNonces {
    pub salt: [u8; 32],
    pub iv: [u8; 16],
    pub uuid: [u8; 16],
}

#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("not a V3 keystore: {0}")]
    Format(String),
    #[error("wrong password (the keystore MAC does not match)")]
    WrongPassword,
    #[error("unsupported keystore: {0}")]
    Unsupported(String),
}

#[derive(Serialize, Deserialize)]
struct KeystoreFile {
    address: String,
    crypto: CryptoSection,
    id: String,
    version: u32,
}

#[derive(Serialize, Deserialize)]
struct CryptoSection {
    cipher: String,
    ciphertext: String,
    cipherparams: CipherParams,
    kdf: String,
    kdfparams: KdfParams,
    mac: String,
}

#[derive(Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    dklen: u32,
    n: u64,
    p: u32,
    r: u32,
    salt: String,
}

fn derive_key(
    password: &[u8],
    salt: &[u8],
    params: ScryptParams,
) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    scrypt32(password, salt, params)
        .ok_or_else(|| KeystoreError::Unsupported("scrypt parameters out of range".into()))
}

/// scrypt with the 32-byte output both keystore formats (V3 and EIP-2335) use;
/// `None` when the parameters are outside what scrypt accepts.
pub(crate) fn scrypt32(
    password: &[u8],
    salt: &[u8],
    params: ScryptParams,
) -> Option<Zeroizing<[u8; 32]>> {
    let p = scrypt::Params::new(params.log_n, params.r, params.p).ok()?;
    let mut out = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password, salt, &p, &mut *out).ok()?;
    Some(out)
}

/// AES-128-CTR in place, keyed with the first 16 bytes of a derived key; the cipher
/// of both keystore formats. The 128-bit counter is big-endian over the whole IV,
/// as in Go's `cipher.NewCTR` and Python's `Crypto.Cipher.AES` CTR mode.
pub(crate) fn aes_128_ctr(derived: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    let mut key = [0u8; 16];
    key.copy_from_slice(&derived[..16]);
    let mut cipher = Aes128Ctr::new(&key.into(), iv.into());
    cipher.apply_keystream(data);
    key.zeroize();
}

/// Encrypts `key` into a V3 keystore JSON text (geth's field layout).
pub fn encrypt(
    key: &PrivateKey,
    password: &str,
    params: ScryptParams,
    nonces: &KeystoreNonces,
) -> Result<String, KeystoreError> {
    let derived = derive_key(password.as_bytes(), &nonces.salt, params)?;
    let mut ciphertext = key.to_bytes();
    aes_128_ctr(&derived, &nonces.iv, &mut ciphertext);
    let mut mac_input = Vec::with_capacity(48);
    mac_input.extend_from_slice(&derived[16..32]);
    mac_input.extend_from_slice(&ciphertext);
    let file = KeystoreFile {
        address: key.address().to_lower_hex(),
        crypto: CryptoSection {
            cipher: "aes-128-ctr".into(),
            ciphertext: hex::encode(ciphertext),
            cipherparams: CipherParams {
                iv: hex::encode(nonces.iv),
            },
            kdf: "scrypt".into(),
            kdfparams: KdfParams {
                dklen: 32,
                n: 1u64 << params.log_n,
                p: params.p,
                r: params.r,
                salt: hex::encode(nonces.salt),
            },
            mac: hex::encode(keccak256(&mac_input)),
        },
        id: uuid_v4(nonces.uuid),
        version: 3,
    };
    serde_json::to_string(&file).map_err(|e| KeystoreError::Format(e.to_string()))
}

/// Opens a V3 scrypt keystore with `password`; n, r, p and dklen come from the file.
pub fn decrypt(json: &str, password: &str) -> Result<PrivateKey, KeystoreError> {
    let file: KeystoreFile =
        serde_json::from_str(json).map_err(|e| KeystoreError::Format(e.to_string()))?;
    if file.version != 3 {
        return Err(KeystoreError::Unsupported(format!(
            "version {}",
            file.version
        )));
    }
    let c = &file.crypto;
    if c.kdf != "scrypt" {
        return Err(KeystoreError::Unsupported(format!(
            "kdf {:?} (only scrypt is supported)",
            c.kdf
        )));
    }
    if c.cipher != "aes-128-ctr" {
        return Err(KeystoreError::Unsupported(format!("cipher {:?}", c.cipher)));
    }
    if c.kdfparams.dklen != 32 || !c.kdfparams.n.is_power_of_two() || c.kdfparams.n < 2 {
        return Err(KeystoreError::Unsupported(
            "kdfparams: dklen must be 32 and n a power of two".into(),
        ));
    }
    let params = ScryptParams {
        log_n: c.kdfparams.n.trailing_zeros() as u8,
        r: c.kdfparams.r,
        p: c.kdfparams.p,
    };
    let hex_field = |name: &str, v: &str| {
        hex::decode(v).map_err(|_| KeystoreError::Format(format!("{name} is not hex")))
    };
    let salt = hex_field("salt", &c.kdfparams.salt)?;
    let iv = hex_field("iv", &c.cipherparams.iv)?;
    let mut plain = hex_field("ciphertext", &c.ciphertext)?;
    let mac = hex_field("mac", &c.mac)?;
    if iv.len() != 16 || plain.len() != 32 {
        return Err(KeystoreError::Format(
            "iv must be 16 bytes and ciphertext 32".into(),
        ));
    }
    let derived = derive_key(password.as_bytes(), &salt, params)?;
    let mut mac_input = derived[16..32].to_vec();
    mac_input.extend_from_slice(&plain);
    if keccak256(&mac_input).as_slice() != mac.as_slice() {
        return Err(KeystoreError::WrongPassword);
    }
    let iv: [u8; 16] = iv
        .try_into()
        .map_err(|_| KeystoreError::Format("iv".into()))?;
    aes_128_ctr(&derived, &iv, &mut plain);
    let bytes: [u8; 32] = plain
        .try_into()
        .map_err(|_| KeystoreError::Format("key length".into()))?;
    let key = PrivateKey::from_bytes(&bytes)
        .ok_or_else(|| KeystoreError::Format("decrypted key is not a valid scalar".into()))?;
    if let Ok(stated) = Address::parse(&format!("0x{}", file.address.to_lowercase())) {
        if stated != key.address() {
            return Err(KeystoreError::Format(format!(
                "the file says address 0x{} but the key belongs to {}",
                file.address,
                key.address()
            )));
        }
    }
    Ok(key)
}

/// Formats 16 bytes as a version-4 UUID (the version and variant bits are forced).
pub(crate) fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// geth's keystore file name: `UTC--<time>--<address>`; the time is a fixed input.
pub fn file_name(unix_seconds: u64, address: &Address) -> String {
    let ((y, m, d), (hh, mm, ss)) = utc(unix_seconds);
    format!(
        "UTC--{y:04}-{m:02}-{d:02}T{hh:02}-{mm:02}-{ss:02}.000000000Z--{}",
        address.to_lower_hex()
    )
}

/// A moment as people read it: `2027-01-01 00:00:00 UTC`.
pub fn utc_text(unix_seconds: u64) -> String {
    let ((y, m, d), (hh, mm, ss)) = utc(unix_seconds);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02} UTC")
}

/// Date and time of day (UTC) of a Unix time.
fn utc(unix_seconds: u64) -> ((i64, u32, u32), (u64, u64, u64)) {
    let secs = unix_seconds % 86_400;
    (
        civil_from_days((unix_seconds / 86_400) as i64),
        (secs / 3600, (secs / 60) % 60, secs % 60),
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public V3 test vector (web3 secret storage definition; r=1 p=8).
    const VECTOR: &str = r#"{"address":"008aeeda4d805471df9b2a5b0f38a0c3bcba786b","crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"83dbcc02d8ccb40e466191a123791e0e"},"ciphertext":"d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c","kdf":"scrypt","kdfparams":{"dklen":32,"n":262144,"p":8,"r":1,"salt":"ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"},"mac":"2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#;

    #[test]
    fn opens_the_public_vector() {
        let key = decrypt(VECTOR, "testpassword").unwrap();
        assert_eq!(
            key.to_hex(),
            "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
        );
        assert_eq!(
            key.address().to_string(),
            "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b"
        );
        assert!(matches!(
            decrypt(VECTOR, "wrong"),
            Err(KeystoreError::WrongPassword)
        ));
    }

    #[test]
    fn round_trip_is_deterministic() {
        let key = PrivateKey::from_hex(&"11".repeat(32)).unwrap();
        let nonces = KeystoreNonces {
            salt: [1; 32],
            iv: [2; 16],
            uuid: [3; 16],
        };
        let a = encrypt(&key, "pw", ScryptParams::LIGHT, &nonces).unwrap();
        let b = encrypt(&key, "pw", ScryptParams::LIGHT, &nonces).unwrap();
        assert_eq!(a, b);
        assert_eq!(decrypt(&a, "pw").unwrap().to_hex(), key.to_hex());
        assert!(a.contains("\"n\":4096"));
    }

    #[test]
    fn file_names() {
        let a = Address::new([0xab; 20]);
        assert_eq!(
            file_name(0, &a),
            format!("UTC--1970-01-01T00-00-00.000000000Z--{}", "ab".repeat(20))
        );
        assert!(file_name(1_700_000_000, &a).starts_with("UTC--2023-11-14T22-13-20"));
    }
}
