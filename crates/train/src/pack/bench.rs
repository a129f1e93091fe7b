//! `train-pack bench`: model-updates/s of packs of the 5x1000 tanh net (train bench's net,
//! synthetic batches), and the Shapeset producer's images/s against what the pack needs.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use serde_json::json;
use spec::init::SplitMix64;
use spec::{Activation, Dataset, Init, RunParams};
use tch::{Device, Kind, Tensor};

use super::members::{bytes_per_model, fixed_bytes, max_models};
use super::model::PackMlp;

/// Batches cycled through during the timing, so inputs are not one cached tensor.
const POOL: usize = 8;
/// The H200's memory, for the largest-pack row.
const H200_BYTES: u64 = 141_000_000_000;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Pack sizes K to time.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16, 64])]
    pub packs: Vec<usize>,
    /// Model-updates timed per pack size (steps = this / K, at least `min_steps`).
    #[arg(long, default_value_t = 600)]
    pub model_updates: u64,
    /// Fewest timed steps per pack size; with --seconds, steps between clock reads.
    #[arg(long, default_value_t = 5)]
    pub min_steps: u64,
    /// Time each pack size for about this long instead of --model-updates (0: off).
    #[arg(long, default_value_t = 0.0)]
    pub seconds: f64,
    /// Untimed steps before each timing.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    #[arg(long, default_value_t = 10)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 5)]
    pub hidden_layers: usize,
    #[arg(long, default_value_t = 1000)]
    pub width: usize,
    /// CPU threads for libtorch (1: the bench pins one core).
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
    /// Also time the Shapeset producer for this many models (0: skip).
    #[arg(long, default_value_t = 16)]
    pub producer_models: usize,
}

fn params(args: &BenchArgs, seed: u64) -> RunParams {
    RunParams {
        dataset: Dataset::Shapeset,
        activation: Activation::Tanh,
        init: Init::Normalized,
        hidden_layers: args.hidden_layers,
        width: args.width,
        batch_size: args.batch_size,
        lr: 0.01,
        updates: 1,
        seed,
        probe_every: 1,
        jacobian_examples: 5,
        eval_examples: 0,
        raw_every_epochs: 1,
    }
}

/// Prints one JSON line per pack size, then the producer's and the memory model's.
pub fn run(args: &BenchArgs) -> Result<()> {
    tch::set_num_threads(args.threads.max(1));
    let device_name = crate::trainer::resolve_device(&args.device)?;
    let device = crate::trainer::device(&device_name)?;
    let class = device_class(device);
    for &k in &args.packs {
        let steps = (args.model_updates / k as u64).max(args.min_steps);
        let (steps, seconds) = time_steps(args, k, steps, device);
        let line = json!({
            "impl": "tch-pack",
            "device": class,
            "k": k,
            "batch_size": args.batch_size,
            "steps": steps,
            "seconds": seconds,
            "model_updates_per_s": (k as u64 * steps) as f64 / seconds,
            "examples_per_s": (k as u64 * steps * args.batch_size as u64) as f64 / seconds,
        });
        println!("{line}");
    }
    if args.producer_models > 0 {
        println!("{}", time_producer(args));
    }
    let run = params(args, 0);
    let memory = json!({
        "impl": "memory-model",
        "bytes_per_model": bytes_per_model(&run),
        "fixed_bytes": fixed_bytes(&run),
        "memory_bytes": H200_BYTES,
        "max_k": max_models(&run, H200_BYTES),
    });
    println!("{memory}");
    Ok(())
}

/// `cpu` or `cuda:<GPU model>`, as train's identity names device classes.
fn device_class(device: Device) -> String {
    if device == Device::Cpu {
        return "cpu".into();
    }
    let id = crate::identity::identity();
    id["device_classes"]
        .as_array()
        .and_then(|c| c.get(1))
        .and_then(|c| c.as_str())
        .unwrap_or("cuda:unknown")
        .to_string()
}

/// Steps and wall seconds of K-model pack steps after the warmup, synced at both ends:
/// `steps` of them, or with `--seconds` blocks of `min_steps` until that long has passed.
fn time_steps(args: &BenchArgs, k: usize, steps: u64, device: Device) -> (u64, f64) {
    let runs: Vec<RunParams> = (0..k as u64).map(|s| params(args, s)).collect();
    let mut pack = PackMlp::new(&runs, device);
    let mut rng = SplitMix64::new(0, 99);
    let (b, dim) = (args.batch_size, Dataset::Shapeset.input_dim());
    let pool: Vec<(Tensor, Tensor)> = (0..POOL)
        .map(|_| {
            let x: Vec<f32> = (0..k * b * dim)
                .map(|_| 2.0 * rng.next_f32() - 1.0)
                .collect();
            let y: Vec<i64> = (0..k * b).map(|_| rng.below(9) as i64).collect();
            let x = Tensor::from_slice(&x).view([k as i64, b as i64, dim as i64]);
            let y = Tensor::from_slice(&y).view([k as i64, b as i64]);
            (x.to_device(device), y.to_device(device))
        })
        .collect();
    let mut loss = Tensor::zeros([k as i64], (Kind::Double, device));
    for i in 0..args.warmup {
        let (x, y) = &pool[i as usize % POOL];
        loss += pack.sgd_step(x, y);
    }
    let _ = loss.sum(Kind::Double).double_value(&[]);
    let clock = Instant::now();
    let block = if args.seconds > 0.0 {
        args.min_steps.max(1)
    } else {
        steps
    };
    let mut done = 0;
    loop {
        for i in done..done + block {
            let (x, y) = &pool[i as usize % POOL];
            loss += pack.sgd_step(x, y);
        }
        done += block;
        // The read waits for the device: the timing covers the work, not its launch.
        let total = loss.sum(Kind::Double).double_value(&[]);
        assert!(total.is_finite(), "bench loss diverged");
        if clock.elapsed().as_secs_f64() >= args.seconds {
            return (done, clock.elapsed().as_secs_f64());
        }
    }
}

/// Images/s the Shapeset producer makes for `producer_models` models on the rayon pool.
fn time_producer(args: &BenchArgs) -> serde_json::Value {
    let seeds: Vec<u64> = (0..args.producer_models as u64)
        .map(crate::source::shapeset_stream_seed)
        .collect();
    let chunks = 3;
    let clock = Instant::now();
    for c in 0..chunks {
        super::data::generate_chunk(&seeds, args.batch_size, c * super::data::CHUNK_STEPS);
    }
    let seconds = clock.elapsed().as_secs_f64();
    let images = chunks * super::data::CHUNK_STEPS * (args.batch_size * seeds.len()) as u64;
    json!({
        "impl": "shapeset-producer",
        "models": seeds.len(),
        "threads": rayon::current_num_threads(),
        "images_per_s": images as f64 / seconds,
    })
}
