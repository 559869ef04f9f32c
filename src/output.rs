//! Writing outputs: atomically (a reader never sees half a file, an error leaves
//! the old file), private files with mode 0600, and never over key material that
//! differs from what would be written.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: already exists with different content; it may hold key material, so it is not replaced. Move it away (or export into an empty directory)")]
    Conflict { path: PathBuf },
}

/// Whether a file is private (mode 0600) or may be shared.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Private,
}

/// A file to write, prepared in memory first so nothing is written when any
/// part of the output fails to build.
pub struct PendingFile {
    pub path: PathBuf,
    pub contents: Vec<u8>,
    pub visibility: Visibility,
}

impl PendingFile {
    pub fn new(
        path: impl Into<PathBuf>,
        contents: impl Into<Vec<u8>>,
        visibility: Visibility,
    ) -> Self {
        Self {
            path: path.into(),
            contents: contents.into(),
            visibility,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `file` through a temporary file in the same directory and a rename.
pub fn write_atomic(file: &PendingFile) -> Result<(), OutputError> {
    let dir = file
        .path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io(dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".kuberneteth-")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match file.visibility {
            Visibility::Private => 0o600,
            Visibility::Public => 0o644,
        };
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))
            .map_err(io(&file.path))?;
    }
    tmp.write_all(&file.contents).map_err(io(&file.path))?;
    tmp.as_file().sync_all().map_err(io(&file.path))?;
    tmp.persist(&file.path).map_err(|e| OutputError::Io {
        path: file.path.clone(),
        source: e.error,
    })?;
    Ok(())
}

/// Writes every file, refusing up front (before writing anything) when a private
/// file exists with other content.
pub fn write_all(files: &[PendingFile], protect_private: bool) -> Result<(), OutputError> {
    if protect_private {
        for f in files.iter().filter(|f| f.visibility == Visibility::Private) {
            if let Ok(existing) = fs::read(&f.path) {
                if existing != f.contents {
                    return Err(OutputError::Conflict {
                        path: f.path.clone(),
                    });
                }
            }
        }
    }
    for f in files {
        write_atomic(f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.txt");
        write_atomic(&PendingFile::new(&p, "x", Visibility::Private)).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let conflict = write_all(&[PendingFile::new(&p, "y", Visibility::Private)], true);
        assert!(matches!(conflict, Err(OutputError::Conflict { .. })));
        assert_eq!(fs::read_to_string(&p).unwrap(), "x");
        write_all(&[PendingFile::new(&p, "x", Visibility::Private)], true).unwrap();
    }
}
