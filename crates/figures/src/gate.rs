//! The one gate of every training-time claim (Figs 2-4, 9-12, Table 1, ext-he): a claim about
//! the levels or the ordering of trained nets is tested only when every net it compares has
//! left chance. A net that has not is indistinguishable from one that never trained, so any
//! rule it passed, an untrained net would pass too.
//!
//! "Left chance": the upper end of the 95% interval of the configuration's test error
//! (`paired::interval`, over its seeds) lies below the dataset's majority-class error by at
//! least [`MARGIN_PTS`] points. The majority-class error is measured once, here, from the test
//! labels the runs recorded (`predictions/label`): Shapeset-3x2's class priors put it near
//! 83%, MNIST's and CIFAR-10's near 89% and 90%.

use crate::paired::{interval, Passes};
use crate::table::INTERVAL_ALPHA;
use anyhow::Result;
use spec::Selector;

/// How far (percentage points) below the majority-class error the upper end of a
/// configuration's interval must lie. Two points: above Shapeset's test-set noise at the
/// majority level (the binomial std of one 10,000-example pass is ~0.4 point), and small
/// beside the gaps the paper reports (Table 1: 11 points on Shapeset).
pub const MARGIN_PTS: f64 = 2.0;

/// The test error (%) of always answering the most frequent class of `labels`.
pub fn majority_error_pct(labels: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &label in labels {
        counts[usize::from(label)] += 1;
    }
    let most = counts.iter().max().copied().unwrap_or(0);
    100.0 * (1.0 - most as f64 / labels.len().max(1) as f64)
}

/// Where one configuration stands against chance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chance {
    pub selector: Selector,
    /// Upper end of the 95% interval of its test error (%).
    pub upper_pct: f64,
    /// Its test set's majority-class error (%).
    pub majority_pct: f64,
    pub seeds: usize,
}

impl Chance {
    pub fn left(&self) -> bool {
        self.upper_pct < self.majority_pct - MARGIN_PTS
    }

    fn line(&self) -> String {
        let word = if self.left() {
            "left chance"
        } else {
            "at chance"
        };
        format!(
            "{} ({}): 95% upper bound {:.2}% over {} seed(s) vs majority-class error {:.2}% - \
             {MARGIN_PTS} points: {word}",
            self.selector.short_name(),
            self.selector.dataset.title(),
            self.upper_pct,
            self.seeds,
            self.majority_pct
        )
    }
}

/// `selector` against chance; `None` when its runs hold no final test pass to bound.
pub fn chance(passes: &mut Passes<'_>, selector: &Selector) -> Result<Option<Chance>> {
    let Some(seeds) = passes.of(selector)? else {
        return Ok(None);
    };
    let Some(bound) = interval(seeds, INTERVAL_ALPHA) else {
        return Ok(None);
    };
    Ok(Some(Chance {
        selector: *selector,
        upper_pct: 100.0 * bound.high,
        majority_pct: majority_error_pct(&seeds[0].predictions.label),
        seeds: seeds.len(),
    }))
}

/// The gate over the nets a claim compares.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// Every net left chance.
    pub open: bool,
    /// One line per net that did not (or could not be bounded).
    pub lines: Vec<String>,
}

/// Open when every one of `selectors` left chance. The lines name each net that did not, and
/// say why the claim is then not tested.
pub fn gate(passes: &mut Passes<'_>, selectors: &[Selector]) -> Result<Gate> {
    let mut lines = Vec::new();
    for selector in selectors {
        match chance(passes, selector)? {
            Some(c) if c.left() => {}
            Some(c) => lines.push(format!(
                "{}: not tested at this scale (a net at chance cannot be told from an \
                 untrained one)",
                c.line()
            )),
            None => lines.push(format!(
                "{}: no final test pass to bound, so it cannot be shown to have left chance",
                selector.short_name()
            )),
        }
    }
    Ok(Gate {
        open: lines.is_empty(),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::{Activation, Dataset, Init};

    #[test]
    fn the_majority_class_sets_chance() {
        // 83 of 100 labels are class 4: always answering 4 errs on 17%.
        let mut labels = vec![4u8; 83];
        labels.extend([0, 1, 2, 3, 5, 6, 7, 8].iter().cycle().take(17));
        assert!((majority_error_pct(&labels) - 17.0).abs() < 1e-12);
        assert!((majority_error_pct(&[0, 1, 2, 3]) - 75.0).abs() < 1e-12);
    }

    #[test]
    fn a_net_must_clear_the_margin() {
        let c = |upper_pct| Chance {
            selector: Selector::new(Dataset::Shapeset, Activation::Tanh, Init::Standard, 5),
            upper_pct,
            majority_pct: 83.4,
            seeds: 3,
        };
        assert!(c(60.0).left());
        assert!(!c(83.58).left(), "the committed quick tanh: at chance");
        assert!(!c(82.0).left(), "below chance by less than the margin");
        assert!(c(81.3).left());
    }
}
