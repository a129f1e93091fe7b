//! Atomic file writes (temp file in the same directory, fsync, rename) and sha256 helpers.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// `<pid>-<nanos>-<counter>-<host>`: unique across processes (pid), across restarts that
/// reuse a pid (nanos), across threads of one process (counter) and across machines that
/// share a store (host, the first 8 hex digits of the sha256 of the host name). The host
/// lets a sweep tell a dead local writer from a live writer on another node: a pid is
/// only meaningful on the machine that issued it.
pub(crate) fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{n}-{}", std::process::id(), host_tag())
}

/// First 8 hex digits of the sha256 of this machine's host name (of "" if unknown).
pub(crate) fn host_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let name = fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default();
        sha256_bytes(name.trim().as_bytes())[..8].to_owned()
    })
}

/// Who made a name built by [`unique_name`]: its pid and, for names made since host tags
/// were added, the host tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub pid: u32,
    pub host: Option<String>,
}

/// Parses `<pid>-<nanos>-<counter>[-<host>]`; `None` for any other name.
pub(crate) fn parse_unique(name: &str) -> Option<Owner> {
    let parts: Vec<&str> = name.split('-').collect();
    let (numbers, host) = match parts[..] {
        [_, _, _] => (&parts[..], None),
        [_, _, _, host] => (&parts[..3], Some(host)),
        _ => return None,
    };
    let digits = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let hex8 = |h: &str| h.len() == 8 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !numbers.iter().all(digits) || host.is_some_and(|h| !hex8(h)) {
        return None;
    }
    Some(Owner {
        pid: numbers[0].parse().ok()?,
        host: host.map(str::to_owned),
    })
}

/// The pid of the writer named by `unique` (a [`unique_name`]) when it made the name on this
/// machine (or before names carried a host). A name made on another host (a shared store
/// under slurm) has no local writer: its pid means nothing here.
fn local_writer(unique: &str) -> Option<u32> {
    let owner = parse_unique(unique)?;
    let here = owner.host.as_deref().is_none_or(|h| h == host_tag());
    here.then_some(owner.pid)
}

/// Whether the local writer named by `unique` is gone, so that what it left may be removed.
/// False for a name from another host or not made by [`unique_name`], and without /proc.
pub fn writer_gone_here(unique: &str) -> bool {
    local_writer(unique).is_some_and(|pid| process_running(pid) == Some(false))
}

/// Whether the local writer named by `unique` is another process that is still running.
pub fn writer_running_here(unique: &str) -> bool {
    local_writer(unique)
        .is_some_and(|pid| pid != std::process::id() && process_running(pid) == Some(true))
}

/// The [`unique_name`] part of a temp file's name (`.<name>.tmp-<unique>`), if it has one.
pub fn temp_file_writer(name: &str) -> Option<&str> {
    name.rsplit_once(".tmp-").map(|(_, unique)| unique)
}

/// Whether process `pid` on this machine is still running: `Some(false)` when it is gone or
/// is a zombie (killed, but not yet reaped by a parent that may never reap it, as in a
/// container whose pid 1 does not), `None` where there is no /proc to tell.
pub fn process_running(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Some(false);
    };
    // `<pid> (<comm>) <state> ...`; comm may hold spaces and parentheses, so split after
    // the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    Some(!matches!(state, Some("Z" | "X" | "x")))
}

/// True for the name of an [`AtomicFile`] temp file, `.<name>.tmp-<unique>`: a write that
/// was never committed (its writer was killed), which must never be sealed into an entry.
pub fn is_temp_file_name(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rfind(".tmp-")
            .is_some_and(|i| i > 0 && parse_unique(&name[i + ".tmp-".len()..]).is_some())
}

/// Hex sha256 of a byte slice.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Hex sha256 of a file's contents, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Fsync a directory so that renames and creations inside it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("fsyncing directory {}", dir.display()))
}

/// A file written under a temporary name next to its final path and renamed into place
/// by [`AtomicFile::commit`]; dropping it uncommitted removes the temporary file, so
/// readers never see a half-written file.
#[derive(Debug)]
pub struct AtomicFile {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates an empty temporary file in the directory of `final_path`.
    pub fn create(final_path: impl AsRef<Path>) -> Result<Self> {
        let target = final_path.as_ref().to_path_buf();
        let name = target
            .file_name()
            .with_context(|| format!("{} has no file name", target.display()))?
            .to_string_lossy()
            .into_owned();
        let dir = parent_dir(&target);
        let temp = dir.join(format!(".{name}.tmp-{}", unique_name()));
        File::create_new(&temp).with_context(|| format!("creating {}", temp.display()))?;
        Ok(Self {
            temp,
            target,
            committed: false,
        })
    }

    /// The temporary path to write to.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Fsyncs the temporary file, renames it to the final path and fsyncs the directory.
    pub fn commit(mut self) -> Result<()> {
        File::open(&self.temp)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("fsyncing {}", self.temp.display()))?;
        fs::rename(&self.temp, &self.target).with_context(|| {
            format!(
                "renaming {} to {}",
                self.temp.display(),
                self.target.display()
            )
        })?;
        self.committed = true;
        sync_dir(parent_dir(&self.target))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` atomically: readers see the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let file = AtomicFile::create(path)?;
    let mut out = File::options()
        .write(true)
        .open(file.path())
        .with_context(|| format!("opening {}", file.path().display()))?;
    out.write_all(bytes)
        .with_context(|| format!("writing {}", file.path().display()))?;
    drop(out);
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_unreaped_child_is_not_running() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        assert_eq!(process_running(child.id()), Some(true));
        // SIGKILL and wait until it is a zombie, without reaping it.
        std::process::Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while process_running(child.id()) != Some(false) {
            assert!(
                std::time::Instant::now() < deadline,
                "never became a zombie"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(
            Path::new(&format!("/proc/{}", child.id())).exists(),
            "reaped too early"
        );
        child.wait().unwrap();
        assert_eq!(process_running(child.id()), Some(false));
        assert_eq!(process_running(std::process::id()), Some(true));
    }

    #[test]
    fn write_atomic_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropped_atomic_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.bin");
        let file = AtomicFile::create(&path).unwrap();
        fs::write(file.path(), b"partial").unwrap();
        assert!(file.path().exists());
        drop(file);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn write_atomic_into_missing_dir_fails() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("no/such/x"), b"x").unwrap_err();
        assert!(format!("{err:#}").contains("creating"), "{err:#}");
    }

    #[test]
    fn temp_file_names_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let file = AtomicFile::create(dir.path().join("run.h5")).unwrap();
        let name = file
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(is_temp_file_name(&name), "{name}");
        assert!(
            is_temp_file_name(".run.h5.tmp-4242-1700000000-3"),
            "legacy, no host"
        );
        for other in [
            "run.h5",
            ".run.h5",
            "run.h5.tmp-1-2-3",
            ".x.tmp-a-2-3",
            ".x.tmp-1-2",
        ] {
            assert!(!is_temp_file_name(other), "{other}");
        }
    }

    #[test]
    fn unique_names_carry_pid_and_host() {
        let owner = parse_unique(&unique_name()).unwrap();
        assert_eq!(owner.pid, std::process::id());
        assert_eq!(owner.host.as_deref(), Some(host_tag()));
        assert_eq!(parse_unique("7-1-0").unwrap().host, None);
        assert!(parse_unique("7-1-0-XYZ").is_none() && parse_unique("7-1").is_none());
    }

    #[test]
    fn sha256_matches_known_vector() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_bytes(b"abc"), abc);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        fs::write(&path, b"abc").unwrap();
        assert_eq!(sha256_file(&path).unwrap(), abc);
    }
}
