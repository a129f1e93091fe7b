//! Publishing: copy every rendered file into `figures/` and write `figures/MANIFEST.json`, which
//! says for each file which stage made it, under which key, from which inputs, and its sha256;
//! plus every stage's key spec and the tools' per-file hashes, so `paper explain` can say later
//! what changed.
//!
//! MANIFEST.json is tracked in git, so it is input from strangers: every path it names is
//! checked (relative, plain components, no symlink on the way) before anything is hashed or
//! removed, and one that fails is reported and treated as absent. Publishing is all-or-nothing:
//! every new file is copied into a staging directory inside the output and checked against the
//! hash its entry records; only when all are staged are they renamed into place, stale files
//! removed, and the MANIFEST renamed last.

use crate::exec::RECORD;
use crate::plan::{Kind, Plan, StageResult};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use store::atomic::{sha256_bytes, sha256_file};
use store::path::{resolve, safe_relative};
use store::{Key, KeySpec, Store};

pub const MANIFEST: &str = "MANIFEST.json";

/// Staging directories of publishing (inside the output, so renames stay on one filesystem).
const STAGING_PREFIX: &str = ".publish-";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// The profile the figures were made with (`ci`, `quick`, `full` or `file:<path>`).
    pub profile: String,
    /// Published file (relative to the manifest's directory) to what made it.
    pub files: BTreeMap<String, PublishedFile>,
    /// Every stage that had a key, with the spec the key was hashed from.
    pub stages: BTreeMap<String, StageKey>,
    /// Every tool identity the stages name, to the sha256 of each source file it was hashed from.
    pub tools: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedFile {
    pub stage: String,
    pub key: Key,
    pub inputs: BTreeMap<String, String>,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageKey {
    pub key: Key,
    pub spec: KeySpec,
}

impl Manifest {
    /// The manifest in `dir`, `None` when there is none; an error when it cannot be read, does
    /// not parse, or names a path that is not plain and relative.
    pub fn read(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(MANIFEST);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a MANIFEST", path.display()))?;
        for rel in manifest.files.keys() {
            safe_relative(rel)
                .with_context(|| format!("{} names an unsafe file", path.display()))?;
            if rel == MANIFEST {
                bail!("{} lists itself", path.display());
            }
        }
        Ok(Some(manifest))
    }

    /// [`Manifest::read`], with a bad manifest reported in one line on stderr and treated as
    /// absent: a truncated or hostile MANIFEST must not wedge status, explain, verify or run.
    pub fn load(dir: &Path) -> Option<Manifest> {
        Manifest::read(dir).unwrap_or_else(|e| {
            eprintln!(
                "paper: warning: {}; treating it as absent",
                spec::cli::one_line(&e)
            );
            None
        })
    }

    /// Every store entry the manifest names (each stage's, each published file's), as
    /// (stage, key), in stage order, each key once.
    pub fn entries(&self) -> Vec<(String, Key)> {
        let stages = self.stages.iter().map(|(name, s)| (name, &s.key));
        let files = self.files.values().map(|f| (&f.stage, &f.key));
        let mut seen = std::collections::BTreeSet::new();
        let mut entries: Vec<(String, Key)> = stages
            .chain(files)
            .filter(|(_, key)| seen.insert((*key).clone()))
            .map(|(stage, key)| (stage.clone(), key.clone()))
            .collect();
        entries.sort();
        entries
    }

    /// The entries the manifest names that `store` does not hold whole: absent, half, or
    /// with a file missing or of another size (a quick check; `Store::verify_store` hashes).
    pub fn missing_entries(&self, store: &Store) -> Vec<(String, Key)> {
        let whole = |key: &Key| {
            store
                .check(key, store::Depth::Quick)
                .is_ok_and(|c| c.is_healthy())
        };
        self.entries()
            .into_iter()
            .filter(|(_, key)| !whole(key))
            .collect()
    }

    /// The stage that published `file` (a path or a bare file name).
    pub fn stage_of_file(&self, file: &str) -> Option<&str> {
        let name = Path::new(file).file_name()?.to_str()?;
        self.files
            .iter()
            .find(|(rel, _)| {
                rel.as_str() == file
                    || Path::new(rel).file_name().and_then(|n| n.to_str()) == Some(name)
            })
            .map(|(_, f)| f.stage.as_str())
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Published {
    pub files: usize,
    pub changed: usize,
    /// Files of stages that did not finish this time, left as an earlier run published them.
    pub kept: usize,
    pub removed: usize,
}

/// A publication being prepared: the new manifest, the staged copies and what goes.
struct Staged {
    manifest: Manifest,
    dir: PathBuf,
    /// (staged copy, destination relative to the output).
    copies: Vec<(PathBuf, String)>,
    stale: Vec<String>,
    report: Published,
}

/// Publishes the renders among `results` into `out`. Files an earlier manifest listed stay,
/// with their record, while their stage is still in the plan but failed or was skipped this
/// time; the others are removed. Nothing in `out` changes unless every new file was staged.
pub fn publish(
    plan: &Plan,
    results: &[Option<StageResult>],
    store: &Store,
    out: &Path,
) -> Result<Published> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // Two papers publishing into one directory take turns.
    let lock_name = sha256_bytes(format!("publish {}", out.canonicalize()?.display()).as_bytes());
    let _lock = store.lock(&lock_name.parse()?)?;
    // Under the lock, any staging dir is a killed publisher's: nobody else writes here now.
    remove_staging_dirs(out)?;
    let old = Manifest::load(out).unwrap_or_default();
    let dir = out.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut staged = Staged {
        manifest: Manifest {
            profile: plan.profile.clone(),
            ..Manifest::default()
        },
        dir,
        copies: Vec::new(),
        stale: Vec::new(),
        report: Published::default(),
    };
    let prepared = stage_all(plan, results, store, out, &old, &mut staged);
    let committed = prepared.and_then(|()| commit(out, &staged));
    let _ = std::fs::remove_dir_all(&staged.dir);
    staged.report.removed = committed?;
    Ok(staged.report)
}

/// Stages every render's files, keeps or drops the old ones, and writes the new MANIFEST into
/// the staging dir.
fn stage_all(
    plan: &Plan,
    results: &[Option<StageResult>],
    store: &Store,
    out: &Path,
    old: &Manifest,
    staged: &mut Staged,
) -> Result<()> {
    for (i, stage) in plan.stages.iter().enumerate() {
        let Some(result) = &results[i] else {
            if let Some(earlier) = old.stages.get(&stage.name) {
                staged
                    .manifest
                    .stages
                    .insert(stage.name.clone(), earlier.clone());
            }
            continue;
        };
        let (spec, key) = plan.key(i, results).map_err(anyhow::Error::msg)?;
        if matches!(stage.kind, Kind::Render { .. }) {
            stage_render(store, out, &stage.name, result, &spec, staged)?;
        }
        staged
            .manifest
            .stages
            .insert(stage.name.clone(), StageKey { key, spec });
    }
    keep_or_drop_old(plan, results, out, old, staged);
    for record in staged.manifest.stages.values() {
        let files = plan
            .tools
            .values()
            .find(|t| t.identity == record.spec.tool)
            .map(|t| &t.files)
            .or_else(|| old.tools.get(&record.spec.tool));
        if let Some(files) = files {
            let files = files.clone();
            staged
                .manifest
                .tools
                .insert(record.spec.tool.clone(), files);
        }
    }
    let text = serde_json::to_string_pretty(&staged.manifest)?;
    std::fs::write(staged.dir.join(MANIFEST), text)
        .with_context(|| format!("cannot write the new {MANIFEST}"))
}

/// Stages the files of one render entry whose bytes differ from what `out` holds, each checked
/// against the sha256 its entry records (the bytes published are the bytes the key vouches for).
fn stage_render(
    store: &Store,
    out: &Path,
    stage: &str,
    result: &StageResult,
    spec: &KeySpec,
    staged: &mut Staged,
) -> Result<()> {
    let entry = store
        .get(&result.key)
        .with_context(|| format!("{stage} left no entry"))?;
    for (rel, record) in entry.files.iter().filter(|(rel, _)| *rel != RECORD) {
        if let Some(first) = staged.manifest.files.get(rel) {
            println!(
                "        {stage}: {rel} is also made by {}; publishing that one",
                first.stage
            );
            continue;
        }
        let dest = resolve(out, rel)?;
        if sha256_file(&dest).ok().as_deref() != Some(record.sha256.as_str()) {
            let copy = staged.dir.join(staged.copies.len().to_string());
            std::fs::copy(entry.path(rel), &copy)
                .with_context(|| format!("cannot copy {} of {stage}", entry.path(rel).display()))?;
            if sha256_file(&copy)? != record.sha256 {
                // Quarantine the entry so that the next paper renders it again.
                let _ = store.get_checked(&result.key, store::Depth::Full);
                bail!("{stage}: {rel} in entry {} is not the file its key vouches for; moved to quarantine, nothing was published", result.key);
            }
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644))?;
            staged.copies.push((copy, rel.clone()));
            staged.report.changed += 1;
        }
        staged.report.files += 1;
        let published = PublishedFile {
            stage: stage.to_string(),
            key: result.key.clone(),
            inputs: spec.inputs.clone(),
            sha256: record.sha256.clone(),
        };
        staged.manifest.files.insert(rel.clone(), published);
    }
    Ok(())
}

/// Files the old manifest lists and the new one does not: kept (with their record) while their
/// stage is in the plan but unfinished and the file is intact; else removed at commit.
fn keep_or_drop_old(
    plan: &Plan,
    results: &[Option<StageResult>],
    out: &Path,
    old: &Manifest,
    staged: &mut Staged,
) {
    for (rel, earlier) in &old.files {
        if staged.manifest.files.contains_key(rel) {
            continue;
        }
        let unfinished = plan
            .find(&earlier.stage)
            .is_some_and(|i| results[i].is_none());
        // A planted symlink on the way: neither trusted nor removed.
        let path = match resolve(out, rel) {
            Ok(path) => path,
            Err(e) => {
                println!("        not touching {rel}: {}", spec::cli::one_line(&e));
                continue;
            }
        };
        let intact = sha256_file(&path).ok().as_deref() == Some(earlier.sha256.as_str());
        if unfinished && intact {
            staged.manifest.files.insert(rel.clone(), earlier.clone());
            staged.report.kept += 1;
        } else {
            staged.stale.push(rel.clone());
        }
    }
}

/// Renames the staged files into place, removes the stale ones, then the MANIFEST: a kill in
/// between leaves files the old MANIFEST does not vouch for (`paper verify` says so), and the
/// next publish finishes the job.
fn commit(out: &Path, staged: &Staged) -> Result<usize> {
    crate::failpoint("publish-commit");
    for (copy, rel) in &staged.copies {
        let dest = resolve(out, rel)?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(copy, &dest)
            .with_context(|| format!("cannot move {} into place", dest.display()))?;
    }
    let mut removed = 0;
    for rel in &staged.stale {
        let path = resolve(out, rel)?;
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove stale {}", path.display()))
            }
        }
    }
    std::fs::rename(staged.dir.join(MANIFEST), out.join(MANIFEST))
        .with_context(|| format!("cannot move the new {MANIFEST} into place"))?;
    std::fs::File::open(out)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", out.display()))?;
    Ok(removed)
}

/// Removes staging dirs left by publishers that were killed.
fn remove_staging_dirs(out: &Path) -> Result<()> {
    for item in std::fs::read_dir(out).with_context(|| format!("cannot list {}", out.display()))? {
        let item = item?;
        let is_staging = item
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(STAGING_PREFIX));
        if is_staging && item.file_type()?.is_dir() {
            std::fs::remove_dir_all(item.path())
                .with_context(|| format!("cannot remove {}", item.path().display()))?;
        }
    }
    Ok(())
}
