//! `run.h5`: the recording of one training run, read by `figures` (a contract: keep it).
//!
//! Written atomically (temp file in the run directory, fsync, rename) at every checkpoint
//! and at the end, so a crash leaves the previous complete file. h5py reads every item.
//!
//! # Root attributes (variable-length UTF-8 strings)
//! - `config`: the run config as JSON (same as `config.json`; see ARCHITECTURE.md).
//! - `device`: the device that ran it, e.g. `cpu` or `cuda:0 (NVIDIA H100 80GB HBM3)`.
//! - `libtorch`: the tch and libtorch versions, e.g. `tch 0.24.0, libtorch 2.11.0+cu130`.
//! - `status`: `complete`, or `failed: <reason>`. A file written at a checkpoint while the
//!   run goes on says `failed: interrupted after step N (continue with --resume)`, which is
//!   what it is if the process dies before the next checkpoint.
//! - `timing`: JSON `{"train_s", "probe_s", "checkpoint_s", "updates"}`: wall seconds spent
//!   in SGD steps, in probes (evaluation + probe statistics + Jacobians) and in
//!   checkpoints (including writing this file), up to the file's last step.
//!
//! # `history/` (1-D, one row per probe, P rows)
//! `step` u64 (updates done before the probe), `epoch` f64 (= step / updates_per_epoch),
//! `train_loss` f64 (mean NLL over the training batches since the previous probe; NaN at
//! step 0), `valid_loss`, `test_loss` f64 (mean NLL over the whole set), `valid_error`,
//! `test_error` f64 (fraction misclassified, 0..1).
//!
//! Probes run before the first update (step 0), after updates 1, 10, 100 and 1000, every
//! `probe_every` updates, at every raw-snapshot epoch boundary (below) and after the last.
//!
//! # `stats/`
//! - `stats/step` u64 `[P]`: the same steps as `history/step`.
//! - `stats/layer<k>/<q>/{mean, std, p02, p50, p98}` f64 `[P]` for hidden layer k = 1..L
//!   (1 = nearest the input) and q in `activation` (h_k = f(s_k)), `preact_grad`
//!   (dCost/ds_k) and `weight_grad` (dCost/dW_k, the incoming weights of layer k). All are
//!   taken over every value of the array on the 300 probe examples (the first 300 of the
//!   test set); Cost is the mean NLL over those 300; the weight gradient is computed, never
//!   applied. `std` is the sample std (n - 1); percentiles interpolate linearly.
//! - `stats/layer<k>/<q>/hist` f64 `[P, 100]`: counts per bin (they sum to the number of
//!   values), attribute `edges` f32 `[101]`. Bins are closed on the left; values outside the
//!   edges are counted in the first or last bin. Edges are fixed for the run and shared by
//!   all layers of a quantity: activations span the activation's range (sigmoid [0, 1],
//!   tanh and softsign [-1, 1], relu [0, 5 s] with s the largest per-layer activation std
//!   at step 0); gradients span [-5 s, 5 s], s the largest per-layer std of that gradient at
//!   step 0.
//! - `stats/layer<k>/jacobian_sv_mean` f64 `[P]`: the mean singular value of the Jacobian
//!   dh_{k+1}/dh_k = diag(f'(s_{k+1})) W_{k+1}^T (paper §4.2.2), averaged over singular
//!   values and over the first `jacobian_examples` (config) probe examples, the same ones
//!   at every probe. NaN for k = L (its next layer is the softmax output) and when
//!   `jacobian_examples` is 0.
//!
//! # `raw/step<s>/layer<k>/` (f32, at the raw-snapshot steps only)
//! `activation` and `preact_grad` `[300, width]` at step 0, the last step and every
//! `raw_every_epochs`-th epoch boundary; `weight_grad` `[fan_in, width]` (layer 1: `[1024,
//! 1000]` on Shapeset) at step 0 and the last step only.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result};
use hdf5::types::VarLenUnicode;
use ndarray::{Array2, ArrayView2};
use store::atomic::AtomicFile;

use crate::recording::{Recording, QUANTITIES};
use crate::stats::BINS;

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
    let file = AtomicFile::create(path)?;
    write_unchecked(file.path(), info, rec, raw)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.commit()
}

fn write_unchecked(
    path: &Path,
    info: &RunInfo<'_>,
    rec: &Recording,
    raw: impl Fn(u64) -> Result<RawSnapshot>,
) -> Result<()> {
    let file = hdf5::File::create(path)?;
    write_str_attr(&file, "config", info.config_json)?;
    write_str_attr(&file, "device", info.device)?;
    write_str_attr(&file, "libtorch", info.libtorch)?;
    write_str_attr(&file, "status", info.status)?;
    write_str_attr(&file, "timing", info.timing_json)?;

    let h = &rec.history;
    let history = file.create_group("history")?;
    write_1d(&history, "step", &h.step)?;
    let columns = [
        ("epoch", &h.epoch),
        ("train_loss", &h.train_loss),
        ("valid_loss", &h.valid_loss),
        ("valid_error", &h.valid_error),
        ("test_loss", &h.test_loss),
        ("test_error", &h.test_error),
    ];
    for (name, values) in columns {
        write_1d(&history, name, values)?;
    }

    let stats = file.create_group("stats")?;
    write_1d(&stats, "step", &h.step)?;
    for (k, layer) in rec.layers.iter().enumerate() {
        let group = stats.create_group(&format!("layer{}", k + 1))?;
        write_1d(&group, "jacobian_sv_mean", &layer.jacobian_sv_mean)?;
        for ((name, q), edges) in QUANTITIES.iter().zip(&layer.quantities).zip(&rec.edges) {
            let qg = group.create_group(name)?;
            let summaries = [
                ("mean", &q.mean),
                ("std", &q.std),
                ("p02", &q.p02),
                ("p50", &q.p50),
                ("p98", &q.p98),
            ];
            for (column, values) in summaries {
                write_1d(&qg, column, values)?;
            }
            let hist = ArrayView2::from_shape((q.hist.len() / BINS, BINS), &q.hist)?;
            let dataset = qg.new_dataset_builder().with_data(&hist).create("hist")?;
            dataset
                .new_attr_builder()
                .with_data(edges.as_slice())
                .create("edges")?;
        }
    }

    let raw_group = file.create_group("raw")?;
    for &step in &rec.raw_steps {
        let snapshot = raw(step)?;
        let sg = raw_group.create_group(&format!("step{step}"))?;
        for (k, (activation, preact_grad, weight_grad)) in snapshot.iter().enumerate() {
            let lg = sg.create_group(&format!("layer{}", k + 1))?;
            lg.new_dataset_builder()
                .with_data(activation)
                .create("activation")?;
            lg.new_dataset_builder()
                .with_data(preact_grad)
                .create("preact_grad")?;
            if let Some(weight_grad) = weight_grad {
                lg.new_dataset_builder()
                    .with_data(weight_grad)
                    .create("weight_grad")?;
            }
        }
    }
    file.close()?;
    Ok(())
}

fn write_1d<T: hdf5::H5Type>(group: &hdf5::Group, name: &str, values: &[T]) -> Result<()> {
    group.new_dataset_builder().with_data(values).create(name)?;
    Ok(())
}

pub fn write_str_attr(location: &hdf5::Location, name: &str, value: &str) -> Result<()> {
    let value = VarLenUnicode::from_str(value)
        .with_context(|| format!("attribute {name} holds a NUL byte"))?;
    location
        .new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&value)?;
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
    let activations = AtomicFile::create(dir.join("activations.h5"))?;
    let gradients = AtomicFile::create(dir.join("gradients.h5"))?;
    {
        let act_file = hdf5::File::create(activations.path())?;
        let grad_file = hdf5::File::create(gradients.path())?;
        for &step in &rec.raw_steps {
            let epoch = format!("epoch{}", step.div_ceil(updates_per_epoch));
            let snapshot = raw(step)?;
            let ag = act_file.create_group(&epoch)?;
            for (k, (activation, _, _)) in snapshot.iter().enumerate() {
                ag.new_dataset_builder()
                    .with_data(activation)
                    .create(format!("dense_{}", k + 1).as_str())?;
            }
            if snapshot.iter().any(|layer| layer.2.is_some()) {
                let gg = grad_file.create_group(&epoch)?;
                for (k, (_, _, weight_grad)) in snapshot.iter().enumerate() {
                    if let Some(weight_grad) = weight_grad {
                        gg.new_dataset_builder()
                            .with_data(weight_grad)
                            .create(format!("dense_{}_kernel", k + 1).as_str())?;
                    }
                }
            }
        }
        act_file.close()?;
        grad_file.close()?;
    }
    activations.commit()?;
    gradients.commit()
}
