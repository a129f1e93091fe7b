//! Fig 10: tanh with normalized init does not saturate layer after layer as in Fig 3. Judged
//! against the standard-init tanh run of Fig 3, with Fig 3's measurement.

use super::fig3::{
    at_scale, describe_saturation, no_saturation_line, saturation_steps, SATURATED_P98, SATURATION,
};
use super::panel_plot::PanelPlot;
use super::{judge_over_seeds, seed_run, Figure};
use crate::gate::MARGIN_PTS;
use crate::runs::Catalog;
use crate::verdict::{Assessment, Verdict};
use anyhow::Result;
use spec::{Activation, Dataset, FigureId, Init, Selector, PAPER_DEPTH};
use std::path::{Path, PathBuf};

pub struct Fig10;

impl Figure for Fig10 {
    fn id(&self) -> FigureId {
        FigureId::Fig10
    }

    fn claim(&self) -> &'static str {
        "Tanh with normalized init does not show the sequential saturation of Fig 3 (it looks \
         like softsign)."
    }

    fn rule(&self) -> String {
        format!(
            "both nets must have left chance (95% upper bound {MARGIN_PTS} points below the \
             majority-class error), else not tested at this scale. In each seed: reproduced if \
             fewer tanh layers ever reach p98 >= {SATURATED_P98} with normalized init than with \
             standard init; not tested at this scale when no standard-init layer saturates in a \
             run shorter than the paper's. Over seeds: the seeds' common verdict, partially when \
             they differ"
        )
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let normalized = self.selectors()[0];
        let standard = Selector::new(
            Dataset::Shapeset,
            Activation::Tanh,
            Init::Standard,
            PAPER_DEPTH,
        );
        if catalog.seeds(&standard).is_empty() {
            let missing = format!("needs run {standard} for the comparison");
            return Ok(Assessment::new(vec![missing], Verdict::NotRun));
        }
        judge_over_seeds(catalog, &normalized, &[normalized, standard], |seed| {
            let (Some(n_run), Some(s_run)) = (
                seed_run(catalog, &normalized, seed),
                seed_run(catalog, &standard, seed),
            ) else {
                return Ok(None);
            };
            let (n, s) = (saturation_steps(n_run)?, saturation_steps(s_run)?);
            let (count_n, count_s) = (n.iter().flatten().count(), s.iter().flatten().count());
            let mut measured = vec![
                format!("tanh normalized: {}", describe_saturation(&n)),
                format!("tanh standard: {}", describe_saturation(&s)),
                format!("saturated layers: normalized {count_n}, standard {count_s}"),
            ];
            // Without saturation under standard init there is nothing for normalized to lack.
            let updates = s_run.params().updates;
            let verdict = at_scale(Verdict::of(count_n < count_s), &s, updates);
            if verdict == Verdict::NotTestedAtScale {
                measured.push(no_saturation_line(updates));
            }
            Ok(Some((verdict, measured)))
        })
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        PanelPlot {
            detail: "as Fig. 3 (triangles: 98th pct, circles: 2nd pct, lines: std), for tanh \
                     with normalized initialization",
            ..SATURATION
        }
        .render(self.id(), catalog, out, size)
    }
}
