//! The run configuration: what a run is, as recorded in `config.json` and the `config`
//! attribute of `run.h5` (ARCHITECTURE.md "Run config"). Figures select runs on it.

use anyhow::{bail, Result};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// Updates per "epoch" on the infinite Shapeset stream (the original replication's choice).
pub const SHAPESET_EPOCH_UPDATES: u64 = 20_000;

/// Examples of the test set probed for activations and gradients (the paper's 300).
pub const PROBE_EXAMPLES: usize = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetName {
    Shapeset,
    Mnist,
    Cifar10,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Sigmoid,
    Tanh,
    Softsign,
    Relu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// Eq. 1: U[-1/sqrt(fan_in), 1/sqrt(fan_in)].
    Standard,
    /// Eq. 16 ("Xavier"): U[-sqrt(6/(fan_in+fan_out)), +sqrt(6/(fan_in+fan_out))].
    #[value(alias = "xavier")]
    Normalized,
}

impl Activation {
    /// The learning rate used when `--lr` is not given. The paper tuned it on validation
    /// error for each setting; these are untuned starting points for batch 10: sigmoid's
    /// back-propagated gradients are about 4x smaller (its slope is at most 1/4), so it
    /// gets a 10x larger step.
    pub fn default_lr(self) -> f64 {
        match self {
            Activation::Sigmoid => 0.1,
            Activation::Tanh | Activation::Softsign | Activation::Relu => 0.01,
        }
    }
}

impl DatasetName {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Shapeset => "shapeset",
            DatasetName::Mnist => "mnist",
            DatasetName::Cifar10 => "cifar10",
        }
    }
}

/// One training run, fully resolved (no "auto" left in it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub dataset: DatasetName,
    pub activation: Activation,
    pub init: Init,
    pub hidden_layers: usize,
    pub width: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub updates: u64,
    pub seed: u64,
    pub probe_every: u64,
    pub updates_per_epoch: u64,
    /// The resolved device, `cpu` or `cuda:N`.
    pub device: String,
    pub data: Option<String>,
    /// The store key of the dataset, when `data` lies in a store entry directory.
    pub data_key: Option<String>,
    /// Probe examples whose Jacobian singular values are averaged (the first K of the 300).
    pub jacobian_examples: usize,
    /// Raw activation and gradient arrays are kept at every this-many epoch boundaries.
    pub raw_every_epochs: u64,
}

impl RunConfig {
    pub fn validate(&self) -> Result<()> {
        if !(1..=5).contains(&self.hidden_layers) {
            bail!(
                "--hidden-layers must be in 1..=5, got {}",
                self.hidden_layers
            );
        }
        if self.width == 0 || self.batch_size == 0 {
            bail!("--width and --batch-size must be positive");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("--lr must be a positive number, got {}", self.lr);
        }
        if self.updates == 0 || self.probe_every == 0 || self.updates_per_epoch == 0 {
            bail!("--updates, --probe-every and the epoch length must be positive");
        }
        if self.jacobian_examples > PROBE_EXAMPLES {
            bail!(
                "--jacobian-examples must be at most {PROBE_EXAMPLES}, got {}",
                self.jacobian_examples
            );
        }
        if self.raw_every_epochs == 0 {
            bail!("--raw-every-epochs must be positive");
        }
        Ok(())
    }

    /// Input dimension of the first layer for this dataset.
    pub fn input_dim(&self) -> usize {
        match self.dataset {
            DatasetName::Shapeset => 1024,
            DatasetName::Mnist => 784,
            DatasetName::Cifar10 => 3072,
        }
    }

    pub fn classes(&self) -> usize {
        match self.dataset {
            DatasetName::Shapeset => 9,
            DatasetName::Mnist | DatasetName::Cifar10 => 10,
        }
    }

    /// Layer sizes from input to output, e.g. `[1024, 1000, 1000, 9]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.input_dim()];
        sizes.extend(std::iter::repeat_n(self.width, self.hidden_layers));
        sizes.push(self.classes());
        sizes
    }

    /// Steps at which the model is probed: 0, 1, 10, 100, 1000, every `probe_every`, the
    /// raw-snapshot epoch boundaries and the last step.
    pub fn is_probe_step(&self, step: u64) -> bool {
        step <= self.updates
            && (matches!(step, 0 | 1 | 10 | 100 | 1000)
                || step.is_multiple_of(self.probe_every)
                || self.is_raw_step(step))
    }

    /// Probes that keep raw arrays: step 0, the last step and every `raw_every_epochs`-th
    /// epoch boundary.
    pub fn is_raw_step(&self, step: u64) -> bool {
        step == 0
            || step == self.updates
            || step.is_multiple_of(self.updates_per_epoch * self.raw_every_epochs)
    }

    pub fn epoch(&self, step: u64) -> f64 {
        step as f64 / self.updates_per_epoch as f64
    }
}
