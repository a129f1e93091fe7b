//! `paper gc`: which keys are live, and the leftovers of dead ones outside the store's entries.
//!
//! Live is every key a profile's current DAG reaches, for every libtorch and device the store has
//! trained with: a gc on a CPU machine must not drop the runs a GPU machine made.

use crate::exec::Context;
use crate::plan::Plan;
use crate::profile::Profile;
use crate::status::resolve;
use crate::tool::{identities, Runtime};
use anyhow::Result;
use std::collections::BTreeSet;
use std::path::Path;
use store::{Key, KeySpec, Store};

/// Keys (stages' and their outputs') that `profiles` reach in the repository at `repo`.
pub fn live_keys(
    repo: &Path,
    ctx: &Context,
    profiles: &[(Profile, String)],
    here: Runtime,
) -> Result<BTreeSet<Key>> {
    let mut runtimes = runtimes_in(&ctx.store)?;
    runtimes.insert((here.versions, here.device_class));
    let mut live = BTreeSet::new();
    for (versions, device_class) in runtimes {
        let runtime = Runtime {
            versions,
            device_class,
        };
        let tools = identities(repo, &runtime)?;
        for (profile, label) in profiles {
            let plan = Plan::build(profile, label, tools.clone(), &runtime.device_class)?;
            for r in resolve(&plan, ctx) {
                live.extend(r.key.map(|(_, k)| k));
                live.extend(r.result.map(|res| res.output_key));
            }
        }
    }
    Ok(live)
}

/// (versions, device class) of every training run in the store, from its key.json.
fn runtimes_in(store: &Store) -> Result<BTreeSet<(String, String)>> {
    let mut runtimes = BTreeSet::new();
    for key in store.keys()? {
        let Ok(text) = std::fs::read(store.entry_dir(&key).join("key.json")) else {
            continue;
        };
        let Ok(spec) = serde_json::from_slice::<KeySpec>(&text) else {
            continue;
        };
        // `train` identities end in ` runtime=<versions> device=<class>`.
        let runtime = spec
            .tool
            .split_once(" runtime=")
            .and_then(|(_, rt)| rt.split_once(" device="));
        if let (true, Some((versions, device))) = (spec.stage == "train", runtime) {
            runtimes.insert((versions.to_string(), device.to_string()));
        }
    }
    Ok(runtimes)
}

/// Removes the work dirs, pid files and logs of keys that are dead or already complete (unless
/// a paper is building the key now).
pub fn remove_leftovers(store: &Store, live: &BTreeSet<Key>) -> Result<usize> {
    let mut removed = 0;
    for dir in ["work", "logs"] {
        let Ok(items) = std::fs::read_dir(store.root().join(dir)) else {
            continue;
        };
        for item in items {
            let path = item?.path();
            // `work/<key>`, `work/<key>.pid`, `logs/<key>.<attempt>.log`.
            let name = path
                .file_name()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let stem = name.split('.').next().unwrap_or_default();
            let Ok(key) = stem.parse::<Key>() else {
                continue;
            };
            if live.contains(&key) && !store.contains(&key) {
                continue;
            }
            // A held lock means a paper is building the key right now.
            let Some(_guard) = store.try_lock(&key)? else {
                continue;
            };
            if path.is_dir() {
                remove_dir(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes a work dir, whose files a killed train may have left read-only.
pub fn remove_dir(dir: &Path) -> Result<()> {
    make_writable(dir)?;
    Ok(std::fs::remove_dir_all(dir)?)
}

fn make_writable(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for item in std::fs::read_dir(dir)? {
        let path = item?.path();
        if path.is_dir() {
            make_writable(&path)?;
        }
    }
    Ok(())
}
