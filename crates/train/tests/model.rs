//! The model's maths against the paper's formulas and against tch autograd.

mod common;

use spec::{Activation, Init};
use tch::{Device, Kind, Tensor};
use train::model::{init_bound, init_std, Mlp};
use train::pack::model::PackMlp;
use train::probe::probe;

fn variance(t: &Tensor) -> f64 {
    t.to_kind(Kind::Double).var(false).double_value(&[])
}

#[test]
fn init_variance_follows_eq1_and_eq16_with_true_fan_in() {
    let sizes = [1024, 256, 256, 9];
    for init in [Init::Standard, Init::Normalized] {
        let model = Mlp::new(&sizes, Activation::Tanh, init, 11, Device::Cpu);
        for (k, layer) in model.layers.iter().enumerate() {
            let (fan_in, fan_out) = (sizes[k], sizes[k + 1]);
            assert_eq!(layer.weight.size(), [fan_in as i64, fan_out as i64]);
            let expected = match init {
                // eq. 1: n Var[W] = 1/3 with n the layer's own fan-in
                Init::Standard => 1.0 / (3.0 * fan_in as f64),
                // eq. 16: Var[W] = 2 / (n_in + n_out)
                Init::Normalized => 2.0 / (fan_in + fan_out) as f64,
                Init::He => unreachable!("tested below"),
            };
            let measured = variance(&layer.weight);
            // The relative sd of a uniform sample variance is sqrt(0.8 / n): 2% at n = 2304.
            let tolerance = if fan_in * fan_out > 100_000 {
                0.01
            } else {
                0.08
            };
            assert!(
                (measured / expected - 1.0).abs() < tolerance,
                "{init:?} layer {k}: variance {measured} vs {expected}"
            );
            let bound = init_bound(init, fan_in, fan_out).unwrap();
            let max = layer.weight.abs().max().double_value(&[]);
            assert!(
                max <= bound && max > 0.99 * bound,
                "{init:?} layer {k}: max {max} vs bound {bound}"
            );
            assert_eq!(layer.bias.abs().sum(Kind::Double).double_value(&[]), 0.0);
        }
    }
}

/// He et al. (2015): W ~ N(0, 2 / fan_in), biases 0. A normal, not a uniform of the same
/// variance: the kurtosis tells them apart (3 against 1.8).
#[test]
fn he_init_is_normal_with_variance_two_over_fan_in() {
    let sizes = [1000, 1000, 10];
    let model = Mlp::new(&sizes, Activation::Relu, Init::He, 4, Device::Cpu);
    let weight = model.layers[0].weight.to_kind(Kind::Double);
    let expected = 2.0 / 1000.0;
    assert!((init_std(Init::He, 1000, 1000).powi(2) / expected - 1.0).abs() < 1e-12);
    let mean = weight.mean(Kind::Double).double_value(&[]);
    let measured = variance(&weight);
    let kurtosis = (&weight - mean)
        .pow_tensor_scalar(4)
        .mean(Kind::Double)
        .double_value(&[])
        / (measured * measured);
    // n = 1e6: the sample variance's relative sd is sqrt(2 / n) = 0.14%, the kurtosis' sd
    // about 0.005, the mean's sd 4.5e-5.
    assert!(
        (measured / expected - 1.0).abs() < 0.01,
        "variance {measured} vs {expected}"
    );
    assert!((kurtosis - 3.0).abs() < 0.05, "kurtosis {kurtosis}");
    assert!(mean.abs() < 3e-4, "mean {mean}");
    // The output layer has its own fan-in (1000) too; biases start at 0.
    let top = variance(&model.layers[1].weight);
    assert!(
        (top / expected - 1.0).abs() < 0.05,
        "output layer variance {top}"
    );
    for layer in &model.layers {
        assert_eq!(layer.bias.abs().sum(Kind::Double).double_value(&[]), 0.0);
    }
    let again = Mlp::new(&sizes, Activation::Relu, Init::He, 4, Device::Cpu);
    assert!(
        again.layers[0].weight.equal(&model.layers[0].weight),
        "not deterministic"
    );
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let sizes = [32, 16, 5];
    let a = Mlp::new(&sizes, Activation::Tanh, Init::Standard, 1, Device::Cpu);
    let b = Mlp::new(&sizes, Activation::Tanh, Init::Standard, 1, Device::Cpu);
    let c = Mlp::new(&sizes, Activation::Tanh, Init::Standard, 2, Device::Cpu);
    assert!(a.layers[0].weight.equal(&b.layers[0].weight));
    assert!(!a.layers[0].weight.equal(&c.layers[0].weight));
}

fn autograd_activation(activation: Activation, s: &Tensor) -> Tensor {
    match activation {
        Activation::Sigmoid => s.sigmoid(),
        Activation::Tanh => s.tanh(),
        Activation::Softsign => s / (s.abs() + 1.0),
        Activation::Relu => s.relu(),
    }
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn manual_backward_and_update_equal_autograd() {
    let batch = 10;
    let lr = 0.5;
    for activation in [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softsign,
        Activation::Relu,
    ] {
        // The training step is the engine's, on a pack of one; the probe runs on its view.
        let run = common::one_step(activation, 3, 32, batch as usize, lr);
        let sizes = run.layer_sizes();
        let mut pack = PackMlp::new(std::slice::from_ref(&run), Device::Cpu);
        let mut model = pack.model(0);
        // Non-zero biases so their gradient path is exercised too.
        for layer in &mut model.layers {
            let shifted = layer.bias.rand_like() * 0.2 - 0.1;
            layer.bias.copy_(&shifted);
        }
        let params: Vec<(Tensor, Tensor)> = model
            .layers
            .iter()
            .map(|l| {
                (
                    l.weight.copy().set_requires_grad(true),
                    l.bias.copy().set_requires_grad(true),
                )
            })
            .collect();
        tch::manual_seed(9);
        let x = Tensor::rand([batch, sizes[0] as i64], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let y = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));

        let mut h = x.shallow_clone();
        for (k, (w, b)) in params.iter().enumerate() {
            let s = h.matmul(w) + b;
            h = if k + 1 < params.len() {
                autograd_activation(activation, &s)
            } else {
                s
            };
        }
        let loss = h.cross_entropy_for_logits(&y);
        loss.backward();

        // The probe's gradients (on the same examples, no update) equal autograd's.
        let probed = probe(&mut model, &x, &y, 2);
        for (k, layer) in probed.layers.iter().enumerate() {
            let diff = max_abs_diff(&layer.weight_grad, &params[k].0.grad());
            assert!(diff < 1e-6, "{activation:?} probe weight_grad {k}: {diff}");
        }

        let nll_sum = pack.sgd_step(&x.unsqueeze(0), &y.unsqueeze(0));
        let loss_value = loss.double_value(&[]);
        assert!((nll_sum.double_value(&[0]) / batch as f64 - loss_value).abs() < 1e-5);
        for (k, (layer, (w, b))) in model.layers.iter().zip(&params).enumerate() {
            let expected_w = w.detach() - w.grad() * lr;
            let expected_b = b.detach() - b.grad() * lr;
            let dw = max_abs_diff(&layer.weight, &expected_w);
            let db = max_abs_diff(&layer.bias, &expected_b);
            assert!(
                dw < 1e-6 && db < 1e-6,
                "{activation:?} layer {k}: |dW| {dw}, |db| {db}"
            );
        }
    }
}

#[test]
fn jacobian_singular_values_match_a_direct_svd() {
    let sizes = [40, 30, 30, 30, 4];
    let mut model = Mlp::new(&sizes, Activation::Tanh, Init::Standard, 8, Device::Cpu);
    tch::manual_seed(2);
    let x = Tensor::rand([12, 40], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let y = Tensor::randint(4, [12], (Kind::Int64, Device::Cpu));
    let examples = 3;
    let probed = probe(&mut model, &x, &y, examples);
    let measured = Vec::<f64>::try_from(&probed.jacobian_sv_mean).unwrap();
    assert_eq!(measured.len(), 3);
    assert!(
        measured[2].is_nan(),
        "the last hidden layer has no hidden successor"
    );
    let trace = model.forward(&x);
    for k in 1..3 {
        // dh_{k+1}/dh_k for example e, built row by row: diag(1 - h^2) W^T.
        let mut total = 0.0;
        for e in 0..examples {
            let h_next = trace.inputs[k + 1].get(e as i64);
            let jacobian = (-h_next.square() + 1.0).unsqueeze(1) * model.layers[k].weight.tr();
            let (_, s, _) = jacobian.to_kind(Kind::Double).svd(true, false);
            total += s.mean(Kind::Double).double_value(&[]);
        }
        let direct = total / examples as f64;
        assert!(
            (measured[k - 1] - direct).abs() < 1e-4,
            "layer {k}: {} vs {direct}",
            measured[k - 1]
        );
    }
}
