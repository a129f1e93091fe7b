//! Render stages: `figures render --runs runs.json --out <entry being built> --only <id>`.

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
) -> Result<Option<StageResult>> {
    let ctx = job.ctx;
    // Every byte of a run is checked before a figure is drawn from it.
    for (stage, run) in runs {
        ctx.verify_input(stage, &run.key)?;
    }
    // runs.json lives beside the entry, not in it: its paths are this machine's.
    let scratch = ctx.store.temp_dir()?;
    let runs_json = scratch.join("runs.json");
    let file = RunsFile {
        runs: runs.iter().map(|(_, r)| r.output.clone()).collect(),
    };
    let built = store::atomic::write_atomic(&runs_json, file.to_json().as_bytes()).and_then(|()| {
        ctx.store.get_or_put_checked(job.spec, TRUST_DEPTH, |dir| {
            job.announce("");
            let args = command(&runs_json, dir, id, size);
            let child = ctx.run_child(job.stage, job.key, "figures", &args, &[], None)?;
            write_record(dir, &job.record(job.key, ".".into(), child))
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
