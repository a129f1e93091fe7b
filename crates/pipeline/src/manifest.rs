//! Publishing: copy every rendered file into `figures/` and write `figures/MANIFEST.json`, which
//! says for each file which stage made it, under which key, from which inputs, and its sha256;
//! plus every stage's key spec and the tools' per-file hashes, so `paper explain` can say later
//! what changed.

use crate::exec::RECORD;
use crate::plan::{Kind, Plan, StageResult};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use store::atomic::{sha256_bytes, sha256_file, write_atomic, AtomicFile};
use store::{Key, KeySpec, Store};

pub const MANIFEST: &str = "MANIFEST.json";

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
    /// The manifest in `dir`, or `None` when there is none yet.
    pub fn load(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(MANIFEST);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("bad manifest {}", path.display()))
                .map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
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

/// Publishes the renders among `results` into `out`: each file is replaced atomically when its
/// bytes changed. Files an earlier manifest listed stay, with their record, while their stage is
/// still in the plan but failed or was skipped this time; the others are removed.
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
    let old = Manifest::load(out)?.unwrap_or_default();
    let mut manifest = Manifest {
        profile: plan.profile.clone(),
        ..Manifest::default()
    };
    let mut report = Published::default();
    for (i, stage) in plan.stages.iter().enumerate() {
        let Some(result) = &results[i] else {
            if let Some(earlier) = old.stages.get(&stage.name) {
                manifest.stages.insert(stage.name.clone(), earlier.clone());
            }
            continue;
        };
        let (spec, key) = plan.key(i, results).map_err(anyhow::Error::msg)?;
        manifest.stages.insert(
            stage.name.clone(),
            StageKey {
                key: key.clone(),
                spec: spec.clone(),
            },
        );
        if !matches!(stage.kind, Kind::Render { .. }) {
            continue;
        }
        let entry = store
            .get(&result.key)
            .with_context(|| format!("{} left no entry", stage.name))?;
        for (rel, record) in entry.files.iter().filter(|(rel, _)| *rel != RECORD) {
            if let Some(first) = manifest.files.get(rel) {
                println!(
                    "        {}: {rel} is also made by {}; publishing that one",
                    stage.name, first.stage
                );
                continue;
            }
            let dest = out.join(rel);
            if sha256_file(&dest).ok().as_deref() != Some(record.sha256.as_str()) {
                copy_atomic(&entry.path(rel), &dest)?;
                report.changed += 1;
            }
            report.files += 1;
            let published = PublishedFile {
                stage: stage.name.clone(),
                key: key.clone(),
                inputs: spec.inputs.clone(),
                sha256: record.sha256.clone(),
            };
            manifest.files.insert(rel.clone(), published);
        }
    }
    for (rel, earlier) in &old.files {
        if manifest.files.contains_key(rel) {
            continue;
        }
        let unfinished = plan
            .find(&earlier.stage)
            .is_some_and(|i| results[i].is_none());
        let intact = sha256_file(&out.join(rel)).ok().as_deref() == Some(earlier.sha256.as_str());
        if unfinished && intact {
            manifest.files.insert(rel.clone(), earlier.clone());
            report.kept += 1;
            continue;
        }
        match std::fs::remove_file(out.join(rel)) {
            Ok(()) => report.removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot remove stale {}", out.join(rel).display()))
            }
        }
    }
    for record in manifest.stages.values() {
        let files = plan
            .tools
            .values()
            .find(|t| t.identity == record.spec.tool)
            .map(|t| &t.files)
            .or_else(|| old.tools.get(&record.spec.tool));
        if let Some(files) = files {
            manifest
                .tools
                .insert(record.spec.tool.clone(), files.clone());
        }
    }
    write_atomic(
        &out.join(MANIFEST),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    Ok(report)
}

fn copy_atomic(src: &Path, dest: &Path) -> Result<()> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let file = AtomicFile::create(dest)?;
    std::fs::copy(src, file.path())
        .with_context(|| format!("cannot copy {} to {}", src.display(), dest.display()))?;
    // Store entries are read-only; published copies belong to the user.
    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644))?;
    file.commit()
}
