//! Learning-rate selection, as the paper did it: each configuration is trained over a grid of
//! rates with the same seeds, and the rate with the lowest validation error at the end of the
//! selection budget wins. `paper` applies [`choose`] and records the result as
//! `selection.json` ([`Selection`]); the final runs are keyed on that record.

use anyhow::{ensure, Result};
use serde::{Deserialize, Serialize};

use crate::run::Selector;

/// The file a selection stage writes.
pub const SELECTION_FILE: &str = "selection.json";

/// One trial: a rate and a seed, and the validation error of its last probe (over the whole
/// validation set). NaN when the run diverged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub lr: f64,
    pub seed: u64,
    pub valid_error: Option<f64>,
}

/// One rate of the grid: its trials' mean validation error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateScore {
    pub lr: f64,
    /// Mean over seeds; a diverged trial counts as error 1.
    pub mean_valid_error: f64,
}

/// `selection.json`: what was tried and what was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub selector: Selector,
    /// Updates each trial trained.
    pub updates: u64,
    pub trials: Vec<Trial>,
    /// In grid order.
    pub scores: Vec<RateScore>,
    pub chosen_lr: f64,
    pub rule: String,
}

/// The rule, as recorded.
pub const RULE: &str = "lowest mean validation error over the trial seeds at the end of the \
    selection budget; a diverged trial counts as error 1; ties go to the smaller rate";

/// Scores every rate of `trials` (grid order: first appearance) and picks the winner.
pub fn choose(selector: Selector, updates: u64, trials: Vec<Trial>) -> Result<Selection> {
    ensure!(!trials.is_empty(), "no learning-rate trial to choose from");
    let mut scores: Vec<RateScore> = Vec::new();
    for trial in &trials {
        if scores.iter().any(|s| s.lr == trial.lr) {
            continue;
        }
        let errors: Vec<f64> = trials
            .iter()
            .filter(|t| t.lr == trial.lr)
            .map(|t| t.valid_error.filter(|e| e.is_finite()).unwrap_or(1.0))
            .collect();
        scores.push(RateScore {
            lr: trial.lr,
            mean_valid_error: errors.iter().sum::<f64>() / errors.len() as f64,
        });
    }
    let best = scores
        .iter()
        .min_by(|a, b| {
            a.mean_valid_error
                .total_cmp(&b.mean_valid_error)
                .then(a.lr.total_cmp(&b.lr))
        })
        .expect("at least one rate");
    Ok(Selection {
        selector,
        updates,
        chosen_lr: best.lr,
        trials,
        scores,
        rule: RULE.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::{Activation, Dataset, Init};

    fn trial(lr: f64, seed: u64, valid_error: Option<f64>) -> Trial {
        Trial {
            lr,
            seed,
            valid_error,
        }
    }

    fn selector() -> Selector {
        Selector::new(Dataset::Shapeset, Activation::Tanh, Init::Standard, 5)
    }

    #[test]
    fn the_lowest_mean_validation_error_wins() {
        let trials = vec![
            trial(0.1, 0, Some(0.30)),
            trial(0.1, 1, Some(0.50)),
            trial(0.03, 0, Some(0.35)),
            trial(0.03, 1, Some(0.36)),
            trial(0.01, 0, Some(0.2)),
            trial(0.01, 1, None),
        ];
        let selection = choose(selector(), 100, trials).unwrap();
        assert_eq!(selection.chosen_lr, 0.03, "0.1 averages 0.40, 0.01 0.60");
        let means: Vec<f64> = selection
            .scores
            .iter()
            .map(|s| s.mean_valid_error)
            .collect();
        assert_eq!(means, [0.4, 0.355, 0.6]);
    }

    #[test]
    fn a_diverged_rate_loses_and_ties_go_to_the_smaller_rate() {
        let nan = choose(
            selector(),
            1,
            vec![trial(0.3, 0, Some(f64::NAN)), trial(0.1, 0, Some(0.9))],
        );
        assert_eq!(nan.unwrap().chosen_lr, 0.1);
        let tie = choose(
            selector(),
            1,
            vec![trial(0.3, 0, Some(0.5)), trial(0.1, 0, Some(0.5))],
        );
        assert_eq!(tie.unwrap().chosen_lr, 0.1);
        assert!(choose(selector(), 1, Vec::new()).is_err());
    }
}
