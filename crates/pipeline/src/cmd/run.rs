//! `paper run` (the default): build what is missing, then publish.

use super::Env;
use crate::cli::RunArgs;
use crate::device::{cores, Gpus};
use crate::exec::{interrupt, Context, Outcome, Scope};
use crate::manifest::publish;
use crate::plan::Plan;
use crate::schedule;
use anyhow::{bail, Result};
use std::time::Instant;

pub(super) fn run(env: &Env, args: RunArgs) -> Result<()> {
    let started = Instant::now();
    let gpus = Gpus::detect(args.gpus);
    // Everything that can be refused is refused before the store or the output is touched.
    if let Some(gpus) = &gpus {
        crate::device::preflight(gpus, &Context::default_bin_dir()?)?;
    }
    let plan = match &args.plan {
        Some(path) => Plan::load(path)?,
        None => env.plan(&args.profile, "quick", gpus.as_ref(), args.pack_size)?,
    };
    let out = env.out_dir(args.out)?;
    let gpu_ids = gpus.as_ref().map(|g| g.ids.clone()).unwrap_or_default();
    let jobs = args
        .jobs
        .map_or_else(|| cores().max(gpu_ids.len()), usize::from);
    let scope = if args.no_train {
        Scope::NoTraining
    } else {
        Scope::All
    };
    let ctx = env.context(scope, jobs)?;
    interrupt::install()?;
    header(&plan, &ctx, jobs, gpus.as_ref());
    let swept = ctx.store.sweep_stale_tmp()?;
    if !swept.is_empty() {
        println!("swept {} stale temp dirs of killed writers", swept.len());
    }
    let outcomes = schedule::run(&plan, &ctx, jobs, &gpu_ids);
    let results: Vec<_> = outcomes.iter().map(|o| o.result().cloned()).collect();
    let published = publish(&plan, &results, &ctx.store, &out)?;
    println!(
        "published {} files to {} ({} changed, {} kept from earlier runs, {} stale removed)",
        published.files + published.kept,
        out.display(),
        published.changed,
        published.kept,
        published.removed
    );
    println!("{}", schedule::summary(&outcomes, started));
    if let Some(signal) = interrupt::received() {
        bail!(
            "interrupted by {signal}: no stage was started after it and the running ones were \
             stopped (a stopped run keeps its checkpoint); the next `paper` continues from there"
        );
    }
    let failed: Vec<&str> = plan
        .stages
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .map(|(s, _)| s.name.as_str())
        .collect();
    if !failed.is_empty() {
        let names: Vec<String> = failed.iter().map(ToString::to_string).collect();
        bail!(
            "{} stages FAILED ({}); each FAILED line above says why",
            failed.len(),
            crate::status::list(&names)
        );
    }
    Ok(())
}

fn header(plan: &Plan, ctx: &Context, jobs: usize, gpus: Option<&Gpus>) {
    let device = gpus.map_or_else(
        || "the CPU".to_string(),
        |g| format!("{} x {}", g.ids.len(), g.name),
    );
    println!(
        "paper: profile {}, {} stages, {jobs} jobs x {} threads, training on {device}, store {}",
        plan.profile,
        plan.stages.len(),
        ctx.threads,
        ctx.store.root().display()
    );
    if let Some(train) = plan.tools.get("train") {
        if let Some((_, runtime)) = train.identity.split_once(" runtime=") {
            println!("paper: train runtime {runtime}");
        }
    }
}
