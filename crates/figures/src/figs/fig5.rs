//! Fig 5: the quadratic cost has plateaus where the cross-entropy keeps a slope. Needs no
//! run: the surfaces are computed here (`crate::surface`) on a seeded toy network.

use super::cost_surface::CostSurfaceFigure;
use super::{caption_head, Figure};
use crate::canvas;
use crate::runs::Catalog;
use crate::surface::{cost_surface, plateau_fraction};
use crate::verdict::{Assessment, Verdict};
use anyhow::Result;
use spec::FigureId;
use std::path::{Path, PathBuf};

/// The seed of Fig 5's random network, input and target.
pub const SURFACE_SEED: u64 = 5;

pub struct Fig5;

impl Figure for Fig5 {
    fn id(&self) -> FigureId {
        FigureId::Fig5
    }

    fn claim(&self) -> &'static str {
        "The quadratic cost has plateaus where the cross-entropy keeps a slope."
    }

    fn rule(&self) -> String {
        "reproduced if a larger share of the grid is plateau for the quadratic cost".into()
    }

    fn assess(&self, _catalog: &Catalog) -> Result<Assessment> {
        let surface = cost_surface(SURFACE_SEED);
        let ce = plateau_fraction(&surface.cross_entropy);
        let quadratic = plateau_fraction(&surface.quadratic);
        let measured = vec![format!(
            "plateau share of the grid: cross-entropy {ce:.3}, quadratic {quadratic:.3} (seed {SURFACE_SEED})"
        )];
        Ok(Assessment::new(measured, Verdict::of(quadratic > ce)))
    }

    fn render(&self, _catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        let figure = CostSurfaceFigure {
            surface: cost_surface(SURFACE_SEED),
            caption: format!(
                "{} (10-10-2, normalized init, 10 random inputs and targets, seed {SURFACE_SEED})\n\
                 as one weight of each layer varies; plateau = slope under 5% of the span across the grid",
                caption_head(self.id())
            ),
        };
        canvas::save(&figure, out, self.id().id(), size)
    }
}
