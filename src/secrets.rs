//! The master secret and everything derived from it.
//!
//! One 32-byte secret in `kuberneteth.secrets.yaml` is the root of every key. Each
//! key is HKDF-SHA256(secret, label) for a stable label naming its purpose and owner,
//! so adding, removing or reordering groups and accounts never changes another key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::crypto::PrivateKey;

/// Domain separation: a future derivation scheme gets a new salt, not a silent change.
const HKDF_SALT: &[u8] = b"kuberneteth/derive/v1";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{path}: cannot read the secrets file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the secrets file is corrupt ({why}); it is never replaced automatically, because every key of the network comes from it. Restore it from a backup, or move it away to start a new network with new keys")]
    Corrupt { path: PathBuf, why: String },
    #[error("{path}: cannot create the secrets file: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The root secret. Deliberately not `Debug`/`Display`: it must never be printed.
pub struct MasterSecret([u8; 32]);

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SecretsFile {
    version: u32,
    master_secret: String,
}

const HEADER: &str =
    "# kuberneteth master secret. Every key of the network (node keys, signer and\n\
# account keys, keystore passwords, the ethstats secret) is derived from it.\n\
# Keep it private and backed up: losing it loses the keys; leaking it leaks them.\n";

/// Whether `load_or_create` found the file or had to make it.
#[derive(Debug, PartialEq, Eq)]
pub enum Origin {
    Existing,
    Created,
}

impl MasterSecret {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads the secrets file, or creates it (OS RNG, mode 0600) when it does not exist.
    /// An unreadable or malformed file is an error: it is never regenerated.
    pub fn load_or_create(path: &Path) -> Result<(Self, Origin), SecretsError> {
        match fs::read_to_string(path) {
            Ok(text) => Ok((Self::parse(path, &text)?, Origin::Existing)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                OsRng.fill_bytes(&mut bytes);
                write_new(path, &bytes)?;
                Ok((Self(bytes), Origin::Created))
            }
            Err(source) => Err(SecretsError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Reads an existing secrets file; never creates one.
    pub fn load(path: &Path) -> Result<Self, SecretsError> {
        let text = fs::read_to_string(path).map_err(|source| SecretsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Self, SecretsError> {
        let corrupt = |why: String| SecretsError::Corrupt {
            path: path.to_path_buf(),
            why,
        };
        let file: SecretsFile = serde_norway::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        if file.version != 1 {
            return Err(corrupt(format!("unknown version {}", file.version)));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&file.master_secret, &mut bytes)
            .map_err(|_| corrupt("masterSecret must be 64 hex characters".into()))?;
        if bytes == [0u8; 32] {
            return Err(corrupt("masterSecret is all zeros".into()));
        }
        Ok(Self(bytes))
    }

    /// `len` bytes for `label`.
    pub fn derive_bytes<const N: usize>(&self, label: &str) -> [u8; N] {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), &self.0);
        let mut out = [0u8; N];
        // N is at most a few dozen bytes, far below HKDF's 255 × 32 limit.
        hk.expand(label.as_bytes(), &mut out)
            .expect("HKDF output length is small");
        out
    }

    /// A secp256k1 key for `label`. The rare output outside the curve order (p ≈ 2^-128)
    /// is skipped by deriving again with a counter, so the result is still deterministic.
    pub fn derive_key(&self, label: &str) -> PrivateKey {
        let mut attempt = 0u32;
        loop {
            let l = if attempt == 0 {
                label.to_string()
            } else {
                format!("{label}#{attempt}")
            };
            if let Some(k) = PrivateKey::from_bytes(&self.derive_bytes::<32>(&l)) {
                return k;
            }
            attempt += 1;
        }
    }

    /// A printable secret (hex) for passwords and shared secrets.
    pub fn derive_token(&self, label: &str) -> String {
        hex::encode(self.derive_bytes::<16>(label))
    }
}

/// Creates the file with mode 0600 without ever replacing an existing one
/// (`create_new` fails if another process made it first).
fn write_new(path: &Path, bytes: &[u8; 32]) -> Result<(), SecretsError> {
    let err = |source| SecretsError::Create {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(err)?;
    let text = format!(
        "{HEADER}version: 1\nmasterSecret: \"{}\"\n",
        hex::encode(bytes)
    );
    file.write_all(text.as_bytes()).map_err(err)?;
    file.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.secrets.yaml");
        let (a, origin) = MasterSecret::load_or_create(&path).unwrap();
        assert_eq!(origin, Origin::Created);
        let before = fs::read(&path).unwrap();
        let (b, origin) = MasterSecret::load_or_create(&path).unwrap();
        assert_eq!(origin, Origin::Existing);
        assert_eq!(before, fs::read(&path).unwrap());
        assert_eq!(a.derive_token("x"), b.derive_token("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn corrupt_file_is_an_error_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.secrets.yaml");
        fs::write(&path, "version: 1\nmasterSecret: nothex\n").unwrap();
        let err = MasterSecret::load_or_create(&path).err().unwrap();
        assert!(err.to_string().contains("corrupt"));
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "version: 1\nmasterSecret: nothex\n"
        );
    }

    #[test]
    fn labels_are_independent() {
        let s = MasterSecret::from_bytes([7; 32]);
        assert_ne!(s.derive_key("a").to_hex(), s.derive_key("b").to_hex());
        assert_eq!(s.derive_key("a").to_hex(), s.derive_key("a").to_hex());
    }
}
