//! Fig 8: just after initialization, weight gradients have about the same spread in every
//! layer, with either init.

use super::fig6::init_stds;
use super::histograms::Snapshot;
use super::panel_plot::{PanelKind, PanelPlot};
use super::{panel_runs, Figure};
use crate::runs::Catalog;
use crate::verdict::{run_name, spread, Assessment, Verdict};
use anyhow::Result;
use spec::{FigureId, Quantity};
use std::path::{Path, PathBuf};

/// Weight-gradient std "about equal" across layers: max/min at most this.
pub const EQUAL_SPREAD: f64 = 3.0;

pub struct Fig8;

impl Figure for Fig8 {
    fn id(&self) -> FigureId {
        FigureId::Fig8
    }

    fn claim(&self) -> &'static str {
        "Just after initialization the weight gradients have about the same spread in every \
         layer, with either init."
    }

    fn rule(&self) -> String {
        format!(
            "spread = max/min over layers of std(dCost/dW) at step 0; reproduced if it is at \
             most {EQUAL_SPREAD} for both inits"
        )
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let mut measured = Vec::new();
        let mut pass = true;
        for run in panel_runs(self, catalog)? {
            let stds = init_stds(run, Quantity::WeightGrad)?;
            let spread = spread(&stds);
            pass &= spread <= EQUAL_SPREAD;
            let stds: Vec<String> = stds.iter().map(|v| format!("{v:.2e}")).collect();
            measured.push(format!(
                "{} {}: std(dCost/dW) per layer at step 0 = [{}], spread {spread:.2}",
                run.params().init,
                run_name(run),
                stds.join(", ")
            ));
        }
        Ok(Assessment::new(measured, Verdict::of(pass)))
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        PANELS.render(self.id(), catalog, out, size)
    }
}

/// What the figure draws.
const PANELS: PanelPlot = PanelPlot {
    kind: PanelKind::Histogram(Snapshot::Init),
    quantity: Quantity::WeightGrad,
    axis_desc: "weight gradient dCost/dW",
    detail: "top: standard init, bottom: normalized init (each panel has its own x scale)",
};
