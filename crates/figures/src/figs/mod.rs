//! The figures: which runs, titles and caption each one gets, and which family draws it.

pub mod cost_surface;
pub mod error_curves;
pub mod histograms;
pub mod layer_stats;
pub mod sheet;

use crate::canvas;
use crate::recording::Quantity;
use crate::runs::{Catalog, Run};
use crate::surface::cost_surface;
use crate::target::Target;
use anyhow::Result;
use error_curves::ErrorCurvesFigure;
use histograms::{HistogramFigure, Snapshot};
use layer_stats::{LayerStatsFigure, Look};
use std::path::{Path, PathBuf};

/// The seed of Fig 5's random network, input and target.
pub const SURFACE_SEED: u64 = 5;

/// Renders one figure into `out`; the caller has checked `target.requirement(catalog)`.
pub fn render(
    target: Target,
    catalog: &Catalog,
    out: &Path,
    size: (u32, u32),
) -> Result<Vec<PathBuf>> {
    let runs = catalog.lowest_seeds(&target.selectors())?;
    let id = target.id();
    let titles = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .zip(&runs)
            .map(|(n, r)| format!("{n} ({})", about(r)))
            .collect()
    };
    match target {
        Target::Fig1 => sheet::render(
            out,
            "Fig. 1. Shapeset-3x2 samples (T triangle, P parallelogram, E ellipse), generator seed 0",
        ),
        Target::Fig2 => {
            let figure = LayerStatsFigure::read(
                &runs,
                &titles(&["Sigmoid, standard init"]),
                Quantity::Activation,
                Look::MeanWithStdBars,
                "activation value (mean, bars +-1 std)",
                "Fig. 2. Sigmoid network with 4 hidden layers on Shapeset-3x2: mean and std of each \
                 hidden layer's activations\non the 300 fixed test examples during training"
                    .into(),
            )?;
            canvas::save(&figure, out, id, size)
        }
        Target::Fig3 | Target::Fig10 => {
            let (names, caption): (&[&str], _) = if target == Target::Fig3 {
                (
                    &["Tanh, standard init", "Softsign, standard init"],
                    "Fig. 3. 98th percentile (markers) and standard deviation (lines) of the activations \
                     of each hidden layer during training\ntop: tanh, bottom: softsign (standard init, \
                     Shapeset-3x2)",
                )
            } else {
                (
                    &["Tanh, normalized init"],
                    "Fig. 10. As Fig. 3 for tanh with normalized initialization: 98th percentile \
                     (markers) and std (lines) of the activations per layer",
                )
            };
            let figure = LayerStatsFigure::read(
                &runs,
                &titles(names),
                Quantity::Activation,
                Look::StdWith98thMarkers,
                "activation: 98th pct (markers), std (lines)",
                caption.into(),
            )?;
            canvas::save(&figure, out, id, size)
        }
        Target::Fig9 => {
            let figure = LayerStatsFigure::read(
                &runs,
                &titles(&["Tanh, standard init", "Tanh, normalized init"]),
                Quantity::WeightGrad,
                Look::MeanWithStdBars,
                "dCost/dW (mean, bars +-1 std)",
                "Fig. 9. Standard deviation intervals of the weight gradients of each layer during \
                 training, tanh, Shapeset-3x2\ntop: standard init, bottom: normalized init (each panel has its own scale)"
                    .into(),
            )?;
            canvas::save(&figure, out, id, size)
        }
        Target::Fig4 | Target::Fig6 | Target::Fig7 | Target::Fig8 => {
            let (snapshot, quantity, x_desc, names, caption) = histogram_spec(target);
            let figure =
                HistogramFigure::read(&runs, &titles(names), snapshot, quantity, x_desc, caption.into())?;
            canvas::save(&figure, out, id, size)
        }
        Target::Fig5 => {
            let figure = cost_surface::CostSurfaceFigure {
                surface: cost_surface(SURFACE_SEED),
                caption: format!(
                    "Fig. 5. Cost of a 1-hidden-layer tanh network (10-10-2, normalized init, 10 random \
                     inputs and targets, seed {SURFACE_SEED})\nas one weight of each layer varies: \
                     cross-entropy (left) vs quadratic (right); plateau = slope under 5% of the span \
                     across the grid"
                ),
            };
            canvas::save(&figure, out, id, size)
        }
        Target::Fig11 | Target::Fig12 => {
            let mut figure = ErrorCurvesFigure::read(catalog, target.datasets(), String::new())?;
            figure.caption = if target == Target::Fig11 {
                "Fig. 11. Test error during online training on Shapeset-3x2 for each activation and \
                 initialization (dashed: standard, solid: normalized);\nlegend ordered by final test error"
                    .into()
            } else {
                let names: Vec<&str> = figure.panels.iter().map(|p| p.dataset.title()).collect();
                format!(
                    "Fig. 12. Test error during training on {} for each activation and \
                     initialization (dashed: standard, solid: normalized)",
                    names.join(" and ")
                )
            };
            canvas::save(&figure, out, id, size)
        }
        Target::Table1 | Target::Report => unreachable!("{id} is not a figure"),
    }
}

/// What a histogram figure reads and how it is labelled.
fn histogram_spec(
    target: Target,
) -> (
    Snapshot,
    Quantity,
    &'static str,
    &'static [&'static str],
    &'static str,
) {
    let inits: &[&str] = &["Tanh, standard init", "Tanh, normalized init"];
    match target {
        Target::Fig4 => (
            Snapshot::End,
            Quantity::Activation,
            "activation value",
            &["Tanh, standard init", "Softsign, standard init"],
            "Fig. 4. Normalized histograms of the activations of each hidden layer at the end of \
             training (all units, 300 test examples)\ntop: tanh, bottom: softsign",
        ),
        Target::Fig6 => (
            Snapshot::Init,
            Quantity::Activation,
            "activation value",
            inits,
            "Fig. 6. Activation histograms of each hidden layer at initialization (tanh, 300 test \
             examples)\ntop: standard init, bottom: normalized init",
        ),
        Target::Fig7 => (
            Snapshot::Init,
            Quantity::PreactGrad,
            "back-propagated gradient dCost/ds",
            inits,
            "Fig. 7. Histograms of the back-propagated gradients dCost/ds of each layer at \
             initialization (tanh)\ntop: standard init, bottom: normalized init (each panel has its own x scale)",
        ),
        _ => (
            Snapshot::Init,
            Quantity::WeightGrad,
            "weight gradient dCost/dW",
            inits,
            "Fig. 8. Histograms of the weight gradients of each layer just after initialization \
             (tanh)\ntop: standard init, bottom: normalized init (each panel has its own x scale)",
        ),
    }
}

/// "seed 0, 1000 units, 20000 updates": what a panel was drawn from.
fn about(run: &Run) -> String {
    let c = &run.config;
    format!("seed {}, {} units, {} updates", c.seed, c.width, c.updates)
}
