//! The master secret and everything derived from it.
//!
//! One 32-byte secret in `kuberneteth.secrets.yaml` is the root of every key. Each
//! key is HKDF-SHA256(secret, label) for a stable label naming its purpose and owner,
//! so adding, removing or reordering groups and accounts never changes another key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hkdf::Hkdf;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::execution::crypto::PrivateKey;
use crate::execution::keystore::KeystoreNonces;
use crate::input::{self, ReadError};
use crate::output;

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
    #[error("{path}: the secrets file is empty, so it holds no key (kuberneteth writes it complete or not at all; something else truncated it). Delete it to create a new secret, or restore it from a backup")]
    Empty { path: PathBuf },
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
    /// An unreadable or malformed file is an error: it is never regenerated. When
    /// two first runs race, one creates the file and the other reads it.
    pub fn load_or_create(path: &Path) -> Result<(Self, Origin), SecretsError> {
        match Self::load(path) {
            Ok(secret) => Ok((secret, Origin::Existing)),
            Err(SecretsError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                let mut bytes = [0u8; 32];
                OsRng.fill_bytes(&mut bytes);
                if write_new(path, &bytes)? {
                    Ok((Self(bytes), Origin::Created))
                } else {
                    // Another run created it first: use that one.
                    Ok((Self::load(path)?, Origin::Existing))
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Reads an existing secrets file; never creates one.
    pub fn load(path: &Path) -> Result<Self, SecretsError> {
        let bytes = input::read_bounded(path, input::MAX_SECRETS_FILE).map_err(|e| match e {
            ReadError::Io(source) => SecretsError::Read {
                path: path.to_path_buf(),
                source,
            },
            too_large => SecretsError::Corrupt {
                path: path.to_path_buf(),
                why: too_large.to_string(),
            },
        })?;
        if bytes.is_empty() {
            return Err(SecretsError::Empty {
                path: path.to_path_buf(),
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| SecretsError::Corrupt {
            path: path.to_path_buf(),
            why: "not UTF-8 text".into(),
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

    /// The salt, IV and UUID of the keystore sealed under `label` (V3 or EIP-2335):
    /// derived, so a recompile writes the same bytes.
    pub fn keystore_nonces(&self, label: &str) -> KeystoreNonces {
        KeystoreNonces {
            salt: self.derive_bytes(&format!("{label}/keystore-salt")),
            iv: self.derive_bytes(&format!("{label}/keystore-iv")),
            uuid: self.derive_bytes(&format!("{label}/keystore-uuid")),
        }
    }

    /// A printable secret (hex) for passwords and shared secrets.
    pub fn derive_token(&self, label: &str) -> String {
        hex::encode(self.derive_bytes::<16>(label))
    }
}

/// Creates the file complete or not at all: the text is written and synced to a
/// temporary file (mode 0600) that is then linked into place without replacing
/// anything. Returns false when another process created the file first.
fn write_new(path: &Path, bytes: &[u8; 32]) -> Result<bool, SecretsError> {
    let err = |source| SecretsError::Create {
        path: path.to_path_buf(),
        source,
    };
    let dir = output::parent_dir(path);
    output::create_private_dir(dir).map_err(err)?;
    // A temporary file this old is left from a run killed mid-write: no run is
    // still writing it, and it holds a secret nobody uses.
    output::remove_stale_temps(dir, Duration::from_secs(600));
    let mut tmp = output::temp_file(dir).map_err(err)?;
    let text = format!(
        "{HEADER}version: 1\nmasterSecret: \"{}\"\n",
        hex::encode(bytes)
    );
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {
            output::sync_dir(dir);
            Ok(true)
        }
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(err(e.error)),
    }
}

/// When the secrets file can be read by group or others, the warning to print
/// (ssh refuses such key files; this one is the root of every key).
pub fn exposure_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).ok()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(format!(
                "warning: {} is readable or writable by group or others (mode {mode:04o}); every key of the network comes from it: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
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
    fn racing_first_runs_share_one_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/k.secrets.yaml");
        let tokens: Vec<String> = std::thread::scope(|s| {
            let runs: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        MasterSecret::load_or_create(&path)
                            .unwrap()
                            .0
                            .derive_token("x")
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert!(tokens.iter().all(|t| *t == tokens[0]));
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn empty_or_huge_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.secrets.yaml");
        fs::write(&path, "").unwrap();
        let err = MasterSecret::load_or_create(&path).err().unwrap();
        assert!(matches!(err, SecretsError::Empty { .. }), "{err}");
        let err = MasterSecret::load(Path::new("/dev/zero")).err().unwrap();
        assert!(err.to_string().contains("larger than"), "{err}");
    }

    #[test]
    fn labels_are_independent() {
        let s = MasterSecret::from_bytes([7; 32]);
        assert_ne!(s.derive_key("a").to_hex(), s.derive_key("b").to_hex());
        assert_eq!(s.derive_key("a").to_hex(), s.derive_key("a").to_hex());
    }
}
