//! Fig 7: at initialization, back-propagated gradients shrink toward the input under standard
//! init and keep their spread under normalized init. The paper explains it in §4.2.2 by the
//! layer-to-layer Jacobian's singular values; that claim is judged here too, on the same
//! runs, under its own anchor `sec4.2.2`.

use super::fig6::{depth_ratio, SHRINK_FACTOR};
use super::histograms::Snapshot;
use super::panel_plot::{PanelKind, PanelPlot};
use super::{finding, panel_runs, Figure};
use crate::paper;
use crate::runs::{Catalog, Run};
use crate::verdict::{numbers, run_name, Assessment, Finding, Verdict};
use anyhow::Result;
use spec::{FigureId, Quantity};
use std::path::{Path, PathBuf};

/// Jacobian mean singular value within this of the paper's value (§4.2.2).
pub const JACOBIAN_TOLERANCE: f64 = 0.1;

pub struct Fig7;

impl Figure for Fig7 {
    fn id(&self) -> FigureId {
        FigureId::Fig7
    }

    fn claim(&self) -> &'static str {
        "Tanh at initialization: with standard init the back-propagated gradients dCost/ds get \
         smaller toward the input; with normalized init they stay about the same."
    }

    fn rule(&self) -> String {
        format!(
            "ratio g = std(dCost/ds, layer 1) / std(dCost/ds, top layer) at step 0; reproduced \
             if g_standard < {SHRINK_FACTOR} * g_normalized"
        )
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        depth_ratio(&panel_runs(self, catalog)?, Quantity::PreactGrad, true)
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        PANELS.render(self.id(), catalog, out, size)
    }

    fn findings(&self, catalog: &Catalog) -> Result<Vec<Finding>> {
        Ok(vec![
            finding(self, self.id().id(), catalog)?,
            finding(&Jacobian, "sec4.2.2", catalog)?,
        ])
    }
}

/// §4.2.2: the mean singular value of the layer-to-layer Jacobian at initialization. Shown
/// with Fig 7's image, drawn from Fig 7's runs.
pub struct Jacobian;

/// Mean over layers 1..L-1 of the step-0 mean singular value, standard and normalized.
pub fn jacobian_verdict(standard: f64, normalized: f64) -> Verdict {
    if !(standard.is_finite() && normalized.is_finite()) {
        return Verdict::NotRun;
    }
    Verdict::of(
        standard < normalized
            && (standard - paper::JACOBIAN_SV_STANDARD).abs() <= JACOBIAN_TOLERANCE
            && (normalized - paper::JACOBIAN_SV_NORMALIZED).abs() <= JACOBIAN_TOLERANCE,
    )
}

impl Figure for Jacobian {
    fn id(&self) -> FigureId {
        FigureId::Fig7
    }

    fn claim(&self) -> &'static str {
        "Mean singular value of the layer-to-layer Jacobian at initialization (tanh): about 0.5 \
         with standard init, 0.8 with normalized init."
    }

    fn rule(&self) -> String {
        format!(
            "mean over layers 1..L-1 of stats/layer<k>/jacobian_sv_mean at step 0, from the \
             lowest seed that measured it (jacobian_examples > 0); reproduced if standard < \
             normalized and each is within {JACOBIAN_TOLERANCE} of the paper's value"
        )
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let mut measured = Vec::new();
        let mut values = Vec::new();
        for selector in self.selectors() {
            let seeds = catalog.seeds(&selector);
            match JacobianAtInit::measure(seeds)? {
                Some(jacobian) => {
                    measured.push(jacobian.line());
                    values.push(jacobian.mean());
                }
                None => {
                    measured.push(format!(
                        "{selector}: no seed measured the Jacobian (jacobian_examples = 0)"
                    ));
                    values.push(f64::NAN);
                }
            }
        }
        let verdict = jacobian_verdict(values[0], values[1]);
        if verdict != Verdict::NotRun {
            measured.push(format!(
                "paper: standard {}, normalized {}",
                paper::JACOBIAN_SV_STANDARD,
                paper::JACOBIAN_SV_NORMALIZED
            ));
        }
        Ok(Assessment::new(measured, verdict))
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        Fig7.render(catalog, out, size)
    }
}

/// The step-0 Jacobian singular values of one run, layers 1..L-1.
struct JacobianAtInit<'c> {
    run: &'c Run,
    /// Per layer: the mean over the examples of each one's mean singular value.
    mean: Vec<f64>,
    /// Per layer: their std over the examples (NaN when not recorded).
    spread: Vec<f64>,
}

impl<'c> JacobianAtInit<'c> {
    /// From the lowest of `seeds` whose step-0 values are finite (only the seeds with
    /// `jacobian_examples` > 0 measure it); None when none does.
    fn measure(seeds: &'c [Run]) -> Result<Option<JacobianAtInit<'c>>> {
        for run in seeds {
            let recording = run.open()?;
            let layers = 1..run.hidden_layers();
            let mean = layers
                .clone()
                .map(|k| Ok(recording.jacobian_sv_mean(k)?[0]))
                .collect::<Result<Vec<f64>>>()?;
            if mean.is_empty() || !mean.iter().all(|v| v.is_finite()) {
                continue;
            }
            // Recordings older than the spread have none: NaN, said in the line.
            let spread = layers
                .map(|k| {
                    let values = recording.jacobian_sv_spread(k).unwrap_or_default();
                    values.first().copied().unwrap_or(f64::NAN)
                })
                .collect();
            return Ok(Some(JacobianAtInit { run, mean, spread }));
        }
        Ok(None)
    }

    /// The mean over layers.
    fn mean(&self) -> f64 {
        crate::stats::mean(&self.mean)
    }

    fn line(&self) -> String {
        format!(
            "{} {}, {} examples: per layer [{}], mean {:.3}; std over the examples of each \
             one's mean singular value, per layer [{}]",
            self.run.params().init,
            run_name(self.run),
            self.run.params().jacobian_examples,
            numbers(&self.mean),
            self.mean(),
            numbers(&self.spread)
        )
    }
}

/// What the figure draws.
const PANELS: PanelPlot = PanelPlot {
    kind: PanelKind::Histogram(Snapshot::Init),
    quantity: Quantity::PreactGrad,
    axis_desc: "back-propagated gradient dCost/ds",
    detail: "top: standard init, bottom: normalized init (each panel has its own x scale)",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobian_values_must_match_the_paper_and_order() {
        assert_eq!(jacobian_verdict(0.5, 0.8), Verdict::Reproduced);
        assert_eq!(jacobian_verdict(0.8, 0.8), Verdict::NotReproduced);
        assert_eq!(jacobian_verdict(0.3, 0.8), Verdict::NotReproduced);
        assert_eq!(jacobian_verdict(f64::NAN, 0.8), Verdict::NotRun);
    }
}
