//! Writing outputs: atomically (a reader never sees half a file, an error leaves
//! the old file), private files with mode 0600, never over key material that
//! differs from what would be written, and one run at a time per output directory.
//!
//! Temporary files are named `.kuberneteth-tmp-*` (ignored by the shipped
//! `.gitignore`), created 0600 because they may hold keys, and removed by the next
//! run when a killed one leaves them behind.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prefix of every temporary file; `.gitignore` lists `.kuberneteth-tmp-*`.
pub const TEMP_PREFIX: &str = ".kuberneteth-tmp-";
/// The lock file in an output directory (empty; only its lock matters).
pub const LOCK_FILE: &str = ".kuberneteth.lock";

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

/// The directory a file lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Creates `dir` and its missing parents with mode 0700 (they will hold key
/// material); existing directories keep their mode.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// A new temporary file in `dir`, mode 0600, named with `TEMP_PREFIX`.
pub fn temp_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
}

/// Makes a rename in `dir` durable. Best effort: not every file system can sync
/// a directory, and the rename itself already happened.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes our temporary files in `dir` older than `age`: what a run killed
/// mid-write left behind. Best effort; returns how many were removed.
pub fn remove_stale_temps(dir: &Path, age: Duration) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let ours = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX);
        let old_enough = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|elapsed| elapsed >= age);
        if ours && old_enough && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// An output directory held by this run: created 0700 when missing, locked
/// (another run into it waits), with the temporary files of killed runs removed.
/// The lock is released when this is dropped, or by the kernel when the process dies.
pub struct OutputDir {
    root: PathBuf,
    _lock: File,
}

impl OutputDir {
    pub fn open(root: &Path) -> Result<Self, OutputError> {
        create_private_dir(root).map_err(io(root))?;
        let lock_path = root.join(LOCK_FILE);
        let mut opts = fs::OpenOptions::new();
        opts.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let lock = opts.open(&lock_path).map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;
        // Under the lock no other run writes here, so every temporary file is stale.
        remove_stale_temps(root, Duration::ZERO);
        Ok(Self {
            root: root.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes every file in order, refusing up front (before writing anything)
    /// when `protect_private` and a private file exists with other content.
    pub fn write_all(
        &self,
        files: &[PendingFile],
        protect_private: bool,
    ) -> Result<(), OutputError> {
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
        let mut cleaned: Vec<&Path> = vec![self.root.as_path()];
        for f in files {
            let dir = parent_dir(&f.path);
            if !cleaned.contains(&dir) {
                remove_stale_temps(dir, Duration::ZERO);
                cleaned.push(dir);
            }
            write_atomic(f)?;
        }
        Ok(())
    }

    /// Removes `paths` where they exist (files an earlier run wrote that this
    /// one does not), then their folders when that leaves them empty.
    pub fn remove_files(&self, paths: &[PathBuf]) -> Result<(), OutputError> {
        for path in paths {
            match fs::remove_file(path) {
                Ok(()) => sync_dir(parent_dir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(OutputError::Io {
                        path: path.clone(),
                        source: e,
                    })
                }
            }
            // Only an empty folder goes; one holding anything else stays.
            let _ = fs::remove_dir(parent_dir(path));
        }
        Ok(())
    }
}

/// Writes `file` through a temporary file in the same directory and a rename.
fn write_atomic(file: &PendingFile) -> Result<(), OutputError> {
    let dir = parent_dir(&file.path);
    create_private_dir(dir).map_err(io(dir))?;
    let mut tmp = temp_file(dir).map_err(io(dir))?;
    #[cfg(unix)]
    if file.visibility == Visibility::Public {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))
            .map_err(io(&file.path))?;
    }
    tmp.write_all(&file.contents).map_err(io(&file.path))?;
    tmp.as_file().sync_all().map_err(io(&file.path))?;
    tmp.persist(&file.path).map_err(|e| OutputError::Io {
        path: file.path.clone(),
        source: e.error,
    })?;
    sync_dir(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::open(&dir.path().join("a")).unwrap();
        let p = out.root().join("b.txt");
        out.write_all(&[PendingFile::new(&p, "x", Visibility::Private)], false)
            .unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&p), 0o600);
            assert_eq!(mode(out.root()), 0o700);
        }
        let conflict = out.write_all(&[PendingFile::new(&p, "y", Visibility::Private)], true);
        assert!(matches!(conflict, Err(OutputError::Conflict { .. })));
        assert_eq!(fs::read_to_string(&p).unwrap(), "x");
        out.write_all(&[PendingFile::new(&p, "x", Visibility::Private)], true)
            .unwrap();
    }

    #[test]
    fn stale_temporary_files_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(format!("{TEMP_PREFIX}abc"));
        let other = dir.path().join("keep.txt");
        fs::write(&stale, "key").unwrap();
        fs::write(&other, "x").unwrap();
        assert_eq!(remove_stale_temps(dir.path(), Duration::from_secs(3600)), 0);
        let _out = OutputDir::open(dir.path()).unwrap();
        assert!(!stale.exists());
        assert!(other.exists());
    }
}
