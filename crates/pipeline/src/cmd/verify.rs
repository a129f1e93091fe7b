//! `paper verify [--repair]`: every store entry rehashed, half entries and undeclared files
//! named, stale temp and work dirs listed, and the published files and the entries they came
//! from checked against MANIFEST.json (when there is a sound one; the store is verified
//! without it). `--repair` rebuilds an entry MANIFEST.json names that the store lacks by
//! running the published profile again, which rebuilds what is missing and publishes.

use super::Env;
use crate::cli::{Placement, ProfileArgs, ProfileName, RunArgs, VerifyArgs};
use crate::manifest::Manifest;
use crate::plan::Kind;
use crate::profile::Origin;
use anyhow::{bail, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use store::{Depth, Key, Store};

pub(super) fn verify(env: &Env, args: VerifyArgs) -> Result<()> {
    let store = env.store()?;
    let report = store.verify_store(Depth::Full, args.repair)?;
    let unrepaired = list_damage(&report, args.repair);
    let out = match args.out {
        Some(out) => Some(out),
        None => env.repo().ok().map(|r| r.join("figures")),
    };
    let manifest = out.as_deref().map(Manifest::read);
    let work = work_dirs(&store, &resumable_keys(env, &manifest), args.repair)?;
    let quarantined = count(&store.quarantine_dir());
    if quarantined > 0 {
        println!(
            "note    {quarantined} entries in {} (moved aside; inspect or delete them)",
            store.quarantine_dir().display()
        );
    }
    let (published, differ, missing) = match (&out, manifest) {
        (Some(out), Some(manifest)) => check_manifest(env, &store, out, manifest, args.repair)?,
        _ => (0, 0, 0),
    };
    println!(
        "verify: {} entries, {} damaged; {} half; {published} published files, {differ} differ from MANIFEST.json, {missing} of its entries missing; {} stale temp dirs, {work} stale work dirs or pid files",
        report.entries,
        report.damaged.len(),
        report.half.len(),
        report.stale_temp.len(),
    );
    let problems = unrepaired + differ + missing;
    if problems > 0 {
        bail!("verify found {problems} problems (listed above); `paper verify --repair` moves damaged entries aside and rebuilds the entries MANIFEST.json names");
    }
    Ok(())
}

/// Lists damaged and half entries (saying which a repair moved aside) and stale temp dirs;
/// returns how many entries are damaged or half and still in place.
fn list_damage(report: &store::StoreReport, repair: bool) -> usize {
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
        let note = if repair { " (removed)" } else { "" };
        println!("stale   {}{note}", path.display());
    }
    unrepaired
}

/// (files MANIFEST.json lists, files that differ from it, entries it names that the store
/// lacks), after the rebuild a repair makes of the missing entries (which publishes anew).
fn check_manifest(
    env: &Env,
    store: &Store,
    out: &Path,
    mut manifest: Result<Option<Manifest>>,
    repair: bool,
) -> Result<(usize, usize, usize)> {
    let missing = match &manifest {
        Ok(Some(published)) => missing_entries(env, store, out, published, repair)?,
        _ => 0,
    };
    if repair {
        manifest = Manifest::read(out);
    }
    let (published, differ) = published_files(out, &manifest);
    Ok((published, differ, missing))
}

/// Names each entry `manifest` names that the store does not hold whole; with `repair`,
/// runs the published profile into `out` (which builds what is missing, then publishes) and
/// names what is still missing after it. Returns how many are missing in the end.
fn missing_entries(
    env: &Env,
    store: &Store,
    out: &Path,
    manifest: &Manifest,
    repair: bool,
) -> Result<usize> {
    let missing = manifest.missing_entries(store);
    for (stage, key) in &missing {
        let note = if repair { "; rebuilding it" } else { "" };
        println!("missing {stage}: entry {key} that MANIFEST.json names is not in the store{note}");
    }
    if !repair || missing.is_empty() {
        return Ok(missing.len());
    }
    super::run::run(env, rebuild_args(&manifest.profile, out))?;
    let manifest = Manifest::read(out)?.unwrap_or_default();
    let left = manifest.missing_entries(store);
    for (stage, key) in &left {
        println!("missing {stage}: entry {key} is still not in the store after the rebuild");
    }
    Ok(left.len())
}

/// `paper run` of the profile a MANIFEST records (`ci`, `quick`, `full` or `file:<path>`).
fn rebuild_args(profile: &str, out: &Path) -> RunArgs {
    let profile = match Origin::of(profile) {
        Origin::File(file) => ProfileArgs {
            profile: None,
            profile_file: Some(file.to_path_buf()),
        },
        Origin::BuiltIn(name) => ProfileArgs {
            profile: ProfileName::ALL.into_iter().find(|p| p.name() == name),
            profile_file: None,
        },
    };
    RunArgs {
        profile,
        placement: Placement::default(),
        out: Some(out.to_path_buf()),
        plan: None,
        no_train: false,
    }
}

/// The keys of the training stages a paper would resume: those of the published profile's
/// plan (the plan `paper status` shows). `None` when there is no plan to ask (no repository
/// or binaries), and then no work dir is called resumable or stale for its key alone.
fn resumable_keys(env: &Env, manifest: &Option<Result<Option<Manifest>>>) -> Option<BTreeSet<Key>> {
    let published = manifest
        .as_ref()
        .and_then(|m| m.as_ref().ok())
        .and_then(Option::as_ref);
    let default = super::default_profile(published);
    let gpus = crate::device::Gpus::detect(None);
    let plan = env
        .plan(
            &ProfileArgs::default(),
            &default,
            gpus.as_ref(),
            &Placement::default(),
        )
        .ok()?;
    let ctx = env.context(crate::exec::Scope::All, 1).ok()?;
    let resolved = crate::status::resolve(&plan, &ctx);
    let keys = plan
        .stages
        .iter()
        .zip(resolved)
        .filter(|(stage, _)| matches!(stage.kind, Kind::Train { .. }))
        .filter_map(|(_, r)| r.key.map(|(_, key)| key))
        .collect();
    Some(keys)
}

/// Work dirs whose entry is already complete and pid files of processes that are gone (removed
/// with `repair`). A work dir of an unfinished run is listed as resumable only when it holds
/// files and a training stage of the plan (`resumable`) has its key; one no stage has is an
/// orphan, left for `paper gc` (another profile's paper may still resume it).
fn work_dirs(store: &Store, resumable: &Option<BTreeSet<Key>>, repair: bool) -> Result<usize> {
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
            unfinished(&path, &key, resumable);
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

/// The line for the work dir of a run that did not finish.
fn unfinished(path: &Path, key: &Key, resumable: &Option<BTreeSet<Key>>) {
    let display = path.display();
    match resumable {
        Some(keys) if !keys.contains(key) => println!(
            "orphan  {display}: no training stage of the published profile has this key (`paper gc` removes it)"
        ),
        _ if !crate::status::holds_files(path) => {
            println!("orphan  {display}: empty, nothing to resume (`paper gc` removes it)");
        }
        Some(_) => println!("resume  {display}: a killed run's work dir, resumed by the next paper"),
        None => println!("work    {display}: a killed run's work dir (no plan here to say which)"),
    }
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
fn published_files(out: &Path, manifest: &Result<Option<Manifest>>) -> (usize, usize) {
    let manifest = match manifest {
        Ok(Some(manifest)) => manifest,
        Ok(None) => return (0, 0),
        Err(e) => {
            println!(
                "bad     {}; the store is verified without it",
                spec::cli::one_line(e)
            );
            return (0, 1);
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
    (manifest.files.len(), differ)
}
