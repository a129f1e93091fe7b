//! `paper verify [--repair]`: every store entry rehashed, half entries and undeclared files
//! named, stale temp and work dirs listed, and the published files checked against
//! MANIFEST.json (when there is a sound one; the store is verified without it).

use super::Env;
use crate::cli::VerifyArgs;
use crate::manifest::Manifest;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use store::{Depth, Key, Store};

pub(super) fn verify(env: &Env, args: VerifyArgs) -> Result<()> {
    let store = env.store()?;
    let report = store.verify_store(Depth::Full, args.repair)?;
    let repaired: Vec<&Key> = report.quarantined.iter().map(|(k, _)| k).collect();
    let mut unrepaired = 0;
    for (word, checks) in [("damaged", &report.damaged), ("half", &report.half)] {
        for check in checks {
            let fixed = repaired.contains(&&check.key);
            unrepaired += usize::from(!fixed);
            let note = if fixed { "; moved to quarantine" } else { "" };
            println!("{word:<8}{}: {}{note}", check.key, check.summary());
        }
    }
    for path in &report.stale_temp {
        let note = if args.repair { " (removed)" } else { "" };
        println!("stale   {}{note}", path.display());
    }
    let work = work_dirs(&store, args.repair)?;
    let quarantined = count(&store.quarantine_dir());
    if quarantined > 0 {
        println!(
            "note    {quarantined} entries in {} (moved aside; inspect or delete them)",
            store.quarantine_dir().display()
        );
    }
    let out = match args.out {
        Some(out) => Some(out),
        None => env.repo().ok().map(|r| r.join("figures")),
    };
    let (published, differ) = out.as_deref().map_or(Ok((0, 0)), published_files)?;
    println!(
        "verify: {} entries, {} damaged; {} half; {published} published files, {differ} differ from MANIFEST.json; {} stale temp dirs, {work} stale work dirs or pid files",
        report.entries,
        report.damaged.len(),
        report.half.len(),
        report.stale_temp.len(),
    );
    let problems = unrepaired + differ;
    if problems > 0 {
        bail!("verify found {problems} problems (listed above); `paper verify --repair` moves damaged entries aside so they are rebuilt");
    }
    Ok(())
}

/// Work dirs whose entry is already complete and pid files of processes that are gone (removed
/// with `repair`); work dirs of unfinished runs are resumable, and listed as such.
fn work_dirs(store: &Store, repair: bool) -> Result<usize> {
    let root = store.root().join("work");
    let Ok(items) = std::fs::read_dir(&root) else {
        return Ok(0);
    };
    let mut stale = 0;
    for item in items {
        let path = item?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let (stem, is_pid) = match name.strip_suffix(".pid") {
            Some(stem) => (stem, true),
            None => (name, false),
        };
        let Ok(key) = stem.parse::<Key>() else {
            continue;
        };
        // A held lock: a paper is building this key right now.
        let Some(_guard) = store.try_lock(&key)? else {
            continue;
        };
        if !is_pid && !store.contains(&key) {
            println!(
                "resume  {}: a killed run's work dir, resumed by the next paper",
                path.display()
            );
            continue;
        }
        stale += 1;
        println!(
            "stale   {}{}",
            path.display(),
            if repair { " (removed)" } else { "" }
        );
        if repair {
            remove(&path)?;
        }
    }
    Ok(stale)
}

fn remove(path: &Path) -> Result<()> {
    if path.is_dir() {
        crate::gc::remove_dir(path)
    } else {
        Ok(std::fs::remove_file(path)?)
    }
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

/// (files MANIFEST.json lists, files that differ from it); a bad MANIFEST counts as one.
fn published_files(out: &Path) -> Result<(usize, usize)> {
    let manifest = match Manifest::read(out) {
        Ok(Some(manifest)) => manifest,
        Ok(None) => return Ok((0, 0)),
        Err(e) => {
            println!(
                "bad     {}; the store is verified without it",
                spec::cli::one_line(&e)
            );
            return Ok((0, 1));
        }
    };
    let mut differ = 0;
    for (rel, file) in &manifest.files {
        // The path was checked when the manifest was read; a symlink since is refused here.
        let path: Result<PathBuf> = store::path::resolve(out, rel);
        let sha = path
            .as_deref()
            .ok()
            .and_then(|p| store::atomic::sha256_file(p).ok());
        if sha.as_deref() != Some(file.sha256.as_str()) {
            differ += 1;
            println!(
                "differs {}: not the file MANIFEST.json records",
                out.join(rel).display()
            );
        }
    }
    Ok((manifest.files.len(), differ))
}
