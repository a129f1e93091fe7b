//! Reads the datasets of one `run.h5` (layout: ARCHITECTURE.md, documented in
//! crates/train/src/record.rs). Every number is read as f64/f32 whatever the stored type:
//! HDF5 converts on read.

use anyhow::{Context, Result};
use hdf5::types::VarLenUnicode;
use std::path::Path;

/// The three per-layer quantities the trainer probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Activation,
    PreactGrad,
    WeightGrad,
}

impl Quantity {
    pub fn id(self) -> &'static str {
        match self {
            Quantity::Activation => "activation",
            Quantity::PreactGrad => "preact_grad",
            Quantity::WeightGrad => "weight_grad",
        }
    }
}

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
    pub p98: Vec<f64>,
}

/// An open recording. Reading is lazy: a figure opens only what it draws.
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

    fn vector(&self, name: &str) -> Result<Vec<f64>> {
        self.file
            .dataset(name)
            .and_then(|d| d.read_raw::<f64>())
            .with_context(|| format!("reading dataset {name}"))
    }

    pub fn history(&self) -> Result<History> {
        Ok(History {
            step: self.vector("history/step")?,
            test_error: self.vector("history/test_error")?,
            valid_error: self.vector("history/valid_error")?,
        })
    }

    pub fn layer_stats(&self, layer: usize, quantity: Quantity) -> Result<LayerStats> {
        let base = format!("stats/layer{layer}/{}", quantity.id());
        Ok(LayerStats {
            step: self.vector("stats/step")?,
            mean: self.vector(&format!("{base}/mean"))?,
            std: self.vector(&format!("{base}/std"))?,
            p98: self.vector(&format!("{base}/p98"))?,
        })
    }

    /// Mean singular value of the Jacobian from layer k to layer k+1, per probe.
    pub fn jacobian_sv_mean(&self, layer: usize) -> Result<Vec<f64>> {
        self.vector(&format!("stats/layer{layer}/jacobian_sv_mean"))
    }

    /// Steps that have raw snapshots (`raw/step<s>`), ascending.
    pub fn raw_steps(&self) -> Result<Vec<u64>> {
        let names = self
            .file
            .group("raw")
            .and_then(|g| g.member_names())
            .context("reading group raw")?;
        let mut steps: Vec<u64> = names
            .iter()
            .filter_map(|n| n.strip_prefix("step")?.parse().ok())
            .collect();
        steps.sort_unstable();
        Ok(steps)
    }

    /// Every value of a raw snapshot, flattened (`[300, width]` or `[fan_in, width]`).
    pub fn raw(&self, step: u64, layer: usize, quantity: Quantity) -> Result<Vec<f32>> {
        let name = format!("raw/step{step}/layer{layer}/{}", quantity.id());
        self.file
            .dataset(&name)
            .and_then(|d| d.read_raw::<f32>())
            .with_context(|| format!("reading dataset {name}"))
    }
}
