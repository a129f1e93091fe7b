//! `paper status`, `explain`, `dag` and `diff`: what the store and the published figures say,
//! without building anything.

use super::{default_profile, Env};
use crate::cli::{DagFormat, InspectArgs};
use crate::dag::{self, State};
use crate::exec::{Context, Scope};
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::{device::Gpus, diff, explain, status};
use anyhow::Result;
use std::path::Path;

/// The plan (of the published profile unless one is named) and the manifest in `out`.
fn plan_and_manifest(env: &Env, args: InspectArgs) -> Result<(Plan, Option<Manifest>)> {
    let manifest = Manifest::load(&env.out_dir(args.out)?);
    let default = default_profile(manifest.as_ref());
    let plan = env.plan(&args.profile, &default, Gpus::detect(args.gpus).as_ref())?;
    Ok((plan, manifest))
}

pub(super) fn status(env: &Env, args: InspectArgs) -> Result<()> {
    let (plan, manifest) = plan_and_manifest(env, args)?;
    let ctx = env.context(Scope::All, 1)?;
    print!("{}", status::report(&plan, &ctx, manifest.as_ref()));
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
