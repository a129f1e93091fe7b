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

/// One part of a claim, as its rule judged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Pass,
    Fail,
    /// The gate was closed (a net at chance) or the run is too short for the part.
    NotAtScale,
    /// No test was possible on these runs (no predictions, different rates, one seed).
    Untested,
    /// The runs the part needs are not in this profile.
    NotRun,
}

impl Part {
    /// The conjunction of `parts` (a claim about all of them): fails when one fails, passes
    /// when all pass, else the first reason it could not be tested (scale before the rest).
    pub fn all(parts: &[Part]) -> Part {
        if parts.contains(&Part::Fail) {
            Part::Fail
        } else if !parts.is_empty() && parts.iter().all(|&p| p == Part::Pass) {
            Part::Pass
        } else if parts.contains(&Part::NotAtScale) {
            Part::NotAtScale
        } else if parts.contains(&Part::Untested) {
            Part::Untested
        } else {
            Part::NotRun
        }
    }
}

/// The verdict of a claim from its parts: reproduced when every part passed; partially when
/// some passed (the others failed or could not be tested); not reproduced when a
/// tested part failed and none passed; else "not tested at this scale" when a part was gated
/// by scale, "not tested" when none could be tested, "not run" when nothing ran.
pub fn combine(parts: &[Part]) -> Verdict {
    let count = |p: Part| parts.iter().filter(|&&x| x == p).count();
    let (pass, fail) = (count(Part::Pass), count(Part::Fail));
    if pass > 0 && pass == parts.len() {
        Verdict::Reproduced
    } else if pass > 0 {
        Verdict::Partial
    } else if fail > 0 {
        Verdict::NotReproduced
    } else if count(Part::NotAtScale) > 0 {
        Verdict::NotTestedAtScale
    } else if count(Part::Untested) > 0 {
        Verdict::Untested
    } else {
        Verdict::NotRun
    }
}

/// One rule's verdicts on each seed, as one verdict: the same in every seed, that verdict;
/// reproduced (or partially) in some seeds only, partially; else not reproduced when a seed
/// failed, or the first seed's reason it was not tested.
pub fn over_seeds(verdicts: &[Verdict]) -> Verdict {
    let Some(&first) = verdicts.first() else {
        return Verdict::NotRun;
    };
    if verdicts.iter().all(|&v| v == first) {
        first
    } else if verdicts
        .iter()
        .any(|v| matches!(v, Verdict::Reproduced | Verdict::Partial))
    {
        Verdict::Partial
    } else if verdicts.contains(&Verdict::NotReproduced) {
        Verdict::NotReproduced
    } else {
        first
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
    fn parts_combine_into_one_verdict() {
        use Part::*;
        assert_eq!(combine(&[Pass, Pass]), Verdict::Reproduced);
        assert_eq!(combine(&[Pass, Fail]), Verdict::Partial);
        assert_eq!(combine(&[Pass, NotAtScale]), Verdict::Partial);
        assert_eq!(combine(&[Fail, NotAtScale]), Verdict::NotReproduced);
        assert_eq!(combine(&[NotAtScale, Untested]), Verdict::NotTestedAtScale);
        assert_eq!(combine(&[Untested]), Verdict::Untested);
        assert_eq!(combine(&[NotRun]), Verdict::NotRun);
        assert_eq!(combine(&[]), Verdict::NotRun);
    }

    #[test]
    fn seeds_must_agree_for_a_full_verdict() {
        use Verdict::*;
        assert_eq!(over_seeds(&[Reproduced, Reproduced]), Reproduced);
        assert_eq!(over_seeds(&[Reproduced, NotReproduced]), Partial);
        assert_eq!(
            over_seeds(&[NotTestedAtScale, NotReproduced]),
            NotReproduced
        );
        assert_eq!(over_seeds(&[NotTestedAtScale, Untested]), NotTestedAtScale);
        assert_eq!(over_seeds(&[]), NotRun);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(numbers(&[0.3114, 5.61e-6, 0.0]), "0.311, 5.61e-6, 0.000");
        assert_eq!(spread(&[2.0, 1.0, 4.0]), 4.0);
    }
}
