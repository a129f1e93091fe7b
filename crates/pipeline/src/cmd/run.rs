//! `paper run` (the default): build what is missing, then publish.

use super::{Env, Held};
use crate::cli::RunArgs;
use crate::cost::{self, Machine};
use crate::device::{cores, Gpus};
use crate::exec::{interrupt, Context, Outcome, Scope};
use crate::manifest::publish;
use crate::plan::Plan;
use crate::schedule;
use anyhow::{bail, Result};
use std::io::{IsTerminal, Write};
use std::time::Instant;

pub(super) fn run(env: &Env, args: RunArgs) -> Result<()> {
    let started = Instant::now();
    let gpus = Gpus::detect(args.placement.gpus);
    // Everything that can be refused is refused before the store or the output is touched.
    if let Some(gpus) = &gpus {
        crate::device::preflight(gpus, &Context::default_bin_dir()?)?;
    }
    let plan = match &args.plan {
        Some(path) => Plan::load(path)?,
        None => env.plan(&args.profile, "quick", gpus.as_ref(), &args.placement)?,
    };
    // What the store holds matters only to what will train: the prediction and the trainers
    // per GPU it chooses.
    let held = match args.no_train {
        true => None,
        false => Some(env.held(&plan)?),
    };
    let cached = held
        .as_ref()
        .map_or_else(|| vec![true; plan.stages.len()], Held::cached);
    let machine = super::machine(&plan, &cached, &args.placement, gpus.as_ref(), cores());
    if let Some(held) = &held {
        confirm(env, &plan, &machine, &cached, &held.words)?;
    }
    let jobs = machine.jobs;
    let out = env.publish_dir(args.out, &plan.profile)?;
    // One entry per training slot: each GPU id once per trainer it takes.
    let gpu_slots: Vec<String> = gpus
        .as_ref()
        .map(|g| {
            g.ids
                .iter()
                .flat_map(|id| std::iter::repeat_n(id.clone(), machine.trainers_per_gpu))
                .collect()
        })
        .unwrap_or_default();
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
    let outcomes = schedule::run(&plan, &ctx, jobs, &gpu_slots);
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

/// Says what the plan is predicted to cost before anything trains, and above a day starts
/// only with `--yes` or a "y" typed on the terminal: a profile that would train for days
/// must not start unnoticed. Refused, nothing is written (the store is not even created).
/// Stages `cached` cost nothing; `store` says what was known of the store.
fn confirm(env: &Env, plan: &Plan, machine: &Machine, cached: &[bool], store: &str) -> Result<()> {
    let prediction = cost::predict(plan, cached, machine);
    println!(
        "paper: predicted {} wall for {} of {} stages on {} ({store}; `paper plan` shows the basis)",
        cost::human(prediction.wall_s),
        prediction.to_build(),
        plan.stages.len(),
        machine.words(),
    );
    if prediction.wall_s <= cost::ASK_ABOVE_S || env.yes {
        return Ok(());
    }
    let refusal = format!(
        "predicted {}: pass --yes to start, or choose a smaller profile",
        prediction.headline()
    );
    if !std::io::stdin().is_terminal() {
        bail!(refusal);
    }
    print!("paper: start anyway? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    match answer.trim() {
        "y" | "Y" | "yes" => Ok(()),
        _ => bail!("not started: {refusal}"),
    }
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
