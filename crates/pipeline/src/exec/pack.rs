//! Packed training stages: the ready members of one pack trained by one
//! `train-pack --runs runs.json --out <work dir>` process. Each model's run directory then
//! becomes its own entry under its own key, as if it had trained alone; no key depends on
//! which other runs shared the process.
//!
//! The pack's work directory outlives a killed `paper` or a failed `train-pack` when its
//! models have checkpoints: the next attempt at the same members resumes them
//! (`train-pack --resume`), as a single run's does. Other members, or a resume that cannot
//! start, start the pack over.

use super::child::{ran_out_of_memory, refused_resume, stop_orphan};
use super::train::{gpu_env, keep_or_remove, placement_args, resume_or_start_over};
use super::StageRecord;
use super::{select, to_build, work_dir, write_record, Context, Outcome};
use crate::plan::{Kind, Plan, StageResult};
use anyhow::{bail, Context as _, Result};
use spec::protocol::PackLine;
use spec::RunParams;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use store::{Key, KeySpec};

/// One member that has to be trained.
struct Member {
    stage: usize,
    spec: KeySpec,
    key: Key,
    /// With its learning rate resolved.
    run: RunParams,
    /// A learning-rate trial: its divergence is a result.
    trial: bool,
}

/// Trains what the store lacks among `members` (the ready members of one pack) in one
/// process; every member's outcome, in the order given.
pub fn run_pack(
    ctx: &Context,
    plan: &Plan,
    members: &[usize],
    results: &[Option<StageResult>],
    gpu: Option<&str>,
) -> Vec<(usize, Outcome)> {
    let mut outcomes = Vec::new();
    let mut todo = Vec::new();
    for &i in members {
        match prepare(ctx, plan, i, results) {
            Ok(Ok(member)) => todo.push(member),
            Ok(Err(outcome)) => outcomes.push((i, outcome)),
            Err(e) => outcomes.push((i, Outcome::Failed(spec::cli::one_line(&e)))),
        }
    }
    if !todo.is_empty() {
        let data = &results[plan.stages[todo[0].stage].deps[0]];
        let data = data.as_ref().expect("a keyed run has its dataset");
        outcomes.extend(train_together(ctx, plan, &todo, data, gpu));
    }
    outcomes
}

/// A member to train, or its outcome when there is nothing to train.
fn prepare(
    ctx: &Context,
    plan: &Plan,
    i: usize,
    results: &[Option<StageResult>],
) -> Result<std::result::Result<Member, Outcome>> {
    let stage = &plan.stages[i];
    let (spec, key) = match to_build(ctx, plan, i, results) {
        Ok(keyed) => keyed,
        Err(settled) => return Ok(Err(settled)),
    };
    let run = select::trained_run(plan, i, results)?;
    let trial = matches!(&stage.kind, Kind::Train { run, .. } if run.lr.is_trial());
    let data = results[stage.deps[0]].as_ref().expect("keyed on it");
    ctx.verify_input(&format!("dataset/{}", run.dataset), &data.output_key)?;
    Ok(Ok(Member {
        stage: i,
        spec,
        key,
        run,
        trial,
    }))
}

fn train_together(
    ctx: &Context,
    plan: &Plan,
    todo: &[Member],
    data: &StageResult,
    gpu: Option<&str>,
) -> Vec<(usize, Outcome)> {
    let work = work_dir(&ctx.store, &todo[0].key).with_extension("pack");
    let trained = train_in(ctx, plan, todo, data, gpu, &work);
    let _ = std::fs::remove_file(pid_file(&work));
    match trained {
        Ok((line, record)) => {
            let outcomes = todo
                .iter()
                .map(|m| (m.stage, store_member(ctx, plan, m, &line, &record)))
                .collect();
            let _ = std::fs::remove_dir_all(&work);
            outcomes
        }
        // The memory model missed (other processes on the GPU, fragmentation): the same
        // members in two packs of half the size. Keys do not depend on the pack.
        Err(e) if ran_out_of_memory(&e) && todo.len() > 1 => {
            let _ = std::fs::remove_dir_all(&work);
            let (first, second) = todo.split_at(todo.len().div_ceil(2));
            println!(
                "retry   {}: a pack of {} ran out of device memory; training it as packs of {} and {}",
                plan.stages[todo[0].stage].name,
                todo.len(),
                first.len(),
                second.len()
            );
            let mut outcomes = train_together(ctx, plan, first, data, gpu);
            outcomes.extend(train_together(ctx, plan, second, data, gpu));
            outcomes
        }
        Err(e) => {
            let why = spec::cli::one_line(&keep_or_remove(&work, has_checkpoints(&work), &e));
            todo.iter()
                .map(|m| (m.stage, Outcome::Failed(why.clone())))
                .collect()
        }
    }
}

/// Whether a pack's work directory holds a checkpoint round to resume from (train-pack's
/// round file).
fn has_checkpoints(work: &Path) -> bool {
    pack_out(work)
        .join(spec::layout::checkpoint::PACK_ROUND)
        .is_file()
}

/// train-pack's `--out` in a pack's work directory: one run directory per member.
fn pack_out(work: &Path) -> PathBuf {
    work.join("runs")
}

/// Runs train-pack for `todo` in `work` (under every member's lock); its last line and the
/// record each member's entry gets.
fn train_in(
    ctx: &Context,
    plan: &Plan,
    todo: &[Member],
    data: &StageResult,
    gpu: Option<&str>,
    work: &Path,
) -> Result<(PackLine, StageRecord)> {
    let _locks = todo
        .iter()
        .map(|m| ctx.store.lock(&m.key))
        .collect::<Result<Vec<_>>>()?;
    // A train-pack that a killed paper left running would write on into `work`.
    let pid_file = pid_file(work);
    stop_orphan(&pid_file, work)?;
    let runs: Vec<&RunParams> = todo.iter().map(|m| &m.run).collect();
    let pack_work = PackWork {
        dir: work,
        runs: serde_json::to_string(&runs)?,
    };
    let resume = pack_work.resumable();
    if !resume {
        pack_work.start_over()?;
    }
    let first = &plan.stages[todo[0].stage];
    let Kind::Train { device, .. } = &first.kind else {
        bail!("{} is not a training run", first.name);
    };
    println!(
        "start   {}  [key {}] in a pack of {}{}",
        first.name,
        &todo[0].key.as_str()[..12],
        todo.len(),
        if resume { ", resuming" } else { "" }
    );
    // Trials and final runs never share a pack (`Plan::pack`).
    let trials = todo.iter().all(|m| m.trial);
    let args = pack_args(device, ctx.threads, &data.output, work, trials);
    let env = gpu_env(gpu);
    let run = |args: &[OsString]| {
        ctx.run_child(
            &first.name,
            &todo[0].key,
            "train-pack",
            args,
            &env,
            Some(&pid_file),
        )
    };
    let child = match resume {
        false => run(&args)?,
        true => resume_or_start_over(&first.name, args, run, refused_resume, || {
            pack_work.start_over()
        })?,
    };
    let line = PackLine::parse(&child.last_line)?;
    let record = StageRecord {
        stage: String::new(),
        output_key: todo[0].key.clone(),
        output: "run.h5".into(),
        command: child.command,
        seconds: child.seconds,
    };
    Ok((line, record))
}

/// A pack's work directory: `runs.json`, the runs file of its members, and `runs/`,
/// train-pack's `--out`.
struct PackWork<'a> {
    dir: &'a Path,
    /// The members' runs file, as written.
    runs: String,
}

impl PackWork<'_> {
    /// Whether a killed pack of these very members left a checkpoint round to resume.
    fn resumable(&self) -> bool {
        let runs_json = self.dir.join("runs.json");
        std::fs::read(runs_json).is_ok_and(|old| old == self.runs.as_bytes())
            && has_checkpoints(self.dir)
    }

    /// Empties the directory and writes the runs file.
    fn start_over(&self) -> Result<()> {
        let work = self.dir;
        if work.exists() {
            std::fs::remove_dir_all(work)
                .with_context(|| format!("cannot clear {}", work.display()))?;
        }
        std::fs::create_dir_all(work)
            .with_context(|| format!("cannot create {}", work.display()))?;
        store::atomic::write_atomic(&work.join("runs.json"), self.runs.as_bytes())
    }
}

/// Where the pid of the train-pack training in `work` is kept.
fn pid_file(work: &Path) -> PathBuf {
    work.with_extension("pack.pid")
}

/// `train-pack`'s command line: the runs file, `--diverged-ok` for a pack of learning-rate
/// trials (a trial's divergence is a result: that rate lost), then where it runs.
fn pack_args(
    device: &str,
    threads: usize,
    data: &Path,
    work: &Path,
    trials: bool,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--runs".into(), work.join("runs.json").into()];
    if trials {
        args.push("--diverged-ok".into());
    }
    args.extend(placement_args(device, threads, data, &pack_out(work)));
    args
}

/// Moves one member's run directory into its own entry.
fn store_member(
    ctx: &Context,
    plan: &Plan,
    member: &Member,
    line: &PackLine,
    record: &StageRecord,
) -> Outcome {
    let stage = &plan.stages[member.stage].name;
    let stored = || -> Result<StageResult> {
        let name = member.run.pack_member();
        let Some(packed) = line.runs.iter().find(|r| r.name == name) else {
            bail!("train-pack did not report {name}");
        };
        let diverged_trial =
            member.trial && packed.status.starts_with(spec::layout::STATUS_DIVERGED);
        if packed.status != spec::layout::STATUS_COMPLETE && !diverged_trial {
            bail!("{}", packed.status);
        }
        let dir = packed.run_h5.parent().context("run.h5 has no directory")?;
        let record = StageRecord {
            stage: stage.clone(),
            output_key: member.key.clone(),
            ..record.clone()
        };
        write_record(dir, &record)?;
        ctx.store.put_dir(&member.spec, dir)?;
        ctx.cached(stage, &member.key)?
            .with_context(|| format!("{stage}: entry incomplete after storing it"))
    };
    match stored() {
        Ok(result) => Outcome::Built {
            result,
            seconds: record.seconds,
        },
        Err(e) => Outcome::Failed(spec::cli::one_line(&e)),
    }
}
