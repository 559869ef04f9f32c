//! Reading the files users hand us: bounded in size, so a device (`/dev/zero`),
//! a pipe or a runaway file cannot eat memory, and decoded as UTF-8 with a
//! position when it is not.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::diagnostics::Position;
use crate::yaml::position_of;

/// The largest network file read (a thousand node groups fit in a tenth of it).
pub const MAX_NETWORK_FILE: u64 = 1 << 20;
/// The largest secrets file read (it holds one line of hex).
pub const MAX_SECRETS_FILE: u64 = 64 << 10;
/// The largest brought node key file (64 hex characters and some whitespace).
pub const MAX_NODE_KEY_FILE: u64 = 4 << 10;
/// The largest brought keystore (a V3 keystore is under 1 KiB).
pub const MAX_KEYSTORE_FILE: u64 = 64 << 10;
/// The largest brought password file.
pub const MAX_PASSWORD_FILE: u64 = 4 << 10;
/// The largest earlier output read back (values files of big networks with keystores).
pub const MAX_OUTPUT_FILE: u64 = 256 << 20;

#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    TooLarge { limit: u64 },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => e.fmt(f),
            ReadError::TooLarge { limit } => {
                write!(f, "larger than {}, which no such file needs", human(*limit))
            }
        }
    }
}

impl ReadError {
    /// Whether the file is simply absent (the one read error that is not a problem
    /// for files we may create).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

/// Reads at most `limit` bytes of `path`; a longer file is an error, not a truncation.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Text that is not UTF-8, with where it stops being so.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub position: Position,
    pub message: String,
}

/// Decodes `bytes` as UTF-8, skipping a leading byte order mark (as editors and
/// most YAML tools do). UTF-16/32 and invalid UTF-8 are refused with a position.
pub fn decode(bytes: Vec<u8>) -> Result<String, DecodeError> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    let start = |p| Position { line: 1, column: p };
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(DecodeError {
            position: start(1),
            message: "the file is UTF-16 (or UTF-32) text; save it as UTF-8".into(),
        });
    }
    let bytes = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        // `valid < bytes.len()`: there is an invalid byte, so indexing it is in bounds.
        // The valid prefix is UTF-8 by definition, so the lossy view is exact.
        let prefix = String::from_utf8_lossy(&bytes[..valid]);
        DecodeError {
            position: position_of(&prefix, valid),
            message: format!(
                "byte 0x{:02X} is not UTF-8 text; save the file as UTF-8{}",
                bytes[valid],
                if bytes.iter().take(64).any(|&b| b == 0) {
                    " (NUL bytes suggest UTF-16)"
                } else {
                    ""
                }
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_skipped_and_bad_bytes_are_positioned() {
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1".to_vec()).unwrap(), "a: 1");
        let e = decode(b"a: 1\nb: caf\xE9\n".to_vec()).unwrap_err();
        assert_eq!(e.position, Position { line: 2, column: 7 });
        assert!(e.message.contains("0xE9"));
        let e = decode(b"\xFF\xFEa\x00".to_vec()).unwrap_err();
        assert!(e.message.contains("UTF-16"));
    }

    #[test]
    fn reads_are_bounded() {
        let e = read_bounded(Path::new("/dev/zero"), 1000).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { limit: 1000 }));
        assert!(read_bounded(Path::new("/nonexistent/x"), 10)
            .unwrap_err()
            .is_not_found());
    }
}
