//! The store: put (build in temp dir, hash, fsync, rename), get, lock, verify, gc.

use crate::atomic::{sha256_bytes, sha256_file, sync_dir, unique_name};
use crate::key::{Key, KeySpec};
use crate::lock::{self, LockGuard};
use crate::walk;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const OUTPUTS: &str = "outputs.json";
const KEY_JSON: &str = "key.json";
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
struct Outputs {
    files: BTreeMap<String, FileRecord>,
}

/// A complete entry: its directory and the files `outputs.json` records (which exclude
/// `outputs.json` and `key.json` themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Key,
    pub dir: PathBuf,
    pub files: BTreeMap<String, FileRecord>,
}

impl Entry {
    /// Path of a file of the entry from its `/`-separated relative path.
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

    /// True for complete entries only (the directory exists and `outputs.json` parses).
    pub fn contains(&self, key: &Key) -> bool {
        self.get(key).is_some()
    }

    pub fn get(&self, key: &Key) -> Option<Entry> {
        let dir = self.entry_dir(key);
        let outputs: Outputs = serde_json::from_slice(&fs::read(dir.join(OUTPUTS)).ok()?).ok()?;
        Some(Entry {
            key: key.clone(),
            dir,
            files: outputs.files,
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
    /// is discarded and the existing entry returned. A failed build leaves nothing behind.
    pub fn put(&self, spec: &KeySpec, build: impl FnOnce(&Path) -> Result<()>) -> Result<Entry> {
        let temp = self.temp_dir()?;
        if let Err(e) = build(&temp) {
            let _ = walk::remove_tree(&temp);
            return Err(e.context(format!("building store entry for stage {}", spec.stage)));
        }
        self.put_dir(spec, &temp)
    }

    /// Moves an already built directory `src` (on the same filesystem as the store, e.g.
    /// from [`Store::temp_dir`]) into place as the entry for `spec`. `src` is consumed on
    /// success; on error it is left in place for inspection.
    pub fn put_dir(&self, spec: &KeySpec, src: &Path) -> Result<Entry> {
        let key = spec.key();
        if let Some(entry) = self.get(&key) {
            walk::remove_tree(src)?;
            return Ok(entry);
        }
        let files = seal(spec, src)?;
        let dest = self.entry_dir(&key);
        let shard = dest.parent().expect("entry dir has a shard parent");
        fs::create_dir_all(shard).with_context(|| format!("creating {}", shard.display()))?;
        if let Err(e) = fs::rename(src, &dest) {
            if let Some(entry) = self.get(&key) {
                walk::remove_tree(src)?;
                return Ok(entry);
            }
            return Err(e).with_context(|| {
                format!(
                    "moving {} into the store at {}",
                    src.display(),
                    dest.display()
                )
            });
        }
        sync_dir(shard)?;
        for file in files.keys().map(String::as_str).chain([OUTPUTS, KEY_JSON]) {
            walk::set_mode(&dest.join(file), 0o444)?;
        }
        for dir in walk::dirs_bottom_up(&dest)? {
            walk::set_mode(&dir, 0o555)?;
        }
        Ok(Entry {
            key,
            dir: dest,
            files,
        })
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

    /// Rehashes every file of an entry against `outputs.json` and `key.json` against the key.
    pub fn verify(&self, key: &Key) -> Result<VerifyReport> {
        let entry = self
            .get(key)
            .with_context(|| format!("no complete store entry {key}"))?;
        let mut report = VerifyReport::default();
        let key_json = entry.dir.join(KEY_JSON);
        match fs::read(&key_json) {
            Ok(bytes) if sha256_bytes(&bytes) == key.as_str() => {}
            Ok(_) => report.tampered.push(KEY_JSON.into()),
            Err(_) => report.missing.push(KEY_JSON.into()),
        }
        for (rel, record) in &entry.files {
            let path = entry.path(rel);
            match fs::metadata(&path) {
                Err(e) if e.kind() == ErrorKind::NotFound => report.missing.push(rel.clone()),
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
                Ok(meta) => {
                    if meta.len() != record.size || sha256_file(&path)? != record.sha256 {
                        report.tampered.push(rel.clone());
                    }
                }
            }
        }
        report.unexpected = walk::files(&entry.dir)?
            .into_iter()
            .filter(|rel| rel != OUTPUTS && rel != KEY_JSON && !entry.files.contains_key(rel))
            .collect();
        report.tampered.sort();
        report.missing.sort();
        Ok(report)
    }

    pub fn verify_all(&self) -> Result<Vec<(Key, VerifyReport)>> {
        self.keys()?
            .into_iter()
            .map(|key| Ok((key.clone(), self.verify(&key)?)))
            .collect()
    }

    /// Keys of all complete entries, sorted.
    pub fn keys(&self) -> Result<Vec<Key>> {
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
                    if key.shard() == shard && self.contains(&key) {
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
        let temp_root = self.root.join("tmp");
        for name in read_dir_names(&temp_root)? {
            let path = temp_root.join(&name);
            if is_stale_temp(&name, &path) {
                report.bytes_freed += walk::size(&path);
                if path.is_dir() {
                    walk::remove_tree(&path)?;
                } else {
                    fs::remove_file(&path)
                        .with_context(|| format!("removing {}", path.display()))?;
                }
                report.removed_temp.push(path);
            }
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

/// Hashes and fsyncs every file under `dir`, writes `outputs.json` and `key.json`, and
/// fsyncs every directory, so that a rename makes a complete, durable entry.
fn seal(spec: &KeySpec, dir: &Path) -> Result<BTreeMap<String, FileRecord>> {
    let mut files = BTreeMap::new();
    for rel in walk::files(dir)? {
        if rel == OUTPUTS || rel == KEY_JSON {
            bail!(
                "{} is reserved for the store and must not be built",
                dir.join(&rel).display()
            );
        }
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
    for sub in walk::dirs_bottom_up(dir)? {
        sync_dir(&sub)?;
    }
    let Outputs { files } = serde_json::from_slice(&outputs)?;
    Ok(files)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file =
        File::create_new(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

fn read_dir_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for item in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let item = item.with_context(|| format!("listing {}", dir.display()))?;
        if let Some(name) = item.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

fn is_stale_temp(name: &str, path: &Path) -> bool {
    let too_old = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > STALE_TEMP_AGE);
    let owner_gone = name
        .split('-')
        .next()
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| {
            Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
        });
    too_old || owner_gone
}
