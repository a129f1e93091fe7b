//! The per-configuration panel outputs (Figs 2, 3, 4, 6, 7, 8, 9, 10): one panel per
//! configuration, drawn by the `histograms` renderer (a snapshot of the lowest seed: Figs 4,
//! 6-8) or the `layer_stats` one (statistics over training, every seed: their mean, and each
//! seed as a thin line; Figs 2, 3, 9, 10). Each of those outputs only declares a
//! [`PanelPlot`].

use super::histograms::{HistogramFigure, Snapshot};
use super::layer_stats::{LayerStatsFigure, Look};
use super::{caption_head, panel_title, seeds_title};
use crate::canvas;
use crate::runs::Catalog;
use anyhow::Result;
use spec::{FigureId, Quantity};
use std::path::{Path, PathBuf};

/// Which renderer draws the panels, and how.
#[derive(Debug, Clone, Copy)]
pub enum PanelKind {
    /// Per-layer histograms of one raw snapshot.
    Histogram(Snapshot),
    /// Per-layer statistics over training.
    LayerStats(Look),
}

/// What a per-run panel output draws: `quantity`, by `kind`, with its value-axis label; the
/// caption is the output's title and `detail`.
#[derive(Debug, Clone, Copy)]
pub struct PanelPlot {
    pub kind: PanelKind,
    pub quantity: Quantity,
    pub axis_desc: &'static str,
    pub detail: &'static str,
}

impl PanelPlot {
    /// Draws output `id` into `out`: a histogram of the lowest seed of each panel, or the
    /// statistics of every seed.
    pub fn render(
        &self,
        id: FigureId,
        catalog: &Catalog,
        out: &Path,
        size: (u32, u32),
    ) -> Result<Vec<PathBuf>> {
        let runs = catalog.lowest_seeds(&id.needs(&spec::Dataset::ALL))?;
        let titles: Vec<String> = runs.iter().map(|r| panel_title(r)).collect();
        let caption = format!("{}\n{}", caption_head(id), self.detail);
        let (quantity, desc) = (self.quantity, self.axis_desc);
        match self.kind {
            PanelKind::Histogram(snapshot) => {
                let figure =
                    HistogramFigure::read(&runs, &titles, snapshot, quantity, desc, caption)?;
                canvas::save(&figure, out, id.id(), size)
            }
            PanelKind::LayerStats(look) => {
                let selectors = id.needs(&spec::Dataset::ALL);
                let seeds: Vec<&[crate::runs::Run]> =
                    selectors.iter().map(|s| catalog.seeds(s)).collect();
                let titles: Vec<String> = seeds.iter().map(|runs| seeds_title(runs)).collect();
                let figure =
                    LayerStatsFigure::read(&seeds, &titles, quantity, look, desc, caption)?;
                canvas::save(&figure, out, id.id(), size)
            }
        }
    }
}
