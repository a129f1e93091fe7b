//! A probe's measurements, one host transfer each, and how they are appended to a run's
//! recording. Free functions, so that `train`'s single run and `train-pack`'s packed runs
//! record with one definition.

use crate::model::Mlp;
use crate::probe::{evaluate, probe, Evaluation, Probe};
use crate::source::{EvalData, InputScale};
use crate::stats::{initial_edges, summary_row};
use anyhow::{Context, Result};
use spec::layout::{Quantity, BINS, SCALARS};
use spec::recording::Recording;
use spec::{RunConfig, RunParams};
use std::time::Instant;
use tch::{Kind, Tensor};

/// One probe's measurements: `row` is `[valid loss, valid errors, test loss, test errors,
/// jacobian_sv_mean per layer, jacobian_sv_spread per layer, then per layer and quantity a
/// summary row]`, read in one host transfer; `probe` keeps the arrays for a raw snapshot.
pub struct Measurement {
    pub row: Vec<f64>,
    pub probe: Probe,
    /// Examples the valid and test sums in `row` are over.
    pub valid_n: usize,
    pub test_n: usize,
    /// Seconds spent on the parts that run once: the Jacobians at initialization and the
    /// whole-set evaluation at the last step. The rest is the periodic probe's cost.
    pub once_s: f64,
}

impl Measurement {
    pub fn valid_error(&self) -> f64 {
        self.row[1] / self.valid_n as f64
    }

    /// Whether every loss the probe measured is finite.
    pub fn losses_finite(&self) -> bool {
        self.row[0].is_finite() && self.row[2].is_finite()
    }
}

/// The probe's reductions on one thread, the caller's thread count restored after. ATen splits
/// a large reduction (a std over a million weight gradients) by thread, so its last bits would
/// follow `--threads`, which is not in a run's key; the training step's own reductions are
/// over rows of one model and do not depend on it.
struct OneThread(i32);

impl OneThread {
    fn enter() -> OneThread {
        let threads = tch::get_num_threads();
        tch::set_num_threads(1);
        OneThread(threads)
    }
}

impl Drop for OneThread {
    fn drop(&mut self) {
        tch::set_num_threads(self.0);
    }
}

/// Measures `model` at `step`. The Jacobians are measured at the first probe only (step 0,
/// at initialization: §4.2.2 is about initialization, and they cost more than the rest of a
/// probe). Valid and test are evaluated on their first `eval_examples` examples, except at
/// the last step, whose whole-set test pass is kept as the run's predictions (a run probed
/// only at its end, a trial, keeps none). Fixes the
/// histogram edges and the test labels at the first probe.
pub fn measure(
    model: &mut Mlp,
    data: &EvalData,
    params: &RunParams,
    rec: &mut Recording,
    step: u64,
) -> Result<Measurement> {
    let _one_thread = OneThread::enter();
    let scale = InputScale::for_dataset(params.dataset);
    let last = step == params.updates;
    let sample = (params.eval_examples > 0).then_some(params.eval_examples);
    // A run probed only at its end is a learning-rate trial: the selection reads its
    // validation error, never its test predictions, so its test pass stays a sample.
    let test_whole = last && !params.probes_only_at_end();
    let once = Instant::now();
    let valid = evaluate(model, &data.valid, scale, if last { None } else { sample });
    let test = evaluate(
        model,
        &data.test,
        scale,
        if test_whole { None } else { sample },
    );
    let mut once_s = if step == params.updates {
        once.elapsed().as_secs_f64()
    } else {
        0.0
    };
    let jacobian_examples = if step == 0 {
        params.jacobian_examples
    } else {
        0
    };
    let clock = Instant::now();
    let probe = probe(model, &data.probe_x, &data.probe_y, jacobian_examples);
    if jacobian_examples > 0 {
        once_s += clock.elapsed().as_secs_f64();
    }
    if rec.edges.is_empty() {
        rec.edges = initial_edges(&probe, params.activation);
    }
    if rec.test_labels.is_empty() {
        rec.test_labels = host_u8(&data.test.y.to_kind(Kind::Uint8))?;
        rec.valid_examples = data.valid.n as u64;
    }
    if test.examples == data.test.n {
        rec.test_predicted = host_u8(&test.predicted)?;
        rec.test_predicted_step = step;
    }
    let row = summary(&valid, &test, &probe, &rec.edges)?;
    Ok(Measurement {
        row,
        probe,
        valid_n: valid.examples,
        test_n: test.examples,
        once_s,
    })
}

/// The probe's row (see [`Measurement::row`]), in one host transfer.
fn summary(
    valid: &Evaluation,
    test: &Evaluation,
    probe: &Probe,
    edges: &[Vec<f32>],
) -> Result<Vec<f64>> {
    let mut parts = vec![
        valid.loss.view([1]),
        valid.errors.to_kind(Kind::Double).view([1]),
        test.loss.view([1]),
        test.errors.to_kind(Kind::Double).view([1]),
        probe.jacobian_sv_mean.shallow_clone(),
        probe.jacobian_sv_spread.shallow_clone(),
    ];
    let device = probe.jacobian_sv_mean.device();
    let edges: Vec<Tensor> = edges
        .iter()
        .map(|e| Tensor::from_slice(e).to_device(device))
        .collect();
    for layer in &probe.layers {
        let arrays = [&layer.activation, &layer.preact_grad, &layer.weight_grad];
        for ((values, edges), quantity) in arrays.into_iter().zip(&edges).zip(Quantity::ALL) {
            parts.push(summary_row(values, edges, quantity.has_percentiles()));
        }
    }
    Vec::<f64>::try_from(Tensor::cat(&parts, 0)).context("reading a probe")
}

fn host_u8(values: &Tensor) -> Result<Vec<u8>> {
    Vec::<u8>::try_from(values).context("reading test predictions")
}

/// Appends a measurement taken at `step` to the recording.
pub fn record(
    rec: &mut Recording,
    config: &RunConfig,
    step: u64,
    train_loss: Option<f64>,
    measured: &Measurement,
) {
    let row = &measured.row;
    let (valid_n, test_n) = (measured.valid_n as f64, measured.test_n as f64);
    let h = &mut rec.history;
    h.step.push(step);
    h.epoch.push(config.epoch(step));
    h.train_loss.push(train_loss.unwrap_or(f64::NAN));
    h.valid_loss.push(row[0] / valid_n);
    h.valid_error.push(row[1] / valid_n);
    h.test_loss.push(row[2] / test_n);
    h.test_error.push(row[3] / test_n);
    let hidden = rec.layers.len();
    let (means, rest) = row[4..].split_at(hidden);
    let (spreads, mut rest) = rest.split_at(hidden);
    for (layer, (mean, spread)) in rec.layers.iter_mut().zip(means.iter().zip(spreads)) {
        layer.jacobian_sv_mean.push(*mean);
        layer.jacobian_sv_spread.push(*spread);
    }
    for layer in &mut rec.layers {
        for q in 0..Quantity::ALL.len() {
            layer.quantities[q].push(&rest[..SCALARS + BINS]);
            rest = &rest[SCALARS + BINS..];
        }
    }
}
