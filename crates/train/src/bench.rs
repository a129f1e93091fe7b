//! `train bench`: examples/s of the SGD step of the 5x1000 tanh net on the CPU, the twin of
//! `bench/pytorch_eager.py` (same sizes, same synthetic batches, same thread counts). The step
//! timed is the one every run trains with: the engine's, as a pack of one.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use spec::{Activation, Dataset, Init, RunParams};
use tch::{Device, Kind, Tensor};

use crate::pack::model::PackMlp;
use spec::init::SplitMix64;

/// Batches cycled through during the timing, so inputs are not one cached tensor.
const POOL: usize = 16;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Batch sizes to time.
    #[arg(long, value_delimiter = ',', default_values_t = [10, 128])]
    pub batch_sizes: Vec<usize>,
    /// libtorch thread counts to time; 0 means all cores.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 0])]
    pub threads: Vec<usize>,
    /// Timed SGD steps per measurement.
    #[arg(long, default_value_t = 300)]
    pub steps: u64,
    /// Untimed steps before the timing.
    #[arg(long, default_value_t = 30)]
    pub warmup: u64,
    /// Hidden layers of the timed net.
    #[arg(long, default_value_t = 5)]
    pub hidden_layers: usize,
    /// Units per hidden layer of the timed net.
    #[arg(long, default_value_t = 1000)]
    pub width: usize,
}

/// Input and output sizes of the bench net (Shapeset's).
const INPUTS: usize = shapeset::IMAGE_DIM;
const CLASSES: usize = 9;

pub fn run(args: &BenchArgs) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for &threads in &args.threads {
        let threads = if threads == 0 { cores } else { threads };
        tch::set_num_threads(threads as i32);
        for &batch in &args.batch_sizes {
            let seconds = time_steps(args, batch);
            let line = serde_json::json!({
                "impl": "tch-manual",
                "batch_size": batch,
                "threads": threads,
                "steps": args.steps,
                "seconds": seconds,
                "examples_per_s": (args.steps as usize * batch) as f64 / seconds,
            });
            println!("{line}");
        }
    }
    Ok(())
}

/// Wall seconds of `args.steps` SGD steps at `batch` after `args.warmup` untimed ones.
fn time_steps(args: &BenchArgs, batch: usize) -> f64 {
    let run = RunParams {
        dataset: Dataset::Shapeset,
        activation: Activation::Tanh,
        init: Init::Normalized,
        hidden_layers: args.hidden_layers,
        width: args.width,
        batch_size: batch,
        lr: 0.01,
        updates: args.warmup + args.steps,
        seed: 0,
        probe_every: args.warmup + args.steps,
        jacobian_examples: 0,
        eval_examples: 0,
        raw_every_epochs: 0,
    };
    let mut model = PackMlp::new(&[run], Device::Cpu);
    let mut rng = SplitMix64::new(0, 99);
    let pool: Vec<(Tensor, Tensor)> = (0..POOL)
        .map(|_| {
            let x: Vec<f32> = (0..batch * INPUTS)
                .map(|_| 2.0 * rng.next_f32() - 1.0)
                .collect();
            let y: Vec<i64> = (0..batch)
                .map(|_| rng.below(CLASSES as u64) as i64)
                .collect();
            (
                Tensor::from_slice(&x).view([1, batch as i64, INPUTS as i64]),
                Tensor::from_slice(&y).view([1, batch as i64]),
            )
        })
        .collect();
    let mut loss = Tensor::zeros([1], (Kind::Double, Device::Cpu));
    let mut step = |i: u64| {
        let (x, y) = &pool[i as usize % POOL];
        loss += model.sgd_step(x, y);
    };
    (0..args.warmup).for_each(&mut step);
    let clock = Instant::now();
    (0..args.steps).for_each(&mut step);
    let seconds = clock.elapsed().as_secs_f64();
    assert!(loss.double_value(&[0]).is_finite(), "bench loss diverged");
    seconds
}
