//! A pack from start to one `run.h5` per model: stacked SGD steps, every model probed with
//! train's probe code on its slice of the pack, and a model whose loss goes non-finite
//! failed alone (its `run.h5` says so, the others train on).
//!
//! Checkpoints ([`crate::checkpoint`]) are taken at the steps train takes them; `--resume`
//! loads every model's into its slice of the pack and goes on from the last round all of them
//! finished. A model that failed before that round has no checkpoint and stays failed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};
use spec::dataset_h5::Dataset as DatasetFile;
use spec::recording::Recording;
use spec::run_h5::{write_run_h5, RunInfo};
use spec::RunConfig;
use store::atomic::write_atomic;
use tch::{Device, Kind, Tensor};
use train::checkpoint::{Checkpoint, State, Timing};
use train::model::Mlp;
use train::source::{self, EvalData};
use train::trainer::parse_device;
use train::{identity, signals};

use crate::checkpoint::{Round, Slots};
use crate::data::PackBatches;
use crate::model::PackMlp;
use train::measure::{measure, record};

/// Steps between host reads of the running losses, as in train: the non-finite check.
const FINITE_CHECK_EVERY: u64 = 100;

/// What became of one model: the pack's last line lists these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// `RunParams::name()`, also its directory under `--out`.
    pub name: String,
    pub run_h5: PathBuf,
    /// `complete` or `failed: <reason>`, as the `status` attribute of its run.h5.
    pub status: String,
}

/// How a pack starts, and when it stops before its end.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Continue every model from its checkpoint instead of starting over.
    pub resume: bool,
    /// Stop after the first checkpoint at or past this update (train's `--stop-after`).
    pub stop_after: Option<u64>,
}

/// One model of the pack: where it writes and what it has recorded.
struct Member {
    config: RunConfig,
    out: PathBuf,
    recording: Recording,
    /// Holds the raw probe arrays until run.h5 is written (train's own layout); its
    /// directory also holds `slots`.
    checkpoint: Checkpoint,
    slots: Slots,
    probe_s: f64,
    checkpoint_s: f64,
    failed: Option<String>,
}

/// Trains `configs` (a checked pack, one device) into `<out>/<name>/` each; None when it
/// stopped at `options.stop_after`.
pub fn run(
    configs: &[RunConfig],
    file: Option<DatasetFile>,
    out: &Path,
    options: Options,
) -> Result<Option<Vec<Outcome>>> {
    let device = parse_device(&configs[0].device)?;
    let data = source::load(&configs[0], file, device)?;
    let params: Vec<_> = configs.iter().map(|c| c.params.clone()).collect();
    let pack = PackMlp::new(&params, device);
    let mut members = configs
        .iter()
        .map(|config| Member::create(config, out, options.resume))
        .collect::<Result<Vec<_>>>()?;
    let (step, train_s, next_slot) = match options.resume {
        true => resume(&pack, &mut members, out)?,
        false => {
            Round::remove(out)?;
            (0, 0.0, 0)
        }
    };
    if options.resume {
        let training = members.iter().filter(|m| m.failed.is_none()).count();
        eprintln!("train-pack: resuming {training} models from their checkpoints of step {step}");
    }
    let batches = PackBatches::new(configs, data.train.as_ref(), step, device);
    let mut run = Run {
        data,
        pack,
        members,
        batches,
        step,
        train_s,
        stop_after: options.stop_after,
        out: out.to_path_buf(),
        next_slot,
    };
    if !run.train()? {
        return Ok(None);
    }
    run.finish().map(Some)
}

/// Loads every model's checkpoint of the last whole round into its slice of the pack; the
/// round's step, the pack's training seconds so far and the slot the next round writes. A
/// model without one must have failed before the round: its run.h5 says so, and it stays
/// failed.
fn resume(pack: &PackMlp, members: &mut [Member], out: &Path) -> Result<(u64, f64, usize)> {
    let round = Round::read(out)?;
    let mut train_s = None;
    for (k, member) in members.iter_mut().enumerate() {
        let mut model = pack.model(k);
        let Some(state) = member.slots.load(round, &mut model)? else {
            member.failed = Some(failure_of(member, round)?);
            continue;
        };
        ensure!(
            state.config == member.config,
            "the checkpoint in {} was made by a different config: {}",
            member.out.display(),
            serde_json::to_string(&state.config)?
        );
        train_s.get_or_insert(state.timing.train_s);
        member.recording = state.recording;
        member.probe_s = state.timing.probe_s;
        member.checkpoint_s = state.timing.checkpoint_s;
    }
    let train_s = train_s.with_context(|| {
        format!(
            "no checkpoint to resume from: no model under {} has one of step {}",
            out.display(),
            round.step
        )
    })?;
    Ok((round.step, train_s, 1 - round.slot))
}

/// Why a model without a checkpoint of `round` failed, from its run.h5; an error when it did
/// not fail.
fn failure_of(member: &Member, round: Round) -> Result<String> {
    let path = member.out.join("run.h5");
    let status = spec::run_h5::RunFile::open(&path)
        .and_then(|file| file.status())
        .ok();
    // What `Member::fail` wrote: `failed: non-finite loss at step <s>`.
    let reason = status
        .as_deref()
        .and_then(|s| s.strip_prefix("failed: "))
        .filter(|reason| reason.starts_with("non-finite"));
    match reason {
        Some(reason) => Ok(reason.to_string()),
        None => bail!(
            "no checkpoint to resume from: {} has none of step {} and did not fail",
            member.out.display(),
            round.step
        ),
    }
}

impl Member {
    /// A model's run directory; a fresh start clears a checkpoint left there, a resume
    /// keeps it.
    fn create(config: &RunConfig, out: &Path, resume: bool) -> Result<Member> {
        let out = out.join(config.params.name());
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        let checkpoint = Checkpoint::new(&out);
        if !resume && checkpoint.dir().exists() {
            checkpoint.remove()?;
        }
        let json = serde_json::to_string_pretty(config)?;
        write_atomic(&out.join("config.json"), json.as_bytes())?;
        Ok(Member {
            config: config.clone(),
            recording: Recording::new(config.params.hidden_layers),
            checkpoint,
            slots: Slots::new(&out),
            out,
            probe_s: 0.0,
            checkpoint_s: 0.0,
            failed: None,
        })
    }

    /// Saves this model (`model`, a view into the pack) and its recording at `step` in
    /// checkpoint `slot`.
    fn save_checkpoint(&mut self, slot: usize, model: &Mlp, step: u64, train_s: f64) -> Result<()> {
        let clock = Instant::now();
        let state = State {
            config: self.config.clone(),
            step,
            weights_file: String::new(),
            timing: Timing {
                train_s,
                probe_s: self.probe_s,
                once_s: 0.0,
                checkpoint_s: self.checkpoint_s,
            },
            recording: self.recording.clone(),
        };
        let saved = self.slots.save(slot, state, model);
        self.checkpoint_s += clock.elapsed().as_secs_f64();
        saved
    }

    /// Writes run.h5 with `status`; `timing` holds only the update count, as train's.
    fn write_run_h5(&self, status: &str, step: u64) -> Result<PathBuf> {
        let path = self.out.join("run.h5");
        let timing_json = serde_json::json!({ "updates": step }).to_string();
        let info = RunInfo {
            config_json: &serde_json::to_string(&self.config)?,
            device: &self.config.device,
            libtorch: &identity::libtorch_attr(),
            status,
            timing_json: &timing_json,
        };
        let hidden = self.config.params.hidden_layers;
        write_run_h5(&path, &info, &self.recording, |s| {
            self.checkpoint.load_raw(s, hidden)
        })?;
        Ok(path)
    }

    /// Ends this model with a non-finite loss at `step`, as a single run would.
    fn fail(&mut self, step: u64) -> Result<()> {
        let reason = format!("non-finite loss at step {step}");
        self.write_run_h5(&format!("failed: {reason}"), step)?;
        if self.checkpoint.dir().exists() {
            self.checkpoint.remove()?;
        }
        eprintln!(
            "train-pack: {}: {reason} (learning rate {} too large?)",
            self.config.params.name(),
            self.config.params.lr
        );
        self.failed = Some(reason);
        Ok(())
    }
}

struct Run {
    data: EvalData,
    pack: PackMlp,
    members: Vec<Member>,
    batches: PackBatches,
    step: u64,
    train_s: f64,
    stop_after: Option<u64>,
    out: PathBuf,
    /// The checkpoint slot the next round writes.
    next_slot: usize,
}

impl Run {
    /// Trains to the end (true), or to the first checkpoint at or past `stop_after` (false).
    fn train(&mut self) -> Result<bool> {
        let config = self.members[0].config.clone();
        let params = &config.params;
        let device = self.data.probe_x.device();
        if self.step == 0 {
            self.probe_all(None)?;
        }
        let mut loss_sums = Tensor::zeros([self.pack.len() as i64], (Kind::Double, device));
        let mut since_probe = 0u64;
        let mut clock = Instant::now();
        while self.step < params.updates {
            if let Some(signal) = signals::received() {
                let resumable = Round::read(&self.out).is_ok();
                bail!(
                    "interrupted by {} at step {}{}",
                    signals::name(signal),
                    self.step,
                    if resumable {
                        " (continue from the last checkpoint with --resume)"
                    } else {
                        ""
                    }
                );
            }
            let (x, y) = self.batches.next_batch();
            loss_sums += self.pack.sgd_step(&x, &y);
            self.step += 1;
            since_probe += 1;
            let probe_now = config.is_probe_step(self.step);
            if !probe_now && !self.step.is_multiple_of(FINITE_CHECK_EVERY) {
                continue;
            }
            // The one host read of the running losses: the finite checks and train losses.
            let totals = Vec::<f64>::try_from(&loss_sums).context("reading the losses")?;
            self.fail_non_finite(&totals)?;
            if !probe_now {
                continue;
            }
            self.train_s += clock.elapsed().as_secs_f64();
            let examples = (since_probe * params.batch_size as u64) as f64;
            let losses: Vec<f64> = totals.iter().map(|t| t / examples).collect();
            self.probe_all(Some(&losses))?;
            _ = loss_sums.zero_();
            since_probe = 0;
            // Train's checkpoint steps: the regular probes, not the early ones.
            let regular =
                self.step.is_multiple_of(params.probe_every) || config.is_raw_step(self.step);
            if self.step < params.updates && regular {
                self.save_checkpoints()?;
                if self.stop_after.is_some_and(|stop| self.step >= stop) {
                    eprintln!(
                        "train-pack: stopped after step {}; continue with --resume",
                        self.step
                    );
                    return Ok(false);
                }
            }
            clock = Instant::now();
        }
        Ok(true)
    }

    /// Checkpoints every model still training into the next slot, then names the round.
    fn save_checkpoints(&mut self) -> Result<()> {
        let slot = self.next_slot;
        for k in 0..self.members.len() {
            if self.members[k].failed.is_none() {
                let model = self.pack.model(k);
                self.members[k].save_checkpoint(slot, &model, self.step, self.train_s)?;
            }
        }
        Round::write(&self.out, self.step, slot)?;
        self.next_slot = 1 - slot;
        Ok(())
    }

    fn fail_non_finite(&mut self, totals: &[f64]) -> Result<()> {
        let step = self.step;
        for (member, total) in self.members.iter_mut().zip(totals) {
            if member.failed.is_none() && !total.is_finite() {
                member.fail(step)?;
            }
        }
        Ok(())
    }

    /// Probes every model still training, one at a time on its slice of the pack.
    fn probe_all(&mut self, train_losses: Option<&[f64]>) -> Result<()> {
        let step = self.step;
        for k in 0..self.members.len() {
            if self.members[k].failed.is_some() {
                continue;
            }
            let clock = Instant::now();
            let train_loss = train_losses.map(|l| l[k]);
            let member = &mut self.members[k];
            let params = &member.config.params;
            let mut model = self.pack.model(k);
            let measured = measure(&mut model, &self.data, params, &mut member.recording, step)?;
            record(
                &mut member.recording,
                &member.config,
                step,
                train_loss,
                &measured,
            );
            if !(measured.losses_finite() && train_loss.is_none_or(f64::is_finite)) {
                member.fail(step)?;
            } else if member.config.is_raw_step(step) {
                let weight_grad = step == 0 || step == params.updates;
                member
                    .checkpoint
                    .save_raw(step, &measured.probe, weight_grad)?;
                member.recording.raw_steps.push(step);
            }
            member.probe_s += clock.elapsed().as_secs_f64();
        }
        Ok(())
    }

    /// Writes every surviving model's complete run.h5 and timing.json.
    fn finish(&mut self) -> Result<Vec<Outcome>> {
        let pack_size = self.members.len();
        let mut outcomes = Vec::new();
        for member in &self.members {
            let status = match &member.failed {
                Some(reason) => format!("failed: {reason}"),
                None => {
                    member.write_run_h5(spec::layout::STATUS_COMPLETE, self.step)?;
                    member.checkpoint.remove()?;
                    let timing = serde_json::json!({
                        "train_s": self.train_s,
                        "probe_s": member.probe_s,
                        "checkpoint_s": member.checkpoint_s,
                        "updates": self.step,
                        "pack_size": pack_size,
                    });
                    write_atomic(
                        &member.out.join("timing.json"),
                        timing.to_string().as_bytes(),
                    )?;
                    spec::layout::STATUS_COMPLETE.to_string()
                }
            };
            outcomes.push(Outcome {
                name: member.config.params.name(),
                run_h5: member.out.join("run.h5"),
                status,
            });
        }
        Round::remove(&self.out)?;
        let probe_s: f64 = self.members.iter().map(|m| m.probe_s).sum();
        eprintln!(
            "train-pack: {pack_size} models x {} updates in {:.1} s ({:.0} model-updates/s); probes {:.1} s ({:.1}% of training)",
            self.step,
            self.train_s,
            (pack_size as u64 * self.step) as f64 / self.train_s.max(1e-9),
            probe_s,
            100.0 * probe_s / self.train_s.max(1e-9)
        );
        Ok(outcomes)
    }
}

/// The device a pack runs on, checked to exist.
pub fn device(name: &str) -> Result<Device> {
    let device = parse_device(name)?;
    if let Device::Cuda(index) = device {
        let count = tch::Cuda::device_count();
        anyhow::ensure!(
            (index as i64) < count,
            "device cuda:{index} requested but {count} CUDA device(s) are visible"
        );
    }
    Ok(device)
}
