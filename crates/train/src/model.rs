//! The paper's MLP with a hand-written forward, backward and fused SGD update (no
//! autograd): at batch 10 a step is bound by streaming the weights through memory, so the
//! step touches each weight matrix as few times as possible and never syncs with the host.
//!
//! Layer k maps h_{k} to s_{k+1} = h_k W_k + b_k with W_k stored `[fan_in, fan_out]`, so
//! dCost/dW_k = h_k^T g_k has the same layout as W_k and the update is one `addmm_`.

use spec::{Activation, Init};
use tch::{Device, Kind, Tensor};

use crate::activation::Nonlinearity;
use spec::init::SplitMix64;
pub use spec::init::{init_bound, init_std};

pub struct Layer {
    /// `[fan_in, fan_out]`.
    pub weight: Tensor,
    /// `[fan_out]`.
    pub bias: Tensor,
}

pub struct Mlp {
    pub layers: Vec<Layer>,
    pub activation: Activation,
}

/// What the forward pass leaves for the backward pass: every layer's input and the logits.
pub struct Trace {
    /// `inputs[0]` is x, `inputs[k]` the output of hidden layer k (1-based).
    pub inputs: Vec<Tensor>,
    pub logits: Tensor,
}

/// A layer's initial weights, row-major `[fan_in, fan_out]`, drawn from `rng` in order.
pub fn init_weights(init: Init, fan_in: usize, fan_out: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let count = fan_in * fan_out;
    match init_bound(init, fan_in, fan_out) {
        Some(bound) => {
            let bound = bound as f32;
            (0..count)
                .map(|_| (2.0 * rng.next_f32() - 1.0) * bound)
                .collect()
        }
        None => {
            let std = init_std(init, fan_in, fan_out);
            (0..count)
                .map(|_| (rng.next_normal() * std) as f32)
                .collect()
        }
    }
}

impl Mlp {
    /// A fresh network: `sizes` from input to output, weights per `init` with each layer's
    /// true fan-in (the output layer included), biases 0. Layer k draws from its own
    /// SplitMix64 stream, so the weights depend only on (seed, k, sizes).
    pub fn new(
        sizes: &[usize],
        activation: Activation,
        init: Init,
        seed: u64,
        device: Device,
    ) -> Mlp {
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(k, pair)| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let mut rng = SplitMix64::new(seed, k as u64);
                let values = init_weights(init, fan_in, fan_out, &mut rng);
                let weight = Tensor::from_slice(&values)
                    .view([fan_in as i64, fan_out as i64])
                    .to_device(device);
                let bias = Tensor::zeros([fan_out as i64], (Kind::Float, device));
                Layer { weight, bias }
            })
            .collect();
        Mlp { layers, activation }
    }

    pub fn hidden_layers(&self) -> usize {
        self.layers.len() - 1
    }

    pub fn forward(&self, x: &Tensor) -> Trace {
        let mut inputs = vec![x.shallow_clone()];
        let (hidden, output) = self.layers.split_at(self.layers.len() - 1);
        for layer in hidden {
            let mut s = layer.bias.addmm(inputs.last().unwrap(), &layer.weight);
            self.activation.apply_(&mut s);
            inputs.push(s);
        }
        let logits = output[0]
            .bias
            .addmm(inputs.last().unwrap(), &output[0].weight);
        Trace { inputs, logits }
    }

    /// Back-propagates from the output pre-activation gradient `g_out` (rows = examples),
    /// calling `visit(k, layer_k, input_k, g_k)` top-down with g_k = dCost/ds of the layer's
    /// output. The gradient for the layer below is computed BEFORE `visit` runs, so
    /// `visit` may update the layer's weights in place.
    pub fn backprop(
        &mut self,
        trace: &Trace,
        g_out: Tensor,
        mut visit: impl FnMut(usize, &mut Layer, &Tensor, &Tensor),
    ) {
        let mut g = g_out;
        for k in (0..self.layers.len()).rev() {
            let input = &trace.inputs[k];
            let below = (k > 0).then(|| {
                let grad_input = g.mm(&self.layers[k].weight.tr());
                self.activation.backward(&grad_input, input)
            });
            visit(k, &mut self.layers[k], input, &g);
            if let Some(below) = below {
                g = below;
            }
        }
    }
}

/// The summed NLL of `y` under softmax(logits), and softmax(logits) - onehot(y) (dNLL/dlogits
/// per example), over the last two dimensions: logits `[batch, classes]` give a scalar sum
/// (a probe), `[K, batch, classes]` one sum per model `[K]` (a pack's training step).
pub fn nll_and_residual(logits: &Tensor, y: &Tensor) -> (Tensor, Tensor) {
    let classes = logits.dim() as i64 - 1;
    let log_p = logits.log_softmax(classes, Kind::Float);
    let index = y.unsqueeze(classes);
    let picked = log_p.gather(classes, &index, false);
    let nll_sums = -picked.sum_dim_intlist([classes - 1, classes].as_slice(), false, Kind::Float);
    let mut residual = log_p.exp();
    _ = residual.scatter_value_reduce_(classes, &index, -1.0, "add");
    (nll_sums, residual)
}
