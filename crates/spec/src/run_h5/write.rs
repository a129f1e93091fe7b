//! `run.h5`: the recording of one training run, written by `train`, read by `figures` (a
//! contract: keep it). Paths are spelled by `crate::layout`.
//!
//! Written atomically (built in memory, written whole to a temp file in the run directory,
//! fsync, rename: `crate::h5::NewFile`) at every checkpoint and at the end, so a crash or a
//! full disk leaves the previous complete file. h5py reads every item.
//! No object carries a timestamp, so the same run gives the same bytes. Arrays of more than
//! one value are chunked with shuffle + deflate (level 4): raw snapshots are most of a file.
//!
//! # Root attributes (variable-length UTF-8 strings)
//! - `config`: the run config as JSON (same as `config.json`; see ARCHITECTURE.md).
//! - `device`: the device that ran it, e.g. `cpu` or `cuda:0 (NVIDIA H100 80GB HBM3)`.
//! - `libtorch`: the tch and libtorch versions, e.g. `tch 0.24.0, libtorch 2.11.0+cu130`.
//! - `status`: `complete`, `failed: <reason>`, or for a learning-rate trial whose loss went
//!   non-finite `diverged: <reason>`. A run stopped by a signal or `--stop-after` writes
//!   `failed: interrupted after step N (continue with --resume)`, N its last checkpoint.
//! - `timing`: JSON `{"updates": N}`, the updates the file covers. Wall-clock seconds are
//!   not recorded here (they would make two identical runs differ in bytes); `train` writes
//!   them to `timing.json` beside `run.h5`.
//!
//! # `history/` (1-D, one row per probe, P rows)
//! `step` u64 (updates done before the probe), `epoch` f64 (= step / updates_per_epoch),
//! `train_loss` f64 (mean NLL over the training batches since the previous probe; NaN at
//! step 0), `valid_loss`, `test_loss` f64 (mean NLL over the whole set), `valid_error`,
//! `test_error` f64 (fraction misclassified, 0..1).
//!
//! Probes run before the first update (step 0), after updates 100 and 1000 (when
//! `probe_every` exceeds 1000), every
//! `probe_every` updates, at every raw-snapshot epoch boundary (below) and after the last.
//!
//! # `stats/`
//! - `stats/step` u64 `[P]`: the same steps as `history/step`.
//! - `stats/layer<k>/<q>/{mean, std, p02, p50, p98}` f64 `[P]` for hidden layer k = 1..L
//!   (1 = nearest the input) and q in `activation` (h_k = f(s_k)), `preact_grad`
//!   (dCost/ds_k) and `weight_grad` (dCost/dW_k, the incoming weights of layer k). All are
//!   taken over every value of the array on the 300 probe examples (the first 300 of the
//!   test set); Cost is the mean NLL over those 300; the weight gradient is computed, never
//!   applied. `std` is the sample std (n - 1); percentiles interpolate linearly; they are NaN
//!   for `weight_grad` (`Quantity::has_percentiles`).
//! - `stats/layer<k>/<q>/hist` f64 `[P, 100]`: counts per bin (they sum to the number of
//!   values), attribute `edges` f32 `[101]`. Bins are closed on the left; values outside the
//!   edges are counted in the first or last bin. Edges are fixed for the run and shared by
//!   all layers of a quantity: activations span the activation's range (sigmoid [0, 1],
//!   tanh and softsign [-1, 1], relu [0, 5 s] with s the largest per-layer activation std
//!   at step 0); gradients span [-5 s, 5 s], s the largest per-layer std of that gradient at
//!   step 0.
//! - `stats/layer<k>/jacobian_sv_mean` f64 `[P]`: the mean singular value of the Jacobian
//!   dh_{k+1}/dh_k = diag(f'(s_{k+1})) W_{k+1}^T (paper §4.2.2), averaged over singular
//!   values and over the first `jacobian_examples` (config) probe examples. Measured at
//!   initialization (the first probe) only: NaN at later probes, for k = L (its next layer
//!   is the softmax output) and when `jacobian_examples` is 0.
//! - `stats/layer<k>/jacobian_sv_spread` f64 `[P]`: the sample std, over those examples, of
//!   each example's mean singular value (NaN where the mean is, or with one example).
//! - The history's `valid_*` and `test_*` columns come from the first `eval_examples`
//!   (config; 0: all) examples of each set at every probe but the last, and from the whole
//!   sets at the last probe.
//!
//! # `predictions/` (from the latest probe: in a complete file, the final test pass)
//! `step` u64 `[1]`, the probe's step; `test` u8 `[n_test]`, the predicted class (argmax of
//! the logits) of each test example in the dataset's order; `test_label` u8 `[n_test]`, its
//! true class. Two runs on the same test set pair example by example (McNemar).
//!
//! # `raw/step<s>/layer<k>/` (f32, at the raw-snapshot steps only)
//! `activation` and `preact_grad` `[300, width]` at step 0, the last step and every
//! `raw_every_epochs`-th epoch boundary; `weight_grad` `[fan_in, width]` (layer 1: `[1024,
//! 1000]` on Shapeset) at step 0 and the last step only.

use anyhow::Result;
use ndarray::{Array2, ArrayView2};
use std::path::Path;

use crate::h5::{array, group, write_atomic, write_str_attr, NewFile};
use crate::layout::{self, attr, Quantity, BINS, HISTORY_COLUMNS, SUMMARIES};
use crate::recording::Recording;

/// The root attributes of a run.
pub struct RunInfo<'a> {
    pub config_json: &'a str,
    pub device: &'a str,
    pub libtorch: &'a str,
    pub status: &'a str,
    pub timing_json: &'a str,
}

/// One raw snapshot: per hidden layer (activation, preact_grad, weight_grad if kept).
pub type RawSnapshot = Vec<(Array2<f32>, Array2<f32>, Option<Array2<f32>>)>;

/// Writes `run.h5` atomically; `raw(step)` loads the raw snapshot of each of `rec.raw_steps`.
pub fn write_run_h5(
    path: &Path,
    info: &RunInfo<'_>,
    rec: &Recording,
    raw: impl Fn(u64) -> Result<RawSnapshot>,
) -> Result<()> {
    write_atomic(path, |file| fill(file, info, rec, raw))
}

fn fill(
    file: &hdf5::File,
    info: &RunInfo<'_>,
    rec: &Recording,
    raw: impl Fn(u64) -> Result<RawSnapshot>,
) -> Result<()> {
    let attributes = [
        (attr::CONFIG, info.config_json),
        (attr::DEVICE, info.device),
        (attr::LIBTORCH, info.libtorch),
        (attr::STATUS, info.status),
        (attr::TIMING, info.timing_json),
    ];
    for (name, value) in attributes {
        write_str_attr(file, name, value)?;
    }
    write_history(file, rec)?;
    write_stats(file, rec)?;
    write_predictions(file, rec)?;
    let raw_group = group(file, layout::RAW)?;
    for &step in &rec.raw_steps {
        write_raw(&raw_group, step, &raw(step)?)?;
    }
    Ok(())
}

fn write_history(file: &hdf5::File, rec: &Recording) -> Result<()> {
    let h = &rec.history;
    let history = group(file, "history")?;
    array(&history, "step", h.step.as_slice())?;
    let columns = [
        &h.epoch,
        &h.train_loss,
        &h.valid_loss,
        &h.valid_error,
        &h.test_loss,
        &h.test_error,
    ];
    for (name, values) in HISTORY_COLUMNS.iter().zip(columns) {
        array(&history, name, values.as_slice())?;
    }
    Ok(())
}

fn write_stats(file: &hdf5::File, rec: &Recording) -> Result<()> {
    let stats = group(file, "stats")?;
    array(&stats, "step", rec.history.step.as_slice())?;
    for (k, layer) in rec.layers.iter().enumerate() {
        let layer_group = group(&stats, &format!("layer{}", k + 1))?;
        array(
            &layer_group,
            "jacobian_sv_mean",
            layer.jacobian_sv_mean.as_slice(),
        )?;
        array(
            &layer_group,
            "jacobian_sv_spread",
            layer.jacobian_sv_spread.as_slice(),
        )?;
        let quantities = Quantity::ALL.iter().zip(&layer.quantities).zip(&rec.edges);
        for ((quantity, q), edges) in quantities {
            let qg = group(&layer_group, quantity.id())?;
            let summaries = [&q.mean, &q.std, &q.p02, &q.p50, &q.p98];
            for (column, values) in SUMMARIES.iter().zip(summaries) {
                array(&qg, column, values.as_slice())?;
            }
            let hist = ArrayView2::from_shape((q.hist.len() / BINS, BINS), &q.hist)?;
            array(&qg, "hist", hist)?
                .new_attr_builder()
                .with_data(edges.as_slice())
                .create(attr::EDGES)?;
        }
    }
    Ok(())
}

fn write_predictions(file: &hdf5::File, rec: &Recording) -> Result<()> {
    let predictions = group(file, layout::PREDICTIONS)?;
    array(&predictions, "step", [rec.test_predicted_step].as_slice())?;
    array(&predictions, "test", rec.test_predicted.as_slice())?;
    array(&predictions, "test_label", rec.test_labels.as_slice())?;
    array(
        &predictions,
        "valid_examples",
        [rec.valid_examples].as_slice(),
    )?;
    Ok(())
}

fn write_raw(raw_group: &hdf5::Group, step: u64, snapshot: &RawSnapshot) -> Result<()> {
    let step_group = group(raw_group, &format!("step{step}"))?;
    for (k, (activation, preact_grad, weight_grad)) in snapshot.iter().enumerate() {
        let layer_group = group(&step_group, &format!("layer{}", k + 1))?;
        array(&layer_group, Quantity::Activation.id(), activation)?;
        array(&layer_group, Quantity::PreactGrad.id(), preact_grad)?;
        if let Some(weight_grad) = weight_grad {
            array(&layer_group, Quantity::WeightGrad.id(), weight_grad)?;
        }
    }
    Ok(())
}

/// Writes the original Keras replication's files next to `run.h5`: `activations.h5` with
/// groups `epoch<e>` holding `dense_<k>` (`[300, width]` activations of hidden layer k), and
/// `gradients.h5` with `epoch<e>` holding `dense_<k>_kernel` (`[fan_in, width]` weight
/// gradients), one `epoch<e>` per raw snapshot (gradients: only those that kept them), e =
/// ceil(step / updates_per_epoch): epoch0 is the initialisation, epoch<e> the end of epoch e.
pub fn export_seed_layout(
    dir: &Path,
    rec: &Recording,
    updates_per_epoch: u64,
    raw: impl Fn(u64) -> Result<RawSnapshot>,
) -> Result<()> {
    let activations = NewFile::create(&dir.join("activations.h5"))?;
    let gradients = NewFile::create(&dir.join("gradients.h5"))?;
    for &step in &rec.raw_steps {
        let epoch = format!("epoch{}", step.div_ceil(updates_per_epoch));
        let snapshot = raw(step)?;
        let ag = group(activations.file(), &epoch)?;
        for (k, (activation, _, _)) in snapshot.iter().enumerate() {
            array(&ag, &format!("dense_{}", k + 1), activation)?;
        }
        if snapshot.iter().any(|layer| layer.2.is_some()) {
            let gg = group(gradients.file(), &epoch)?;
            for (k, (_, _, weight_grad)) in snapshot.iter().enumerate() {
                if let Some(weight_grad) = weight_grad {
                    array(&gg, &format!("dense_{}_kernel", k + 1), weight_grad)?;
                }
            }
        }
    }
    activations.commit()?;
    gradients.commit()
}
