//! Training stages: `train ... --out <store>/work/<key> [--resume]` under the key's lock, then
//! the whole output directory becomes the entry.
//!
//! The work directory outlives a killed `paper` on purpose: the next attempt resumes from its
//! checkpoint. When `train` itself fails, the pid file goes, and so does a work directory with
//! nothing in it; one holding files is kept for a resume, and the error says so.

use super::child::{refused_resume, stop_orphan, Child};
use super::{relative_to, write_record, Job};
use crate::plan::StageResult;
use anyhow::{Context as _, Result};
use spec::RunParams;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use store::{Key, Store};

/// A training stage's run and where it runs: `trial` runs record a divergence as a result.
pub(super) struct Training<'a> {
    pub run: RunParams,
    pub data: &'a StageResult,
    pub device: &'a str,
    pub gpu: Option<&'a str>,
    pub trial: bool,
}

pub(super) fn run(job: &Job<'_>, training: &Training<'_>) -> Result<Option<StageResult>> {
    let (run, data) = (&training.run, training.data);
    let ctx = job.ctx;
    ctx.verify_input(&format!("dataset/{}", run.dataset), &data.output_key)?;
    let _lock = ctx.store.lock(job.key)?;
    if ctx.cached(job.stage, job.key)?.is_some() {
        return Ok(None);
    }
    let work = work_dir(&ctx.store, job.key);
    let pid_file = work.with_extension("pid");
    stop_orphan(&pid_file, &work)?;
    let trained = train_in(job, training, &work, &pid_file);
    let _ = std::fs::remove_file(&pid_file);
    if let Err(e) = trained {
        let has_files = std::fs::read_dir(&work).is_ok_and(|mut d| d.next().is_some());
        return Err(keep_or_remove(&work, has_files, &e));
    }
    ctx.store.put_dir(job.spec, &work)?;
    job.finished()
}

/// Runs train into `work` (resuming what a killed run left) and records the stage there.
fn train_in(job: &Job<'_>, training: &Training<'_>, work: &Path, pid_file: &Path) -> Result<()> {
    let ctx = job.ctx;
    let gpu = training.gpu;
    // A killed paper leaves the run's checkpoints here; train --resume continues from them.
    let resume = std::fs::read_dir(work).is_ok_and(|mut d| d.next().is_some());
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    job.announce(match (resume, gpu) {
        (true, _) => " resuming",
        (false, Some(_)) => " on a GPU",
        (false, None) => "",
    });
    let args = train_args(
        &training.run,
        training.trial,
        training.device,
        ctx.threads,
        &training.data.output,
        work,
    );
    let env = gpu_env(gpu);
    let run =
        |args: &[OsString]| ctx.run_child(job.stage, job.key, "train", args, &env, Some(pid_file));
    let child = match resume {
        false => run(&args)?,
        // A run killed before its first checkpoint, or left by another train, starts over.
        true => resume_or_start_over(job.stage, args, run, refused_resume, || {
            std::fs::remove_dir_all(work)?;
            std::fs::create_dir_all(work)?;
            Ok(())
        })?,
    };
    record(job, work, child)
}

/// Runs a trainer with `args` and `--resume`. When `refused` says the resume could not
/// start, it says so, calls `start_over` and runs the trainer from zero.
pub(super) fn resume_or_start_over(
    stage: &str,
    mut args: Vec<OsString>,
    run: impl Fn(&[OsString]) -> Result<Child>,
    refused: impl Fn(&anyhow::Error) -> bool,
    start_over: impl FnOnce() -> Result<()>,
) -> Result<Child> {
    args.push("--resume".into());
    match run(&args) {
        Err(e) if refused(&e) => {
            let why = spec::cli::one_line(&e);
            println!("        {stage} | cannot resume ({why}): starting over");
            start_over()?;
            args.pop();
            run(&args)
        }
        done => done,
    }
}

/// The environment a trainer runs in: the GPU it may see, if any.
pub(super) fn gpu_env(gpu: Option<&str>) -> Vec<(&'static str, String)> {
    gpu.map(|g| ("CUDA_VISIBLE_DEVICES", g.to_string()))
        .into_iter()
        .collect()
}

fn record(job: &Job<'_>, work: &Path, child: Child) -> Result<()> {
    let output = relative_to(Path::new(&child.last_line), work)?;
    write_record(work, &job.record(job.key, output, child))
}

/// After a failed trainer: a work dir worth resuming from (`keep`) is kept, and the error
/// says where and why; any other is removed.
pub(super) fn keep_or_remove(work: &Path, keep: bool, err: &anyhow::Error) -> anyhow::Error {
    let what = spec::cli::one_line(err);
    if !keep {
        let _ = std::fs::remove_dir_all(work);
        return anyhow::anyhow!("{what}");
    }
    anyhow::anyhow!(
        "{what}; its work dir {} is kept for the next paper to resume from (`paper gc` removes it)",
        work.display()
    )
}

/// The `train` command line of a run: the run's own flags ([`RunParams::to_args`]), then where
/// it runs (`--resume` is added when a killed run left checkpoints).
pub fn train_args(
    run: &RunParams,
    trial: bool,
    device: &str,
    threads: usize,
    data: &Path,
    work: &Path,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = run.to_args().into_iter().map(OsString::from).collect();
    if trial {
        // A learning-rate trial's divergence is a result: that rate lost.
        args.push("--diverged-ok".into());
    }
    args.extend(placement_args(device, threads, data, work));
    args
}

/// Where a trainer (`train` or `train-pack`) runs, reads and writes: flags that do not change
/// its numbers.
pub(super) fn placement_args(
    device: &str,
    threads: usize,
    data: &Path,
    out: &Path,
) -> [OsString; 8] {
    [
        "--device".into(),
        device.into(),
        "--threads".into(),
        threads.to_string().into(),
        "--data".into(),
        data.as_os_str().to_owned(),
        "--out".into(),
        out.as_os_str().to_owned(),
    ]
}

/// Where a run is built before it moves into the store: `<store>/work/<key>`.
pub fn work_dir(store: &Store, key: &Key) -> PathBuf {
    store.root().join("work").join(key.as_str())
}
