//! The training batches of a pack: step s gives `x [K, batch, dim]` and `y [K, batch]`,
//! where row k is exactly the batch a single run of model k's seed reads at step s.
//!
//! - Shapeset: a producer thread generates every model's images for the next
//!   `CHUNK_STEPS` steps (rayon over models and images) and hands them over through a
//!   bounded queue, so generation overlaps the device's work; the bytes are
//!   `shapeset::fill_batch(shapeset_stream_seed(seed), step * batch, ..)`, the single run's.
//! - MNIST / CIFAR-10: the train split is put on the device once and each model keeps
//!   train's own `Batches` (its per-seed epoch shuffles) over a shallow view of it.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use crate::source::shapeset_stream_seed;
use crate::source::{Batches, DeviceSet, InputScale};
use rayon::prelude::*;
use spec::RunConfig;
use tch::{Device, Kind, Tensor};

pub use crate::source::CHUNK_STEPS;

/// Chunks generated ahead of the trainer: one in use, one ready, one being made.
const QUEUE_CHUNKS: usize = 2;

/// One chunk of every model's u8 pixels `[K, steps * batch, dim]` and labels, from `first`.
struct Chunk {
    first: u64,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

enum Origin {
    Shapeset {
        queue: Receiver<Chunk>,
        producer: Option<JoinHandle<()>>,
    },
    Fixed(Vec<Batches>),
}

pub struct PackBatches {
    origin: Origin,
    models: usize,
    batch: usize,
    scale: InputScale,
    device: Device,
    next_step: u64,
    /// The current chunk on the device, laid out `[steps, K, batch, dim]` so that a step's
    /// batch is one contiguous slice.
    chunk: Option<(u64, Tensor, Tensor)>,
}

impl PackBatches {
    /// The batches of the pack `configs` from step `step`; `train` is the train split on
    /// the device (None on Shapeset).
    pub fn new(
        configs: &[RunConfig],
        train: Option<&DeviceSet>,
        step: u64,
        device: Device,
    ) -> Self {
        let params = &configs[0].params;
        let origin = match train {
            None => {
                let seeds: Vec<u64> = configs
                    .iter()
                    .map(|c| shapeset_stream_seed(c.params.seed))
                    .collect();
                let (queue, producer) =
                    spawn_producer(seeds, params.batch_size, step, params.updates);
                Origin::Shapeset {
                    queue,
                    producer: Some(producer),
                }
            }
            Some(set) => Origin::Fixed(
                configs
                    .iter()
                    .map(|c| Batches::new(c, Some(shallow(set)), step, device))
                    .collect(),
            ),
        };
        PackBatches {
            origin,
            models: configs.len(),
            batch: params.batch_size,
            scale: InputScale::for_dataset(params.dataset),
            device,
            next_step: step,
            chunk: None,
        }
    }

    /// (x f32 `[K, batch, dim]`, y i64 `[K, batch]`) for the next step.
    pub fn next_batch(&mut self) -> (Tensor, Tensor) {
        let step = self.next_step;
        self.next_step += 1;
        let queue = match &mut self.origin {
            Origin::Fixed(batches) => return stack(batches),
            Origin::Shapeset { queue, .. } => queue,
        };
        if self
            .chunk
            .as_ref()
            .is_none_or(|(first, _, _)| step >= first + CHUNK_STEPS)
        {
            let chunk = queue.recv().expect("the Shapeset producer thread died");
            assert_eq!(chunk.first, step, "chunks arrive in order");
            self.chunk = Some(self.upload(&chunk));
        }
        let (first, x, y) = self.chunk.as_ref().unwrap();
        let i = (step - first) as i64;
        (x.get(i), y.get(i))
    }

    /// A chunk on the device, converted, and laid out step-major.
    fn upload(&self, chunk: &Chunk) -> (u64, Tensor, Tensor) {
        let (k, b) = (self.models as i64, self.batch as i64);
        let steps = chunk.labels.len() as i64 / (k * b);
        let x = Tensor::from_slice(&chunk.pixels)
            .view([k, steps, b, -1])
            .to_device(self.device);
        let y = Tensor::from_slice(&chunk.labels)
            .view([k, steps, b])
            .to_device(self.device);
        // The same conversion as a single run's (elementwise, so the layout is immaterial).
        let x = self.scale.convert(&x).transpose(0, 1).contiguous();
        let y = y.to_kind(Kind::Int64).transpose(0, 1).contiguous();
        (chunk.first, x, y)
    }
}

impl Drop for PackBatches {
    fn drop(&mut self) {
        if let Origin::Shapeset { queue, producer } = &mut self.origin {
            // Dropping the receiver ends the producer at its next send.
            let (_, dead) = sync_channel(1);
            drop(std::mem::replace(queue, dead));
            if let Some(handle) = producer.take() {
                let _ = handle.join();
            }
        }
    }
}

fn shallow(set: &DeviceSet) -> DeviceSet {
    DeviceSet {
        x: set.x.shallow_clone(),
        y: set.y.shallow_clone(),
        n: set.n,
    }
}

fn stack(batches: &mut [Batches]) -> (Tensor, Tensor) {
    let (xs, ys): (Vec<Tensor>, Vec<Tensor>) = batches.iter_mut().map(Batches::next_batch).unzip();
    (Tensor::stack(&xs, 0), Tensor::stack(&ys, 0))
}

/// Generates chunks from `step` until `updates` is covered, each model's images in
/// parallel; stops early when the trainer drops the queue.
fn spawn_producer(
    seeds: Vec<u64>,
    batch: usize,
    step: u64,
    updates: u64,
) -> (Receiver<Chunk>, JoinHandle<()>) {
    let (sender, queue) = sync_channel(QUEUE_CHUNKS);
    let producer = std::thread::spawn(move || {
        let mut first = step;
        while first < updates {
            let steps = CHUNK_STEPS.min(updates - first) as usize;
            if sender.send(generate(&seeds, batch, first, steps)).is_err() {
                return;
            }
            first += steps as u64;
        }
    });
    (queue, producer)
}

/// Generates one full chunk of every model's images from step `first`, returning the
/// pixel count (for the bench: the producer's work without the queue).
pub fn generate_chunk(stream_seeds: &[u64], batch: usize, first: u64) -> usize {
    generate(stream_seeds, batch, first, CHUNK_STEPS as usize)
        .pixels
        .len()
}

fn generate(seeds: &[u64], batch: usize, first: u64, steps: usize) -> Chunk {
    let per_model = steps * batch;
    let mut pixels = vec![0u8; seeds.len() * per_model * shapeset::IMAGE_DIM];
    let mut labels = vec![0u8; seeds.len() * per_model];
    pixels
        .par_chunks_mut(per_model * shapeset::IMAGE_DIM)
        .zip(labels.par_chunks_mut(per_model))
        .zip(seeds)
        .for_each(|((pixels, labels), &seed)| {
            shapeset::fill_batch(seed, first * batch as u64, pixels, labels);
        });
    Chunk {
        first,
        pixels,
        labels,
    }
}
