//! Fig 10: tanh with normalized init does not saturate layer after layer as in Fig 3. Judged
//! against the standard-init tanh run of Fig 3, with Fig 3's measurement.

use super::fig3::{
    at_scale, describe_saturation, no_saturation_line, saturation_steps, SATURATED_P98, SATURATION,
};
use super::panel_plot::PanelPlot;
use super::{panel_runs, Figure};
use crate::runs::Catalog;
use crate::verdict::{run_name, Assessment, Verdict};
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
            "reproduced if fewer tanh layers ever reach p98 >= {SATURATED_P98} with normalized \
             init than with standard init; not tested at this scale when no standard-init layer \
             saturates in a run shorter than the paper's"
        )
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let normalized = panel_runs(self, catalog)?[0];
        let n = saturation_steps(normalized)?;
        let mut measured = vec![format!(
            "tanh normalized {}: {}",
            run_name(normalized),
            describe_saturation(&n)
        )];
        let standard = Selector::new(
            Dataset::Shapeset,
            Activation::Tanh,
            Init::Standard,
            PAPER_DEPTH,
        );
        let Some(standard_run) = catalog.seeds(&standard).first() else {
            measured.push(format!("needs run {standard} for the comparison"));
            return Ok(Assessment::new(measured, Verdict::NotRun));
        };
        let s = saturation_steps(standard_run)?;
        measured.push(format!(
            "tanh standard {}: {}",
            run_name(standard_run),
            describe_saturation(&s)
        ));
        let (count_n, count_s) = (n.iter().flatten().count(), s.iter().flatten().count());
        measured.push(format!(
            "saturated layers: normalized {count_n}, standard {count_s}"
        ));
        // Without saturation under standard init there is nothing for normalized to lack.
        let verdict = at_scale(
            Verdict::of(count_n < count_s),
            &s,
            standard_run.params().updates,
        );
        if verdict == Verdict::NotTestedAtScale {
            measured.push(no_saturation_line(standard_run.params().updates));
        }
        Ok(Assessment::new(measured, verdict))
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
