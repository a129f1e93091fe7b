//! The per-run panel outputs (Figs 2, 3, 4, 6, 7, 8, 9, 10): one panel per run, the
//! lowest seed of each of the output's configurations, drawn by the `histograms` or the
//! `layer_stats` renderer. Each of those outputs only declares a [`PanelPlot`].

use super::histograms::{HistogramFigure, Snapshot};
use super::layer_stats::{LayerStatsFigure, Look};
use super::{caption_head, panel_title};
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
    /// Draws output `id`, the lowest-seed run of each panel, into `out`.
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
                let figure = LayerStatsFigure::read(&runs, &titles, quantity, look, desc, caption)?;
                canvas::save(&figure, out, id.id(), size)
            }
        }
    }
}
