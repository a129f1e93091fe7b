//! How many libtorch calls one training step makes. At batch 10 a GPU step is bound by the
//! host's calls (each ~10 µs, against microseconds of arithmetic per small GEMM), so the
//! count is the step's cost there; CPU timing does not show it.
//!
//! The step is traced by TorchScript's tracer, which records every ATen call made on a
//! tensor (views, in-place updates and kernels alike), and the calls are counted in the
//! traced code. A harness that only gathers the pack's tensors into the traced output is
//! traced too, and its calls are subtracted.

mod common;

use spec::{Activation, RunParams};
use std::io::Read;
use tch::{CModule, Device, Kind, Tensor};
use train::pack::model::PackMlp;

const HIDDEN: usize = 5;
const K: i64 = 2;
const BATCH: i64 = 10;

fn pack(activation: Activation) -> PackMlp {
    let run = common::one_step(activation, HIDDEN, 8, BATCH as usize, 0.1);
    let other = RunParams {
        seed: 6,
        ..run.clone()
    };
    PackMlp::new(&[run, other], Device::Cpu)
}

/// The ATen calls in the code TorchScript traced from `step` (given the pack, x and y, it
/// returns the tensors the output gathers).
fn traced_calls(
    activation: Activation,
    step: fn(&mut PackMlp, &Tensor, &Tensor) -> Tensor,
) -> usize {
    let mut pack = pack(activation);
    let x = Tensor::rand([K, BATCH, 784], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(10, [K, BATCH], (Kind::Int64, Device::Cpu));
    let mut closure = |inputs: &[Tensor]| {
        let loss = step(&mut pack, &inputs[0], &inputs[1]);
        // One output (the archive allows one): the loss and every parameter, so the tracer
        // keeps the in-place updates, which nothing else reads.
        let mut all = vec![loss.view([-1])];
        all.extend(pack.weights.iter().map(|w| w.view([-1])));
        all.extend(pack.biases.iter().map(|b| b.view([-1])));
        vec![Tensor::cat(&all, 0)]
    };
    let module = CModule::create_by_tracing("Step", "forward", &[x, y], &mut closure).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("step.pt");
    module.save(&path).unwrap();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut code = String::new();
    archive
        .by_name("step/code/__torch__.py")
        .unwrap()
        .read_to_string(&mut code)
        .unwrap();
    code.matches("torch.").count() - code.matches("__torch__.").count()
}

/// The calls of one `sgd_step`, the harness's subtracted.
fn step_calls(activation: Activation) -> usize {
    let harness = traced_calls(activation, |_, x, _| x.sum(Kind::Float));
    let step = traced_calls(activation, PackMlp::sgd_step);
    // The harness's own call is `sum`; the step's output needs none.
    step - (harness - 1)
}

#[test]
fn a_training_step_makes_the_counted_libtorch_calls() {
    let layers = HIDDEN + 1;
    // Forward: one baddbmm per layer, then the activation (tanh: one call in place).
    // Loss and residual: log_softmax, unsqueeze, gather, sum, neg, exp, scatter, and the
    // scale by -lr/batch: 8.
    // Backward per layer: the input's transpose, the weight update (baddbmm_), the bias
    // update (a sum over the batch and an add); below the top layer also the gradient for
    // the layer below (bmm on a transpose made once) and the slope (one fused call).
    let tanh = (layers + HIDDEN) + 8 + 4 * layers + 2 * HIDDEN;
    assert_eq!(tanh, 53);
    assert_eq!(step_calls(Activation::Tanh), tanh);
    assert_eq!(step_calls(Activation::Sigmoid), tanh);
    assert_eq!(step_calls(Activation::Relu), tanh);
    // Softsign has no fused kernel: x / (1 + |x|) is three calls forward, (1 - |h|)^2 g four
    // back.
    assert_eq!(
        step_calls(Activation::Softsign),
        tanh + 2 * HIDDEN + 3 * HIDDEN
    );
}
