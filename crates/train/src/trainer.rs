//! One training run (`train`): its inputs checked before `--out` is created, then trained as a
//! pack of one by the one loop ([`crate::pack::trainer`]), into `--out` itself.

use std::path::PathBuf;

use anyhow::{anyhow, ensure, Result};
use spec::cli::usage;
use spec::dataset_h5::Dataset as DatasetFile;
use spec::layout::{STATUS_DIVERGED, STATUS_FAILED};
use spec::RunConfig;
use tch::Device;

use crate::pack::{self, member::Layout};
use crate::rundir::RunDir;
use crate::{memory, source};

pub struct Options {
    pub out: PathBuf,
    pub resume: bool,
    pub export_seed_layout: bool,
    /// Stop after the checkpoint at this step, as a time-sliced job would; `resume`
    /// continues from there.
    pub stop_after: Option<u64>,
    /// A non-finite loss ends the run as a result, not an error: run.h5 says `diverged: ...`
    /// and the run succeeds. Learning-rate trials use it: a rate that diverges has lost.
    pub diverged_ok: bool,
}

/// `auto` (CUDA if libtorch sees it, else the CPU), `cpu`, `cuda` (= `cuda:0`) or
/// `cuda:N`, resolved to the name a config records; an unknown name is a usage error.
pub fn resolve_device(name: &str) -> Result<String> {
    let resolved = match name {
        "auto" if tch::Cuda::is_available() => "cuda:0".to_string(),
        "auto" => "cpu".to_string(),
        "cuda" => "cuda:0".to_string(),
        other => other.to_string(),
    };
    parse_device(&resolved)?;
    Ok(resolved)
}

/// `cpu` or `cuda:N`.
pub fn parse_device(name: &str) -> Result<Device> {
    if name == "cpu" {
        return Ok(Device::Cpu);
    }
    let index = name
        .strip_prefix("cuda:")
        .and_then(|i| i.parse::<usize>().ok())
        .ok_or_else(|| {
            usage(format!(
                "unknown device {name:?}: use auto, cpu, cuda or cuda:N"
            ))
        })?;
    Ok(Device::Cuda(index))
}

/// The device `name` names (`cpu` or `cuda:N`), checked to exist: both front ends' one check.
pub fn device(name: &str) -> Result<Device> {
    let device = parse_device(name)?;
    check_device(device)?;
    Ok(device)
}

/// Fails unless `device` exists.
fn check_device(device: Device) -> Result<()> {
    if let Device::Cuda(index) = device {
        let count = tch::Cuda::device_count();
        ensure!(
            (index as i64) < count,
            "device cuda:{index} requested but {count} CUDA device(s) are visible"
        );
    }
    Ok(())
}

/// The bytes of a dataset file's arrays.
fn data_bytes(file: Option<&DatasetFile>) -> u64 {
    file.map_or(0, |f| {
        f.splits()
            .iter()
            .map(|(_, s)| (s.x.len() + s.y.len()) as u64)
            .sum()
    })
}

/// Runs `config` on `file` (None: the Shapeset stream and its generated eval sets) into
/// `options.out`; returns the path of its `run.h5`: complete, (with `diverged_ok`) diverged,
/// or (with `stop_after`) interrupted at a checkpoint. The parameters, the data, the device
/// and the memory a run needs are all checked before `--out` is created.
pub fn run(config: &RunConfig, file: Option<DatasetFile>, options: &Options) -> Result<PathBuf> {
    let params = &config.params;
    params.validate().map_err(|e| usage(format!("{e:#}")))?;
    let per_epoch = source::check(params.dataset, file.as_ref(), params.batch_size)?;
    ensure!(
        per_epoch == config.updates_per_epoch,
        "the config has {} updates per epoch, the data gives {per_epoch}",
        config.updates_per_epoch
    );
    let device = device(&config.device)?;
    memory::check(params, data_bytes(file.as_ref()), device)?;
    let dir = RunDir::open(&options.out, options.resume)?;
    let engine = pack::trainer::Options {
        resume: options.resume,
        stop_after: options.stop_after,
        diverged_ok: options.diverged_ok,
        export_seed_layout: options.export_seed_layout,
        layout: Layout::Single,
    };
    let trained = pack::trainer::run(std::slice::from_ref(config), file, &options.out, engine);
    let outcome = match trained {
        Ok(Some(mut outcomes)) => outcomes.remove(0),
        Ok(None) => {
            dir.finish();
            return Ok(options.out.join("run.h5"));
        }
        Err(err) => return Err(kept(dir, options.resume, err)),
    };
    if let Some(reason) = outcome.status.strip_prefix(STATUS_DIVERGED) {
        dir.finish();
        eprintln!("train: {reason}; recorded as a result (--diverged-ok)");
    } else if let Some(reason) = outcome.status.strip_prefix(STATUS_FAILED) {
        let err = anyhow!("{reason} (learning rate {} too large?)", params.lr);
        return Err(kept(dir, false, err));
    } else {
        dir.finish();
    }
    Ok(outcome.run_h5)
}

/// The error of a run that did not end well. A resume that could not start leaves the
/// directory as it found it; otherwise the error says what of the directory is kept.
fn kept(dir: RunDir, resume: bool, err: anyhow::Error) -> anyhow::Error {
    let refused = err
        .chain()
        .any(<dyn std::error::Error>::is::<spec::cli::CannotResume>);
    if resume && refused {
        dir.finish();
        return err;
    }
    match dir.kept_note() {
        Some(note) => err.context(note),
        None => err,
    }
}
