//! Checking an entry before trusting it: is it there, whole, sealed to its key, and are
//! its bytes the ones it declares?
//!
//! Entries are immutable by convention and read-only by mode, but disks flip bits, people
//! edit files, and a killed `rm -r` leaves half a directory. A cached entry is only as
//! good as its last check, so callers check an entry they did not just build before they
//! serve, publish or build on it, at a [`Depth`] they can afford.

use crate::atomic::{sha256_bytes, sha256_file};
use crate::key::Key;
use crate::path::{ensure_no_symlink, safe_relative};
use crate::store::{FileRecord, Outputs, Seal, Store, KEY_JSON, OUTPUTS, RECORDS, SEAL_JSON};
use crate::walk;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// How much of an entry [`Store::check`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Records, seal, the list of files and each file's type and size; no file is read.
    /// Catches half entries, deletions, truncations, additions and edited records.
    Quick,
    /// Quick, plus the sha256 of every file: catches any changed byte.
    Full,
    /// Full when the declared files total at most this many bytes, else Quick: small
    /// entries are cheap to hash every time, large ones are hashed when it matters
    /// (e.g. at publish time).
    FullUpTo(u64),
}

/// The verdict on one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No directory at the entry's place.
    Absent,
    /// Complete, sealed to its key, and every checked file matches.
    Healthy,
    /// A directory whose store records (`outputs.json`, `key.json`, `seal.json`) are not
    /// all there: a build never sealed it, something deleted part of it, or it predates
    /// seals. It blocks its key until quarantined.
    Half,
    /// Complete records, but something does not match them.
    Damaged,
}

/// One thing wrong with an entry; paths are relative to the entry directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A store record (`outputs.json`, `key.json` or `seal.json`) is absent.
    MissingRecord(String),
    /// A file exists but cannot be read.
    Unreadable(String),
    /// `outputs.json` does not parse, or declares a path that is not safe (why).
    BadOutputs(String),
    /// `key.json` does not hash to the key.
    KeyMismatch,
    /// `seal.json` does not bind this `outputs.json` to this key: the records were edited.
    SealMismatch,
    /// A declared file is absent.
    Missing(String),
    /// A declared file has another size than declared.
    WrongSize(String),
    /// A declared file has another sha256 than declared (only at full depth).
    WrongHash(String),
    /// A regular file that `outputs.json` does not declare.
    Undeclared(String),
    /// A symlink, fifo, device or non-UTF-8 name, or a declared path reached through one.
    NotRegular(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingRecord(rel) => write!(f, "store record {rel} is missing"),
            Problem::Unreadable(rel) => write!(f, "{rel} cannot be read"),
            Problem::BadOutputs(why) => write!(f, "{OUTPUTS} is invalid: {why}"),
            Problem::KeyMismatch => write!(f, "{KEY_JSON} does not hash to the key"),
            Problem::SealMismatch => write!(f, "{SEAL_JSON} does not match {OUTPUTS} and the key"),
            Problem::Missing(rel) => write!(f, "{rel} is missing"),
            Problem::WrongSize(rel) => write!(f, "{rel} has the wrong size"),
            Problem::WrongHash(rel) => write!(f, "{rel} has the wrong sha256"),
            Problem::Undeclared(rel) => write!(f, "{rel} is not declared in {OUTPUTS}"),
            Problem::NotRegular(rel) => write!(f, "{rel} is not a regular file"),
        }
    }
}

/// Identity of the directory that was checked, so a repair moves that directory and not
/// one another process has put in its place since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DirId {
    dev: u64,
    ino: u64,
}

impl DirId {
    pub(crate) fn of(path: &Path) -> Option<DirId> {
        let meta = fs::symlink_metadata(path).ok()?;
        Some(DirId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

/// What [`Store::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub key: Key,
    pub state: State,
    /// Empty exactly when the state is `Healthy` or `Absent`.
    pub problems: Vec<Problem>,
    pub(crate) id: Option<DirId>,
}

impl Check {
    pub fn is_healthy(&self) -> bool {
        self.state == State::Healthy
    }

    /// The problems joined into one line, for logs and error messages.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        parts.join("; ")
    }
}

/// The store records of an entry, read and cross-checked.
pub(crate) struct Records {
    pub files: BTreeMap<String, FileRecord>,
    pub outputs_sha256: String,
}

/// Reads `key.json`, `outputs.json` and `seal.json` (regular files only), checks that
/// `key.json` hashes to `key`, that every declared path is safe, and that the seal binds
/// these exact `outputs.json` bytes to `key`. The records come back whenever
/// `outputs.json` is there and valid, even with other problems, so a check can still
/// look at the files; the entry is complete only when the problems are empty.
pub(crate) fn read_records(dir: &Path, key: &Key) -> (Option<Records>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut read = |name: &str| match read_regular(&dir.join(name)) {
        Ok(bytes) => Some(bytes),
        Err(failure) => {
            problems.push(failure.named(name));
            None
        }
    };
    let (key_json, outputs, seal) = (read(KEY_JSON), read(OUTPUTS), read(SEAL_JSON));
    if key_json.is_some_and(|bytes| sha256_bytes(&bytes) != key.as_str()) {
        problems.push(Problem::KeyMismatch);
    }
    let Some(outputs) = outputs else {
        return (None, problems);
    };
    if seal.is_some_and(|seal| seal != Seal::bytes(key, &outputs)) {
        problems.push(Problem::SealMismatch);
    }
    match parse_outputs(&outputs) {
        Ok(files) => {
            let records = Records {
                files,
                outputs_sha256: sha256_bytes(&outputs),
            };
            (Some(records), problems)
        }
        Err(why) => {
            problems.push(Problem::BadOutputs(why));
            (None, problems)
        }
    }
}

fn parse_outputs(bytes: &[u8]) -> Result<BTreeMap<String, FileRecord>, String> {
    let outputs: Outputs = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    for rel in outputs.files.keys() {
        safe_relative(rel).map_err(|e| format!("{e:#}"))?;
        if RECORDS.contains(&rel.as_str()) {
            return Err(format!("it declares the store record {rel}"));
        }
    }
    Ok(outputs.files)
}

/// Why a record could not be read, before it is given its name.
enum ReadFailure {
    Missing,
    NotRegular,
    Unreadable,
}

impl ReadFailure {
    fn named(self, name: &str) -> Problem {
        let name = name.to_owned();
        match self {
            ReadFailure::Missing => Problem::MissingRecord(name),
            ReadFailure::NotRegular => Problem::NotRegular(name),
            ReadFailure::Unreadable => Problem::Unreadable(name),
        }
    }
}

/// The bytes of `path` if it is a regular file (not a symlink to one).
fn read_regular(path: &Path) -> Result<Vec<u8>, ReadFailure> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Err(ReadFailure::Missing),
        Err(_) => Err(ReadFailure::Unreadable),
        Ok(meta) if !meta.is_file() => Err(ReadFailure::NotRegular),
        Ok(_) => fs::read(path).map_err(|_| ReadFailure::Unreadable),
    }
}

impl Store {
    /// Checks the entry for `key` at `depth`; see [`State`] and [`Problem`].
    ///
    /// Never follows a symlink out of the entry and never fails on what it finds in the
    /// entry (that is the verdict); errors are reserved for failing to look at all
    /// (e.g. an unreadable store directory).
    pub fn check(&self, key: &Key, depth: Depth) -> Result<Check> {
        // A concurrent put may quarantine the directory (rename it away) while it is being
        // listed: then it is looked at again, and found absent or rebuilt.
        let mut attempts = 0;
        loop {
            match self.check_once(key, depth) {
                Err(e) if attempts < 3 && vanished(&e) => attempts += 1,
                done => return done,
            }
        }
    }

    fn check_once(&self, key: &Key, depth: Depth) -> Result<Check> {
        let dir = self.entry_dir(key);
        let verdict = |state, problems| Check {
            key: key.clone(),
            state,
            problems,
            id: DirId::of(&dir),
        };
        let meta = match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(verdict(State::Absent, vec![])),
            Err(e) => return Err(e).with_context(|| format!("inspecting {}", dir.display())),
            Ok(meta) => meta,
        };
        if !meta.is_dir() {
            return Ok(verdict(
                State::Damaged,
                vec![Problem::NotRegular(".".into())],
            ));
        }
        let listing = walk::list(&dir)?;
        let mut problems = Vec::new();
        let (records, found) = read_records(&dir, key);
        problems.extend(found);
        if let Some(records) = records {
            check_files(&dir, &records.files, depth, &mut problems);
            problems.extend(
                listing
                    .files
                    .iter()
                    .filter(|rel| {
                        !RECORDS.contains(&rel.as_str()) && !records.files.contains_key(*rel)
                    })
                    .map(|rel| Problem::Undeclared(rel.clone())),
            );
        }
        let odd = listing
            .others
            .iter()
            .map(|rel| Problem::NotRegular(rel.clone()));
        problems.extend(odd.filter(|p| !problems.contains(p)).collect::<Vec<_>>());
        let half = problems
            .iter()
            .any(|p| matches!(p, Problem::MissingRecord(_)));
        let state = match (half, problems.is_empty()) {
            (true, _) => State::Half,
            (false, true) => State::Healthy,
            (false, false) => State::Damaged,
        };
        Ok(verdict(state, problems))
    }
}

/// Whether `err` is a file or directory found missing: what looking at a directory that is
/// being renamed away gives.
fn vanished(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::NotFound)
    })
}

/// Checks each declared file: reached without symlinks, a regular file, the declared
/// size, and (if `depth` says so) the declared sha256.
fn check_files(
    dir: &Path,
    files: &BTreeMap<String, FileRecord>,
    depth: Depth,
    problems: &mut Vec<Problem>,
) {
    let total: u64 = files.values().map(|f| f.size).sum();
    let hash = match depth {
        Depth::Quick => false,
        Depth::Full => true,
        Depth::FullUpTo(limit) => total <= limit,
    };
    for (rel, record) in files {
        let path = dir.join(rel);
        if ensure_no_symlink(dir, Path::new(rel)).is_err() {
            problems.push(Problem::NotRegular(rel.clone()));
            continue;
        }
        let problem = match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => Some(Problem::Missing(rel.clone())),
            Err(_) => Some(Problem::Unreadable(rel.clone())),
            Ok(meta) if !meta.is_file() => Some(Problem::NotRegular(rel.clone())),
            Ok(meta) if meta.len() != record.size => Some(Problem::WrongSize(rel.clone())),
            Ok(_) if !hash => None,
            Ok(_) => match sha256_file(&path) {
                Ok(sha) if sha == record.sha256 => None,
                Ok(_) => Some(Problem::WrongHash(rel.clone())),
                Err(_) => Some(Problem::Unreadable(rel.clone())),
            },
        };
        problems.extend(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_gone_while_listed_is_told_from_other_failures() {
        let dir = tempfile::tempdir().unwrap();
        let gone = walk::list(&dir.path().join("renamed-away")).unwrap_err();
        assert!(vanished(&gone), "{gone:#}");
        let unreadable = anyhow::Error::new(std::io::Error::from(ErrorKind::PermissionDenied))
            .context("listing x");
        assert!(!vanished(&unreadable));
    }
}
