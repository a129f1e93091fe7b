//! The run config recorded in every `run.h5` (attribute `config`), and the selector that
//! figures use to pick runs: (dataset, activation, init, hidden layers), never a path.

use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    Shapeset,
    Mnist,
    Cifar10,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Sigmoid,
    Tanh,
    Softsign,
    Relu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    Standard,
    #[serde(alias = "xavier")]
    Normalized,
}

impl Dataset {
    pub const ALL: [Dataset; 3] = [Dataset::Shapeset, Dataset::Mnist, Dataset::Cifar10];

    pub fn id(self) -> &'static str {
        match self {
            Dataset::Shapeset => "shapeset",
            Dataset::Mnist => "mnist",
            Dataset::Cifar10 => "cifar10",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Dataset::Shapeset => "Shapeset-3x2",
            Dataset::Mnist => "MNIST",
            Dataset::Cifar10 => "CIFAR-10",
        }
    }
}

impl Activation {
    pub const ALL: [Activation; 4] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softsign,
        Activation::Relu,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softsign => "softsign",
            Activation::Relu => "relu",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Activation::Sigmoid => "Sigmoid",
            Activation::Tanh => "Tanh",
            Activation::Softsign => "Softsign",
            Activation::Relu => "ReLU",
        }
    }
}

impl Init {
    pub const ALL: [Init; 2] = [Init::Standard, Init::Normalized];

    pub fn id(self) -> &'static str {
        match self {
            Init::Standard => "standard",
            Init::Normalized => "normalized",
        }
    }
}

/// The fields of the run config that figures use; unknown fields are ignored so the trainer
/// may record more without breaking this reader.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunConfig {
    pub dataset: Dataset,
    pub activation: Activation,
    pub init: Init,
    pub hidden_layers: usize,
    pub width: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub updates: u64,
    pub seed: u64,
    pub updates_per_epoch: u64,
}

impl RunConfig {
    pub fn selector(&self) -> Selector {
        Selector {
            dataset: self.dataset,
            activation: self.activation,
            init: self.init,
            hidden_layers: self.hidden_layers,
        }
    }

    /// Everything except the seed: runs that agree on this are seeds of one experiment.
    pub fn variant(&self) -> String {
        format!(
            "width {} batch {} lr {} updates {}",
            self.width, self.batch_size, self.lr, self.updates
        )
    }
}

/// What a figure asks for. Seeds of the same selector are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    pub dataset: Dataset,
    pub activation: Activation,
    pub init: Init,
    pub hidden_layers: usize,
}

impl Selector {
    pub fn new(dataset: Dataset, activation: Activation, init: Init, hidden_layers: usize) -> Self {
        Selector {
            dataset,
            activation,
            init,
            hidden_layers,
        }
    }

    /// The paper's row name in Table 1: "Tanh", "Tanh N".
    pub fn short_name(&self) -> String {
        match self.init {
            Init::Standard => self.activation.title().to_string(),
            Init::Normalized => format!("{} N", self.activation.title()),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{} hidden layers",
            self.dataset.id(),
            self.activation.id(),
            self.init.id(),
            self.hidden_layers
        )
    }
}
