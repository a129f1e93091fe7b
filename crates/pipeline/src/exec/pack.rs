//! Packed training stages: the ready members of one pack trained by one
//! `train-pack --runs runs.json --out <work dir>` process. Each model's run directory then
//! becomes its own entry under its own key, as if it had trained alone; no key depends on
//! which other runs shared the process.
//!
//! A pack does not resume: a killed pack's work directory is removed and the pack starts
//! over (its runs are short next to a single run's, and `train-pack` has no `--resume`).

use super::StageRecord;
use super::{select, train::placement_args, work_dir, write_record, Context, Outcome, Scope};
use crate::plan::{Kind, Plan, StageResult};
use anyhow::{bail, Context as _, Result};
use serde::Deserialize;
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
    let (spec, key) = match plan.key(i, results) {
        Ok(keyed) => keyed,
        Err(reason) => return Ok(Err(Outcome::Skipped(reason))),
    };
    if let Some(result) = ctx.cached(&stage.name, &key)? {
        return Ok(Err(Outcome::Cached(result)));
    }
    if ctx.scope == Scope::NoTraining {
        let why = "not in the store, and this paper trains nothing";
        return Ok(Err(Outcome::Skipped(why.into())));
    }
    let run = select::trained_run(plan, i, results)?;
    let data = results[stage.deps[0]].as_ref().expect("keyed on it");
    ctx.verify_input(&format!("dataset/{}", run.dataset), &data.output_key)?;
    Ok(Ok(Member {
        stage: i,
        spec,
        key,
        run,
    }))
}

/// The last line of `train-pack`.
#[derive(Deserialize)]
struct PackLine {
    runs: Vec<PackedRun>,
}

#[derive(Deserialize)]
struct PackedRun {
    name: String,
    run_h5: PathBuf,
    status: String,
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
    let outcomes = match trained {
        Ok((line, record)) => todo
            .iter()
            .map(|m| (m.stage, store_member(ctx, plan, m, &line, &record)))
            .collect(),
        Err(e) => {
            let why = spec::cli::one_line(&e);
            todo.iter()
                .map(|m| (m.stage, Outcome::Failed(why.clone())))
                .collect()
        }
    };
    let _ = std::fs::remove_dir_all(&work);
    outcomes
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
    if work.exists() {
        std::fs::remove_dir_all(work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    let runs_json = work.join("runs.json");
    let runs: Vec<&RunParams> = todo.iter().map(|m| &m.run).collect();
    store::atomic::write_atomic(&runs_json, serde_json::to_string(&runs)?.as_bytes())?;
    let first = &plan.stages[todo[0].stage];
    let Kind::Train { device, .. } = &first.kind else {
        bail!("{} is not a training run", first.name);
    };
    println!(
        "start   {}  [key {}] in a pack of {}",
        first.name,
        &todo[0].key.as_str()[..12],
        todo.len()
    );
    let args = pack_args(device, ctx.threads, &data.output, work);
    let env: Vec<(&str, String)> = gpu
        .map(|g| ("CUDA_VISIBLE_DEVICES", g.to_string()))
        .into_iter()
        .collect();
    let child = ctx.run_child(&first.name, &todo[0].key, "train-pack", &args, &env, None)?;
    let line: PackLine = serde_json::from_str(&child.last_line)
        .with_context(|| format!("train-pack ended with {:?}", child.last_line))?;
    let record = StageRecord {
        stage: String::new(),
        output_key: todo[0].key.clone(),
        output: "run.h5".into(),
        command: child.command,
        seconds: child.seconds,
    };
    Ok((line, record))
}

/// `train-pack`'s command line: the runs file, then where it runs.
fn pack_args(device: &str, threads: usize, data: &Path, work: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--runs".into(), work.join("runs.json").into()];
    args.extend(placement_args(device, threads, data, &work.join("runs")));
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
        let name = member.run.name();
        let Some(packed) = line.runs.iter().find(|r| r.name == name) else {
            bail!("train-pack did not report {name}");
        };
        if packed.status != spec::layout::STATUS_COMPLETE {
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
