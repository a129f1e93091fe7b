//! Fig 11: on Shapeset, normalized init lowers tanh's test error and sigmoid is worst. Drawn
//! from whichever of the figure's configurations were run (the 4-layer sigmoid included).

use super::error_curves::{render_init_comparison, ErrorOrder};
use super::Figure;
use crate::compare::SEED_ALPHA;
use crate::gate::MARGIN_PTS;
use crate::runs::{Catalog, Missing};
use crate::verdict::{combine, Assessment, Part, Verdict};
use anyhow::Result;
use spec::{Dataset, FigureId};
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

/// Two parts: Tanh N better than Tanh, and (when sigmoid was run) every other configuration
/// better than sigmoid; each by the comparison over seeds, gated on chance.
pub fn verdict(order: &ErrorOrder) -> Verdict {
    let mut parts = vec![order.tanh_part(Dataset::Shapeset)];
    parts.extend(order.sigmoid_parts());
    combine(&parts)
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
        format!(
            "at the paper's depth, parts that are each a paired t test over seeds on the final \
             test error (p < {SEED_ALPHA}), between nets trained at the same learning rate: Tanh \
             N better than Tanh (both must have left chance: 95% upper bound {MARGIN_PTS} points \
             below the majority-class error), and, when sigmoid was run, each other \
             configuration better than Sigmoid, one part per configuration (it must have left \
             chance; sigmoid is claimed to sit at it). Reproduced if every part holds, partially \
             if some do, not reproduced if a tested part fails and none holds; a part whose nets \
             are at chance is not tested at this scale"
        )
    }

    fn requirement(&self, catalog: &Catalog) -> Result<(), Missing> {
        any_of(self, catalog)
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let order = ErrorOrder::measure(catalog, &self.selectors())?;
        let mut measured = order.lines.clone();
        let verdict = verdict(&order);
        if order.tanh_part(Dataset::Shapeset) == Part::NotRun {
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
    use crate::compare::{Comparison, Outcome};
    use spec::{Activation, Init, Selector};

    fn comparison(outcome: Outcome) -> Comparison {
        let at = |a, i| Selector::new(Dataset::Shapeset, a, i, 5);
        Comparison {
            first: at(Activation::Tanh, Init::Normalized),
            second: at(Activation::Tanh, Init::Standard),
            outcome,
            test: None,
            mcnemar: None,
            per_seed: Default::default(),
            lines: Vec::new(),
        }
    }

    #[test]
    fn sigmoid_must_be_worst_and_tanh_n_below_tanh() {
        use Outcome::*;
        let order = |tanh: Option<Outcome>, sigmoid: &[Outcome]| ErrorOrder {
            lines: Vec::new(),
            tanh: tanh
                .map(|o| (Dataset::Shapeset, comparison(o)))
                .into_iter()
                .collect(),
            against_sigmoid: sigmoid.iter().map(|&o| comparison(o)).collect(),
        };
        assert_eq!(
            verdict(&order(Some(Better), &[Better, Better])),
            Verdict::Reproduced
        );
        assert_eq!(verdict(&order(Some(Better), &[])), Verdict::Reproduced);
        assert_eq!(
            verdict(&order(Some(NoDifference), &[])),
            Verdict::NotReproduced
        );
        assert_eq!(
            verdict(&order(Some(Better), &[Better, Worse])),
            Verdict::Partial
        );
        assert_eq!(verdict(&order(Some(Worse), &[Better])), Verdict::Partial);
        // The committed quick results: standard tanh at chance, so the tanh part is gated.
        assert_eq!(
            verdict(&order(Some(AtChance), &[AtChance])),
            Verdict::NotTestedAtScale
        );
        assert_eq!(verdict(&order(Some(AtChance), &[Better])), Verdict::Partial);
        // One part per configuration: those that left chance are tested, the others are not.
        assert_eq!(
            verdict(&order(Some(AtChance), &[Better, AtChance])),
            Verdict::Partial
        );
        assert_eq!(
            verdict(&order(Some(Better), &[Better, AtChance])),
            Verdict::Partial
        );
        assert_eq!(
            verdict(&order(Some(AtChance), &[Worse, AtChance])),
            Verdict::NotReproduced
        );
        assert_eq!(verdict(&order(Some(Untestable), &[])), Verdict::Untested);
        assert_eq!(verdict(&order(None, &[])), Verdict::NotRun);
    }
}
