//! The pack against single runs on the CPU (the core claim of the engine): the same batches
//! byte for byte, the same initial weights bit for bit, and, trained, the same parameters
//! and `run.h5` bit for bit.
//!
//! Why bitwise and not within a tolerance: every run, single or packed, takes the same step
//! (`PackMlp::sgd_step`), on the kernel path `train::kernels::pin` fixes (ATen's AVX2 kernels,
//! MKL's CBWR AVX2 branch), on one thread. A model's numbers then depend only on its own
//! slice: the batched GEMM computes each model's product with the same kernel, and every
//! other operation is elementwise or reduces within one model's rows. So the error model is
//! exact: any difference is a bug (a wrong rate, a mixed-up slice), never rounding. Each
//! check is shown to fail on a pack given a wrong per-model learning rate.

use anyhow::{ensure, Result};
use spec::{Activation, Dataset, Init, RunConfig, RunParams};
use tch::{Device, Kind, Tensor};
use train::model::Mlp;
use train::pack::data::PackBatches;
use train::pack::member::Layout;
use train::pack::model::PackMlp;
use train::trainer::Options;

/// The kernel path and one thread, before any tensor exists in this test process.
fn setup() {
    train::kernels::pin();
    tch::set_num_threads(1);
}

fn params(seed: u64, init: Init, lr: f64) -> RunParams {
    RunParams {
        dataset: Dataset::Shapeset,
        activation: Activation::Tanh,
        init,
        hidden_layers: 3,
        width: 64,
        batch_size: 10,
        lr,
        updates: 200,
        seed,
        probe_every: 100,
        jacobian_examples: 2,
        eval_examples: 0,
        raw_every_epochs: 1,
    }
}

/// A pack of 4 with mixed seeds, inits and learning rates.
fn mixed() -> Vec<RunParams> {
    vec![
        params(0, Init::Standard, 0.01),
        params(1, Init::Normalized, 0.05),
        params(2, Init::He, 0.02),
        params(3, Init::Standard, 0.1),
    ]
}

fn config(params: &RunParams) -> RunConfig {
    RunConfig {
        params: params.clone(),
        updates_per_epoch: spec::SHAPESET_EPOCH_UPDATES,
        device: "cpu".into(),
        data: None,
        data_key: None,
    }
}

fn configs(runs: &[RunParams]) -> Vec<RunConfig> {
    runs.iter().map(config).collect()
}

#[test]
fn every_model_reads_the_batches_of_a_single_run_of_its_seed() {
    setup();
    let mut runs = mixed();
    // 250 updates: two full chunks and a partial one.
    runs.iter_mut().for_each(|r| r.updates = 250);
    let shapeset = configs(&runs);
    assert_same_batches(&shapeset, None, 250);
    // A fixed split of 123 examples: 12 steps per epoch, so 40 steps cross 3 reshuffles.
    let mnist: Vec<RunConfig> = shapeset
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.params.dataset = Dataset::Mnist;
            c
        })
        .collect();
    let set = train::source::DeviceSet {
        x: Tensor::randint(256, [123, 784], (Kind::Uint8, Device::Cpu)),
        y: Tensor::randint(10, [123], (Kind::Int64, Device::Cpu)),
        n: 123,
    };
    assert_same_batches(&mnist, Some(&set), 40);
}

fn assert_same_batches(configs: &[RunConfig], set: Option<&train::source::DeviceSet>, steps: u64) {
    let mut pack = PackBatches::new(configs, set, 0, Device::Cpu);
    let mut singles: Vec<PackBatches> = configs
        .iter()
        .map(|c| PackBatches::new(std::slice::from_ref(c), set, 0, Device::Cpu))
        .collect();
    for step in 0..steps {
        let (x, y) = pack.next_batch();
        for (k, single) in singles.iter_mut().enumerate() {
            let (xs, ys) = single.next_batch();
            assert!(
                x.get(k as i64).equal(&xs.get(0)),
                "model {k} step {step}: pixels differ"
            );
            assert!(
                y.get(k as i64).equal(&ys.get(0)),
                "model {k} step {step}: labels differ"
            );
        }
    }
}

/// `updates` steps of a pack of `runs` on their own Shapeset streams.
fn train_pack(runs: &[RunParams], updates: u64) -> PackMlp {
    let configs = configs(runs);
    let mut pack = PackMlp::new(runs, Device::Cpu);
    let mut batches = PackBatches::new(&configs, None, 0, Device::Cpu);
    for _ in 0..updates {
        let (x, y) = batches.next_batch();
        _ = pack.sgd_step(&x, &y);
    }
    pack
}

/// Every weight and bias of every model of `pack` equal to `singles`' bit for bit.
fn check_parameters(pack: &PackMlp, singles: &[Mlp]) -> Result<()> {
    for (k, single) in singles.iter().enumerate() {
        let model = pack.model(k);
        for (l, (a, b)) in model.layers.iter().zip(&single.layers).enumerate() {
            for (what, x, y) in [("weight", &a.weight, &b.weight), ("bias", &a.bias, &b.bias)] {
                let diff = (x - y).abs().max().double_value(&[]);
                ensure!(
                    x.equal(y),
                    "model {k} layer {l} {what}: max difference {diff:e}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn initial_weights_are_bit_identical_to_single_runs() {
    setup();
    let runs = mixed();
    let pack = PackMlp::new(&runs, Device::Cpu);
    let singles: Vec<Mlp> = runs
        .iter()
        .map(|r| Mlp::new(&r.layer_sizes(), r.activation, r.init, r.seed, Device::Cpu))
        .collect();
    check_parameters(&pack, &singles).unwrap();
}

#[test]
fn parameters_after_200_updates_are_a_pack_of_ones_and_a_wrong_lr_is_caught() {
    setup();
    let runs = mixed();
    let singles: Vec<Mlp> = runs
        .iter()
        .map(|r| train_pack(std::slice::from_ref(r), 200).model(0))
        .collect();
    check_parameters(&train_pack(&runs, 200), &singles).unwrap();
    // The bug this must catch: model 1 trained with model 2's learning rate.
    let mut wrong = runs.clone();
    wrong[1].lr = runs[2].lr;
    let err = check_parameters(&train_pack(&wrong, 200), &singles);
    let err = format!("{:#}", err.unwrap_err());
    assert!(err.starts_with("model 1 "), "{err}");
}

#[test]
fn recordings_are_those_of_single_train_runs_byte_for_byte_and_a_wrong_lr_is_caught() {
    setup();
    let dir = tempfile::tempdir().unwrap();
    let runs = mixed();
    let train_pack = |runs: &[RunParams], out: &str| {
        let options = train::pack::trainer::Options {
            layout: Layout::PerModel,
            ..Default::default()
        };
        train::pack::trainer::run(&configs(runs), None, &dir.path().join(out), options)
            .unwrap()
            .expect("a pack with no stop trains to its end")
    };
    let outcomes = train_pack(&runs, "pack");
    let mut wrong = runs.clone();
    wrong[1].lr = runs[2].lr;
    let wrong_outcomes = train_pack(&wrong, "wrong");
    let bytes = |path: &std::path::Path| std::fs::read(path).unwrap();
    for (k, run) in runs.iter().enumerate() {
        assert_eq!(outcomes[k].status, "complete");
        let options = Options {
            out: dir.path().join("single").join(run.name()),
            resume: false,
            export_seed_layout: false,
            stop_after: None,
            diverged_ok: false,
        };
        let single = train::trainer::run(&config(run), None, &options).unwrap();
        assert!(
            bytes(&outcomes[k].run_h5) == bytes(&single),
            "model {k}: run.h5 differs"
        );
        let same = bytes(&wrong_outcomes[k].run_h5) == bytes(&single);
        assert_eq!(same, k != 1, "model {k}");
    }
}
