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

/// Tanh N below Tanh, and sigmoid worst when it was run; not run without both tanh inits.
pub fn verdict(order: &ErrorOrder) -> Verdict {
    if order.tanh_normalized_wins.is_empty() {
        return Verdict::NotRun;
    }
    let tanh = order.tanh_normalized_wins.iter().all(|(_, wins)| *wins);
    Verdict::of(tanh && order.sigmoid_worst.unwrap_or(true))
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
        "at the paper's depth, reproduced if Tanh N ends below Tanh and, when sigmoid was run, \
         Sigmoid ends worst"
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
        let order = |wins: bool, sigmoid: Option<bool>| ErrorOrder {
            lines: Vec::new(),
            tanh_normalized_wins: vec![(Dataset::Shapeset, wins)],
            sigmoid_worst: sigmoid,
        };
        assert_eq!(verdict(&order(true, Some(true))), Verdict::Reproduced);
        assert_eq!(verdict(&order(true, None)), Verdict::Reproduced);
        assert_eq!(verdict(&order(true, Some(false))), Verdict::NotReproduced);
        assert_eq!(verdict(&order(false, Some(true))), Verdict::NotReproduced);
        let mut none = order(true, None);
        none.tanh_normalized_wins.clear();
        assert_eq!(verdict(&none), Verdict::NotRun);
    }
}
