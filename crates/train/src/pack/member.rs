//! One model of a pack: its run directory, what it has recorded, its checkpoints, and how it
//! ends (complete, failed, or for a learning-rate trial diverged as a result).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use spec::layout::{failed_status, NON_FINITE, STATUS_DIVERGED, STATUS_FAILED};
use spec::recording::Recording;
use spec::run_h5::{export_seed_layout, write_run_h5, RunInfo};
use spec::RunConfig;
use store::atomic::write_atomic;

use super::checkpoint::Slots;
use crate::checkpoint::{Checkpoint, State, Timing};
use crate::identity;
use crate::model::Mlp;

/// Where the models of a pack write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// `<out>/<run name>/` per model (`train-pack`).
    #[default]
    PerModel,
    /// `<out>/` itself: a pack of one is a single run (`train`).
    Single,
}

/// One model of the pack: where it writes and what it has recorded.
pub(super) struct Member {
    pub config: RunConfig,
    pub out: PathBuf,
    pub recording: Recording,
    /// Holds the raw probe arrays until run.h5 is written; its directory also holds `slots`.
    pub checkpoint: Checkpoint,
    pub slots: Slots,
    pub timing: Timing,
    /// Why it stopped training early: `failed: <reason>` or `diverged: <reason>`.
    pub ended: Option<String>,
}

impl Member {
    /// A model's run directory; a fresh start clears a checkpoint left there, a resume
    /// keeps it. Nothing is written in it until [`Member::write_config`].
    pub fn create(config: &RunConfig, out: &Path, layout: Layout, resume: bool) -> Result<Member> {
        let out = match layout {
            Layout::PerModel => out.join(config.params.pack_member()),
            Layout::Single => out.to_path_buf(),
        };
        let checkpoint = Checkpoint::new(&out);
        if !resume {
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            if checkpoint.dir().exists() {
                checkpoint.remove()?;
            }
            // An earlier run's outputs must not stand beside this run's config.
            for old in ["run.h5", "timing.json"] {
                match std::fs::remove_file(out.join(old)) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    done => {
                        done.with_context(|| format!("cannot remove {old} in {}", out.display()))?;
                    }
                }
            }
        }
        Ok(Member {
            config: config.clone(),
            recording: Recording::new(config.params.hidden_layers),
            checkpoint,
            slots: Slots::new(&out),
            out,
            timing: Timing::default(),
            ended: None,
        })
    }

    /// The typed run config saved beside its outputs (`config.json`), once the run is known
    /// to start or resume.
    pub fn write_config(&self) -> Result<()> {
        let json = serde_json::to_string_pretty(&self.config)?;
        write_atomic(&self.out.join("config.json"), json.as_bytes())
    }

    pub fn training(&self) -> bool {
        self.ended.is_none()
    }

    /// Saves this model (`model`, a view into the pack) and its recording at `step` in
    /// checkpoint `slot`.
    pub fn save_checkpoint(
        &mut self,
        slot: usize,
        model: &Mlp,
        step: u64,
        train_s: f64,
    ) -> Result<()> {
        let clock = Instant::now();
        let state = State {
            config: self.config.clone(),
            step,
            weights_file: String::new(),
            timing: Timing {
                train_s,
                ..self.timing
            },
            recording: self.recording.clone(),
        };
        let saved = self.slots.save(slot, state, model);
        self.timing.checkpoint_s += clock.elapsed().as_secs_f64();
        saved
    }

    /// Writes run.h5 with `status`. Its `timing` attribute holds only the update count:
    /// wall-clock seconds go to `timing.json`, so that the same run gives the same bytes.
    pub fn write_run_h5(&self, status: &str, step: u64) -> Result<PathBuf> {
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

    /// Ends this model with a non-finite loss at `step`: its run.h5 says `diverged: …` when
    /// that is a result (`diverged_ok`), else `failed: …`. The checkpoint goes: resuming
    /// from it would diverge again.
    pub fn diverge(&mut self, step: u64, diverged_ok: bool) -> Result<()> {
        let reason = format!("{NON_FINITE}{step}");
        let status = match diverged_ok {
            true => format!("{STATUS_DIVERGED}{reason}"),
            false => failed_status(&reason),
        };
        self.write_run_h5(&status, step)?;
        self.checkpoint.remove()?;
        self.ended = Some(status);
        Ok(())
    }

    /// The complete run.h5 (and the seed layout when asked) and timing.json; the caller removes
    /// the checkpoint once every model is finished.
    pub fn finish(
        &self,
        step: u64,
        train_s: f64,
        pack_size: usize,
        seed_layout: bool,
    ) -> Result<()> {
        self.write_run_h5(spec::layout::STATUS_COMPLETE, step)?;
        let hidden = self.config.params.hidden_layers;
        if seed_layout {
            export_seed_layout(
                &self.out,
                &self.recording,
                self.config.updates_per_epoch,
                |s| self.checkpoint.load_raw(s, hidden),
            )?;
        }
        let t = self.timing;
        let timing = serde_json::json!({
            "train_s": train_s,
            "probe_s": t.probe_s,
            "once_s": t.once_s,
            "checkpoint_s": t.checkpoint_s,
            "updates": step,
            "pack_size": pack_size,
        });
        write_atomic(&self.out.join("timing.json"), timing.to_string().as_bytes())
    }

    /// Why a model without a checkpoint of the round being resumed ended, from its run.h5:
    /// it must have diverged (or failed on a non-finite loss) before that round.
    pub fn ended_before(&self) -> Option<String> {
        let status = spec::run_h5::RunFile::open(&self.out.join("run.h5"))
            .and_then(|file| file.status())
            .ok()?;
        let reason = status
            .strip_prefix(STATUS_FAILED)
            .or_else(|| status.strip_prefix(STATUS_DIVERGED))?;
        reason.starts_with(NON_FINITE).then_some(status)
    }

    /// The last line this model's end gives on stderr: its final errors, or how it ended.
    pub fn summary(&self) -> String {
        let name = self.config.params.name();
        if let Some(ended) = &self.ended {
            return format!("{name}: {ended}");
        }
        let last = |column: &[f64]| {
            column
                .last()
                .map_or_else(|| "n/a".into(), |e| format!("{:.2}%", 100.0 * e))
        };
        let history = &self.recording.history;
        format!(
            "{name}: final validation error {}, test error {}",
            last(&history.valid_error),
            last(&history.test_error)
        )
    }
}
