//! Fig 11: on Shapeset, normalized init lowers tanh's test error and sigmoid is worst. Drawn
//! from whichever of the figure's configurations were run (the 4-layer sigmoid included).

use super::error_curves::{render_init_comparison, ErrorOrder};
use super::Figure;
use crate::runs::{Catalog, Missing};
use crate::verdict::{Assessment, Verdict};
use anyhow::Result;
use spec::FigureId;
use std::path::{Path, PathBuf};

pub struct Fig11;

/// Figs 11, 12 and Table 1 draw whatever part of their configurations exists.
pub fn any_of(figure: &dyn Figure, catalog: &Catalog) -> Result<(), Missing> {
    let wanted = figure.selectors();
    if catalog.present(&wanted).is_empty() {
        return Err(Missing::any_of(&wanted));
    }
    Ok(())
}

/// Tanh N significantly better than Tanh, and (when sigmoid was run) every configuration
/// significantly better than sigmoid; partial when one of the two holds; not tested when a
/// pair cannot be tested; not run without both tanh inits.
pub fn verdict(order: &ErrorOrder) -> Verdict {
    let Some(&(_, tanh)) = order.tanh_normalized_wins.first() else {
        return Verdict::NotRun;
    };
    match (tanh, order.sigmoid_worst) {
        (None, _) | (_, Some(None)) => Verdict::Untested,
        // Sigmoid not run: the tanh part alone.
        (Some(tanh), None) => Verdict::of(tanh),
        (Some(true), Some(Some(true))) => Verdict::Reproduced,
        (Some(false), Some(Some(false))) => Verdict::NotReproduced,
        _ => Verdict::Partial,
    }
}

impl Figure for Fig11 {
    fn id(&self) -> FigureId {
        FigureId::Fig11
    }

    fn claim(&self) -> &'static str {
        "On Shapeset, normalized init lowers tanh's test error (15.60% vs 27.15%) and sigmoid is \
         the worst (82.61%, chance level)."
    }

    fn rule(&self) -> String {
        "at the paper's depth, with McNemar's test on the final test passes (paired by seed, \
         p < 0.005): reproduced if Tanh N is significantly better than Tanh and, when sigmoid was \
         run, every other configuration is significantly better than Sigmoid; partially if one \
         of the two holds; a difference that is not significant does not count"
            .into()
    }

    fn requirement(&self, catalog: &Catalog) -> Result<(), Missing> {
        any_of(self, catalog)
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let order = ErrorOrder::measure(catalog, &self.selectors())?;
        let mut measured = order.lines.clone();
        let verdict = verdict(&order);
        if verdict == Verdict::NotRun {
            measured.push("needs both Tanh and Tanh N for the comparison".into());
        }
        Ok(Assessment::new(measured, verdict))
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        render_init_comparison(self, catalog, out, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::Dataset;

    #[test]
    fn sigmoid_must_be_worst_and_tanh_n_below_tanh() {
        let order = |wins: Option<bool>, sigmoid: Option<Option<bool>>| ErrorOrder {
            lines: Vec::new(),
            tanh_normalized_wins: vec![(Dataset::Shapeset, wins)],
            sigmoid_worst: sigmoid,
        };
        let yes = Some(true);
        assert_eq!(verdict(&order(yes, Some(yes))), Verdict::Reproduced);
        assert_eq!(verdict(&order(yes, None)), Verdict::Reproduced);
        assert_eq!(verdict(&order(Some(false), None)), Verdict::NotReproduced);
        assert_eq!(verdict(&order(yes, Some(Some(false)))), Verdict::Partial);
        assert_eq!(verdict(&order(Some(false), Some(yes))), Verdict::Partial);
        assert_eq!(
            verdict(&order(Some(false), Some(Some(false)))),
            Verdict::NotReproduced
        );
        assert_eq!(verdict(&order(None, Some(yes))), Verdict::Untested);
        assert_eq!(verdict(&order(yes, Some(None))), Verdict::Untested);
        let mut none = order(yes, None);
        none.tanh_normalized_wins.clear();
        assert_eq!(verdict(&none), Verdict::NotRun);
    }
}
