//! Fig 6: at initialization, tanh activations shrink with depth under standard init and keep
//! their spread under normalized init. The measurement (a depth ratio of per-layer std at
//! step 0, standard vs normalized) is shared with Fig 7, which reads it on the gradients.

use super::histograms::Snapshot;
use super::panel_plot::{PanelKind, PanelPlot};
use super::{panel_runs, Figure};
use crate::runs::{Catalog, Run};
use crate::verdict::{numbers, run_name, Assessment, Verdict};
use anyhow::Result;
use spec::{FigureId, Quantity};
use std::path::{Path, PathBuf};

/// Standard init must shrink the depth ratio below this share of normalized's (Figs 6, 7).
pub const SHRINK_FACTOR: f64 = 0.75;

pub struct Fig6;

/// Per-layer std of a quantity at step 0.
pub fn init_stds(run: &Run, quantity: Quantity) -> Result<Vec<f64>> {
    let recording = run.open()?;
    (1..=run.hidden_layers())
        .map(|k| Ok(recording.layer_stats(k, quantity)?.std[0]))
        .collect()
}

/// std(top)/std(layer 1) at step 0 (or its inverse) for the standard and the normalized run;
/// reproduced if standard's ratio is below [`SHRINK_FACTOR`] times normalized's.
pub fn depth_ratio(runs: &[&Run], quantity: Quantity, bottom_over_top: bool) -> Result<Assessment> {
    let mut measured = Vec::new();
    let mut ratios = Vec::new();
    for run in runs {
        let stds = init_stds(run, quantity)?;
        let (first, last) = (stds[0], stds[stds.len() - 1]);
        let ratio = if bottom_over_top {
            first / last
        } else {
            last / first
        };
        measured.push(format!(
            "{} {}: std per layer at step 0 = [{}], ratio {ratio:.3}",
            run.params().init,
            run_name(run),
            numbers(&stds)
        ));
        ratios.push(ratio);
    }
    Ok(Assessment::new(
        measured,
        Verdict::of(ratios[0] < SHRINK_FACTOR * ratios[1]),
    ))
}

impl Figure for Fig6 {
    fn id(&self) -> FigureId {
        FigureId::Fig6
    }

    fn claim(&self) -> &'static str {
        "Tanh at initialization: with standard init the activations shrink toward 0 as depth \
         grows (the 0 peak grows); with normalized init they keep about the same spread."
    }

    fn rule(&self) -> String {
        format!(
            "ratio r = std(top layer) / std(layer 1) at step 0; reproduced if \
             r_standard < {SHRINK_FACTOR} * r_normalized"
        )
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        depth_ratio(&panel_runs(self, catalog)?, Quantity::Activation, false)
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        PANELS.render(self.id(), catalog, out, size)
    }
}

/// What the figure draws.
const PANELS: PanelPlot = PanelPlot {
    kind: PanelKind::Histogram(Snapshot::Init),
    quantity: Quantity::Activation,
    axis_desc: "activation value",
    detail: "300 test examples; top: standard init, bottom: normalized init",
};
