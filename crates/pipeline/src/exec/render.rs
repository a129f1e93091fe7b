//! Render stages: `figures render --runs runs.json --out <entry being built> --only <id>`, and
//! how any stage that reads recordings through a runs.json is built.

use super::{write_record, Job, TRUST_DEPTH};
use crate::plan::StageResult;
use anyhow::Result;
use spec::protocol::RunsFile;
use spec::FigureId;
use std::ffi::OsString;
use std::path::Path;

pub(super) fn run(
    job: &Job<'_>,
    id: FigureId,
    size: (Option<u32>, Option<u32>),
    runs: &[(&str, &StageResult)],
    trials: &[(&str, &StageResult)],
) -> Result<Option<StageResult>> {
    let file = RunsFile {
        runs: runs.iter().map(|(_, r)| r.output.clone()).collect(),
        trials: trials.iter().map(|(_, t)| t.output.clone()).collect(),
    };
    let inputs: Vec<_> = runs.iter().chain(trials).copied().collect();
    build_reading(job, &inputs, &file, "figures", ".", |runs_json, dir| {
        command(runs_json, dir, id, size)
    })
}

/// Builds a stage whose binary reads recordings through a runs.json: checks every byte of
/// `inputs`, writes `file` beside the entry (its paths are this machine's), runs `binary`
/// with `args(runs.json, entry dir)` and records `output` as the entry's primary output.
pub(super) fn build_reading(
    job: &Job<'_>,
    inputs: &[(&str, &StageResult)],
    file: &RunsFile,
    binary: &str,
    output: &str,
    args: impl FnOnce(&Path, &Path) -> Vec<OsString>,
) -> Result<Option<StageResult>> {
    let ctx = job.ctx;
    for (stage, input) in inputs {
        ctx.verify_input(stage, &input.key)?;
    }
    let scratch = ctx.store.temp_dir()?;
    let runs_json = scratch.join("runs.json");
    let built = store::atomic::write_atomic(&runs_json, file.to_json().as_bytes()).and_then(|()| {
        ctx.store.get_or_put_checked(job.spec, TRUST_DEPTH, |dir| {
            job.announce("");
            let child = ctx.run_child(
                job.stage,
                job.key,
                binary,
                &args(&runs_json, dir),
                &[],
                None,
            )?;
            write_record(dir, &job.record(job.key, output.into(), child))
        })
    });
    let _ = std::fs::remove_dir_all(&scratch);
    match built? {
        (_, true) => job.finished(),
        (_, false) => Ok(None),
    }
}

fn command(
    runs_json: &Path,
    out: &Path,
    id: FigureId,
    size: (Option<u32>, Option<u32>),
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "render".into(),
        "--runs".into(),
        runs_json.into(),
        "--out".into(),
        out.into(),
        "--only".into(),
        id.id().into(),
    ];
    for (flag, value) in [("--width", size.0), ("--height", size.1)] {
        if let Some(v) = value {
            args.extend([flag.into(), v.to_string().into()]);
        }
    }
    args
}
