//! Whether a configuration's test error was still falling when its runs ended: Table 1 shows
//! it beside every cell shorter than the paper's runs, to say how far from trained out the
//! cell is. It is information, never a route to a verdict: a curve can lie flat for a while
//! and fall far later (the paper's Shapeset curves fall over 125 epochs), so only the paper's
//! length makes a cell comparable.
//!
//! Like is compared with like: the probes before the last evaluate the first `eval_examples`
//! test examples, so the final pass is scored on those same examples (from `predictions/`).

use crate::paired::Passes;
use anyhow::{Context, Result};
use spec::Selector;

/// The late probe: the first at or after this share of the run, so the last half is
/// compared with its start (a last quarter proved too short: noise made a falling MNIST
/// curve look flat).
pub const LATE_SHARE: f64 = 0.5;
/// Flat: over the last half the mean test error fell by at most this share of its final
/// value.
pub const FLAT_RELATIVE: f64 = 0.10;

/// The mean test error over seeds at the late probe and at the end, on the same examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Plateau {
    pub late_step: u64,
    pub end_step: u64,
    pub late_pct: f64,
    pub end_pct: f64,
    pub examples: usize,
    pub seeds: usize,
}

impl Plateau {
    pub fn flat(&self) -> bool {
        self.late_pct - self.end_pct <= FLAT_RELATIVE * self.end_pct
    }

    pub fn line(&self) -> String {
        let (word, relation) = if self.flat() {
            ("flattened", "at most")
        } else {
            ("still falling", "more than")
        };
        format!(
            "test error on the first {} test examples, mean over {} seed(s): {:.2}% at step {}, \
             {:.2}% at step {}: {word} (fell by {relation} {:.0}% of the final error)",
            self.examples,
            self.seeds,
            self.late_pct,
            self.late_step,
            self.end_pct,
            self.end_step,
            100.0 * FLAT_RELATIVE
        )
    }
}

/// The plateau of `selector`'s seeds, their final passes taken from `passes` (read once for
/// all of Table 1); `None` when a seed has no late probe or no final test pass.
pub fn plateau(passes: &mut Passes<'_>, selector: &Selector) -> Result<Option<Plateau>> {
    let catalog = passes.catalog();
    let Some(finals) = passes.of(selector)? else {
        return Ok(None);
    };
    let (mut late, mut end, mut found) = (0.0, 0.0, None);
    for (run, last) in catalog.seeds(selector).iter().zip(finals) {
        let history = run.open()?.history()?;
        let updates = run.params().updates;
        let Some(i) = history
            .step
            .iter()
            .position(|&s| s >= LATE_SHARE * updates as f64 && s < updates as f64)
        else {
            return Ok(None);
        };
        let n = last.predictions.label.len();
        let examples = match run.params().eval_examples {
            0 => n,
            e => e.min(n),
        };
        let wrong = last.predictions.correct()[..examples]
            .iter()
            .filter(|c| !**c)
            .count();
        late += history
            .test_error
            .get(i)
            .with_context(|| format!("{}: short history/test_error", run.path.display()))?;
        end += wrong as f64 / examples as f64;
        found = Some((history.step[i] as u64, updates, examples));
    }
    let seeds = finals.len();
    Ok(found.map(|(late_step, end_step, examples)| Plateau {
        late_step,
        end_step,
        late_pct: 100.0 * late / seeds as f64,
        end_pct: 100.0 * end / seeds as f64,
        examples,
        seeds,
    }))
}
