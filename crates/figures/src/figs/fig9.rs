//! Fig 9: during training, normalized init keeps the weight gradients' variance about the
//! same across layers; standard init lets it differ (smaller in the higher layers).

use super::layer_stats::Look;
use super::panel_plot::{PanelKind, PanelPlot};
use super::{panel_runs, Figure};
use crate::runs::{Catalog, Run};
use crate::verdict::{run_name, Assessment, Verdict};
use anyhow::Result;
use spec::{FigureId, Quantity};
use std::path::{Path, PathBuf};

pub struct Fig9;

/// (max - min) / mean over layers of the per-layer weight-gradient std at one probe.
pub fn relative_spread(stds: &[f64]) -> f64 {
    let (lo, hi) = crate::style::bounds(stds.iter().copied());
    (hi - lo) / crate::stats::mean(stds)
}

/// One run's relative spread at step 0, and its median over the probes after step 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spreads {
    pub init: f64,
    /// None when the run has no probe after step 0.
    pub later: Option<f64>,
    pub later_probes: usize,
}

impl Spreads {
    pub fn measure(run: &Run) -> Result<Spreads> {
        let recording = run.open()?;
        let per_layer = (1..=run.hidden_layers())
            .map(|k| Ok(recording.layer_stats(k, Quantity::WeightGrad)?.std))
            .collect::<Result<Vec<Vec<f64>>>>()?;
        let at = |p: usize| relative_spread(&per_layer.iter().map(|s| s[p]).collect::<Vec<_>>());
        let later: Vec<f64> = (1..per_layer[0].len()).map(at).collect();
        Ok(Spreads {
            init: at(0),
            later: (!later.is_empty()).then(|| crate::stats::median(&later)),
            later_probes: later.len(),
        })
    }

    fn line(&self, run: &Run) -> String {
        let later = self.later.map_or("no probe after step 0".into(), |m| {
            format!(
                "median {m:.3} over {} probes after step 0",
                self.later_probes
            )
        });
        format!(
            "{} {}: relative spread {:.3} at step 0, {later}",
            run.params().init,
            run_name(run),
            self.init
        )
    }
}

/// A run's weight gradients have spread apart over the layers during training: the median
/// relative spread after step 0 exceeds 1.5 x the one at step 0 plus 0.1 (at initialization
/// both inits' spreads are near 0.05, Fig 8).
pub fn spread_apart(spreads: &Spreads) -> bool {
    spreads
        .later
        .is_some_and(|later| later > 1.5 * spreads.init + 0.1)
}

/// The claim is about what training does, so a rule that near-init data could pass is no
/// rule: standard init's spread must have grown (else not tested at this scale in a run
/// shorter than the paper's, not reproduced in one as long). Then reproduced when
/// normalized's has not grown and stays below standard's; partially when it grew but less;
/// not reproduced otherwise.
pub fn verdict(standard: &Spreads, normalized: &Spreads, updates: u64) -> Verdict {
    let (Some(standard_later), Some(normalized_later)) = (standard.later, normalized.later) else {
        return Verdict::NotTestedAtScale;
    };
    if !spread_apart(standard) {
        return if updates < crate::paper::PAPER_UPDATES {
            Verdict::NotTestedAtScale
        } else {
            Verdict::NotReproduced
        };
    }
    match (normalized_later < standard_later, spread_apart(normalized)) {
        (true, false) => Verdict::Reproduced,
        (true, true) => Verdict::Partial,
        (false, _) => Verdict::NotReproduced,
    }
}

impl Figure for Fig9 {
    fn id(&self) -> FigureId {
        FigureId::Fig9
    }

    fn claim(&self) -> &'static str {
        "During training, normalized init keeps the variance of the weight gradients about the \
         same across layers; with standard init it differs across layers (smaller in the \
         higher layers)."
    }

    fn rule(&self) -> String {
        "at each probe, relative spread = (max - min) / mean over layers of std(dCost/dW); a \
         run's gradients have spread apart when its median relative spread after step 0 \
         exceeds 1.5 x its step-0 spread + 0.1. Standard init's must have spread apart (else \
         not tested at this scale, in runs shorter than the paper's 5M updates); then \
         reproduced if normalized's has not and stays below standard's, partially if it has \
         but stays below, not reproduced otherwise"
            .into()
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let runs = panel_runs(self, catalog)?;
        let spreads = runs
            .iter()
            .map(|run| Spreads::measure(run))
            .collect::<Result<Vec<_>>>()?;
        let measured = runs.iter().zip(&spreads).map(|(r, s)| s.line(r)).collect();
        let updates = runs[0].params().updates;
        Ok(Assessment::new(
            measured,
            verdict(&spreads[0], &spreads[1], updates),
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

    fn spreads(init: f64, later: Option<f64>) -> Spreads {
        Spreads {
            init,
            later,
            later_probes: usize::from(later.is_some()),
        }
    }

    #[test]
    fn each_outcome_has_a_case() {
        assert!((relative_spread(&[1.0, 2.0, 3.0]) - 1.0).abs() < 1e-12);
        assert_eq!(relative_spread(&[2.0; 5]), 0.0);
        let short = 3000;
        let standard = spreads(0.05, Some(1.5));
        let v = |init, later| verdict(&standard, &spreads(init, Some(later)), short);
        assert_eq!(v(0.05, 0.06), Verdict::Reproduced);
        assert_eq!(
            v(0.05, 0.8),
            Verdict::Partial,
            "spread apart, less than standard"
        );
        assert_eq!(v(0.05, 2.0), Verdict::NotReproduced);
        assert_eq!(v(0.05, 1.5), Verdict::NotReproduced, "equal is not below");
        // Near-init data: neither has spread apart. It cannot pass.
        let near_init = spreads(0.05, Some(0.06));
        let n = spreads(0.04, Some(0.04));
        assert_eq!(verdict(&near_init, &n, short), Verdict::NotTestedAtScale);
        let paper = crate::paper::PAPER_UPDATES;
        assert_eq!(verdict(&near_init, &n, paper), Verdict::NotReproduced);
        assert_eq!(
            verdict(&standard, &spreads(0.1, None), short),
            Verdict::NotTestedAtScale
        );
    }
}
