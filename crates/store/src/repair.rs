//! Repair: move damaged and half entries aside so their keys can be rebuilt, and sweep
//! the temp dirs and loose temp files of dead writers.
//!
//! A damaged entry is never repaired in place and never deleted: it is renamed into
//! `<root>/quarantine/<key>-<pid>-<nanos>-<n>-<host>/` (one atomic rename, like
//! `nix store verify --repair` moving a bad path aside), which frees the key at once and
//! keeps the evidence for whoever wants to know what went wrong.

use crate::atomic::unique_name;
use crate::check::{Check, Depth, DirId, State};
use crate::key::{Key, KeySpec};
use crate::lock;
use crate::store::{is_stale_temp, read_dir_names, remove_path, Entry, Store};
use crate::walk;
use anyhow::{Context, Result};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// What [`Store::get_checked`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// A healthy entry, safe to use.
    Healthy(Entry),
    /// No entry: build it.
    Absent,
    /// The entry was half or damaged and has been moved to `to`: build it again.
    Quarantined { check: Check, to: PathBuf },
}

impl Checked {
    /// The entry if it is healthy.
    pub fn into_entry(self) -> Option<Entry> {
        match self {
            Checked::Healthy(entry) => Some(entry),
            Checked::Absent | Checked::Quarantined { .. } => None,
        }
    }
}

/// What [`Store::verify_store`] found and, when repairing, did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreReport {
    /// Entry directories looked at.
    pub entries: usize,
    /// Entries with complete records that do not match them (see [`Check::problems`],
    /// which names undeclared, missing and changed files).
    pub damaged: Vec<Check>,
    /// Entries missing a store record.
    pub half: Vec<Check>,
    /// Temp dirs and loose temp files of dead or long-gone writers under `<root>/tmp/`.
    pub stale_temp: Vec<PathBuf>,
    /// (key, where it went) for each entry moved to quarantine by a repair.
    pub quarantined: Vec<(Key, PathBuf)>,
    /// Stale temp dirs removed by a repair.
    pub removed_temp: Vec<PathBuf>,
}

impl StoreReport {
    /// True when nothing was found wrong (before any repair).
    pub fn is_clean(&self) -> bool {
        self.damaged.is_empty() && self.half.is_empty() && self.stale_temp.is_empty()
    }
}

impl Store {
    /// Where quarantined entries go: `<root>/quarantine/`.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root().join("quarantine")
    }

    /// Moves whatever is at the entry's place for `key` (healthy or not) to
    /// `<root>/quarantine/<key>-<unique>/` in one rename, so the key can be rebuilt.
    /// `None` when there was nothing to move. Call it under the key's lock (or when
    /// nobody else builds the key): it does not check what it moves.
    pub fn quarantine(&self, key: &Key) -> Result<Option<PathBuf>> {
        self.quarantine_if(key, None)
    }

    /// Quarantines the directory `check` looked at, if it is still there: a directory
    /// another process has since put in its place is left alone.
    pub(crate) fn quarantine_checked(&self, check: &Check) -> Result<Option<PathBuf>> {
        match check.id {
            Some(id) => self.quarantine_if(&check.key, Some(id)),
            None => Ok(None),
        }
    }

    /// Quarantines the directory at `key`'s place if it is not a complete entry (used by
    /// `put_dir` when a half entry blocks the rename).
    pub(crate) fn quarantine_incomplete(&self, key: &Key) -> Result<Option<PathBuf>> {
        let _guard = self.repair_lock(key)?;
        if self.get(key).is_some() {
            return Ok(None);
        }
        self.quarantine_locked(key, None)
    }

    /// Repairs of one key take turns on `<root>/locks/<key>.repair.lock`: a separate
    /// file from the key's build lock, which the caller may already hold (flock locks
    /// taken twice by one process through two opens block each other).
    fn repair_lock(&self, key: &Key) -> Result<lock::LockGuard> {
        lock::acquire(&self.root().join("locks").join(format!("{key}.repair.lock")))
    }

    fn quarantine_if(&self, key: &Key, expected: Option<DirId>) -> Result<Option<PathBuf>> {
        let _guard = self.repair_lock(key)?;
        self.quarantine_locked(key, expected)
    }

    /// The rename itself; the caller holds the repair lock.
    fn quarantine_locked(&self, key: &Key, expected: Option<DirId>) -> Result<Option<PathBuf>> {
        let dir = self.entry_dir(key);
        let Some(id) = DirId::of(&dir) else {
            return Ok(None);
        };
        if expected.is_some_and(|e| e != id) {
            return Ok(None);
        }
        let target_root = self.quarantine_dir();
        fs::create_dir_all(&target_root)
            .with_context(|| format!("creating {}", target_root.display()))?;
        let target = target_root.join(format!("{key}-{}", unique_name()));
        // Moving a directory to another parent needs write permission on it.
        if fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            walk::set_mode(&dir, 0o755)?;
        }
        match fs::rename(&dir, &target) {
            Ok(()) => Ok(Some(target)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => {
                Err(e).with_context(|| format!("moving {} to {}", dir.display(), target.display()))
            }
        }
    }

    /// The entry for `key` after checking it at `depth`; a half or damaged entry is
    /// quarantined (and reported) so the caller rebuilds it instead of trusting it.
    pub fn get_checked(&self, key: &Key, depth: Depth) -> Result<Checked> {
        let check = self.check(key, depth)?;
        match check.state {
            State::Absent => Ok(Checked::Absent),
            State::Healthy => Ok(self.get(key).map_or(Checked::Absent, Checked::Healthy)),
            State::Half | State::Damaged => match self.quarantine_checked(&check)? {
                Some(to) => Ok(Checked::Quarantined { check, to }),
                None => Ok(Checked::Absent),
            },
        }
    }

    /// [`Store::get_or_put`] that checks a cached entry at `depth` before trusting it,
    /// quarantining and rebuilding a half or damaged one. The flag is true when this call
    /// built the entry.
    pub fn get_or_put_checked(
        &self,
        spec: &KeySpec,
        depth: Depth,
        build: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<(Entry, bool)> {
        let key = spec.key();
        if let Some(entry) = self.get_checked(&key, depth)?.into_entry() {
            return Ok((entry, false));
        }
        let _guard = self.lock(&key)?;
        if let Some(entry) = self.get_checked(&key, depth)?.into_entry() {
            return Ok((entry, false));
        }
        Ok((self.put(spec, build)?, true))
    }

    /// Checks every entry directory at `depth` and lists stale temp dirs. With `repair`,
    /// quarantines half and damaged entries whose build lock is free (a held lock means
    /// someone is using the key right now) and removes the stale temp dirs.
    pub fn verify_store(&self, depth: Depth, repair: bool) -> Result<StoreReport> {
        let mut report = StoreReport::default();
        for key in self.entry_keys()? {
            report.entries += 1;
            let check = self.check(&key, depth)?;
            if matches!(check.state, State::Healthy | State::Absent) {
                continue;
            }
            if repair {
                if let Some(_guard) = self.try_lock(&key)? {
                    if let Some(to) = self.quarantine_checked(&check)? {
                        report.quarantined.push((key, to));
                    }
                }
            }
            match check.state {
                State::Half => report.half.push(check),
                _ => report.damaged.push(check),
            }
        }
        report.stale_temp = self.stale_temp()?;
        if repair {
            for path in &report.stale_temp {
                remove_path(path)?;
                report.removed_temp.push(path.clone());
            }
        }
        Ok(report)
    }

    /// Removes the stale temp dirs under `<root>/tmp/` (see [`Store::stale_temp`]);
    /// meant to run when a tool that writes into the store starts. Returns what it removed.
    pub fn sweep_stale_tmp(&self) -> Result<Vec<PathBuf>> {
        let stale = self.stale_temp()?;
        for path in &stale {
            // Another sweeper may have got there first.
            if fs::symlink_metadata(path).is_ok() {
                remove_path(path)?;
            }
        }
        Ok(stale)
    }

    /// Temp dirs and loose files under `<root>/tmp/` whose writer is gone: made on this host
    /// by a pid that no longer runs, or untouched for 7 days; and loose files whose name
    /// names no writer at all. Sorted.
    pub fn stale_temp(&self) -> Result<Vec<PathBuf>> {
        let temp_root = self.root().join("tmp");
        let mut stale: Vec<PathBuf> = read_dir_names(&temp_root)?
            .into_iter()
            .map(|name| (temp_root.join(&name), name))
            .filter(|(path, name)| match fs::symlink_metadata(path) {
                Ok(meta) if !meta.is_dir() => is_stale_loose_file(name, path),
                _ => is_stale_temp(name, path),
            })
            .map(|(path, _)| path)
            .collect();
        stale.sort();
        Ok(stale)
    }
}

/// The store only makes directories in `tmp/`, so a loose file there is something else's
/// leftover: an atomic write's temp file (`.<name>.tmp-<writer>`) or a file named by its
/// writer is judged like a temp dir of that writer; one that names no writer is stale.
fn is_stale_loose_file(name: &str, path: &Path) -> bool {
    let writer = crate::atomic::temp_file_writer(name).unwrap_or(name);
    if crate::atomic::parse_unique(writer).is_none() {
        return true;
    }
    is_stale_temp(writer, path)
}
