//! `paper status`, `check`, `explain`, `dag` and `diff`: what the store and the published
//! figures say, without building anything.

use super::{default_profile, Env};
use crate::cli::{DagFormat, InspectArgs, Placement, PlanArgs};
use crate::cost::{self, Machine};
use crate::dag::{self, State};
use crate::exec::{Context, Scope};
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::{device::Gpus, diff, explain, published, status};
use anyhow::{bail, Context as _, Result};
use std::path::Path;

/// The plan (of the published profile unless one is named) and the manifest in `out`.
fn plan_and_manifest(env: &Env, args: InspectArgs) -> Result<(Plan, Option<Manifest>)> {
    let manifest = Manifest::load(&env.out_dir(args.out)?);
    let default = default_profile(manifest.as_ref());
    let gpus = Gpus::detect(args.gpus);
    let placement = Placement {
        gpus: args.gpus,
        pack_size: args.pack_size,
        ..Placement::default()
    };
    let plan = env.plan(&args.profile, &default, gpus.as_ref(), &placement)?;
    Ok((plan, manifest))
}

/// `paper plan`: the profile's stages by kind and their predicted cost on this machine, or on
/// `--gpus N --gpu-name NAME` (packs sized for that GPU's memory), with the basis.
pub(super) fn plan(env: &Env, args: &PlanArgs) -> Result<()> {
    let (gpus, free) = match (&args.gpu_name, args.placement.gpus) {
        (Some(name), Some(n)) if n > 0 => {
            let gpus = Gpus {
                ids: (0..n).map(|i| i.to_string()).collect(),
                name: name.clone(),
            };
            (Some(gpus), Some(cost::Gpu::named(name).memory_bytes()))
        }
        _ => {
            let gpus = Gpus::detect(args.placement.gpus);
            let free = gpus.as_ref().map(|g| {
                g.free_bytes()
                    .unwrap_or_else(|| cost::Gpu::named(&g.name).memory_bytes())
            });
            (gpus, free)
        }
    };
    let plan = env.plan_in(&args.profile, "quick", gpus.as_ref(), free, &args.placement)?;
    let held = env.held(&plan)?;
    // For a GPU this machine does not have, this machine's cores say nothing of its host.
    let elsewhere = gpus.as_ref().filter(|_| args.gpu_name.is_some());
    let cores = match (args.cores, elsewhere) {
        (Some(cores), _) => cores.into(),
        (None, Some(gpus)) => gpus.ids.len() * cost::MAX_TRAINERS_PER_GPU,
        (None, None) => crate::device::cores(),
    };
    let cached = held.cached();
    let machine = Machine {
        cores_assumed: args.cores.is_none() && elsewhere.is_some(),
        ..super::machine(&plan, &cached, &args.placement, gpus.as_ref(), cores)
    };
    let prediction = cost::predict(&plan, &cached, &machine);
    let measured = held.store.as_ref().map_or_else(String::new, |store| {
        cost::measured_report(&cost::measured(&plan, &held.results, store))
    });
    print!(
        "{}{measured}",
        cost::report(&plan, &prediction, &held.words)
    );
    Ok(())
}

pub(super) fn status(env: &Env, args: InspectArgs) -> Result<()> {
    let (plan, manifest) = plan_and_manifest(env, args)?;
    let ctx = env.context(Scope::All, 1)?;
    print!("{}", status::report(&plan, &ctx, manifest.as_ref()));
    Ok(())
}

pub(super) fn check(env: &Env, args: &InspectArgs) -> Result<()> {
    let out = env.out_dir(args.out.clone())?;
    let manifest = Manifest::read(&out)?
        .with_context(|| format!("{} has no MANIFEST.json to check", out.display()))?;
    // Keyed for the device class the figures were made on, not this machine's.
    let device_class = published::device_class(&manifest).unwrap_or_else(|| "cpu".into());
    let plan = env.plan_for(&args.profile, &manifest.profile, &device_class)?;
    let stale = published::stale(&plan, &manifest);
    for s in &stale {
        println!("stale  {}: {}", s.stage, s.reasons.join("; "));
    }
    if !stale.is_empty() {
        bail!(
            "{} of {} stages published in {} have other keys than the code gives now (listed above); rebuild them with `just paper`",
            stale.len(),
            plan.stages.len(),
            out.join("MANIFEST.json").display()
        );
    }
    println!(
        "check: all {} stages of profile {} have the keys {}/MANIFEST.json names",
        plan.stages.len(),
        plan.profile,
        out.display()
    );
    Ok(())
}

pub(super) fn explain(env: &Env, target: &str, args: InspectArgs) -> Result<()> {
    let (plan, manifest) = plan_and_manifest(env, args)?;
    // The target is checked before the store is opened: a typo writes nothing.
    let i = explain::find_stage(&plan, manifest.as_ref(), target)?;
    let ctx = env.context(Scope::All, 1)?;
    print!("{}", explain::explain(&plan, &ctx, manifest.as_ref(), i));
    Ok(())
}

pub(super) fn dag(env: &Env, format: DagFormat, args: InspectArgs) -> Result<()> {
    let (plan, _) = plan_and_manifest(env, args)?;
    let ctx: Context = env.context(Scope::All, 1)?;
    let states: Vec<State> = status::resolve(&plan, &ctx).iter().map(State::of).collect();
    let format = match format {
        DagFormat::Dot => dag::Format::Dot,
        DagFormat::Mermaid => dag::Format::Mermaid,
    };
    print!("{}", dag::render(&plan, format, Some(&states)));
    Ok(())
}

pub(super) fn diff(old: &Path, new: &Path) -> Result<()> {
    let (a, b) = (diff::Side::load(old)?, diff::Side::load(new)?);
    print!("{}", diff::render(&diff::diff(&a, &b)));
    Ok(())
}
