//! One training run from start (or checkpoint) to `run.h5`: SGD steps, probes on
//! schedule, checkpoints, and the failure path for a non-finite loss.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use data::dataset::Dataset;
use indicatif::{ProgressBar, ProgressStyle};
use tch::{Device, Kind, Tensor};

use crate::checkpoint::{Checkpoint, State, Timing};
use crate::config::RunConfig;
use crate::model::Mlp;
use crate::probe::{evaluate, probe};
use crate::record::{export_seed_layout, write_run_h5, RunInfo};
use crate::recording::{Recording, QUANTITIES};
use crate::source::{self, Batches, EvalData, InputScale};
use crate::stats::{initial_edges, summary_row, BINS, SCALARS};

/// Steps between host reads of the running loss: the cheap non-finite check.
const FINITE_CHECK_EVERY: u64 = 100;

/// The tch and libtorch versions this binary was built against.
pub const LIBTORCH: &str = concat!("tch 0.24.0, libtorch ", env!("XAVIER_LIBTORCH_VERSION"));

pub struct Options {
    pub out: PathBuf,
    pub resume: bool,
    pub export_seed_layout: bool,
    /// Stop after the checkpoint at this step, as a time-sliced job would; `resume`
    /// continues from there.
    pub stop_after: Option<u64>,
}

/// `cpu`, `cuda` (= `cuda:0`) or `cuda:N`.
pub fn parse_device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Ok(Device::Cuda(0)),
        _ => {
            let index = name
                .strip_prefix("cuda:")
                .and_then(|i| i.parse::<usize>().ok())
                .with_context(|| {
                    format!("unknown device {name:?}: use auto, cpu, cuda or cuda:N")
                })?;
            Ok(Device::Cuda(index))
        }
    }
}

/// Runs `config` on `dataset` (None: the Shapeset stream and its generated eval sets)
/// into `options.out`; returns the path of the complete `run.h5`.
pub fn run(config: &RunConfig, dataset: Option<Dataset>, options: &Options) -> Result<PathBuf> {
    config.validate()?;
    let device = parse_device(&config.device)?;
    if let Device::Cuda(index) = device {
        let count = tch::Cuda::device_count();
        if index as i64 >= count {
            bail!(
                "device {} requested but {count} CUDA device(s) are visible",
                config.device
            );
        }
    }
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let mut data = source::load(config, dataset, device)?;
    let mut model = Mlp::new(
        &config.layer_sizes(),
        config.activation,
        config.init,
        config.seed,
        device,
    );
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
            recording: Recording::new(config.hidden_layers),
        }
    };
    let config_json = serde_json::to_string_pretty(config)?;
    store::atomic::write_atomic(&options.out.join("config.json"), config_json.as_bytes())?;
    let batches = Batches::new(config, data.train.take(), state.step, device);
    let mut run = Run {
        config,
        options,
        data,
        model,
        checkpoint,
        state,
        batches,
    };
    run.train()
}

struct Run<'a> {
    config: &'a RunConfig,
    options: &'a Options,
    data: EvalData,
    model: Mlp,
    checkpoint: Checkpoint,
    state: State,
    batches: Batches,
}

impl Run<'_> {
    fn train(&mut self) -> Result<PathBuf> {
        let config = self.config;
        let device = self.data.probe_x.device();
        let progress = progress_bar(config.updates, self.state.step);
        if self.state.step == 0 {
            self.probe(None)?;
        }
        let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
        let mut since_probe = 0u64;
        let mut clock = Instant::now();
        while self.state.step < config.updates {
            let (x, y) = self.batches.next_batch();
            loss_sum += self.model.sgd_step(&x, &y, config.lr);
            self.state.step += 1;
            since_probe += 1;
            let step = self.state.step;
            let probe_now = config.is_probe_step(step);
            if step.is_multiple_of(FINITE_CHECK_EVERY) || probe_now {
                let total = loss_sum.double_value(&[]);
                if !total.is_finite() {
                    self.state.timing.train_s += clock.elapsed().as_secs_f64();
                    return Err(self.fail(step));
                }
                progress.set_position(step);
            }
            if probe_now {
                self.state.timing.train_s += clock.elapsed().as_secs_f64();
                let examples = (since_probe * config.batch_size as u64) as f64;
                let train_loss = loss_sum.double_value(&[]) / examples;
                let valid_error = self.probe(Some(train_loss))?;
                progress.set_message(format!("valid error {:.2}%", 100.0 * valid_error));
                _ = loss_sum.zero_();
                since_probe = 0;
                if step < config.updates {
                    self.save_checkpoint()?;
                    if self.options.stop_after.is_some_and(|stop| step >= stop) {
                        progress.finish_and_clear();
                        eprintln!("train: stopped after step {step}; continue with --resume");
                        return Ok(self.options.out.join("run.h5"));
                    }
                }
                clock = Instant::now();
            }
        }
        progress.finish_and_clear();
        self.finish()
    }

    /// Probes the model at the current step, records it, returns the valid error. Fails
    /// the run if a loss is not finite.
    fn probe(&mut self, train_loss: Option<f64>) -> Result<f64> {
        let clock = Instant::now();
        let config = self.config;
        let step = self.state.step;
        let scale = InputScale::for_dataset(config.dataset);
        let (valid_loss, valid_errors) = evaluate(&self.model, &self.data.valid, scale);
        let (test_loss, test_errors) = evaluate(&self.model, &self.data.test, scale);
        let probe = probe(
            &mut self.model,
            &self.data.probe_x,
            &self.data.probe_y,
            config.jacobian_examples,
        );
        let rec = &mut self.state.recording;
        if rec.edges.is_empty() {
            rec.edges = initial_edges(&probe, config.activation);
        }
        // Everything measured goes into one device tensor: one transfer per probe.
        let mut parts = vec![
            valid_loss.view([1]),
            valid_errors.to_kind(Kind::Double).view([1]),
            test_loss.view([1]),
            test_errors.to_kind(Kind::Double).view([1]),
            probe.jacobian_sv_mean.shallow_clone(),
        ];
        let edges: Vec<Tensor> = rec
            .edges
            .iter()
            .map(|e| Tensor::from_slice(e).to_device(probe.jacobian_sv_mean.device()))
            .collect();
        for layer in &probe.layers {
            let arrays = [&layer.activation, &layer.preact_grad, &layer.weight_grad];
            for (values, edges) in arrays.into_iter().zip(&edges) {
                parts.push(summary_row(values, edges));
            }
        }
        let row = Vec::<f64>::try_from(Tensor::cat(&parts, 0))?;
        let (valid_n, test_n) = (self.data.valid.n as f64, self.data.test.n as f64);
        let h = &mut rec.history;
        h.step.push(step);
        h.epoch.push(config.epoch(step));
        h.train_loss.push(train_loss.unwrap_or(f64::NAN));
        h.valid_loss.push(row[0] / valid_n);
        h.valid_error.push(row[1] / valid_n);
        h.test_loss.push(row[2] / test_n);
        h.test_error.push(row[3] / test_n);
        let hidden = config.hidden_layers;
        let mut rest = &row[4..];
        for layer in rec.layers.iter_mut() {
            layer.jacobian_sv_mean.push(rest[0]);
            rest = &rest[1..];
        }
        rest = &row[4 + hidden..];
        for layer in rec.layers.iter_mut() {
            for q in 0..QUANTITIES.len() {
                layer.quantities[q].push(&rest[..SCALARS + BINS]);
                rest = &rest[SCALARS + BINS..];
            }
        }
        let losses = [train_loss.unwrap_or(0.0), row[0], row[2]];
        if losses.iter().any(|l| !l.is_finite()) {
            self.state.timing.probe_s += clock.elapsed().as_secs_f64();
            return Err(self.fail(step));
        }
        if config.is_raw_step(step) {
            let weight_grad = step == 0 || step == config.updates;
            self.checkpoint.save_raw(step, &probe, weight_grad)?;
            self.state.recording.raw_steps.push(step);
        }
        self.state.timing.probe_s += clock.elapsed().as_secs_f64();
        Ok(self
            .state
            .recording
            .history
            .valid_error
            .last()
            .copied()
            .unwrap_or(f64::NAN))
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

    fn write_run_h5(&self, status: &str) -> Result<PathBuf> {
        let path = self.options.out.join("run.h5");
        let timing = self.state.timing;
        let timing_json = serde_json::json!({
            "train_s": timing.train_s,
            "probe_s": timing.probe_s,
            "checkpoint_s": timing.checkpoint_s,
            "updates": self.state.step,
        })
        .to_string();
        let info = RunInfo {
            config_json: &serde_json::to_string(self.config)?,
            device: &self.config.device,
            libtorch: LIBTORCH,
            status,
            timing_json: &timing_json,
        };
        let hidden = self.config.hidden_layers;
        write_run_h5(&path, &info, &self.state.recording, |step| {
            self.checkpoint.load_raw(step, hidden)
        })?;
        Ok(path)
    }

    /// Records the failure in `run.h5` and returns the error that ends the run.
    fn fail(&self, step: u64) -> anyhow::Error {
        let reason = format!("non-finite loss at step {step}");
        match self.write_run_h5(&format!("failed: {reason}")) {
            Ok(_) => anyhow::anyhow!("{reason} (learning rate {} too large?)", self.config.lr),
            Err(err) => err.context(reason),
        }
    }

    fn finish(&mut self) -> Result<PathBuf> {
        let clock = Instant::now();
        let path = self.write_run_h5("complete")?;
        if self.options.export_seed_layout {
            let hidden = self.config.hidden_layers;
            export_seed_layout(
                &self.options.out,
                &self.state.recording,
                self.config.updates_per_epoch,
                |step| self.checkpoint.load_raw(step, hidden),
            )?;
        }
        self.checkpoint.remove()?;
        let t = self.state.timing;
        eprintln!(
            "train: {} updates in {:.1} s; probes {:.1} s ({:.1}% of training), checkpoints {:.1} s, final write {:.1} s",
            self.state.step,
            t.train_s,
            t.probe_s,
            100.0 * t.probe_s / t.train_s.max(1e-9),
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
