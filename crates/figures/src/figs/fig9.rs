//! Fig 9: during training, standard init lets the weight gradients shrink in the higher
//! layers; normalized init keeps them level.

use super::layer_stats::Look;
use super::panel_plot::{PanelKind, PanelPlot};
use super::{panel_runs, Figure};
use crate::runs::Catalog;
use crate::verdict::{run_name, Assessment, Verdict};
use anyhow::Result;
use spec::{FigureId, Quantity};
use std::path::{Path, PathBuf};

pub struct Fig9;

/// R_standard below R_normalized, and R_normalized within [0.5, 2].
pub fn rule_passes(r_standard: f64, r_normalized: f64) -> bool {
    r_standard < r_normalized && (0.5..=2.0).contains(&r_normalized)
}

impl Figure for Fig9 {
    fn id(&self) -> FigureId {
        FigureId::Fig9
    }

    fn claim(&self) -> &'static str {
        "During training, with standard init the weight gradients get smaller in the higher \
         layers; normalized init keeps the same variance across layers."
    }

    fn rule(&self) -> String {
        "R = mean over probes after step 0 of std(dCost/dW, top) / std(dCost/dW, layer 1); \
         reproduced if R_standard < R_normalized and 0.5 <= R_normalized <= 2"
            .into()
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let mut measured = Vec::new();
        let mut ratios = Vec::new();
        for run in panel_runs(self, catalog)? {
            let recording = run.open()?;
            let bottom = recording.layer_stats(1, Quantity::WeightGrad)?;
            let top = recording.layer_stats(run.hidden_layers(), Quantity::WeightGrad)?;
            let later: Vec<f64> = (1..top.std.len())
                .map(|i| top.std[i] / bottom.std[i])
                .collect();
            let ratio = crate::stats::mean(&later);
            measured.push(format!(
                "{} {}: R = {ratio:.3} over {} probes after step 0",
                run.params().init,
                run_name(run),
                later.len()
            ));
            ratios.push(ratio);
        }
        Ok(Assessment::new(
            measured,
            Verdict::of(rule_passes(ratios[0], ratios[1])),
        ))
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        PANELS.render(self.id(), catalog, out, size)
    }
}

/// What the figure draws.
const PANELS: PanelPlot = PanelPlot {
    kind: PanelKind::LayerStats(Look::MeanWithStdBars),
    quantity: Quantity::WeightGrad,
    axis_desc: "dCost/dW (mean, bars +-1 std)",
    detail: "top: standard init, bottom: normalized init (each panel has its own scale)",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_must_stay_level_and_above_standard() {
        assert!(rule_passes(0.3, 0.9));
        assert!(!rule_passes(0.9, 0.8));
        assert!(!rule_passes(0.3, 3.0));
    }
}
