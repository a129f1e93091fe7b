//! Fig 1: Shapeset-3x2 samples. A picture with no quantitative claim; drawn by `sheet`.

use super::{sheet, Figure};
use crate::runs::Catalog;
use crate::verdict::{Assessment, Verdict};
use anyhow::Result;
use spec::FigureId;
use std::path::{Path, PathBuf};

pub struct Fig1;

impl Figure for Fig1 {
    fn id(&self) -> FigureId {
        FigureId::Fig1
    }

    fn claim(&self) -> &'static str {
        "Shapeset-3x2 images: one or two grey triangles, parallelograms or ellipses on a grey background."
    }

    fn rule(&self) -> String {
        "none: a picture".into()
    }

    fn assess(&self, _catalog: &Catalog) -> Result<Assessment> {
        let measured = vec![format!(
            "the sheet shows images 0..64 of the Shapeset stream with seed {}",
            sheet::SHEET_SEED
        )];
        Ok(Assessment::new(measured, Verdict::Illustration))
    }

    fn render(&self, _catalog: &Catalog, out: &Path, _size: (u32, u32)) -> Result<Vec<PathBuf>> {
        sheet::render(
            out,
            &format!(
                "Fig. 1. {} (T triangle, P parallelogram, E ellipse), generator seed {}",
                self.id().title(),
                sheet::SHEET_SEED
            ),
        )
    }
}
