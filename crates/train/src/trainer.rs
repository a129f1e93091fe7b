//! One training run from start (or checkpoint) to `run.h5`: SGD steps, probes on
//! schedule, checkpoints, and the failure paths (a non-finite loss, an I/O error, a
//! signal). Every input is checked before `--out` is created (see [`run`]).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, ensure, Result};
use indicatif::{ProgressBar, ProgressStyle};
use spec::cli::usage;
use spec::dataset_h5::Dataset as DatasetFile;
use spec::recording::Recording;
use spec::run_h5::{export_seed_layout, write_run_h5, RunInfo};
use spec::RunConfig;
use store::atomic::write_atomic;
use tch::{Device, Kind, Tensor};

use crate::checkpoint::{Checkpoint, State, Timing};
use crate::measure::{measure, record};
use crate::model::Mlp;
use crate::rundir::RunDir;
use crate::source::{self, Batches, EvalData};
use crate::{identity, memory, signals};

/// Steps between host reads of the running loss: the cheap non-finite check.
const FINITE_CHECK_EVERY: u64 = 100;

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
/// `options.out`; returns the path of the complete `run.h5`. The parameters, the data, the
/// device and the memory a run needs are all checked before `--out` is created.
pub fn run(config: &RunConfig, file: Option<DatasetFile>, options: &Options) -> Result<PathBuf> {
    let params = &config.params;
    params.validate().map_err(|e| usage(format!("{e:#}")))?;
    let per_epoch = source::check(params.dataset, file.as_ref(), params.batch_size)?;
    ensure!(
        per_epoch == config.updates_per_epoch,
        "the config has {} updates per epoch, the data gives {per_epoch}",
        config.updates_per_epoch
    );
    let device = parse_device(&config.device)?;
    check_device(device)?;
    memory::check(params, data_bytes(file.as_ref()), device)?;
    let data = source::load(config, file, device)?;
    let sizes = params.layer_sizes();
    let model = Mlp::new(&sizes, params.activation, params.init, params.seed, device);
    let dir = RunDir::open(&options.out, options.resume)?;
    let mut run = match Run::start(config, options, data, model) {
        Ok(run) => run,
        Err(err) if options.resume => {
            // A resume that cannot start leaves the directory as it found it.
            dir.finish();
            return Err(err);
        }
        Err(err) => return Err(err),
    };
    match run.train() {
        Ok(path) => {
            dir.finish();
            Ok(path)
        }
        Err(err) if options.diverged_ok && err.is::<Diverged>() => {
            dir.finish();
            eprintln!("train: {err}; recorded as a result (--diverged-ok)");
            Ok(options.out.join("run.h5"))
        }
        Err(err) => Err(match dir.kept_note() {
            Some(note) => err.context(note),
            None => err,
        }),
    }
}

/// A run whose loss stopped being finite.
#[derive(Debug)]
struct Diverged {
    step: u64,
    lr: f64,
}

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "non-finite loss at step {} (learning rate {} too large?)",
            self.step, self.lr
        )
    }
}

impl std::error::Error for Diverged {}

struct Run<'a> {
    config: &'a RunConfig,
    options: &'a Options,
    data: EvalData,
    model: Mlp,
    checkpoint: Checkpoint,
    state: State,
    batches: Batches,
}

impl<'a> Run<'a> {
    /// A new run, or the checkpointed one when resuming (its config must be this one).
    fn start(
        config: &'a RunConfig,
        options: &'a Options,
        mut data: EvalData,
        mut model: Mlp,
    ) -> Result<Run<'a>> {
        let checkpoint = Checkpoint::new(&options.out);
        let state = if options.resume {
            let state = checkpoint.load(&mut model)?;
            if state.config != *config {
                bail!(
                    "the checkpoint in {} was made by a different config: {}",
                    options.out.display(),
                    serde_json::to_string(&state.config)?
                );
            }
            state
        } else {
            if checkpoint.dir().exists() {
                checkpoint.remove()?;
            }
            State {
                config: config.clone(),
                step: 0,
                weights_file: String::new(),
                timing: Timing::default(),
                recording: Recording::new(config.params.hidden_layers),
            }
        };
        let config_json = serde_json::to_string_pretty(config)?;
        write_atomic(&options.out.join("config.json"), config_json.as_bytes())?;
        let device = data.probe_x.device();
        let batches = Batches::new(config, data.train.take(), state.step, device);
        Ok(Run {
            config,
            options,
            data,
            model,
            checkpoint,
            state,
            batches,
        })
    }

    fn train(&mut self) -> Result<PathBuf> {
        let config = self.config;
        let params = &config.params;
        let progress = progress_bar(params.updates, self.state.step);
        if self.state.step == 0 {
            self.probe(None)?;
        }
        let mut loss_sum = Tensor::zeros([], (Kind::Double, self.data.probe_x.device()));
        let mut since_probe = 0u64;
        let mut clock = Instant::now();
        while self.state.step < params.updates {
            if let Some(signal) = signals::received() {
                let name = signals::name(signal);
                bail!("interrupted by {name} at step {}", self.state.step);
            }
            let (x, y) = self.batches.next_batch();
            loss_sum += self.model.sgd_step(&x, &y, params.lr);
            self.state.step += 1;
            since_probe += 1;
            let step = self.state.step;
            let probe_now = config.is_probe_step(step);
            if !probe_now && !step.is_multiple_of(FINITE_CHECK_EVERY) {
                continue;
            }
            // The one host read of the running loss: the finite check and the train loss.
            let total = loss_sum.double_value(&[]);
            progress.set_position(step);
            if !total.is_finite() {
                self.state.timing.train_s += clock.elapsed().as_secs_f64();
                return Err(self.fail(step));
            }
            if !probe_now {
                continue;
            }
            self.state.timing.train_s += clock.elapsed().as_secs_f64();
            let examples = (since_probe * params.batch_size as u64) as f64;
            let valid_error = self.probe(Some(total / examples))?;
            progress.set_message(format!("valid error {:.2}%", 100.0 * valid_error));
            _ = loss_sum.zero_();
            since_probe = 0;
            // Checkpoints (each rewrites run.h5: ~2.6 s at width 1000) only at the regular
            // probes, not at the early ones of steps 100 and 1000.
            let regular = step.is_multiple_of(params.probe_every) || config.is_raw_step(step);
            if step < params.updates && regular {
                self.save_checkpoint()?;
                if self.options.stop_after.is_some_and(|stop| step >= stop) {
                    progress.finish_and_clear();
                    eprintln!("train: stopped after step {step}; continue with --resume");
                    return Ok(self.options.out.join("run.h5"));
                }
            }
            clock = Instant::now();
        }
        progress.finish_and_clear();
        self.finish()
    }

    /// Probes the model at the current step, records it, returns the valid error. Fails
    /// the run if a loss is not finite.
    fn probe(&mut self, train_loss: Option<f64>) -> Result<f64> {
        let clock = Instant::now();
        let step = self.state.step;
        let rec = &mut self.state.recording;
        let measured = measure(&mut self.model, &self.data, &self.config.params, rec, step)?;
        record(rec, self.config, step, train_loss, &measured);
        let finite = measured.losses_finite() && train_loss.is_none_or(f64::is_finite);
        let measured_s = clock.elapsed().as_secs_f64();
        if finite && self.config.is_raw_step(step) {
            let weight_grad = step == 0 || step == self.config.params.updates;
            self.checkpoint
                .save_raw(step, &measured.probe, weight_grad)?;
            self.state.recording.raw_steps.push(step);
        }
        // Writing a raw snapshot is storage, like a checkpoint, not measurement.
        let timing = &mut self.state.timing;
        timing.once_s += measured.once_s;
        timing.probe_s += measured_s - measured.once_s;
        timing.checkpoint_s += clock.elapsed().as_secs_f64() - measured_s;
        if !finite {
            return Err(self.fail(step));
        }
        Ok(measured.valid_error())
    }

    fn save_checkpoint(&mut self) -> Result<()> {
        let clock = Instant::now();
        self.checkpoint.save(&mut self.state, &self.model)?;
        let status = format!(
            "failed: interrupted after step {} (continue with --resume)",
            self.state.step
        );
        self.write_run_h5(&status)?;
        self.state.timing.checkpoint_s += clock.elapsed().as_secs_f64();
        Ok(())
    }

    /// Writes `run.h5` with `status`. Its `timing` attribute holds only the update count:
    /// wall-clock seconds go to `timing.json`, so that the same run gives the same bytes.
    fn write_run_h5(&self, status: &str) -> Result<PathBuf> {
        let path = self.options.out.join("run.h5");
        let timing_json = serde_json::json!({ "updates": self.state.step }).to_string();
        let info = RunInfo {
            config_json: &serde_json::to_string(self.config)?,
            device: &self.config.device,
            libtorch: &identity::libtorch_attr(),
            status,
            timing_json: &timing_json,
        };
        let hidden = self.config.params.hidden_layers;
        write_run_h5(&path, &info, &self.state.recording, |step| {
            self.checkpoint.load_raw(step, hidden)
        })?;
        Ok(path)
    }

    /// Records the failure in `run.h5` and returns the error that ends the run. The
    /// checkpoint goes: resuming from it would diverge again.
    fn fail(&self, step: u64) -> anyhow::Error {
        let reason = format!("non-finite loss at step {step}");
        let status = match self.options.diverged_ok {
            true => format!("{}{reason}", spec::layout::STATUS_DIVERGED),
            false => format!("failed: {reason}"),
        };
        let written = self.write_run_h5(&status);
        let _ = std::fs::remove_dir_all(self.checkpoint.dir());
        match written {
            Ok(_) => Diverged {
                step,
                lr: self.config.params.lr,
            }
            .into(),
            Err(err) => err.context(reason),
        }
    }

    fn finish(&mut self) -> Result<PathBuf> {
        let clock = Instant::now();
        let path = self.write_run_h5("complete")?;
        if self.options.export_seed_layout {
            let hidden = self.config.params.hidden_layers;
            export_seed_layout(
                &self.options.out,
                &self.state.recording,
                self.config.updates_per_epoch,
                |step| self.checkpoint.load_raw(step, hidden),
            )?;
        }
        self.checkpoint.remove()?;
        let t = self.state.timing;
        let timing = serde_json::json!({
            "train_s": t.train_s,
            "probe_s": t.probe_s,
            "once_s": t.once_s,
            "checkpoint_s": t.checkpoint_s,
            "updates": self.state.step,
        });
        write_atomic(
            &self.options.out.join("timing.json"),
            timing.to_string().as_bytes(),
        )?;
        eprintln!(
            "train: {} updates in {:.1} s; probes {:.1} s ({:.1}% of the run), initial Jacobians and final evaluation {:.1} s, checkpoints and raw snapshots {:.1} s, final write {:.1} s",
            self.state.step,
            t.train_s,
            t.probe_s,
            100.0 * t.probe_s / t.total_s().max(1e-9),
            t.once_s,
            t.checkpoint_s,
            clock.elapsed().as_secs_f64()
        );
        Ok(path)
    }
}

fn progress_bar(updates: u64, step: u64) -> ProgressBar {
    let bar = ProgressBar::new(updates).with_position(step);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} updates, {per_sec}, eta {eta} {msg}")
            .expect("static template"),
    );
    bar
}
