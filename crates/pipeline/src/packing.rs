//! Which runs `paper` trains together in one `train-pack` process, and how many at once.
//!
//! Runs of one *shape* may share a pack (`spec::RunParams::pack_shape`: the same parameters
//! except seed, init, learning rate and the Jacobian examples); [`Plan::pack`] groups a plan's
//! runs so, final runs and learning-rate trials apart (a trial's divergence is a result, a
//! final run's a failure). On a GPU the pack size comes
//! from free device memory (`train-pack memory`, the pack trainer's own memory model; each
//! trainer sharing the GPU plans for its share, [`per_trainer`]), capped
//! where the cost model says a bigger pack adds no throughput (`cost::saturating_pack`); on the
//! CPU packs do not pay (README "Why packs don't help on CPU"), so runs train alone unless
//! `--pack-size` asks otherwise. A `--pack-size` that cannot fit is refused before anything
//! trains.

use crate::cost;
use crate::plan::{Kind, Lr, Plan};
use anyhow::{bail, Context as _, Result};
use serde_json::Value;
use spec::RunParams;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The share of free memory a pack is planned for. The pack trainer's memory model counts
/// tensors; the CUDA context, cuBLAS workspaces and the caching allocator's fragmentation come
/// on top (~1-2 GB on an 80 GB card), and another process may allocate meanwhile. If the model
/// still misses, the pack ends with `spec::cli::EXIT_OUT_OF_MEMORY` and `paper` retries it in
/// halves (`exec::pack`).
pub const MEMORY_SHARE: f64 = 0.85;

/// A GPU's `free` memory shared evenly among the trainers that may run on it at once:
/// `--trainers-per-gpu`, or, left to the cost model, the most it may choose
/// ([`cost::MAX_TRAINERS_PER_GPU`]), so that packs planned one per trainer fit together.
pub fn per_trainer(free: u64, trainers: Option<u16>) -> u64 {
    let trainers = trainers.map_or(cost::MAX_TRAINERS_PER_GPU as u64, u64::from);
    free / trainers.max(1)
}

/// `bytes` of free memory, less the margin of [`MEMORY_SHARE`].
fn plannable(bytes: u64) -> u64 {
    (bytes as f64 * MEMORY_SHARE) as u64
}

/// How big packs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackSize {
    /// Every run alone (`train`).
    Alone,
    /// As many as fit in the given bytes of device memory.
    Fit { memory: u64 },
    /// `--pack-size K`, checked against the given bytes.
    Exactly { size: usize, memory: u64 },
}

impl PackSize {
    /// `--pack-size` if given; else on a GPU as many as its free memory holds, on the CPU none.
    pub fn choose(requested: Option<usize>, gpu_free: Option<u64>) -> Result<PackSize> {
        Ok(match (requested, gpu_free) {
            (Some(0), _) => bail!("--pack-size must be at least 1"),
            (Some(1), _) | (None, None) => PackSize::Alone,
            (Some(size), Some(memory)) => PackSize::Exactly {
                size,
                memory: plannable(memory),
            },
            (Some(size), None) => PackSize::Exactly {
                size,
                memory: plannable(
                    spec::device::cpu_memory_available().context("cannot read MemAvailable")?,
                ),
            },
            (None, Some(memory)) => PackSize::Fit {
                memory: plannable(memory),
            },
        })
    }

    /// The pack size of every shape among `runs`, asking `train-pack memory` (in `bin_dir`)
    /// what fits, and when sized automatically no bigger than `throughput_cap` says pays
    /// (`cost::saturating_pack`); refuses a `--pack-size` that does not fit.
    pub fn sizes(
        &self,
        runs: &[&RunParams<Lr>],
        bin_dir: &Path,
        throughput_cap: impl Fn(&RunParams<Lr>) -> usize,
    ) -> Result<BTreeMap<String, usize>> {
        let mut sizes = BTreeMap::new();
        for run in runs {
            let shape = run.pack_shape();
            if sizes.contains_key(&shape) {
                continue;
            }
            let size = match *self {
                PackSize::Alone => 1,
                PackSize::Fit { memory } => max_models(run, memory, bin_dir)?
                    .min(throughput_cap(run))
                    .max(1),
                PackSize::Exactly { size, memory } => {
                    let fits = max_models(run, memory, bin_dir)?;
                    if size > fits {
                        bail!(
                            "--pack-size {size} does not fit: {} runs shaped like {} need more than the {:.1} GB there is; at most {fits} fit",
                            size,
                            run.name(),
                            memory as f64 / 1e9
                        );
                    }
                    size
                }
            };
            sizes.insert(shape, size);
        }
        Ok(sizes)
    }
}

/// `train-pack memory`: the largest pack of runs shaped like `run` that fits in `memory` bytes.
fn max_models(run: &RunParams<Lr>, memory: u64, bin_dir: &Path) -> Result<usize> {
    let binary = bin_dir.join("train-pack");
    let mut child = Command::new(&binary)
        .args(["memory", "--runs", "/dev/stdin", "--memory-gb"])
        .arg((memory as f64 / 1e9).to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    // The memory model reads the pack's shape, never the rate: a run whose rate a selection
    // will choose is asked about with any valid one.
    let shaped = run.clone().with_lr(run.lr.known().unwrap_or(1.0));
    let runs = serde_json::to_string(&[shaped])?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(runs.as_bytes())
        .with_context(|| format!("cannot write to {}", binary.display()))?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "{} memory failed: {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let line: Value = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("{} memory printed no JSON", binary.display()))?;
    line["max_models"]
        .as_u64()
        .map(|k| k as usize)
        .context("train-pack memory gave no max_models")
}

impl Plan {
    /// Groups runs into packs ([`RunParams::pack_shape`]): runs of one shape, in plan order,
    /// `size(run)` at a time; a pack of one stays a single run. Learning-rate trials pack
    /// among themselves only (`train-pack --diverged-ok`). A packed run's tool is
    /// `train-pack`, so its key names that engine.
    pub fn pack(mut self, size: impl Fn(&RunParams<Lr>) -> usize) -> Result<Plan> {
        // (shape, trial) -> (first member of the pack being filled, members so far)
        let mut filling: BTreeMap<(String, bool), (usize, usize)> = BTreeMap::new();
        let mut first_of: Vec<(usize, usize)> = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let Kind::Train { run, .. } = &stage.kind else {
                continue;
            };
            let trial = run.lr.is_trial();
            let slot = filling.entry((run.pack_shape(), trial)).or_insert((i, 0));
            if slot.1 == size(run).max(1) {
                *slot = (i, 0);
            }
            slot.1 += 1;
            first_of.push((i, slot.0));
        }
        for &(i, first) in &first_of {
            let shared = first_of.iter().filter(|(_, f)| *f == first).count() > 1;
            if !shared {
                continue;
            }
            let stage = &mut self.stages[i];
            stage.tool = "train-pack".into();
            if let Kind::Train { pack, .. } = &mut stage.kind {
                *pack = Some(first);
            }
        }
        self.check_order()?;
        Ok(self)
    }

    /// Whether stage `i` trains in a pack: with `train-pack` even when it runs alone, since its
    /// key names that engine.
    pub fn is_packed(&self, i: usize) -> bool {
        matches!(self.stages[i].kind, Kind::Train { pack: Some(_), .. })
    }

    /// The members of the pack that stage `i` trains in (itself alone when it has none).
    pub fn pack_members(&self, i: usize) -> Vec<usize> {
        let Kind::Train {
            pack: Some(first), ..
        } = self.stages[i].kind
        else {
            return vec![i];
        };
        (0..self.stages.len())
            .filter(
                |&j| matches!(self.stages[j].kind, Kind::Train { pack: Some(f), .. } if f == first),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::{Activation, Dataset, Init};

    fn run(seed: u64, init: Init, lr: f64, width: usize) -> RunParams {
        RunParams {
            dataset: Dataset::Shapeset,
            activation: Activation::Tanh,
            init,
            hidden_layers: 5,
            width,
            batch_size: 10,
            lr,
            updates: 100,
            seed,
            probe_every: 50,
            jacobian_examples: if seed == 0 { 20 } else { 0 },
            eval_examples: 0,
            raw_every_epochs: 1,
        }
    }

    #[test]
    fn seeds_inits_and_rates_share_a_shape_widths_do_not() {
        let a = run(0, Init::Standard, 0.1, 32);
        assert_eq!(
            a.pack_shape(),
            run(3, Init::Normalized, 0.01, 32).pack_shape()
        );
        assert_ne!(a.pack_shape(), run(0, Init::Standard, 0.1, 64).pack_shape());
    }

    #[test]
    fn trainers_sharing_a_gpu_plan_packs_for_their_share_of_its_memory() {
        assert_eq!(per_trainer(80_000_000_000, Some(1)), 80_000_000_000);
        assert_eq!(per_trainer(80_000_000_000, Some(2)), 40_000_000_000);
        // Left to the cost model, for the most trainers it may choose.
        assert_eq!(
            per_trainer(80_000_000_000, None),
            80_000_000_000 / cost::MAX_TRAINERS_PER_GPU as u64
        );
    }

    #[test]
    fn the_cpu_trains_alone_unless_asked() {
        assert_eq!(PackSize::choose(None, None).unwrap(), PackSize::Alone);
        assert_eq!(
            PackSize::choose(Some(1), Some(1 << 40)).unwrap(),
            PackSize::Alone
        );
        // Planned for 85% of what is free: the margin the memory model does not count.
        assert_eq!(
            PackSize::choose(None, Some(80_000_000_000)).unwrap(),
            PackSize::Fit {
                memory: 68_000_000_000
            }
        );
        assert!(matches!(
            PackSize::choose(Some(2), None).unwrap(),
            PackSize::Exactly { size: 2, .. }
        ));
        assert!(PackSize::choose(Some(0), None).is_err());
    }
}
