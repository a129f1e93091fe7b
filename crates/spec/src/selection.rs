//! Learning-rate selection. Every configuration is trained over a grid of rates with the same
//! seeds, but the rate is chosen once per [`RateGroup`] (dataset, activation, depth), on the
//! trials of every init of that activation pooled: the paper compares inits at one rate, and a
//! rate chosen per init would confound the init with its rate. A choice that the binomial
//! noise of the validation error cannot make is recorded as undecided and resolved toward the
//! largest rate that did not diverge, never silently toward the slowest. `paper` applies
//! [`choose`] and records the result as `selection.json` ([`Selection`]); the final runs of
//! every init of the group are keyed on that one record.

use anyhow::{ensure, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

use crate::run::Selector;
use crate::vocab::{Activation, Dataset, Init};

/// The file a selection stage writes.
pub const SELECTION_FILE: &str = "selection.json";

/// Standard errors of a difference within which two rates are tied (two-sided 95%).
pub const Z: f64 = 1.96;

/// The rule, as recorded.
pub const RULE: &str = "one rate per activation: for each dataset, activation and depth, the \
    trials of every init of that activation (each init at every rate of the grid, the same \
    seeds and updates) are pooled per rate; a rate's score p is the mean validation error at \
    the last probe (whole validation set) over its trials, a diverged trial counting as error \
    1; a rate with a diverged trial is never chosen while some rate has none; the best is the \
    lowest score among the others; a rate is tied with the best when its score exceeds the \
    best's by at most 1.96 standard errors of a difference of two proportions, \
    sqrt(p1(1-p1)/n1 + p2(1-p2)/n2), n = trials x validation examples; one tied rate: it is \
    chosen; several: undecided, and the largest tied rate is chosen; every rate diverged: \
    the lowest score, ties to the smaller rate";

/// What shares one learning rate: the configurations of one dataset, activation and depth,
/// whatever their init.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RateGroup {
    pub dataset: Dataset,
    pub activation: Activation,
    pub hidden_layers: usize,
}

impl RateGroup {
    /// The group whose rate `selector` trains with.
    pub fn of(selector: &Selector) -> RateGroup {
        RateGroup {
            dataset: selector.dataset,
            activation: selector.activation,
            hidden_layers: selector.hidden_layers,
        }
    }

    /// Whether `selector` trains at this group's rate.
    pub fn contains(&self, selector: &Selector) -> bool {
        RateGroup::of(selector) == *self
    }

    /// The configuration of `init` in this group.
    pub fn selector(&self, init: Init) -> Selector {
        Selector::new(self.dataset, self.activation, init, self.hidden_layers)
    }

    /// `shapeset-tanh-l5`: a selector's id without the init.
    pub fn id(&self) -> String {
        format!(
            "{}-{}-l{}",
            self.dataset, self.activation, self.hidden_layers
        )
    }
}

impl fmt::Display for RateGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// One trial: its configuration's init, a rate and a seed, the validation error of its last
/// probe (over the whole validation set; None when the run diverged) and how many validation
/// examples that probe evaluated (None when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub init: Init,
    pub lr: f64,
    pub seed: u64,
    pub valid_error: Option<f64>,
    pub valid_examples: Option<u64>,
}

impl Trial {
    /// Its score: the validation error, 1 when it diverged.
    fn error(&self) -> f64 {
        self.valid_error.filter(|e| e.is_finite()).unwrap_or(1.0)
    }

    /// No finite validation error: the run diverged.
    fn diverged(&self) -> bool {
        !self.valid_error.is_some_and(f64::is_finite)
    }
}

/// One rate of the grid, scored over its trials.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateScore {
    pub lr: f64,
    /// Mean over the trials; a diverged trial counts as error 1.
    pub mean_valid_error: f64,
    /// Whether a trial at this rate diverged.
    pub diverged: bool,
    /// Validation examples over all its trials (trials x the validation set); None when a
    /// trial's is unknown.
    pub valid_examples: Option<u64>,
    /// The binomial standard error of `mean_valid_error`, sqrt(p(1-p)/n); None without n.
    pub standard_error: Option<f64>,
}

/// `selection.json`: what was tried and what was chosen, for one [`RateGroup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub group: RateGroup,
    /// The inits whose trials were pooled, in order.
    pub inits: Vec<Init>,
    /// Updates each trial trained.
    pub updates: u64,
    pub trials: Vec<Trial>,
    /// Every init pooled, in grid order.
    pub scores: Vec<RateScore>,
    /// The lowest score among the rates without a diverged trial.
    pub best_lr: f64,
    /// The rates tied with the best (the best among them), highest first.
    pub tied: Vec<f64>,
    /// Whether several rates were tied, so that the rule, not the data, chose.
    pub undecided: bool,
    pub chosen_lr: f64,
    /// Standard errors of a difference within which rates are tied.
    pub z: f64,
    pub rule: String,
}

impl Selection {
    /// The scores of `init`'s trials alone (empty when it has none), in grid order.
    pub fn init_scores(&self, init: Init) -> Vec<RateScore> {
        let trials: Vec<Trial> = self
            .trials
            .iter()
            .filter(|t| t.init == init)
            .copied()
            .collect();
        scores(&trials)
    }

    /// The selector of each init pooled.
    pub fn selectors(&self) -> Vec<Selector> {
        self.inits.iter().map(|&i| self.group.selector(i)).collect()
    }
}

/// Every rate of `trials` scored, in grid order (first appearance).
pub fn scores(trials: &[Trial]) -> Vec<RateScore> {
    let mut rates: Vec<f64> = Vec::new();
    for trial in trials {
        if !rates.contains(&trial.lr) {
            rates.push(trial.lr);
        }
    }
    rates
        .into_iter()
        .map(|lr| {
            let at: Vec<&Trial> = trials.iter().filter(|t| t.lr == lr).collect();
            score(lr, &at)
        })
        .collect()
}

/// One rate's score over its trials (at least one).
fn score(lr: f64, trials: &[&Trial]) -> RateScore {
    let mean = trials.iter().map(|t| t.error()).sum::<f64>() / trials.len() as f64;
    let examples: Option<u64> = trials.iter().map(|t| t.valid_examples).sum();
    let examples = examples.filter(|&n| n > 0);
    RateScore {
        lr,
        mean_valid_error: mean,
        diverged: trials.iter().any(|t| t.diverged()),
        valid_examples: examples,
        standard_error: examples.map(|n| (mean * (1.0 - mean) / n as f64).sqrt()),
    }
}

/// Whether `other` cannot be told from `best` within [`Z`] standard errors of their
/// difference (exact equality only, when either's standard error is unknown).
fn tied(best: &RateScore, other: &RateScore) -> bool {
    let difference = other.mean_valid_error - best.mean_valid_error;
    let se = match (best.standard_error, other.standard_error) {
        (Some(a), Some(b)) => (a * a + b * b).sqrt(),
        _ => 0.0,
    };
    difference <= Z * se
}

/// Pools the trials of `group` (every init at every rate, the same seeds) and chooses by
/// [`RULE`].
pub fn choose(group: RateGroup, updates: u64, trials: Vec<Trial>) -> Result<Selection> {
    ensure!(!trials.is_empty(), "no learning-rate trial to choose from");
    let inits = check_complete(&trials)?;
    let scores = scores(&trials);
    let sane: Vec<&RateScore> = scores.iter().filter(|s| !s.diverged).collect();
    let by_score = |a: &&RateScore, b: &&RateScore| {
        a.mean_valid_error
            .total_cmp(&b.mean_valid_error)
            .then(a.lr.total_cmp(&b.lr))
    };
    let (best, mut tied_rates) = match sane.iter().copied().min_by(by_score) {
        Some(best) => (
            best,
            sane.iter()
                .filter(|s| tied(best, s))
                .map(|s| s.lr)
                .collect(),
        ),
        None => {
            let best = scores.iter().min_by(by_score).expect("at least one rate");
            (best, vec![best.lr])
        }
    };
    tied_rates.sort_by(|a: &f64, b| b.total_cmp(a));
    Ok(Selection {
        group,
        inits,
        updates,
        best_lr: best.lr,
        chosen_lr: tied_rates[0],
        undecided: tied_rates.len() > 1,
        tied: tied_rates,
        z: Z,
        trials,
        scores,
        rule: RULE.into(),
    })
}

/// The inits of `trials`, refusing a set in which some init lacks a (rate, seed) another has:
/// a pooled score would then weigh the inits unequally.
fn check_complete(trials: &[Trial]) -> Result<Vec<Init>> {
    let inits: BTreeSet<Init> = trials.iter().map(|t| t.init).collect();
    let points: BTreeSet<(u64, u64)> = trials.iter().map(|t| (t.lr.to_bits(), t.seed)).collect();
    for &init in &inits {
        let of_init = trials.iter().filter(|t| t.init == init).count();
        ensure!(
            of_init == points.len(),
            "the {init} trials do not cover the same rates and seeds as the others \
             ({of_init} trials for {} rate and seed pairs)",
            points.len()
        );
    }
    Ok(inits.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trial of `init` over 1000 validation examples.
    fn trial(init: Init, lr: f64, seed: u64, valid_error: Option<f64>) -> Trial {
        Trial {
            init,
            lr,
            seed,
            valid_error,
            valid_examples: Some(1000),
        }
    }

    fn standard(lr: f64, valid_error: Option<f64>) -> Trial {
        trial(Init::Standard, lr, 0, valid_error)
    }

    fn group() -> RateGroup {
        RateGroup::of(&Selector::new(
            Dataset::Shapeset,
            Activation::Tanh,
            Init::Standard,
            5,
        ))
    }

    fn pick(trials: Vec<Trial>) -> Selection {
        choose(group(), 100, trials).unwrap()
    }

    #[test]
    fn a_clear_winner_wins_and_is_decided() {
        let s = pick(vec![
            standard(0.1, Some(0.40)),
            standard(0.03, Some(0.30)),
            standard(0.01, Some(0.50)),
        ]);
        assert_eq!((s.chosen_lr, s.best_lr, s.undecided), (0.03, 0.03, false));
        assert_eq!(s.tied, [0.03]);
        let se = s.scores[1].standard_error.unwrap();
        assert!((se - (0.3f64 * 0.7 / 1000.0).sqrt()).abs() < 1e-12);
        assert_eq!(group().id(), "shapeset-tanh-l5");
    }

    #[test]
    fn rates_within_noise_are_undecided_and_the_largest_sane_one_is_chosen() {
        // 0.30 vs 0.31 over 1000 examples each: the difference's se is about 0.0206.
        let s = pick(vec![
            standard(0.3, None),
            standard(0.1, Some(0.31)),
            standard(0.03, Some(0.30)),
            standard(0.01, Some(0.45)),
        ]);
        assert_eq!(s.best_lr, 0.03);
        assert_eq!(s.tied, [0.1, 0.03]);
        assert!(s.undecided);
        assert_eq!(
            s.chosen_lr, 0.1,
            "not the diverged 0.3, not the slower 0.03"
        );
    }

    #[test]
    fn a_diverged_rate_is_never_chosen() {
        let nan = pick(vec![
            standard(0.3, Some(f64::NAN)),
            standard(0.1, Some(0.9)),
        ]);
        assert_eq!(nan.chosen_lr, 0.1);
        assert!(nan.scores[0].diverged && nan.scores[0].mean_valid_error == 1.0);
        // One seed diverged, the other excellent: still out while a sane rate exists.
        let seeds = pick(vec![
            trial(Init::Standard, 0.3, 0, None),
            trial(Init::Standard, 0.3, 1, Some(0.01)),
            trial(Init::Standard, 0.1, 0, Some(0.6)),
            trial(Init::Standard, 0.1, 1, Some(0.6)),
        ]);
        assert_eq!((seeds.chosen_lr, seeds.undecided), (0.1, false));
        let all = pick(vec![standard(0.3, None), standard(0.1, None)]);
        assert_eq!(
            all.chosen_lr, 0.1,
            "every rate diverged: ties to the smaller"
        );
        assert!(choose(group(), 1, Vec::new()).is_err());
    }

    #[test]
    fn identical_chance_level_scores_pick_the_largest_rate() {
        let s = pick(vec![
            standard(0.1, Some(0.5)),
            standard(0.03, Some(0.5)),
            standard(0.01, Some(0.5)),
        ]);
        assert_eq!(s.chosen_lr, 0.1);
        assert!(s.undecided);
        assert_eq!(s.tied, [0.1, 0.03, 0.01]);
    }

    #[test]
    fn the_shared_score_averages_every_init_of_the_group() {
        let n = |lr, e| trial(Init::Normalized, lr, 0, Some(e));
        let s = pick(vec![
            standard(0.1, Some(0.50)),
            standard(0.01, Some(0.20)),
            n(0.1, 0.10),
            n(0.01, 0.30),
        ]);
        let means: Vec<f64> = s.scores.iter().map(|r| r.mean_valid_error).collect();
        assert_eq!(means, [0.3, 0.25]);
        assert_eq!(s.scores[0].valid_examples, Some(2000));
        assert_eq!(s.inits, [Init::Standard, Init::Normalized]);
        assert_eq!(s.chosen_lr, 0.01, "0.25 beats 0.30 beyond the noise");
        let alone: Vec<f64> = s
            .init_scores(Init::Normalized)
            .iter()
            .map(|r| r.mean_valid_error)
            .collect();
        assert_eq!(alone, [0.1, 0.3], "normalized alone would pick 0.1");
        let partial = choose(group(), 1, vec![standard(0.1, Some(0.5)), n(0.01, 0.5)]);
        assert!(format!("{:#}", partial.unwrap_err()).contains("same rates and seeds"));
    }

    #[test]
    fn without_the_validation_size_only_equal_scores_tie() {
        let unknown = |lr, e| Trial {
            valid_examples: None,
            ..standard(lr, Some(e))
        };
        let s = pick(vec![unknown(0.1, 0.301), unknown(0.03, 0.3)]);
        assert_eq!((s.chosen_lr, s.undecided), (0.03, false));
        assert_eq!(s.scores[0].standard_error, None);
    }
}
