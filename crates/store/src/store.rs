//! The store: put (build in temp dir, hash, fsync, seal, rename), get, lock, verify, gc.

use crate::atomic::{self, sha256_bytes, sha256_file, sync_dir, unique_name};
use crate::check::{self, Problem};
use crate::key::{canonical_json, Key, KeySpec};
use crate::lock::{self, LockGuard};
use crate::walk;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub(crate) const OUTPUTS: &str = "outputs.json";
pub(crate) const KEY_JSON: &str = "key.json";
/// `{"key": "<key>", "outputs_sha256": "<sha256 of the outputs.json bytes>"}`, canonical
/// JSON: binds this outputs.json to this key (see the crate doc).
pub(crate) const SEAL_JSON: &str = "seal.json";
/// The files the store itself writes into every entry, in the order `seal` writes them.
pub(crate) const RECORDS: [&str; 3] = [KEY_JSON, OUTPUTS, SEAL_JSON];
/// A temp dir untouched this long is stale even if a process with its pid is running
/// (pids get reused); builds that take longer must touch their temp dir.
const STALE_TEMP_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Hash and size of one file of an entry, as recorded in `outputs.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Outputs {
    pub files: BTreeMap<String, FileRecord>,
}

/// The contents of `seal.json`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Seal {
    pub key: String,
    pub outputs_sha256: String,
}

impl Seal {
    /// The canonical bytes of the seal binding `outputs` (the exact outputs.json bytes) to `key`.
    pub(crate) fn bytes(key: &Key, outputs: &[u8]) -> Vec<u8> {
        let seal =
            serde_json::json!({"key": key.as_str(), "outputs_sha256": sha256_bytes(outputs)});
        canonical_json(&seal).into_bytes()
    }
}

/// A complete entry: its directory and the files `outputs.json` records (which exclude
/// the store's own records `outputs.json`, `key.json` and `seal.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Key,
    pub dir: PathBuf,
    pub files: BTreeMap<String, FileRecord>,
    /// sha256 of the entry's `outputs.json`, as sealed: one hash that vouches for every
    /// file of the entry. A caller that records it somewhere the store cannot rewrite
    /// (a MANIFEST in git) can later detect an entry forged along with its seal.
    pub outputs_sha256: String,
}

impl Entry {
    /// Path of a file of the entry from its `/`-separated relative path (the paths in
    /// [`Entry::files`] were checked with [`crate::path::safe_relative`] when read).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

/// What [`Store::verify`] found wrong with an entry (relative paths, sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Files whose size or sha256 differs from `outputs.json`; `key.json` if it does not
    /// hash to the entry's key.
    pub tampered: Vec<String>,
    pub missing: Vec<String>,
    /// Files present but not recorded in `outputs.json`.
    pub unexpected: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.tampered.is_empty() && self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// What [`Store::gc`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    pub removed: Vec<Key>,
    /// Bytes of files in removed entries and removed temp dirs.
    pub bytes_freed: u64,
    pub removed_temp: Vec<PathBuf>,
    pub removed_locks: usize,
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating if needed) a store rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        for dir in [root.clone(), root.join("tmp"), root.join("locks")] {
            fs::create_dir_all(&dir)
                .with_context(|| format!("creating store directory {}", dir.display()))?;
        }
        Ok(Store { root })
    }

    /// `$XAVIER_STORE` if set and non-empty, else `<repo_root>/.store`.
    pub fn from_env(repo_root: &Path) -> Result<Store> {
        match std::env::var_os("XAVIER_STORE") {
            Some(dir) if !dir.is_empty() => Store::open(PathBuf::from(dir)),
            _ => Store::open(repo_root.join(".store")),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn entry_dir(&self, key: &Key) -> PathBuf {
        self.root.join(key.shard()).join(key.as_str())
    }

    /// True for complete entries only; see [`Store::get`].
    pub fn contains(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    /// The entry for `key` if it is complete: a real directory whose `key.json` hashes to
    /// the key, whose `outputs.json` parses and names only safe relative paths, and whose
    /// `seal.json` binds that `outputs.json` to the key. This reads only the three small
    /// records; the files themselves are checked by [`Store::check`] /
    /// [`Store::get_checked`], which a caller should use before trusting an entry it did
    /// not just build.
    pub fn get(&self, key: &Key) -> Option<Entry> {
        let dir = self.entry_dir(key);
        if !fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return None;
        }
        let (records, problems) = check::read_records(&dir, key);
        let records = records.filter(|_| problems.is_empty())?;
        Some(Entry {
            key: key.clone(),
            dir,
            files: records.files,
            outputs_sha256: records.outputs_sha256,
        })
    }

    /// A fresh, uniquely named directory under `<root>/tmp` to build an entry in.
    pub fn temp_dir(&self) -> Result<PathBuf> {
        let dir = self.root.join("tmp").join(unique_name());
        fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }

    /// Builds an entry: `build` fills a fresh temp dir, which is then hashed, fsynced and
    /// renamed into place. If the entry already exists (another writer won), the new build
    /// is discarded and the existing entry returned. A failed build, or one the store
    /// refuses to seal, leaves nothing behind.
    pub fn put(&self, spec: &KeySpec, build: impl FnOnce(&Path) -> Result<()>) -> Result<Entry> {
        let temp = self.temp_dir()?;
        if let Err(e) = build(&temp) {
            let _ = walk::remove_tree(&temp);
            return Err(e.context(format!("building store entry for stage {}", spec.stage)));
        }
        self.put_dir(spec, &temp).inspect_err(|_| {
            if temp.exists() {
                let _ = walk::remove_tree(&temp);
            }
        })
    }

    /// Moves an already built directory `src` (on the same filesystem as the store, e.g.
    /// from [`Store::temp_dir`]) into place as the entry for `spec`. `src` is consumed on
    /// success; on error it is left in place for inspection.
    ///
    /// Refuses `src` if it holds a store record name, a symlink or special file, or an
    /// uncommitted [`crate::atomic::AtomicFile`] temp file (its writer was killed; sealing
    /// it would make a half-written file part of an immutable entry). A half or unsealed
    /// directory already at the entry's place is quarantined first, so a damaged key can
    /// always be rebuilt, and so is an existing entry that fails a [`crate::Depth::Quick`]
    /// check.
    pub fn put_dir(&self, spec: &KeySpec, src: &Path) -> Result<Entry> {
        let key = spec.key();
        // A quick check (sizes, no hashing) so a truncated or half entry is replaced, not
        // returned; callers that need every byte checked use `get_checked` first.
        let existing = self.get_checked(&key, crate::Depth::Quick)?;
        if let Some(entry) = existing.into_entry() {
            walk::remove_tree(src)?;
            return Ok(entry);
        }
        let (files, outputs_sha256) = seal(spec, src)?;
        let dest = self.entry_dir(&key);
        let shard = dest.parent().expect("entry dir has a shard parent");
        fs::create_dir_all(shard).with_context(|| format!("creating {}", shard.display()))?;
        if let Some(entry) = self.move_into_place(&key, src, &dest)? {
            walk::remove_tree(src)?;
            return Ok(entry);
        }
        sync_dir(shard)?;
        make_read_only(&dest, files.keys().map(String::as_str))?;
        Ok(Entry {
            key,
            dir: dest,
            files,
            outputs_sha256,
        })
    }

    /// Renames `src` to `dest`; `Some(entry)` when another writer's complete entry won.
    /// A directory at `dest` that is not a complete entry (a half entry: its records were
    /// deleted, or it predates seals) would block the rename forever ("Directory not
    /// empty"), so it is quarantined and the rename retried.
    fn move_into_place(&self, key: &Key, src: &Path, dest: &Path) -> Result<Option<Entry>> {
        let mut attempts = 0;
        loop {
            let Err(e) = fs::rename(src, dest) else {
                return Ok(None);
            };
            if let Some(entry) = self.get(key) {
                return Ok(Some(entry));
            }
            attempts += 1;
            let blocked = fs::symlink_metadata(dest).is_ok();
            if !blocked || attempts > 3 {
                return Err(e).with_context(|| {
                    format!(
                        "moving {} into the store at {}",
                        src.display(),
                        dest.display()
                    )
                });
            }
            self.quarantine_incomplete(key)?;
        }
    }

    /// Blocking exclusive lock for `key`, held until the guard drops.
    pub fn lock(&self, key: &Key) -> Result<LockGuard> {
        lock::acquire(&self.lock_path(key))
    }

    /// The lock for `key` if nobody holds it, else `None`.
    pub fn try_lock(&self, key: &Key) -> Result<Option<LockGuard>> {
        lock::try_acquire(&self.lock_path(key))
    }

    fn lock_path(&self, key: &Key) -> PathBuf {
        self.root.join("locks").join(format!("{key}.lock"))
    }

    /// The entry for `spec`, building it under the key's lock if missing, so concurrent
    /// callers build it once. The flag is true when this call built it.
    pub fn get_or_put(
        &self,
        spec: &KeySpec,
        build: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<(Entry, bool)> {
        let key = spec.key();
        if let Some(entry) = self.get(&key) {
            return Ok((entry, false));
        }
        let _guard = self.lock(&key)?;
        if let Some(entry) = self.get(&key) {
            return Ok((entry, false));
        }
        Ok((self.put(spec, build)?, true))
    }

    /// Rehashes every file of an entry against `outputs.json`, `key.json` against the key
    /// and `seal.json` against both ([`Store::check`] at [`crate::Depth::Full`], in the
    /// older report shape). A half entry reports its missing records; only an absent
    /// entry is an error.
    pub fn verify(&self, key: &Key) -> Result<VerifyReport> {
        let check = self.check(key, crate::Depth::Full)?;
        if check.state == crate::State::Absent {
            bail!("no complete store entry {key}");
        }
        let mut report = VerifyReport::default();
        for problem in check.problems {
            let (list, rel) = match problem {
                Problem::MissingRecord(rel) | Problem::Missing(rel) => (&mut report.missing, rel),
                Problem::KeyMismatch => (&mut report.tampered, KEY_JSON.to_owned()),
                Problem::SealMismatch => (&mut report.tampered, SEAL_JSON.to_owned()),
                Problem::BadOutputs(_) => (&mut report.tampered, OUTPUTS.to_owned()),
                Problem::Unreadable(rel) | Problem::WrongSize(rel) | Problem::WrongHash(rel) => {
                    (&mut report.tampered, rel)
                }
                Problem::Undeclared(rel) | Problem::NotRegular(rel) => {
                    (&mut report.unexpected, rel)
                }
            };
            list.push(rel);
        }
        for list in [
            &mut report.tampered,
            &mut report.missing,
            &mut report.unexpected,
        ] {
            list.sort();
            list.dedup();
        }
        Ok(report)
    }

    /// [`Store::verify`] of every entry directory, complete or not ([`Store::entry_keys`]).
    pub fn verify_all(&self) -> Result<Vec<(Key, VerifyReport)>> {
        self.entry_keys()?
            .into_iter()
            .map(|key| Ok((key.clone(), self.verify(&key)?)))
            .collect()
    }

    /// Keys of all complete entries ([`Store::get`]), sorted.
    pub fn keys(&self) -> Result<Vec<Key>> {
        let mut keys = self.entry_keys()?;
        keys.retain(|key| self.contains(key));
        Ok(keys)
    }

    /// Keys of every entry directory `<root>/<shard>/<key>`, complete, half or damaged,
    /// sorted: what a verify must look at, since a half entry is not in [`Store::keys`].
    pub fn entry_keys(&self) -> Result<Vec<Key>> {
        let mut keys = Vec::new();
        for shard in read_dir_names(&self.root)? {
            let is_shard = shard.len() == 2
                && shard
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !is_shard {
                continue;
            }
            for name in read_dir_names(&self.root.join(&shard))? {
                if let Ok(key) = name.parse::<Key>() {
                    if key.shard() == shard {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Removes complete entries not in `live`, stale temp dirs and unheld lock files.
    ///
    /// A temp dir is stale when the process whose pid starts its name is no longer running
    /// (checked in `/proc`), or when it has not been modified for 7 days. Entries whose
    /// lock is held are skipped. An entry is first renamed into `tmp/` so it stops looking
    /// complete at once; a gc killed half way leaves only a stale temp dir.
    pub fn gc(&self, live: &BTreeSet<Key>) -> Result<GcReport> {
        let mut report = GcReport::default();
        for key in self.keys()? {
            if live.contains(&key) {
                continue;
            }
            let Some(_guard) = self.try_lock(&key)? else {
                continue;
            };
            let dir = self.entry_dir(&key);
            // Moving a directory to another parent needs write permission on it.
            walk::set_mode(&dir, 0o755)?;
            let doomed = self.root.join("tmp").join(unique_name());
            fs::rename(&dir, &doomed)
                .with_context(|| format!("moving {} out of the store", dir.display()))?;
            report.bytes_freed += walk::size(&doomed);
            walk::remove_tree(&doomed)?;
            let _ = fs::remove_dir(dir.parent().expect("entry dir has a shard parent"));
            report.removed.push(key);
        }
        for path in self.stale_temp()? {
            report.bytes_freed += walk::size(&path);
            remove_path(&path)?;
            report.removed_temp.push(path);
        }
        let lock_root = self.root.join("locks");
        for name in read_dir_names(&lock_root)? {
            let path = lock_root.join(&name);
            // Deleting while holding the lock is safe: lockers recheck the inode they hold.
            if let Some(guard) = lock::try_acquire(&path)? {
                fs::remove_file(guard.path())
                    .with_context(|| format!("removing {}", path.display()))?;
                report.removed_locks += 1;
            }
        }
        Ok(report)
    }
}

/// Makes the files of a placed entry (and its records) 0o444 and its directories 0o555,
/// so no tool can write into an entry by accident.
pub(crate) fn make_read_only<'a>(dir: &Path, files: impl Iterator<Item = &'a str>) -> Result<()> {
    for file in files.chain(RECORDS) {
        walk::set_mode(&dir.join(file), 0o444)?;
    }
    for sub in walk::dirs_bottom_up(dir)? {
        walk::set_mode(&sub, 0o555)?;
    }
    Ok(())
}

/// Refuses a file that must not become part of an entry: the store's own record names,
/// and uncommitted atomic-write temp files (`.<name>.tmp-<pid>-<nanos>-<n>[-<host>]`).
fn refuse_unsealable(dir: &Path, rel: &str) -> Result<()> {
    if RECORDS.contains(&rel) {
        bail!(
            "{} is reserved for the store and must not be built",
            dir.join(rel).display()
        );
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if atomic::is_temp_file_name(name) {
        bail!(
            "refusing to seal {}: it is an unfinished atomic write (a temp file left by a killed writer); remove it and rebuild",
            dir.join(rel).display()
        );
    }
    Ok(())
}

/// Hashes and fsyncs every file under `dir`, writes `key.json`, `outputs.json` and
/// `seal.json`, and fsyncs every directory, so that a rename makes a complete, durable
/// entry. Returns the file records and the sha256 of `outputs.json`.
fn seal(spec: &KeySpec, dir: &Path) -> Result<(BTreeMap<String, FileRecord>, String)> {
    let mut files = BTreeMap::new();
    let listing = walk::files(dir)?;
    for rel in &listing {
        refuse_unsealable(dir, rel)?;
    }
    for rel in listing {
        let path = dir.join(&rel);
        let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        file.sync_all()
            .with_context(|| format!("fsyncing {}", path.display()))?;
        let size = file.metadata()?.len();
        files.insert(
            rel,
            FileRecord {
                sha256: sha256_file(&path)?,
                size,
            },
        );
    }
    let outputs = serde_json::to_vec_pretty(&Outputs { files })?;
    write_synced(&dir.join(KEY_JSON), spec.canonical().as_bytes())?;
    write_synced(&dir.join(OUTPUTS), &outputs)?;
    write_synced(&dir.join(SEAL_JSON), &Seal::bytes(&spec.key(), &outputs))?;
    for sub in walk::dirs_bottom_up(dir)? {
        sync_dir(&sub)?;
    }
    let Outputs { files } = serde_json::from_slice(&outputs)?;
    Ok((files, sha256_bytes(&outputs)))
}

/// Removes a file or a whole tree (opening up read-only directories first).
pub(crate) fn remove_path(path: &Path) -> Result<()> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        walk::remove_tree(path)
    } else {
        fs::remove_file(path).with_context(|| format!("removing {}", path.display()))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file =
        File::create_new(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

pub(crate) fn read_dir_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for item in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let item = item.with_context(|| format!("listing {}", dir.display()))?;
        if let Some(name) = item.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// A temp dir is stale when it is older than [`STALE_TEMP_AGE`], or when its name says it
/// was made on this machine (or before names carried a host) by a process that is gone.
/// A dir made on another host (a shared store under slurm) is judged by age alone: its
/// pid means nothing here.
pub(crate) fn is_stale_temp(name: &str, path: &Path) -> bool {
    let too_old = fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > STALE_TEMP_AGE);
    too_old || atomic::writer_gone_here(name)
}
