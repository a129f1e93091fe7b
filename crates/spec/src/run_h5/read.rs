//! Reads one `run.h5` (layout documented in `run_h5::write`, paths from `crate::layout`).
//! Reading is lazy: a figure opens only what it draws. Every number is read as f64/f32
//! whatever the stored type: HDF5 converts on read.

use anyhow::{Context, Result};
use hdf5::types::VarLenUnicode;
use std::path::Path;

use crate::layout::{self, attr, Quantity};
use crate::run::RunConfig;
use crate::selection::Trial;

/// `history/*`: one row per probe. Errors are fractions in [0, 1].
#[derive(Debug, Clone)]
pub struct History {
    pub step: Vec<f64>,
    pub test_error: Vec<f64>,
    pub valid_error: Vec<f64>,
}

/// `stats/layer<k>/<q>/*` over the probes `stats/step`.
#[derive(Debug, Clone)]
pub struct LayerStats {
    pub step: Vec<f64>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub p02: Vec<f64>,
    pub p98: Vec<f64>,
}

/// `predictions/*`: one probe's per-example test predictions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Predictions {
    pub step: u64,
    pub predicted: Vec<u8>,
    pub label: Vec<u8>,
}

impl Predictions {
    /// Per test example: whether it was classified correctly.
    pub fn correct(&self) -> Vec<bool> {
        self.predicted
            .iter()
            .zip(&self.label)
            .map(|(p, l)| p == l)
            .collect()
    }
}

/// An open recording.
pub struct Recording {
    file: hdf5::File,
}

impl Recording {
    pub fn open(path: &Path) -> Result<Recording> {
        let file = hdf5::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(Recording { file })
    }

    pub fn text_attr(&self, name: &str) -> Result<String> {
        let attr = self
            .file
            .attr(name)
            .with_context(|| format!("root attribute {name:?} missing"))?;
        let value: VarLenUnicode = attr
            .read_scalar()
            .with_context(|| format!("root attribute {name:?} is not a unicode string"))?;
        Ok(value.as_str().to_string())
    }

    /// The `status` attribute: `complete` or `failed: <reason>`.
    pub fn status(&self) -> Result<String> {
        self.text_attr(attr::STATUS)
    }

    /// The whole-set validation error of the last probe of a complete run; None for a run
    /// that is not complete (a diverged trial) or whose error is not finite. What a
    /// learning-rate selection scores ([`crate::selection`]).
    pub fn final_valid_error(&self) -> Result<Option<f64>> {
        if self.status()? != crate::layout::STATUS_COMPLETE {
            return Ok(None);
        }
        let errors = self.history()?.valid_error;
        Ok(errors.last().copied().filter(|e| e.is_finite()))
    }

    /// This run as a learning-rate trial: its rate, its seed and [`Self::final_valid_error`].
    /// What `train select` chooses from and what the lr-select figure draws.
    pub fn trial(&self) -> Result<Trial> {
        let config = self.config()?;
        Ok(Trial {
            init: config.params.init,
            lr: config.params.lr,
            seed: config.params.seed,
            valid_error: self.final_valid_error()?,
            valid_examples: self.valid_examples(),
        })
    }

    /// The run's config, as recorded in the `config` attribute.
    pub fn config(&self) -> Result<RunConfig> {
        let json = self.text_attr(attr::CONFIG)?;
        serde_json::from_str(&json).context("invalid config attribute")
    }

    fn vector(&self, name: &str) -> Result<Vec<f64>> {
        self.file
            .dataset(name)
            .and_then(|d| d.read_raw::<f64>())
            .with_context(|| format!("reading dataset {name}"))
    }

    pub fn history(&self) -> Result<History> {
        Ok(History {
            step: self.vector(layout::HISTORY_STEP)?,
            test_error: self.vector(&layout::history("test_error"))?,
            valid_error: self.vector(&layout::history("valid_error"))?,
        })
    }

    pub fn layer_stats(&self, layer: usize, quantity: Quantity) -> Result<LayerStats> {
        let column = |name: &str| self.vector(&layout::stat(layer, quantity, name));
        Ok(LayerStats {
            step: self.vector(layout::STATS_STEP)?,
            mean: column("mean")?,
            std: column("std")?,
            p02: column("p02")?,
            p98: column("p98")?,
        })
    }

    /// Mean singular value of the Jacobian from layer k to layer k+1, per probe.
    pub fn jacobian_sv_mean(&self, layer: usize) -> Result<Vec<f64>> {
        self.vector(&layout::jacobian_sv_mean(layer))
    }

    /// Std over the Jacobian examples of each one's mean singular value, per probe.
    pub fn jacobian_sv_spread(&self, layer: usize) -> Result<Vec<f64>> {
        self.vector(&layout::jacobian_sv_spread(layer))
    }

    /// The latest probe's per-example test predictions (the final test pass of a complete run).
    pub fn test_predictions(&self) -> Result<Predictions> {
        let read_u8 = |name: &str| {
            self.file
                .dataset(name)
                .and_then(|d| d.read_raw::<u8>())
                .with_context(|| format!("reading dataset {name}"))
        };
        let step = self
            .file
            .dataset(layout::PREDICTIONS_STEP)
            .and_then(|d| d.read_raw::<u64>())
            .with_context(|| format!("reading dataset {}", layout::PREDICTIONS_STEP))?;
        let predictions = Predictions {
            step: step.first().copied().context("predictions/step is empty")?,
            predicted: read_u8(layout::PREDICTIONS_TEST)?,
            label: read_u8(layout::PREDICTIONS_TEST_LABEL)?,
        };
        anyhow::ensure!(
            predictions.predicted.len() == predictions.label.len(),
            "predictions/test has {} values, predictions/test_label {}",
            predictions.predicted.len(),
            predictions.label.len()
        );
        Ok(predictions)
    }

    /// How many examples the last probe validated on (the whole validation set, recorded as
    /// `predictions/valid_examples`); None when not recorded. The learning-rate selection's
    /// noise test needs it ([`crate::selection`]).
    pub fn valid_examples(&self) -> Option<u64> {
        let values = self
            .file
            .dataset(layout::PREDICTIONS_VALID_EXAMPLES)
            .ok()?
            .read_raw::<u64>()
            .ok()?;
        values.first().copied().filter(|&n| n > 0)
    }

    /// Steps that have raw snapshots (`raw/step<s>`), ascending.
    pub fn raw_steps(&self) -> Result<Vec<u64>> {
        let names = self
            .file
            .group(layout::RAW)
            .and_then(|g| g.member_names())
            .context("reading group raw")?;
        let mut steps: Vec<u64> = names
            .iter()
            .filter_map(|n| layout::parse_raw_step(n))
            .collect();
        steps.sort_unstable();
        Ok(steps)
    }

    /// Every value of a raw snapshot, flattened (`[300, width]` or `[fan_in, width]`).
    pub fn raw(&self, step: u64, layer: usize, quantity: Quantity) -> Result<Vec<f32>> {
        let name = layout::raw(step, layer, quantity);
        self.file
            .dataset(&name)
            .and_then(|d| d.read_raw::<f32>())
            .with_context(|| format!("reading dataset {name}"))
    }
}
