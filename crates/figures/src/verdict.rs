//! What a figure's rule can conclude, and the record REPORT.md prints for each claim. The
//! rules themselves live beside their figures (`figs/fig*.rs`); this module only names the
//! outcomes, so that every figure words them the same way.

use crate::runs::Run;
use spec::FigureId;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Reproduced,
    /// Part of the claim passed its rule; the measured lines say which part did not or
    /// could not be tested.
    Partial,
    NotReproduced,
    /// The runs exist, but at this length or size the rule cannot tell the claim from its
    /// absence (it would pass on untrained networks too, or the effect lies beyond the run).
    NotTestedAtScale,
    /// The runs it needs are not in this profile.
    NotRun,
    /// The runs exist but hold nothing the rule's test can use (no final test predictions to
    /// pair or to bound): no test was possible.
    Untested,
    /// A picture with no quantitative claim (Fig 1).
    Illustration,
}

impl Verdict {
    /// `Reproduced` when `pass`, else `NotReproduced`.
    pub fn of(pass: bool) -> Verdict {
        if pass {
            Verdict::Reproduced
        } else {
            Verdict::NotReproduced
        }
    }

    /// The words REPORT.md prints. A statement beyond the paper is not "reproduced": it holds
    /// or not, and says that it is an extension.
    pub fn label(self, beyond_paper: bool) -> String {
        if !beyond_paper {
            return self.to_string();
        }
        let words = match self {
            Verdict::Reproduced => "holds".to_string(),
            Verdict::Partial => "partially holds".to_string(),
            Verdict::NotReproduced => "does not hold".to_string(),
            other => other.to_string(),
        };
        format!("{words} (beyond the paper)")
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Partial => "partially reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::NotTestedAtScale => "not tested at this scale",
            Verdict::NotRun => "not run at this profile",
            Verdict::Untested => "not tested (no test was possible on these runs)",
            Verdict::Illustration => "illustration (no quantitative claim)",
        })
    }
}

/// A rule applied to measurements: the numbers, one line each, and the outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub measured: Vec<String>,
    pub verdict: Verdict,
}

impl Assessment {
    pub fn new(measured: Vec<String>, verdict: Verdict) -> Assessment {
        Assessment { measured, verdict }
    }
}

/// One claim as REPORT.md prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The anchor: a figure id, or `sec4.2.2` for the claim Fig 7's module also judges.
    pub anchor: &'static str,
    /// The output whose image illustrates the claim.
    pub figure: FigureId,
    pub claim: &'static str,
    pub rule: String,
    pub measured: Vec<String>,
    pub verdict: Verdict,
}

impl Finding {
    pub fn beyond_paper(&self) -> bool {
        self.figure.beyond_paper()
    }

    pub fn label(&self) -> String {
        self.verdict.label(self.beyond_paper())
    }
}

/// Three significant digits whatever the scale (activations ~0.3, gradients ~1e-5).
pub fn numbers(values: &[f64]) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| {
            if v.abs() < 1e-2 && *v != 0.0 {
                format!("{v:.2e}")
            } else {
                format!("{v:.3}")
            }
        })
        .collect();
    parts.join(", ")
}

/// "shapeset-tanh-standard-l5 (seed 0)": the run a measurement was taken on.
pub fn run_name(run: &Run) -> String {
    format!("{} (seed {})", run.selector(), run.params().seed)
}

/// max / min of finite positive values (1 for one value, infinite when one is 0).
pub fn spread(values: &[f64]) -> f64 {
    let (lo, hi) = crate::style::bounds(values.iter().copied());
    hi / lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_hold_rather_than_reproduce() {
        assert_eq!(Verdict::Reproduced.label(false), "reproduced");
        assert_eq!(Verdict::Reproduced.label(true), "holds (beyond the paper)");
        assert_eq!(
            Verdict::NotTestedAtScale.label(true),
            "not tested at this scale (beyond the paper)"
        );
        assert_eq!(Verdict::of(false), Verdict::NotReproduced);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(numbers(&[0.3114, 5.61e-6, 0.0]), "0.311, 5.61e-6, 0.000");
        assert_eq!(spread(&[2.0, 1.0, 4.0]), 4.0);
    }
}
