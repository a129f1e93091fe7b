//! `paper gc`: remove what no built-in profile (or given profile file) reaches now.

use super::{load_profile, Env};
use crate::cli::{ProfileArgs, ProfileName};
use crate::device::Gpus;
use crate::exec::Scope;
use anyhow::Result;
use std::path::PathBuf;

pub(super) fn gc(env: &Env, profile_files: &[PathBuf]) -> Result<()> {
    let mut profiles: Vec<ProfileArgs> = ProfileName::ALL
        .into_iter()
        .map(|p| ProfileArgs {
            profile: Some(p),
            profile_file: None,
        })
        .collect();
    profiles.extend(profile_files.iter().map(|f| ProfileArgs {
        profile: None,
        profile_file: Some(f.clone()),
    }));
    let profiles = profiles
        .iter()
        .map(|args| load_profile(args, ""))
        .collect::<Result<Vec<_>>>()?;
    let ctx = env.context(Scope::All, 1)?;
    let here = env.runtime(&Gpus::device_class(Gpus::detect(None).as_ref()))?;
    let live = crate::gc::live_keys(&env.repo()?, &ctx, &profiles, here)?;
    let report = ctx.store.gc(&live)?;
    let leftovers = crate::gc::remove_leftovers(&ctx.store, &live)?;
    println!(
        "gc: kept {} live keys, removed {} entries, {} temp dirs, {} work dirs and logs; {:.1} MB freed",
        live.len(),
        report.removed.len(),
        report.removed_temp.len(),
        leftovers,
        report.bytes_freed as f64 / 1e6
    );
    Ok(())
}
