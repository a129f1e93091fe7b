//! The names inside `run.h5` (the recording of one run): groups, datasets and attributes.
//! The writer and the reader in `run_h5` (feature `hdf5`) both spell paths through these
//! functions, so the layout is stated once. The full layout is documented in `run_h5::write`.

/// Examples of the test set probed for activations and gradients (the paper's 300).
pub const PROBE_EXAMPLES: usize = 300;
/// Histogram bins per probed quantity.
pub const BINS: usize = 100;
/// The summary columns of a probed quantity, in the order of a summary row.
pub const SUMMARIES: [&str; 5] = ["mean", "std", "p02", "p50", "p98"];
/// Summary values in a summary row before its `BINS` histogram counts.
pub const SCALARS: usize = SUMMARIES.len();

/// Root attributes (variable-length UTF-8 strings).
pub mod attr {
    pub const CONFIG: &str = "config";
    pub const DEVICE: &str = "device";
    pub const LIBTORCH: &str = "libtorch";
    pub const STATUS: &str = "status";
    pub const TIMING: &str = "timing";
    /// `histogram edges` attribute of each `hist` dataset.
    pub const EDGES: &str = "edges";
}

/// The status of a finished run; anything else reads `failed: <reason>`.
pub const STATUS_COMPLETE: &str = "complete";
/// The prefix of the status of a run that did not finish: `failed: <reason>` (a non-finite
/// loss, or an interruption while a checkpoint is on disk).
pub const STATUS_FAILED: &str = "failed: ";
/// The prefix of the status of a run whose loss diverged and that was kept as a result
/// (learning-rate trials): `diverged: non-finite loss at step <s>`. Such a run has no final
/// probe; a selection counts it as error 1.
pub const STATUS_DIVERGED: &str = "diverged: ";

/// How the reason of a run whose loss went non-finite begins: `non-finite loss at step <s>`,
/// after `failed: ` or `diverged: `. A pack's resume reads it to tell such a model, which has
/// no checkpoint of the last round and stays ended, from damage.
pub const NON_FINITE: &str = "non-finite loss at step ";

/// `failed: <reason>`.
pub fn failed_status(reason: &str) -> String {
    format!("{STATUS_FAILED}{reason}")
}

/// The status a run stopped by a signal or `--stop-after` writes, `step` its last checkpoint.
pub fn interrupted_status(step: u64) -> String {
    failed_status(&format!(
        "interrupted after step {step} (continue with --resume)"
    ))
}

/// The files a trainer keeps beside `run.h5` while it trains; `paper` reads the round file to
/// decide whether a killed pack can resume.
pub mod checkpoint {
    /// Each model's checkpoint directory, in its run directory: its two slots `a/` and `b/`
    /// (each a `state.json` and the weights it names) and `raw/`.
    pub const DIR: &str = "checkpoint";
    /// The checkpoint's state, naming its weights file.
    pub const STATE: &str = "state.json";
    /// A pack's round file: the last checkpoint round every model finished.
    pub const PACK_ROUND: &str = "pack-checkpoint.json";
}

/// The `history/` columns after `step`, one row per probe.
pub const HISTORY_COLUMNS: [&str; 6] = [
    "epoch",
    "train_loss",
    "valid_loss",
    "valid_error",
    "test_loss",
    "test_error",
];

/// The three per-layer quantities the trainer probes, in the order of `stats/layer<k>/<q>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quantity {
    /// h_k = f(s_k).
    Activation,
    /// dCost/ds_k, the back-propagated gradient.
    PreactGrad,
    /// dCost/dW_k, the gradient of the layer's incoming weights.
    WeightGrad,
}

impl Quantity {
    pub const ALL: [Quantity; 3] = [
        Quantity::Activation,
        Quantity::PreactGrad,
        Quantity::WeightGrad,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Quantity::Activation => "activation",
            Quantity::PreactGrad => "preact_grad",
            Quantity::WeightGrad => "weight_grad",
        }
    }

    /// Whether `p02`, `p50` and `p98` are measured (NaN otherwise). Not for the weight
    /// gradients: their 1M values per layer made the order statistics 40% of a probe, and no
    /// figure draws them (Figs 8 and 9 use the std and the histograms).
    pub fn has_percentiles(self) -> bool {
        self != Quantity::WeightGrad
    }
}

pub fn history(column: &str) -> String {
    format!("history/{column}")
}

pub const HISTORY_STEP: &str = "history/step";
pub const STATS_STEP: &str = "stats/step";

/// `stats/layer<k>`, hidden layer k = 1..L (1 = nearest the input).
pub fn stats_layer(layer: usize) -> String {
    format!("stats/layer{layer}")
}

/// `stats/layer<k>/<q>`.
pub fn stats_quantity(layer: usize, quantity: Quantity) -> String {
    format!("{}/{}", stats_layer(layer), quantity.id())
}

/// `stats/layer<k>/<q>/<summary>` for one of [`SUMMARIES`], or `hist`.
pub fn stat(layer: usize, quantity: Quantity, column: &str) -> String {
    format!("{}/{column}", stats_quantity(layer, quantity))
}

/// `stats/layer<k>/jacobian_sv_mean`.
pub fn jacobian_sv_mean(layer: usize) -> String {
    format!("{}/jacobian_sv_mean", stats_layer(layer))
}

/// `stats/layer<k>/jacobian_sv_spread`.
pub fn jacobian_sv_spread(layer: usize) -> String {
    format!("{}/jacobian_sv_spread", stats_layer(layer))
}

/// `predictions/`: the last probe's per-example test predictions, for paired tests.
pub const PREDICTIONS: &str = "predictions";
/// `predictions/step` u64 `[1]`: the step of the probe they come from.
pub const PREDICTIONS_STEP: &str = "predictions/step";
/// `predictions/test` u8 `[n_test]`: the predicted class of each test example.
pub const PREDICTIONS_TEST: &str = "predictions/test";
/// `predictions/test_label` u8 `[n_test]`: its true class, so a file pairs on its own.
pub const PREDICTIONS_TEST_LABEL: &str = "predictions/test_label";
/// `predictions/valid_examples` u64 `[1]`: the size of the validation set the last probe
/// evaluated whole: the binomial noise of its error, which the learning-rate selection needs.
pub const PREDICTIONS_VALID_EXAMPLES: &str = "predictions/valid_examples";

pub const RAW: &str = "raw";

/// `raw/step<s>`.
pub fn raw_step(step: u64) -> String {
    format!("{RAW}/step{step}")
}

/// `raw/step<s>/layer<k>/<q>`.
pub fn raw(step: u64, layer: usize, quantity: Quantity) -> String {
    format!("{}/layer{layer}/{}", raw_step(step), quantity.id())
}

/// The step of a `raw/` member name (`step120` -> 120).
pub fn parse_raw_step(member: &str) -> Option<u64> {
    member.strip_prefix("step")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_the_documented_ones() {
        assert_eq!(
            stat(2, Quantity::PreactGrad, "p98"),
            "stats/layer2/preact_grad/p98"
        );
        assert_eq!(
            raw(20000, 5, Quantity::WeightGrad),
            "raw/step20000/layer5/weight_grad"
        );
        assert_eq!(jacobian_sv_mean(1), "stats/layer1/jacobian_sv_mean");
        assert_eq!(parse_raw_step("step42"), Some(42));
        assert_eq!(parse_raw_step("layer42"), None);
    }
}
