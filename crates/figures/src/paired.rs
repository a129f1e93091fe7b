//! The final test pass of each seed, example by example (`predictions/` in run.h5), and what
//! it supports: the interval for a configuration's test error and McNemar's comparison of two
//! sets of trained networks on the same test examples (`compare` holds the test over seeds).

use crate::runs::Catalog;
use crate::stats::{error_interval, mcnemar_exact, Interval};
use anyhow::Result;
use spec::run_h5::read::Predictions;
use spec::Selector;
use std::collections::BTreeMap;

/// One seed's final test pass.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedPass {
    pub seed: u64,
    pub predictions: Predictions,
}

impl SeedPass {
    /// The fraction of test examples misclassified.
    pub fn error(&self) -> f64 {
        let wrong = self.predictions.correct().iter().filter(|c| !**c).count();
        wrong as f64 / self.predictions.label.len().max(1) as f64
    }
}

/// The final test pass of every seed of `selector`, lowest seed first; `None` when a seed's
/// run.h5 has no predictions (made before they were recorded) or an empty test set.
pub fn final_passes(catalog: &Catalog, selector: &Selector) -> Result<Option<Vec<SeedPass>>> {
    let mut passes = Vec::new();
    for run in catalog.seeds(selector) {
        let Ok(predictions) = run.open()?.test_predictions() else {
            return Ok(None);
        };
        if predictions.label.is_empty() || predictions.step != run.params().updates {
            return Ok(None);
        }
        passes.push(SeedPass {
            seed: run.params().seed,
            predictions,
        });
    }
    Ok((!passes.is_empty()).then_some(passes))
}

/// The final passes of each configuration, read from its run.h5 files once however many
/// intervals and comparisons use them.
pub struct Passes<'a> {
    catalog: &'a Catalog,
    read: BTreeMap<Selector, Option<Vec<SeedPass>>>,
}

impl<'a> Passes<'a> {
    pub fn new(catalog: &'a Catalog) -> Passes<'a> {
        Passes {
            catalog,
            read: BTreeMap::new(),
        }
    }

    pub fn catalog(&self) -> &'a Catalog {
        self.catalog
    }

    /// [`final_passes`] of `selector`, read on first use.
    pub fn of(&mut self, selector: &Selector) -> Result<Option<&[SeedPass]>> {
        if !self.read.contains_key(selector) {
            let passes = final_passes(self.catalog, selector)?;
            self.read.insert(*selector, passes);
        }
        Ok(self.read[selector].as_deref())
    }

    /// The final passes of both configurations, each read on first use; `None` when either
    /// has none.
    pub fn both(
        &mut self,
        first: &Selector,
        second: &Selector,
    ) -> Result<Option<(&[SeedPass], &[SeedPass])>> {
        self.of(first)?;
        self.of(second)?;
        Ok(match (&self.read[first], &self.read[second]) {
            (Some(a), Some(b)) => Some((a.as_slice(), b.as_slice())),
            _ => None,
        })
    }
}

/// The level-`1 - alpha` interval for the configuration's expected test error (fraction):
/// see [`error_interval`]. `None` when the seeds were scored on different test sets.
pub fn interval(passes: &[SeedPass], alpha: f64) -> Option<Interval> {
    let labels = &passes.first()?.predictions.label;
    if passes.iter().any(|p| p.predictions.label != *labels) {
        return None;
    }
    let errors: Vec<f64> = passes.iter().map(SeedPass::error).collect();
    error_interval(&errors, labels.len() as u64, alpha)
}

/// McNemar's test of two configurations, pooled over the seeds both ran (paired by seed:
/// the same test examples, the same seed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedTest {
    /// Examples only the first configuration classified correctly, summed over seeds.
    pub only_first: u64,
    /// Examples only the second did.
    pub only_second: u64,
    /// Seeds paired.
    pub seeds: usize,
    /// Exact two-sided p.
    pub p: f64,
}

/// `None` when no seed was run by both, or a pair was scored on different test sets.
pub fn paired_test(first: &[SeedPass], second: &[SeedPass]) -> Option<PairedTest> {
    let (mut only_first, mut only_second, mut seeds) = (0, 0, 0);
    for a in first {
        let Some(b) = second.iter().find(|b| b.seed == a.seed) else {
            continue;
        };
        if a.predictions.label != b.predictions.label {
            return None;
        }
        let pairs = a
            .predictions
            .correct()
            .into_iter()
            .zip(b.predictions.correct());
        for (right_a, right_b) in pairs {
            only_first += u64::from(right_a && !right_b);
            only_second += u64::from(right_b && !right_a);
        }
        seeds += 1;
    }
    (seeds > 0).then(|| PairedTest {
        only_first,
        only_second,
        seeds,
        p: mcnemar_exact(only_first, only_second),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(seed: u64, predicted: &[u8], label: &[u8]) -> SeedPass {
        SeedPass {
            seed,
            predictions: Predictions {
                step: 100,
                predicted: predicted.to_vec(),
                label: label.to_vec(),
            },
        }
    }

    #[test]
    fn pairs_by_seed_and_counts_discordant_examples() {
        let label = [0, 1, 2, 3, 4, 5];
        let a = [
            pass(0, &[0, 1, 2, 3, 0, 0], &label),
            pass(1, &[0, 1, 0, 0, 0, 0], &label),
        ];
        // Seed 2 has no partner and is left out.
        let b = [
            pass(0, &[0, 0, 0, 3, 4, 0], &label),
            pass(2, &label, &label),
        ];
        let t = paired_test(&a, &b).unwrap();
        assert_eq!((t.only_first, t.only_second, t.seeds), (2, 1, 1));
        assert_eq!(t.p, 1.0);
        assert_eq!(a[0].error(), 2.0 / 6.0);
        // Another test set cannot be paired.
        let other = [pass(0, &[0; 6], &[1; 6])];
        assert_eq!(paired_test(&a, &other), None);
        assert_eq!(paired_test(&a, &[pass(5, &label, &label)]), None);
    }

    #[test]
    fn a_large_one_sided_difference_is_significant() {
        let label = vec![0u8; 1000];
        let mut better = vec![0u8; 1000];
        let mut worse = vec![0u8; 1000];
        better[..100].fill(1);
        worse[..160].fill(1);
        let t = paired_test(&[pass(0, &better, &label)], &[pass(0, &worse, &label)]).unwrap();
        assert_eq!((t.only_first, t.only_second), (60, 0));
        assert!(t.p < 1e-15, "{}", t.p);
    }
}
