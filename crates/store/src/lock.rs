//! Per-key advisory locks on `<root>/locks/<key>.lock`.

use anyhow::{Context, Result};
use std::fs::{self, File, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Holds an exclusive lock until dropped (closing the file releases it).
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
    path: PathBuf,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Blocks until the lock at `path` is held.
pub(crate) fn acquire(path: &Path) -> Result<LockGuard> {
    loop {
        let file = open(path)?;
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
        if still_linked(&file, path)? {
            return Ok(LockGuard {
                _file: file,
                path: path.to_path_buf(),
            });
        }
    }
}

/// Takes the lock at `path` if nobody holds it; `None` if it is held.
pub(crate) fn try_acquire(path: &Path) -> Result<Option<LockGuard>> {
    loop {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
        if still_linked(&file, path)? {
            return Ok(Some(LockGuard {
                _file: file,
                path: path.to_path_buf(),
            }));
        }
    }
}

fn open(path: &Path) -> Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening lock file {}", path.display()))
}

/// gc deletes lock files while holding them, so a lock taken on a file that has since
/// been unlinked guards nothing: the caller must retry on the new file.
fn still_linked(file: &File, path: &Path) -> Result<bool> {
    let held = file.metadata()?;
    Ok(match fs::metadata(path) {
        Ok(now) => now.ino() == held.ino() && now.dev() == held.dev(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e).with_context(|| format!("checking {}", path.display())),
    })
}
