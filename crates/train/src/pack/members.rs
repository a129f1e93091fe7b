//! Which runs may share a pack, and what a pack costs in memory.
//!
//! What a pack may mix is `spec::run::PACK_PER_MODEL` (seed, init, learning rate, Jacobian
//! examples): everything else is its shape, checked here and grouped by `paper` with the
//! same definition.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use spec::layout::PROBE_EXAMPLES;
use spec::RunParams;

use crate::probe::EVAL_CHUNK;

/// The runs of one pack, checked to share their shape and schedule.
#[derive(Debug, Clone)]
pub struct Members {
    pub runs: Vec<RunParams>,
}

impl Members {
    /// Refuses an empty pack, invalid parameters, duplicate members (the same name and rate:
    /// they would share an output directory) and packs whose runs differ in their shape (`RunParams::pack_shape`).
    pub fn new(runs: Vec<RunParams>) -> Result<Members> {
        ensure!(!runs.is_empty(), "a pack needs at least one run");
        let mut names = BTreeSet::new();
        for run in &runs {
            run.validate().with_context(|| run.name())?;
            ensure!(
                names.insert(run.pack_member()),
                "run {} appears twice in the pack",
                run.pack_member()
            );
            let differences = runs[0].pack_shape_differences(run);
            if !differences.is_empty() {
                bail!(
                    "runs {} and {} cannot share a pack: they differ in {} (a pack shares all but {})",
                    runs[0].name(),
                    run.name(),
                    differences.join(", "),
                    spec::run::PACK_PER_MODEL.join(", ")
                );
            }
        }
        Ok(Members { runs })
    }

    /// Reads `--runs FILE`: a JSON list of run parameters (the `RunParams` of spec, the same
    /// fields as a run's `config.json` without the machine-dependent ones).
    pub fn read(path: &Path) -> Result<Members> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let runs: Vec<RunParams> = serde_json::from_str(&text).with_context(|| {
            format!("{}: expected a JSON list of run parameters", path.display())
        })?;
        Members::new(runs)
    }

    pub fn len(&self) -> usize {
        self.runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The parameters every run shares (those of the first).
    pub fn shared(&self) -> &RunParams {
        &self.runs[0]
    }
}

/// Device bytes one model of a pack holds while it trains, by the pack's own allocations:
/// - weights and biases (f32), updated in place: no gradient buffers exist;
/// - the step's transients: every layer's input and output `[batch, width]` plus the
///   back-propagated gradient of the same size, all f32 (kept 3x for allocator slack);
/// - its chunk of training data: `CHUNK_STEPS` batches as u8 and as converted f32, twice
///   (the chunk in use and the one being uploaded).
///
/// What does not grow with K (CUDA context, eval sets, one model's probe at a time) is
/// [`fixed_bytes`].
pub fn bytes_per_model(run: &RunParams) -> u64 {
    let params = run.parameter_count().unwrap_or(u64::MAX / 8);
    let sizes = run.layer_sizes();
    let activations: u64 = sizes.iter().map(|&n| (run.batch_size * n) as u64).sum();
    let chunk_examples = (crate::source::CHUNK_STEPS as usize * run.batch_size) as u64;
    let dim = run.dataset.input_dim() as u64;
    4 * params + 3 * 2 * 4 * activations + 2 * chunk_examples * dim * (1 + 4)
}

/// Device bytes a pack needs whatever its size: the CUDA context and libtorch's kernels
/// (~1 GB measured by others on Hopper), the valid/test sets as u8 (the paper's 10,000
/// examples each), and one model's probe (the probe examples x width x 3 quantities per
/// layer, the weight gradients, the Jacobian batch `[examples, width, width]` twice and an
/// evaluation chunk x width per layer).
pub fn fixed_bytes(run: &RunParams) -> u64 {
    /// Examples of each of the valid and test sets.
    const EVAL_SET: u64 = 10_000;
    let width = run.width as u64;
    let dim = run.dataset.input_dim() as u64;
    let eval_sets = 2 * EVAL_SET * (dim + 8);
    let probed = 3 * PROBE_EXAMPLES as u64 * width;
    let probe = 4 * run.hidden_layers as u64 * (probed + dim.max(width) * width);
    let jacobian = 2 * 4 * (run.jacobian_examples.max(1) as u64) * width * width;
    let eval_chunk = 4 * EVAL_CHUNK as u64 * width * (run.hidden_layers as u64 + 1);
    (1 << 30) + eval_sets + probe + jacobian + eval_chunk
}

/// The largest pack of runs shaped like `run` that fits in `memory` bytes.
pub fn max_models(run: &RunParams, memory: u64) -> u64 {
    memory.saturating_sub(fixed_bytes(run)) / bytes_per_model(run)
}

/// Refuses a pack that cannot fit in `memory` bytes, before anything is allocated.
pub fn check_fits(members: &Members, memory: u64) -> Result<()> {
    let run = members.shared();
    let need = fixed_bytes(run) + members.len() as u64 * bytes_per_model(run);
    ensure!(
        need <= memory,
        "a pack of {} needs {:.1} GB but the device has {:.1} GB: at most {} models of this shape fit",
        members.len(),
        need as f64 / 1e9,
        memory as f64 / 1e9,
        max_models(run, memory)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::{Activation, Dataset, Init};

    pub fn run(seed: u64) -> RunParams {
        RunParams {
            dataset: Dataset::Shapeset,
            activation: Activation::Tanh,
            init: Init::Normalized,
            hidden_layers: 5,
            width: 1000,
            batch_size: 10,
            lr: 0.01,
            updates: 1000,
            seed,
            probe_every: 500,
            jacobian_examples: 5,
            eval_examples: 0,
            raw_every_epochs: 1,
        }
    }

    #[test]
    fn seeds_inits_and_lrs_may_differ_nothing_else() {
        let mut b = run(1);
        b.init = Init::He;
        b.lr = 0.1;
        assert_eq!(Members::new(vec![run(0), b]).unwrap().len(), 2);
        let mut c = run(2);
        c.activation = Activation::Relu;
        c.width = 10;
        let err = format!("{:#}", Members::new(vec![run(0), c]).unwrap_err());
        assert!(err.contains("differ in activation, width"), "{err}");
        let err = format!("{:#}", Members::new(vec![run(0), run(0)]).unwrap_err());
        assert!(err.contains("appears twice"), "{err}");
        assert!(Members::new(vec![]).is_err());
    }

    #[test]
    fn the_memory_model_of_the_paper_net() {
        let run = run(0);
        // 5,038,009 parameters: 20.2 MB of weights, about 30 MB per model in all.
        let per = bytes_per_model(&run);
        assert!((20_000_000..40_000_000).contains(&per), "{per}");
        let k = max_models(&run, 141_000_000_000);
        assert!((3000..7000).contains(&k), "{k}");
        let members = Members::new((0..3).map(super::tests::run).collect()).unwrap();
        assert!(check_fits(&members, 141_000_000_000).is_ok());
        let err = format!("{:#}", check_fits(&members, 1_100_000_000).unwrap_err());
        assert!(err.contains("at most"), "{err}");
    }
}
