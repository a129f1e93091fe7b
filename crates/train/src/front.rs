//! What the two front ends of the engine (`train`, `train-pack`) share: the flags that say
//! where and how it runs (none of which changes a run's numbers), reading and checking the
//! data, and the run config each model records.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use spec::dataset_h5::Dataset as DatasetFile;
use spec::{Dataset, RunConfig, RunParams};

use crate::pack::member::Layout;
use crate::pack::trainer::Options;

#[derive(Args, Debug)]
pub struct EngineFlags {
    /// auto (CUDA if visible, else CPU), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// dataset.h5 to train on; required for mnist and cifar10. Shapeset without it
    /// generates its pinned valid/test sets in memory.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Continue from the checkpoints under --out (the same runs, the same data); a model that
    /// ended before stays ended. Exit 3 when there is nothing to resume from.
    #[arg(long)]
    pub resume: bool,
    /// Stop after the first checkpoint at or past this update, for time-sliced jobs; run.h5
    /// then says `failed: interrupted ...` until a --resume completes it.
    #[arg(long)]
    pub stop_after: Option<u64>,
    /// A non-finite loss is a result (run.h5 status `diverged: ...`), not a failure: for
    /// learning-rate trials, where a rate that diverges has lost.
    #[arg(long)]
    pub diverged_ok: bool,
    /// CPU threads for libtorch (the bytes a run writes do not depend on it).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=1024))]
    pub threads: i32,
    /// On failure, print the whole error chain instead of one line.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl EngineFlags {
    /// Sets the thread count, reads `--data` and checks it against the runs' dataset and batch
    /// size: the data file, if any, and the updates per epoch it gives.
    pub fn load_data(
        &self,
        dataset: Dataset,
        batch_size: usize,
    ) -> Result<(Option<DatasetFile>, u64)> {
        tch::set_num_threads(self.threads);
        let file = self
            .data
            .as_deref()
            .map(spec::dataset_h5::read_h5)
            .transpose()?;
        let checked = crate::source::check(dataset, file.as_ref(), batch_size);
        let per_epoch = match &self.data {
            Some(path) => checked.with_context(|| format!("dataset file {}", path.display()))?,
            None => checked?,
        };
        Ok((file, per_epoch))
    }

    /// The config a run of `params` records, on `device` (resolved).
    pub fn config(&self, params: RunParams, per_epoch: u64, device: &str) -> RunConfig {
        let data_key = self.data.as_deref().and_then(store::Key::of_entry_file);
        RunConfig {
            params,
            updates_per_epoch: per_epoch,
            device: device.to_string(),
            data: self.data.as_ref().map(|p| p.display().to_string()),
            data_key: data_key.map(|k| k.to_string()),
        }
    }

    /// The engine's options for these flags.
    pub fn options(&self, layout: Layout, export_seed_layout: bool) -> Options {
        Options {
            resume: self.resume,
            stop_after: self.stop_after,
            diverged_ok: self.diverged_ok,
            export_seed_layout,
            layout,
        }
    }
}
