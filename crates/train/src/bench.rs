//! `train bench`: examples/s of the SGD step of the 5x1000 tanh net on the CPU, the twin of
//! `bench/pytorch_eager.py` (same sizes, same synthetic batches, same thread counts).

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use spec::{Activation, Init};
use tch::{Device, Kind, Tensor};

use crate::model::Mlp;
use crate::rng::SplitMix64;

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
const INPUTS: usize = 1024;
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
    let mut sizes = vec![INPUTS];
    sizes.extend(std::iter::repeat_n(args.width, args.hidden_layers));
    sizes.push(CLASSES);
    let mut model = Mlp::new(&sizes, Activation::Tanh, Init::Normalized, 0, Device::Cpu);
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
                Tensor::from_slice(&x).view([batch as i64, INPUTS as i64]),
                Tensor::from_slice(&y),
            )
        })
        .collect();
    let mut loss = Tensor::zeros([], (Kind::Double, Device::Cpu));
    let mut step = |i: u64| {
        let (x, y) = &pool[i as usize % POOL];
        loss += model.sgd_step(x, y, 0.01);
    };
    (0..args.warmup).for_each(&mut step);
    let clock = Instant::now();
    (0..args.steps).for_each(&mut step);
    let seconds = clock.elapsed().as_secs_f64();
    assert!(loss.double_value(&[]).is_finite(), "bench loss diverged");
    seconds
}
