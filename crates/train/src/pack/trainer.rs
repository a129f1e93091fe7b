//! The one training loop, for K >= 1 models: stacked SGD steps, every model probed with this
//! crate's probe code on its slice of the pack, and a model whose loss goes non-finite ended
//! alone (its `run.h5` says so, the others train on). `train` runs a pack of one through it.
//!
//! Checkpoints ([`super::checkpoint`]) are taken at the regular probes; `--resume` loads every
//! model's into its slice of the pack and goes on from the last round all of them finished. A
//! model that ended before that round has no checkpoint and stays ended.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use spec::dataset_h5::Dataset as DatasetFile;
use spec::RunConfig;
use tch::{Kind, Tensor};

use super::checkpoint::Round;
use super::data::PackBatches;
use super::member::{Layout, Member};
use super::model::PackMlp;
use crate::measure::{measure, record};
use crate::signals;
use crate::source::{self, EvalData};

/// Steps between host reads of the running losses: the cheap non-finite check.
const FINITE_CHECK_EVERY: u64 = 100;

/// What became of one model: the pack's last line lists these.
pub use spec::protocol::PackedRun as Outcome;

/// How a pack starts, where it writes, and when it stops before its end.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Continue every model from its checkpoint instead of starting over.
    pub resume: bool,
    /// Stop after the first checkpoint at or past this update, as a time-sliced job would.
    pub stop_after: Option<u64>,
    /// A non-finite loss is a result, not a failure: the model's run.h5 says `diverged: …`.
    /// Learning-rate trials use it: a rate that diverges has lost.
    pub diverged_ok: bool,
    /// Also write each model's activations.h5 and gradients.h5 in the Keras replication's
    /// layout.
    pub export_seed_layout: bool,
    pub layout: Layout,
}

/// Trains `configs` (a checked pack, one device) into `out` as `options.layout` says; None
/// when it stopped at `options.stop_after`.
pub fn run(
    configs: &[RunConfig],
    file: Option<DatasetFile>,
    out: &Path,
    options: Options,
) -> Result<Option<Vec<Outcome>>> {
    let device = crate::trainer::parse_device(&configs[0].device)?;
    let data = source::load(&configs[0], file, device)?;
    let params: Vec<_> = configs.iter().map(|c| c.params.clone()).collect();
    let pack = PackMlp::new(&params, device);
    let mut members = configs
        .iter()
        .map(|config| Member::create(config, out, options.layout, options.resume))
        .collect::<Result<Vec<_>>>()?;
    let (step, train_s, next_slot) = match options.resume {
        true => resume(&pack, &mut members, out).map_err(|e| spec::cli::cannot_resume(&e))?,
        false => {
            Round::remove(out)?;
            (0, 0.0, 0)
        }
    };
    for member in &members {
        member.write_config()?;
    }
    if options.resume && options.layout == Layout::PerModel {
        let training = members.iter().filter(|m| m.training()).count();
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
        options,
        out: out.to_path_buf(),
        next_slot,
        checkpointed: options.resume.then_some(step),
    };
    if !run.train()? {
        return Ok(None);
    }
    run.finish().map(Some)
}

/// Loads every model's checkpoint of the last whole round into its slice of the pack; the
/// round's step, the pack's training seconds so far and the slot the next round writes. A
/// model without one must have ended before the round: its run.h5 says so, and it stays
/// ended.
fn resume(pack: &PackMlp, members: &mut [Member], out: &Path) -> Result<(u64, f64, usize)> {
    let round = Round::read(out)?;
    let mut train_s = None;
    for (k, member) in members.iter_mut().enumerate() {
        let mut model = pack.model(k);
        let Some(state) = member.slots.load(round, &mut model)? else {
            member.ended = Some(member.ended_before().with_context(|| {
                format!(
                    "no checkpoint to resume from: {} has none of step {} and did not diverge",
                    member.out.display(),
                    round.step
                )
            })?);
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
        member.timing = state.timing;
    }
    let train_s = train_s.with_context(|| {
        format!(
            "no checkpoint to resume from: no model under {} has one of step {}",
            out.display(),
            round.step
        )
    })?;
    // The resume is certain: only now does anything under `out` change.
    for member in members.iter().filter(|m| m.training()) {
        member.slots.clear_older(round)?;
    }
    Ok((round.step, train_s, 1 - round.slot))
}

struct Run {
    data: EvalData,
    pack: PackMlp,
    members: Vec<Member>,
    batches: PackBatches,
    step: u64,
    train_s: f64,
    options: Options,
    out: PathBuf,
    /// The checkpoint slot the next round writes.
    next_slot: usize,
    /// The step of the last whole checkpoint round, if any.
    checkpointed: Option<u64>,
}

impl Run {
    /// Trains to the end (true), or to the first checkpoint at or past `stop_after` (false).
    fn train(&mut self) -> Result<bool> {
        let config = self.members[0].config.clone();
        let params = &config.params;
        let device = self.data.probe_x.device();
        if self.step == 0 && config.is_probe_step(0) {
            self.probe_all(None)?;
        }
        let mut loss_sums = Tensor::zeros([self.pack.len() as i64], (Kind::Double, device));
        let mut since_probe = 0u64;
        let mut clock = Instant::now();
        while self.step < params.updates && self.members.iter().any(Member::training) {
            if let Some(signal) = signals::received() {
                return Err(self.interrupted(&signals::name(signal)));
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
            if totals.iter().any(|t| !t.is_finite()) {
                // A diverged model's run.h5 write is storage, not SGD.
                self.train_s += clock.elapsed().as_secs_f64();
                self.end_non_finite(&totals)?;
                clock = Instant::now();
            }
            if !probe_now {
                continue;
            }
            self.train_s += clock.elapsed().as_secs_f64();
            let examples = (since_probe * params.batch_size as u64) as f64;
            let losses: Vec<f64> = totals.iter().map(|t| t / examples).collect();
            self.probe_all(Some(&losses))?;
            _ = loss_sums.zero_();
            since_probe = 0;
            // Checkpoints only at the regular probes, not at the early ones of steps 100
            // and 1000.
            let regular =
                self.step.is_multiple_of(params.probe_every) || config.is_raw_step(self.step);
            if self.step < params.updates && regular && self.members.iter().any(Member::training) {
                self.save_checkpoints()?;
                if self
                    .options
                    .stop_after
                    .is_some_and(|stop| self.step >= stop)
                {
                    self.write_interrupted()?;
                    let binary = self.options.layout.binary();
                    eprintln!(
                        "{binary}: stopped after step {}; continue with --resume",
                        self.step
                    );
                    return Ok(false);
                }
            }
            clock = Instant::now();
        }
        // The steps since the last probe, when every model ended early.
        self.train_s += clock.elapsed().as_secs_f64();
        Ok(true)
    }

    /// Checkpoints every model still training into the next slot, then names the round.
    fn save_checkpoints(&mut self) -> Result<()> {
        let slot = self.next_slot;
        for k in 0..self.members.len() {
            if self.members[k].training() {
                let model = self.pack.model(k);
                self.members[k].save_checkpoint(slot, &model, self.step, self.train_s)?;
            }
        }
        Round::write(&self.out, self.step, slot)?;
        self.next_slot = 1 - slot;
        self.checkpointed = Some(self.step);
        Ok(())
    }

    /// Every model still training gets a run.h5 that says where a `--resume` continues from,
    /// so nothing reads a stopped run as complete.
    fn write_interrupted(&self) -> Result<()> {
        let Some(step) = self.checkpointed else {
            return Ok(());
        };
        let status = spec::layout::interrupted_status(step);
        for member in self.members.iter().filter(|m| m.training()) {
            member.write_run_h5(&status, self.step)?;
        }
        Ok(())
    }

    /// The error of a run stopped by `signal`, after recording where it can resume from.
    fn interrupted(&self, signal: &str) -> anyhow::Error {
        let written = self.write_interrupted();
        // `train` adds where its checkpoint is kept (`RunDir::kept_note`).
        let resumable = match (self.checkpointed, self.options.layout) {
            (Some(step), Layout::PerModel) => {
                format!(" (continue with --resume, from the checkpoint of step {step})")
            }
            _ => String::new(),
        };
        let err = anyhow::anyhow!("interrupted by {signal} at step {}{resumable}", self.step);
        match written {
            Ok(()) => err,
            Err(write) => write.context(err),
        }
    }

    fn end_non_finite(&mut self, totals: &[f64]) -> Result<()> {
        let (step, diverged_ok) = (self.step, self.options.diverged_ok);
        for (member, total) in self.members.iter_mut().zip(totals) {
            if member.training() && !total.is_finite() {
                member.diverge(step, diverged_ok)?;
                announce(self.options.layout, member);
            }
        }
        Ok(())
    }

    /// Probes every model still training, one at a time on its slice of the pack.
    fn probe_all(&mut self, train_losses: Option<&[f64]>) -> Result<()> {
        let step = self.step;
        for k in 0..self.members.len() {
            if !self.members[k].training() {
                continue;
            }
            let clock = Instant::now();
            let train_loss = train_losses.map(|l| l[k]);
            let member = &mut self.members[k];
            let params = &member.config.params;
            let mut model = self.pack.model(k);
            let rec = &mut member.recording;
            let measured = measure(&mut model, &self.data, params, rec, step)?;
            record(rec, &member.config, step, train_loss, &measured);
            let measured_s = clock.elapsed().as_secs_f64();
            if !(measured.losses_finite() && train_loss.is_none_or(f64::is_finite)) {
                member.diverge(step, self.options.diverged_ok)?;
                announce(self.options.layout, member);
                continue;
            }
            if member.config.is_raw_step(step) {
                let weight_grad = step == 0 || step == params.updates;
                member
                    .checkpoint
                    .save_raw(step, &measured.probe, weight_grad)?;
                member.recording.raw_steps.push(step);
            }
            // Writing a raw snapshot is storage, like a checkpoint, not measurement.
            let timing = &mut member.timing;
            timing.once_s += measured.once_s;
            timing.probe_s += measured_s - measured.once_s;
            timing.checkpoint_s += clock.elapsed().as_secs_f64() - measured_s;
        }
        Ok(())
    }

    /// Writes every surviving model's complete run.h5 and timing.json; says how each ended.
    fn finish(&mut self) -> Result<Vec<Outcome>> {
        let pack_size = self.members.len();
        let clock = Instant::now();
        let mut outcomes = Vec::new();
        // Every complete run.h5 is written before any checkpoint goes: a kill in between
        // leaves a round that every model can still resume from.
        for member in &self.members {
            let status = match &member.ended {
                Some(ended) => ended.clone(),
                None => {
                    let seed_layout = self.options.export_seed_layout;
                    member.finish(self.step, self.train_s, pack_size, seed_layout)?;
                    spec::layout::STATUS_COMPLETE.to_string()
                }
            };
            outcomes.push(Outcome {
                name: member.config.params.pack_member(),
                run_h5: member.out.join("run.h5"),
                status,
            });
        }
        Round::remove(&self.out)?;
        for member in &self.members {
            member.checkpoint.remove()?;
        }
        // A single run that failed says so in its one error line, and nothing else.
        let failed = |o: &Outcome| o.status.starts_with(spec::layout::STATUS_FAILED);
        if self.options.layout == Layout::PerModel || !outcomes.iter().any(failed) {
            self.report(clock.elapsed().as_secs_f64());
        }
        Ok(outcomes)
    }

    /// Where the time went, then each model's final errors: the last lines on stderr.
    fn report(&self, write_s: f64) {
        let sum = |f: fn(&crate::checkpoint::Timing) -> f64| -> f64 {
            self.members.iter().map(|m| f(&m.timing)).sum()
        };
        let (probe_s, once_s, checkpoint_s) = (
            sum(|t| t.probe_s),
            sum(|t| t.once_s),
            sum(|t| t.checkpoint_s),
        );
        let total = self.train_s + probe_s + once_s + checkpoint_s;
        let models = self.members.len();
        eprintln!(
            "{}: {models} model(s) x {} updates: SGD {:.1} s ({:.0} model-updates/s, {:.1}% of the run); probes {:.1} s, initial Jacobians and final evaluation {:.1} s, checkpoints and raw snapshots {:.1} s, final write {:.1} s",
            self.options.layout.binary(),
            self.step,
            self.train_s,
            (models as u64 * self.step) as f64 / self.train_s.max(1e-9),
            100.0 * self.train_s / total.max(1e-9),
            probe_s,
            once_s,
            checkpoint_s,
            write_s
        );
        for member in &self.members {
            eprintln!("{}: {}", self.options.layout.binary(), member.summary());
        }
    }
}

/// A pack says on stderr which model ended early; a single run's error says it instead.
fn announce(layout: Layout, member: &Member) {
    if layout == Layout::PerModel {
        eprintln!(
            "train-pack: {} (learning rate {} too large?)",
            member.summary(),
            member.config.params.lr
        );
    }
}

impl Layout {
    /// The binary that trains this layout, for its stderr lines.
    fn binary(self) -> &'static str {
        match self {
            Layout::PerModel => "train-pack",
            Layout::Single => "train",
        }
    }
}
