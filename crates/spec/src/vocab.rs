//! The paper's nouns: datasets, activations and initializations. Each is declared here and
//! nowhere else; command lines (clap), files (serde) and prose (Display, `title`) all spell
//! them from these definitions.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    /// The Shapeset-3x2 online stream (32x32 grey, 9 classes).
    Shapeset,
    /// MNIST, 50k/10k/10k.
    Mnist,
    /// CIFAR-10, 40k/10k/10k.
    Cifar10,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Sigmoid,
    Tanh,
    Softsign,
    /// max(0, x): not in the paper; the activation He et al. (2015) designed their init for.
    Relu,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// Eq. 1: W ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)].
    Standard,
    /// Eq. 16 ("Xavier"): W ~ U[-sqrt(6/(fan_in+fan_out)), +sqrt(6/(fan_in+fan_out))].
    #[value(alias = "xavier")]
    #[serde(alias = "xavier")]
    Normalized,
    /// He et al. (2015), the paper's sequel for ReLU: W ~ N(0, 2/fan_in).
    He,
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

    /// Inputs per example.
    pub fn input_dim(self) -> usize {
        match self {
            Dataset::Shapeset => 1024,
            Dataset::Mnist => 784,
            Dataset::Cifar10 => 3072,
        }
    }

    pub fn classes(self) -> usize {
        match self {
            Dataset::Shapeset => 9,
            Dataset::Mnist | Dataset::Cifar10 => 10,
        }
    }

    /// Whether the dataset is a fixed download (`fetch`) rather than generated (`shapeset`).
    pub fn is_downloaded(self) -> bool {
        !matches!(self, Dataset::Shapeset)
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

    /// The learning rate `train` uses when none is given. The paper tuned it on validation
    /// error for each setting; these are untuned starting points for batch 10: sigmoid's
    /// back-propagated gradients are about 4x smaller (its slope is at most 1/4), so it gets
    /// a 10x larger step.
    pub fn default_lr(self) -> f64 {
        match self {
            Activation::Sigmoid => 0.1,
            Activation::Tanh | Activation::Softsign | Activation::Relu => 0.01,
        }
    }

    /// The range of the activation's values, where it is bounded (histogram edges).
    pub fn range(self) -> Option<(f64, f64)> {
        match self {
            Activation::Sigmoid => Some((0.0, 1.0)),
            Activation::Tanh | Activation::Softsign => Some((-1.0, 1.0)),
            Activation::Relu => None,
        }
    }
}

impl Init {
    pub const ALL: [Init; 3] = [Init::Standard, Init::Normalized, Init::He];

    pub fn id(self) -> &'static str {
        match self {
            Init::Standard => "standard",
            Init::Normalized => "normalized",
            Init::He => "he",
        }
    }

    /// The suffix the paper's Table 1 gives a row: "Tanh N" for normalized init.
    pub fn row_suffix(self) -> &'static str {
        match self {
            Init::Standard => "",
            Init::Normalized => " N",
            Init::He => " He",
        }
    }
}

macro_rules! display_as_id {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.id())
            }
        }
    )*};
}
display_as_id!(Dataset, Activation, Init);

#[cfg(test)]
mod tests {
    use super::*;

    /// clap, serde and Display must spell every value the same way, or a command line
    /// written from a file would not parse back.
    #[test]
    fn clap_serde_and_display_agree() {
        fn check<T: ValueEnum + Serialize + fmt::Display>(all: &[T]) {
            for value in all {
                let clap = value.to_possible_value().unwrap().get_name().to_string();
                let serde = serde_json::to_value(value).unwrap();
                assert_eq!(clap, value.to_string());
                assert_eq!(serde.as_str(), Some(clap.as_str()));
            }
            assert_eq!(all.len(), T::value_variants().len(), "ALL is incomplete");
        }
        check(&Dataset::ALL);
        check(&Activation::ALL);
        check(&Init::ALL);
    }

    #[test]
    fn xavier_is_normalized_on_command_lines_and_in_files() {
        assert_eq!(Init::from_str("xavier", false), Ok(Init::Normalized));
        let init: Init = serde_json::from_str("\"xavier\"").unwrap();
        assert_eq!(init, Init::Normalized);
        assert!(Init::from_str("glorot", false).is_err());
    }
}
