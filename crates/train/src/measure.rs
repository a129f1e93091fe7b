//! A probe's measurements, one host transfer each, and how they are appended to a run's
//! recording. Free functions, so that `train`'s single run and `train-pack`'s packed runs
//! record with one definition.

use crate::model::Mlp;
use crate::probe::{evaluate, probe, Probe};
use crate::source::{EvalData, InputScale};
use crate::stats::{initial_edges, summary_row};
use anyhow::{Context, Result};
use spec::layout::{Quantity, BINS, SCALARS};
use spec::recording::Recording;
use spec::{RunConfig, RunParams};
use tch::{Kind, Tensor};

/// Everything a probe measures, in one host transfer: `[valid loss, valid errors, test
/// loss, test errors, jacobian_sv_mean per layer, then per layer and quantity a summary
/// row]`, plus the probe's arrays for a raw snapshot. Fixes the histogram edges and the
/// test labels at the first probe, and keeps this probe's test predictions.
pub fn measure(
    model: &mut Mlp,
    data: &EvalData,
    params: &RunParams,
    rec: &mut Recording,
) -> Result<(Vec<f64>, Probe)> {
    let scale = InputScale::for_dataset(params.dataset);
    let valid = evaluate(model, &data.valid, scale);
    let test = evaluate(model, &data.test, scale);
    let probe = probe(
        model,
        &data.probe_x,
        &data.probe_y,
        params.jacobian_examples,
    );
    if rec.edges.is_empty() {
        rec.edges = initial_edges(&probe, params.activation);
    }
    if rec.test_labels.is_empty() {
        rec.test_labels = host_u8(&data.test.y.to_kind(Kind::Uint8))?;
    }
    rec.test_predicted = host_u8(&test.predicted)?;
    let mut parts = vec![
        valid.loss.view([1]),
        valid.errors.to_kind(Kind::Double).view([1]),
        test.loss.view([1]),
        test.errors.to_kind(Kind::Double).view([1]),
        probe.jacobian_sv_mean.shallow_clone(),
    ];
    let device = probe.jacobian_sv_mean.device();
    let edges: Vec<Tensor> = rec
        .edges
        .iter()
        .map(|e| Tensor::from_slice(e).to_device(device))
        .collect();
    for layer in &probe.layers {
        let arrays = [&layer.activation, &layer.preact_grad, &layer.weight_grad];
        for (values, edges) in arrays.into_iter().zip(&edges) {
            parts.push(summary_row(values, edges));
        }
    }
    let row = Vec::<f64>::try_from(Tensor::cat(&parts, 0)).context("reading a probe")?;
    Ok((row, probe))
}

fn host_u8(values: &Tensor) -> Result<Vec<u8>> {
    Vec::<u8>::try_from(values).context("reading test predictions")
}

/// Appends a probe's row (see [`measure`]) taken at `step` to the recording.
pub fn record(
    rec: &mut Recording,
    config: &RunConfig,
    step: u64,
    train_loss: Option<f64>,
    row: &[f64],
    valid_n: usize,
    test_n: usize,
) {
    let (valid_n, test_n) = (valid_n as f64, test_n as f64);
    let h = &mut rec.history;
    h.step.push(step);
    rec.test_predicted_step = step;
    h.epoch.push(config.epoch(step));
    h.train_loss.push(train_loss.unwrap_or(f64::NAN));
    h.valid_loss.push(row[0] / valid_n);
    h.valid_error.push(row[1] / valid_n);
    h.test_loss.push(row[2] / test_n);
    h.test_error.push(row[3] / test_n);
    let hidden = rec.layers.len();
    for (layer, value) in rec.layers.iter_mut().zip(&row[4..4 + hidden]) {
        layer.jacobian_sv_mean.push(*value);
    }
    let mut rest = &row[4 + hidden..];
    for layer in &mut rec.layers {
        for q in 0..Quantity::ALL.len() {
            layer.quantities[q].push(&rest[..SCALARS + BINS]);
            rest = &rest[SCALARS + BINS..];
        }
    }
}
