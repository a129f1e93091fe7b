//! Sizes checked before anything is allocated: an absurd `--width` or `--batch-size` is
//! refused with one line instead of aborting inside libtorch's allocator.
//!
//! The estimate is an upper bound of the run's peak, in f32 bytes: the weights four times
//! (the model, the probe's weight gradients, the checkpoint's serialized copy, and the init
//! buffers), the widest activations (a training batch, a 2,000-row evaluation chunk or the
//! 300 probe rows) for every layer twice (values and gradients), the Jacobian probe's
//! `examples x width x width` pair (nets of two or more hidden layers), a chunk of 100 converted training batches, and the data
//! on the device. On the CPU it is compared with `MemAvailable` from /proc/meminfo; on CUDA
//! tch exposes no free-memory query, so only the arithmetic is checked there.

use anyhow::{bail, Context, Result};
use spec::layout::PROBE_EXAMPLES;
use spec::RunParams;
use tch::Device;

use crate::probe::EVAL_CHUNK;
use crate::source::CHUNK_STEPS;

/// Copies of the weights alive at the peak (see the module doc).
const WEIGHT_COPIES: u64 = 4;
/// Bytes per converted input value: the u8 pixel and its f32.
const INPUT_BYTES: u64 = 5;

/// The bytes a run of `params` needs at its peak, `data_bytes` being its dataset's arrays;
/// an error naming the flags when the count overflows.
pub fn bytes_needed(params: &RunParams, data_bytes: u64) -> Result<u64> {
    let overflow = || {
        format!(
            "--width {} and --batch-size {} need more memory than a u64 can count",
            params.width, params.batch_size
        )
    };
    let f32s = |parts: &[u64]| parts.iter().try_fold(4u64, |acc, &p| acc.checked_mul(p));
    let weights = f32s(&[params.parameter_count()?, WEIGHT_COPIES]);
    let rows = (params.batch_size as u64)
        .max(EVAL_CHUNK as u64)
        .max(PROBE_EXAMPLES as u64);
    let layers = params.hidden_layers as u64 + 2;
    let activations = f32s(&[rows, params.width as u64, layers, 2]);
    let width = params.width as u64;
    // Jacobians are taken between hidden layers: a one-layer net has none.
    let jacobian_examples = if params.hidden_layers > 1 {
        params.jacobian_examples
    } else {
        0
    };
    let jacobian = f32s(&[jacobian_examples as u64, width, width, 2]);
    let inputs = [CHUNK_STEPS, params.batch_size as u64, INPUT_BYTES]
        .iter()
        .try_fold(params.dataset.input_dim() as u64, |acc, &p| {
            acc.checked_mul(p)
        });
    [weights, activations, jacobian, inputs, Some(data_bytes)]
        .into_iter()
        .try_fold(0u64, |total, part| total.checked_add(part?))
        .with_context(overflow)
}

/// Refuses a run that cannot fit on `device`, before it allocates anything.
pub fn check(params: &RunParams, data_bytes: u64, device: Device) -> Result<()> {
    let needed = bytes_needed(params, data_bytes)?;
    let Some(available) = available(device) else {
        return Ok(());
    };
    if needed > available {
        bail!(
            "--width {} and --batch-size {} need about {} of memory, more than the {} available",
            params.width,
            params.batch_size,
            human(needed),
            human(available)
        );
    }
    Ok(())
}

/// Free memory on `device`, where it can be known.
fn available(device: Device) -> Option<u64> {
    match device {
        Device::Cpu => spec::device::cpu_memory_available(),
        _ => None,
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::{Activation, Dataset, Init};

    fn params(width: usize, batch_size: usize) -> RunParams {
        RunParams {
            dataset: Dataset::Shapeset,
            activation: Activation::Tanh,
            init: Init::Normalized,
            hidden_layers: 5,
            width,
            batch_size,
            lr: 0.01,
            updates: 1,
            seed: 0,
            probe_every: 1,
            jacobian_examples: 5,
            eval_examples: 0,
            raw_every_epochs: 1,
        }
    }

    #[test]
    fn the_papers_net_needs_little_and_absurd_ones_are_refused() {
        let paper = bytes_needed(&params(1000, 10), 0).unwrap();
        assert!((50_000_000..500_000_000).contains(&paper), "{paper}");
        let wide = bytes_needed(&params(1 << 28, 10), 0).unwrap();
        assert!(wide > 1 << 50, "{wide}");
        let err = check(&params(1 << 28, 10), 0, Device::Cpu).unwrap_err();
        assert!(
            format!("{err:#}").contains("of memory, more than"),
            "{err:#}"
        );
        // The parameter count fits in a u64, its bytes do not.
        let err = bytes_needed(&params(1 << 30, 10), 0).unwrap_err();
        assert!(
            format!("{err:#}").contains("more memory than a u64"),
            "{err:#}"
        );
        let err = bytes_needed(&params(10, usize::MAX), 0).unwrap_err();
        assert!(format!("{err:#}").contains("--batch-size"), "{err:#}");
    }
}
