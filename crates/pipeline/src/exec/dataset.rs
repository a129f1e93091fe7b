//! Dataset stages: `fetch <name>` or `shapeset dataset`, then a pointer entry to the dataset
//! entry the binary made (whose key `paper` cannot know before running it).

use super::{relative_to, write_record, Job, StageRecord, RECORD};
use crate::plan::{dataset_tool, StageResult};
use anyhow::{ensure, Context as _, Result};
use spec::protocol::DatasetLine;
use spec::Dataset;
use std::ffi::OsString;
use std::path::Path;

pub(super) fn run(job: &Job<'_>, dataset: Dataset) -> Result<Option<StageResult>> {
    let ctx = job.ctx;
    let _lock = ctx.store.lock(job.key)?;
    if ctx.cached(job.stage, job.key)?.is_some() {
        return Ok(None);
    }
    job.announce("");
    let binary = dataset_tool(dataset);
    let args = command(dataset, ctx.store.root());
    let child = ctx.run_child(job.stage, job.key, binary, &args, &[], None)?;
    let line = DatasetLine::parse(&child.last_line)
        .with_context(|| format!("{binary}'s last line is not a dataset line"))?;
    ensure!(
        line.dataset == dataset,
        "{binary} made dataset {}, not {dataset}",
        line.dataset
    );
    let data_key: store::Key = line.key.parse()?;
    let entry = ctx
        .store
        .get(&data_key)
        .with_context(|| format!("{binary} printed key {data_key}, which the store lacks"))?;
    let output = relative_to(&line.path, &entry.dir)?;
    let record = job.record(&data_key, output, child);
    if let Some(pointer) = ctx.store.get(job.key) {
        // A pointer whose dataset entry was removed: the same sources must give the same key.
        let old: StageRecord = serde_json::from_slice(&std::fs::read(pointer.path(RECORD))?)?;
        ensure!(
            old.output_key == data_key,
            "{}: the store points at {} but {binary} made {data_key}",
            job.stage,
            old.output_key
        );
    } else {
        ctx.store.put(job.spec, |dir| write_record(dir, &record))?;
    }
    job.finished()
}

/// The command line of a dataset stage; MNIST and CIFAR-10 are imported from a local copy
/// when `XAVIER_MNIST_FROM` / `XAVIER_CIFAR_FROM` name one.
fn command(dataset: Dataset, store: &Path) -> Vec<OsString> {
    let store_arg = store.as_os_str().to_owned();
    let mut args: Vec<OsString> = match dataset {
        Dataset::Shapeset => vec!["dataset".into(), "--store".into(), store_arg],
        other => vec![other.to_string().into(), "--store".into(), store_arg],
    };
    let from_var = match dataset {
        Dataset::Shapeset => None,
        Dataset::Mnist => Some("XAVIER_MNIST_FROM"),
        Dataset::Cifar10 => Some("XAVIER_CIFAR_FROM"),
    };
    if let Some(from) = from_var
        .and_then(std::env::var_os)
        .filter(|d| Path::new(d).exists())
    {
        args.extend(["--from".into(), from]);
    }
    args
}
