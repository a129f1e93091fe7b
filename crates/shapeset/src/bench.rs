//! Generator throughput, for `shapeset bench` and `just bench`.

use std::time::Instant;

use anyhow::{ensure, Context, Result};
use serde::Serialize;

use super::{fill_batch, GENERATOR, IMAGE_DIM};

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub generator: String,
    pub count: usize,
    pub threads: usize,
    pub seconds: f64,
    pub images_per_s: f64,
    /// `images_per_s / threads`.
    pub per_core: f64,
    /// Streams the timing used, so a rerun measures the same images.
    pub seed: u64,
}

/// Times `count` images on a fresh pool of `threads` threads, after a warm-up that
/// builds the pool and the generator's tables.
pub fn bench(count: usize, threads: usize, seed: u64) -> Result<BenchReport> {
    ensure_memory(count)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("building the benchmark thread pool")?;
    let mut pixels = vec![0u8; count * IMAGE_DIM];
    let mut labels = vec![0u8; count];
    let warm = count.min(1024);
    let (warm_pixels, warm_labels) = (&mut pixels[..warm * IMAGE_DIM], &mut labels[..warm]);
    pool.install(|| fill_batch(seed, 0, warm_pixels, warm_labels));
    let start = Instant::now();
    pool.install(|| fill_batch(seed, 1 << 40, &mut pixels, &mut labels));
    let seconds = start.elapsed().as_secs_f64();
    let images_per_s = count as f64 / seconds;
    Ok(BenchReport {
        generator: GENERATOR.into(),
        count,
        threads,
        seconds,
        images_per_s,
        per_core: images_per_s / threads as f64,
        seed,
    })
}

/// Refuses a count whose images would not fit in the memory available now (the whole batch
/// is held at once, so that only generation is timed).
fn ensure_memory(count: usize) -> Result<()> {
    let bytes = count
        .checked_mul(IMAGE_DIM + 1)
        .with_context(|| format!("--count {count} images need more bytes than a usize holds"))?;
    if let Some(available) = spec::device::cpu_memory_available() {
        ensure!(
            (bytes as u64) <= available,
            "--count {count} needs {:.1} GB of memory and {:.1} GB is available",
            bytes as f64 / 1e9,
            available as f64 / 1e9
        );
    }
    Ok(())
}
