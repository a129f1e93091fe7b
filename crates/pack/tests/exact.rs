//! The pack against single runs on the CPU (the core claim of the crate): the same batches
//! byte for byte, the same initial weights bit for bit, parameters within 1e-5 relative
//! after 200 updates, and recordings within `Tolerance::CPU` of train's own trainer. Each
//! check is shown to fail on a pack given a wrong per-model learning rate.

use anyhow::{ensure, Result};
use pack::compare::{compare, compare_values, Tolerance};
use pack::data::PackBatches;
use pack::model::PackMlp;
use spec::{Activation, Dataset, Init, RunConfig, RunParams};
use tch::{Device, Kind, Tensor};
use train::model::Mlp;
use train::source::{Batches, DeviceSet};
use train::trainer::Options;

/// Parameters within this much of a single run's, relative to the tensor's largest value.
const PARAMETER_TOLERANCE: f64 = 1e-5;

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
    let set = DeviceSet {
        x: Tensor::randint(256, [123, 784], (Kind::Uint8, Device::Cpu)),
        y: Tensor::randint(10, [123], (Kind::Int64, Device::Cpu)),
        n: 123,
    };
    assert_same_batches(&mnist, Some(&set), 40);
}

fn assert_same_batches(configs: &[RunConfig], set: Option<&DeviceSet>, steps: u64) {
    let mut pack = PackBatches::new(configs, set, 0, Device::Cpu);
    let mut singles: Vec<Batches> = configs
        .iter()
        .map(|c| {
            let split = set.map(|s| DeviceSet {
                x: s.x.shallow_clone(),
                y: s.y.shallow_clone(),
                n: s.n,
            });
            Batches::new(c, split, 0, Device::Cpu)
        })
        .collect();
    for step in 0..steps {
        let (x, y) = pack.next_batch();
        for (k, single) in singles.iter_mut().enumerate() {
            let (xs, ys) = single.next_batch();
            assert!(
                x.get(k as i64).equal(&xs),
                "model {k} step {step}: pixels differ"
            );
            assert!(
                y.get(k as i64).equal(&ys),
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

/// `updates` steps of a single run, with the calls train's trainer makes.
fn train_single(run: &RunParams, updates: u64) -> Mlp {
    let sizes = run.layer_sizes();
    let mut model = Mlp::new(&sizes, run.activation, run.init, run.seed, Device::Cpu);
    let mut batches = Batches::new(&config(run), None, 0, Device::Cpu);
    for _ in 0..updates {
        let (x, y) = batches.next_batch();
        _ = model.sgd_step(&x, &y, run.lr);
    }
    model
}

/// Every weight and bias of every model within `tolerance` x the tensor's largest value.
fn check_parameters(pack: &PackMlp, singles: &[Mlp], tolerance: f64) -> Result<()> {
    for (k, single) in singles.iter().enumerate() {
        let model = pack.model(k);
        for (l, (a, b)) in model.layers.iter().zip(&single.layers).enumerate() {
            for (what, x, y) in [("weight", &a.weight, &b.weight), ("bias", &a.bias, &b.bias)] {
                let diff = (x - y).abs().max().double_value(&[]);
                let scale = y.abs().max().double_value(&[]);
                ensure!(
                    diff <= tolerance * scale,
                    "model {k} layer {l} {what}: max difference {diff:e}, scale {scale:e}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn initial_weights_are_bit_identical_to_single_runs() {
    let runs = mixed();
    let pack = PackMlp::new(&runs, Device::Cpu);
    let singles: Vec<Mlp> = runs.iter().map(|r| train_single(r, 0)).collect();
    check_parameters(&pack, &singles, 0.0).unwrap();
}

#[test]
fn parameters_after_200_updates_match_single_runs_and_a_wrong_lr_is_caught() {
    let runs = mixed();
    let singles: Vec<Mlp> = runs.iter().map(|r| train_single(r, 200)).collect();
    check_parameters(&train_pack(&runs, 200), &singles, PARAMETER_TOLERANCE).unwrap();
    // A model's result does not depend on its pack partners.
    let alone = train_pack(&runs[2..3], 200);
    check_parameters(&alone, &singles[2..3], PARAMETER_TOLERANCE).unwrap();
    // The bug this must catch: model 1 trained with model 2's learning rate.
    let mut wrong = runs.clone();
    wrong[1].lr = runs[2].lr;
    let err = check_parameters(&train_pack(&wrong, 200), &singles, PARAMETER_TOLERANCE);
    let err = format!("{:#}", err.unwrap_err());
    assert!(err.starts_with("model 1 "), "{err}");
}

#[test]
fn recordings_match_train_trainer_runs_and_a_wrong_lr_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let runs = mixed();
    let train_pack = |runs: &[RunParams], out: &str| {
        let options = pack::trainer::Options::default();
        pack::trainer::run(&configs(runs), None, &dir.path().join(out), options)
            .unwrap()
            .expect("a pack with no stop trains to its end")
    };
    let outcomes = train_pack(&runs, "pack");
    let mut wrong = runs.clone();
    wrong[1].lr = runs[2].lr;
    let wrong_outcomes = train_pack(&wrong, "wrong");
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
        compare(&outcomes[k].run_h5, &single, Tolerance::CPU)
            .unwrap_or_else(|e| panic!("model {k}: {e:#}"));
        let wrong = compare_values(&wrong_outcomes[k].run_h5, &single, Tolerance::CPU);
        assert_eq!(wrong.is_err(), k == 1, "model {k}: {wrong:?}");
    }
}
