//! K MLPs of one shape as stacked tensors: layer k's weights are `[K, fan_in, fan_out]`,
//! so a step runs one `baddbmm` per layer for all K models where K single runs launch K.
//! Forward, backward and update are train's (`crate::model`) with a batch dimension in
//! front: the same operations in the same order, so each model's numbers are a single
//! run's up to the summation order inside the batched GEMM.

use crate::activation::Nonlinearity;
use crate::model::{init_weights, nll_and_residual, Layer, Mlp};
use rayon::prelude::*;
use spec::init::SplitMix64;
use spec::{Activation, RunParams};
use tch::{Device, Kind, Tensor};

pub struct PackMlp {
    /// `[K, fan_in, fan_out]` per layer.
    pub weights: Vec<Tensor>,
    /// `[K, 1, fan_out]` per layer (broadcast over the batch).
    pub biases: Vec<Tensor>,
    /// `[K, fan_out, fan_in]` views of `weights`, made once: the updates are in place, so
    /// the views stay current and a step makes no transpose call for them.
    weights_t: Vec<Tensor>,
    pub activation: Activation,
    /// `[K, 1, 1]` f32: -lr_k / batch, the factor a single run folds into its output
    /// gradient, rounded to f32 as ATen rounds a double scalar against a float tensor.
    step_scale: Tensor,
}

impl PackMlp {
    /// The models of `runs` (a checked pack), each initialised exactly as a single run of
    /// its seed and init: train's `init_weights` on SplitMix64 stream (seed, layer).
    pub fn new(runs: &[RunParams], device: Device) -> PackMlp {
        let first = &runs[0];
        let sizes = first.layer_sizes();
        let k = runs.len() as i64;
        let (weights, biases): (Vec<Tensor>, Vec<Tensor>) = sizes
            .windows(2)
            .enumerate()
            .map(|(layer, pair)| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let values: Vec<f32> = runs
                    .par_iter()
                    .flat_map_iter(|run| {
                        let mut rng = SplitMix64::new(run.seed, layer as u64);
                        init_weights(run.init, fan_in, fan_out, &mut rng)
                    })
                    .collect();
                let weight = Tensor::from_slice(&values)
                    .view([k, fan_in as i64, fan_out as i64])
                    .to_device(device);
                let bias = Tensor::zeros([k, 1, fan_out as i64], (Kind::Float, device));
                (weight, bias)
            })
            .unzip();
        let scales: Vec<f32> = runs
            .iter()
            .map(|r| (-r.lr / r.batch_size as f64) as f32)
            .collect();
        let weights_t = weights.iter().map(|w| w.transpose(1, 2)).collect();
        PackMlp {
            weights,
            biases,
            weights_t,
            activation: first.activation,
            step_scale: Tensor::from_slice(&scales)
                .view([k, 1, 1])
                .to_device(device),
        }
    }

    pub fn len(&self) -> usize {
        self.weights[0].size()[0] as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Model `k` as train's `Mlp`, its tensors views into the pack: probes and checkpoints
    /// run train's own code on it, and writes through it (a checkpoint load) land in the pack.
    pub fn model(&self, k: usize) -> Mlp {
        let k = k as i64;
        let layers = self
            .weights
            .iter()
            .zip(&self.biases)
            .map(|(w, b)| Layer {
                weight: w.get(k),
                bias: b.get(k).squeeze_dim(0),
            })
            .collect();
        Mlp {
            layers,
            activation: self.activation,
        }
    }

    /// Every layer's input (`inputs[0]` = x) and the logits, all `[K, batch, ..]`.
    fn forward(&self, x: &Tensor) -> (Vec<Tensor>, Tensor) {
        let mut inputs = vec![x.shallow_clone()];
        let last = self.weights.len() - 1;
        for (w, b) in self.weights.iter().zip(&self.biases).take(last) {
            let mut s = b.baddbmm(inputs.last().unwrap(), w, 1.0, 1.0);
            self.activation.apply_(&mut s);
            inputs.push(s);
        }
        let logits =
            self.biases[last].baddbmm(inputs.last().unwrap(), &self.weights[last], 1.0, 1.0);
        (inputs, logits)
    }

    /// One SGD step of every model on its own batch (x `[K, batch, dim]`, y `[K, batch]`);
    /// returns each model's summed NLL `[K]` on the device (no host sync).
    ///
    /// At batch 10 a GPU step is bound by the host's calls, not by arithmetic, so the step
    /// makes as few as it can: `tests/step_calls.rs` counts them (53 for a 5-hidden-layer
    /// tanh net) and fails when one is added.
    pub fn sgd_step(&mut self, x: &Tensor, y: &Tensor) -> Tensor {
        let (inputs, logits) = self.forward(x);
        let (nll_sums, residual) = nll_and_residual(&logits, y);
        // As in train: every gradient is linear in g_out, so scaling it by -lr_k / batch
        // once turns W += h^T g into the update itself, fused into one baddbmm_.
        let mut g = residual * &self.step_scale;
        for k in (0..self.weights.len()).rev() {
            let input = &inputs[k];
            // The gradient below uses W before its update.
            let below = (k > 0).then(|| {
                let grad_input = g.bmm(&self.weights_t[k]);
                self.activation.backward(&grad_input, input)
            });
            _ = self.weights[k].baddbmm_(&input.transpose(1, 2), &g);
            // A sum and an add: the bias update as a GEMM of ones (one call) computes other
            // last bits for other K on the CPU, and model 0 must not depend on K.
            _ = self.biases[k].g_add_(&g.sum_dim_intlist(1, true, Kind::Float));
            if let Some(below) = below {
                g = below;
            }
        }
        nll_sums
    }
}
