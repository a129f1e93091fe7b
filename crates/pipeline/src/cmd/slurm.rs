//! `paper slurm` (write the scripts) and `paper run-stage` (what each array task runs).

use super::Env;
use crate::cli::SlurmArgs;
use crate::device::{cores, Gpus};
use crate::exec::{run_pack, run_stage as build_stage, Context, Outcome, Scope};
use crate::plan::Plan;
use crate::{schedule, slurm as scripts, status};
use anyhow::{bail, Context as _, Result};
use std::path::Path;

pub(super) fn slurm(env: &Env, args: SlurmArgs) -> Result<()> {
    let device_class = if args.cpu {
        "cpu".to_string()
    } else {
        let name = args
            .gpu_name
            .clone()
            .or_else(|| Gpus::detect(None).map(|g| g.name));
        format!("cuda:{}", name.unwrap_or_else(|| "unspecified".into()))
    };
    let mut plan = env.plan_for(&args.profile, "full", &device_class)?;
    if args.pack_size > 1 {
        let size = usize::from(args.pack_size);
        plan = plan.pack(|_| size)?;
    }
    // Datasets are fetched here: compute nodes are often offline.
    let ctx = env.context(Scope::All, 1)?;
    let outcomes = schedule::run(&plan.datasets(), &ctx, 1, &[]);
    let missing = outcomes.iter().filter(|o| o.result().is_none()).count();
    let cluster = scripts::Cluster {
        dir: args.out.clone(),
        paper: std::env::current_exe()?.canonicalize()?,
        publish_to: std::path::absolute(env.out_dir(args.publish_to)?)?,
        partition: args.partition,
        time: args.time,
        cpus_per_task: args.cpus_per_task,
        gres: (!args.cpu).then(|| "gpu:1".to_string()),
    };
    let tasks = scripts::write(&plan, &ctx, &cluster)?;
    for task in &tasks {
        println!("task    {}  [key {}]", task.stage, &task.key[..12]);
    }
    println!(
        "slurm: {} training tasks, {missing} datasets unavailable; submit with {}",
        tasks.len(),
        args.out.join("submit.sh").display()
    );
    Ok(())
}

pub(super) fn run_stage(env: &Env, plan_path: &Path, target: &str) -> Result<()> {
    let plan = Plan::load(plan_path)?;
    let threads = std::env::var("SLURM_CPUS_PER_TASK")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(cores);
    let ctx = Context::new(
        env.store()?,
        Context::default_bin_dir()?,
        threads,
        Scope::All,
    );
    let resolved = status::resolve(&plan, &ctx);
    let i = plan
        .find(target)
        .or_else(|| {
            resolved
                .iter()
                .position(|r| r.key.as_ref().is_some_and(|(_, k)| k.as_str() == target))
        })
        .with_context(|| {
            format!(
                "{target:?} is neither a stage nor a key of plan {}",
                plan_path.display()
            )
        })?;
    let results: Vec<_> = resolved.iter().map(|r| r.result.clone()).collect();
    if let Some(missing) = plan.stages[i].deps.iter().find(|&&d| results[d].is_none()) {
        bail!(
            "{} needs {}, which the store lacks",
            plan.stages[i].name,
            plan.stages[*missing].name
        );
    }
    // Under Slurm the task's GPU is already the only one visible. A packed run's task trains
    // its whole pack.
    let outcomes = if plan.is_packed(i) {
        let ready = |m: &usize| plan.stages[*m].deps.iter().all(|&d| results[d].is_some());
        let members: Vec<usize> = plan.pack_members(i).into_iter().filter(ready).collect();
        run_pack(&ctx, &plan, &members, &results, None)
    } else {
        vec![(i, build_stage(&ctx, &plan, i, &results, None))]
    };
    let mut failed = Vec::new();
    for (i, outcome) in outcomes {
        let name = &plan.stages[i].name;
        match outcome {
            Outcome::Built { result, seconds } => println!(
                "done    {name}  in {}  [key {}]",
                schedule::duration(seconds),
                result.key
            ),
            Outcome::Cached(result) => println!("cached  {name}  [key {}]", result.key),
            Outcome::Skipped(reason) => failed.push(format!("{name} skipped: {reason}")),
            Outcome::Failed(error) => failed.push(format!("{name} failed: {error}")),
        }
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}
