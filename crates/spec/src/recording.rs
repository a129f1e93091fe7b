//! Everything a run has measured so far, in memory (raw arrays excepted: they go to files
//! as they are taken). Serialised into the trainer's checkpoint and written out as `run.h5`
//! by `run_h5::write`.

use serde::{Deserialize, Serialize};

use crate::layout::{Quantity, BINS, SCALARS};

/// One row per probe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub step: Vec<u64>,
    #[serde(with = "exact_f64")]
    pub epoch: Vec<f64>,
    /// Mean NLL over the training batches since the previous probe (NaN at step 0).
    #[serde(with = "exact_f64")]
    pub train_loss: Vec<f64>,
    #[serde(with = "exact_f64")]
    pub valid_loss: Vec<f64>,
    #[serde(with = "exact_f64")]
    pub valid_error: Vec<f64>,
    #[serde(with = "exact_f64")]
    pub test_loss: Vec<f64>,
    #[serde(with = "exact_f64")]
    pub test_error: Vec<f64>,
}

/// Summaries of one quantity of one layer, one row per probe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuantityStats {
    #[serde(with = "exact_f64")]
    pub mean: Vec<f64>,
    #[serde(with = "exact_f64")]
    pub std: Vec<f64>,
    #[serde(with = "exact_f64")]
    pub p02: Vec<f64>,
    #[serde(with = "exact_f64")]
    pub p50: Vec<f64>,
    #[serde(with = "exact_f64")]
    pub p98: Vec<f64>,
    /// Row-major `[probes, BINS]` counts (integers: exact in JSON).
    pub hist: Vec<f64>,
}

impl QuantityStats {
    /// Appends one summary row `[mean, std, p02, p50, p98, counts...]`.
    pub fn push(&mut self, row: &[f64]) {
        let columns = [
            &mut self.mean,
            &mut self.std,
            &mut self.p02,
            &mut self.p50,
            &mut self.p98,
        ];
        for (column, value) in columns.into_iter().zip(row) {
            column.push(*value);
        }
        self.hist.extend_from_slice(&row[SCALARS..SCALARS + BINS]);
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    /// Indexed like `Quantity::ALL`.
    pub quantities: Vec<QuantityStats>,
    #[serde(with = "exact_f64")]
    pub jacobian_sv_mean: Vec<f64>,
    /// Std over the Jacobian examples of each one's mean singular value.
    #[serde(with = "exact_f64")]
    pub jacobian_sv_spread: Vec<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub history: History,
    /// `edges[q]`: the BINS + 1 histogram edges of quantity q, shared by all layers.
    pub edges: Vec<Vec<f32>>,
    /// `layers[k - 1]` for hidden layer k.
    pub layers: Vec<LayerStats>,
    /// Steps with raw activation/preact_grad arrays (weight_grad raw only at step 0 and
    /// the last step).
    pub raw_steps: Vec<u64>,
    /// The true class of each test example, kept from the first probe.
    pub test_labels: Vec<u8>,
    /// The latest probe's predicted class of each test example, and that probe's step:
    /// after the last probe, the final test pass.
    pub test_predicted: Vec<u8>,
    pub test_predicted_step: u64,
    /// The size of the validation set (0: unknown; absent from checkpoints made before it was
    /// recorded).
    #[serde(default)]
    pub valid_examples: u64,
}

impl Recording {
    pub fn new(hidden_layers: usize) -> Recording {
        let layer = LayerStats {
            quantities: vec![QuantityStats::default(); Quantity::ALL.len()],
            jacobian_sv_mean: Vec::new(),
            jacobian_sv_spread: Vec::new(),
        };
        Recording {
            layers: vec![layer; hidden_layers],
            ..Recording::default()
        }
    }

    pub fn probes(&self) -> usize {
        self.history.step.len()
    }
}

/// f64 values as strings of their shortest round-trip form ("0.1", "NaN"): JSON has no
/// NaN, and serde_json's default float parser may be off by one ulp, which would make a
/// resumed run's history differ from an uninterrupted one. Rust's parser is exact.
mod exact_f64 {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(values.iter().map(f64::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|v| v.parse::<f64>().map_err(D::Error::custom))
            .collect()
    }
}
