//! Draws one figure twice, into a PNG and an SVG of the same size, and writes both
//! atomically. Figures implement [`Plot`] once, generic over the backend.

use crate::style;
use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

pub trait Plot {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Writes `<dir>/<id>.png` and `<dir>/<id>.svg`; returns their paths.
pub fn save(plot: &impl Plot, dir: &Path, id: &str, size: (u32, u32)) -> Result<Vec<PathBuf>> {
    style::register_fonts();
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        paint(plot, &root).map_err(|e| anyhow!("drawing {id}.png: {e}"))?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        paint(plot, &root).map_err(|e| anyhow!("drawing {id}.svg: {e}"))?;
    }
    let png_path = dir.join(format!("{id}.png"));
    let svg_path = dir.join(format!("{id}.svg"));
    store::atomic::write_atomic(&png_path, &encode_png(&rgb, size)?)
        .with_context(|| format!("writing {}", png_path.display()))?;
    store::atomic::write_atomic(&svg_path, svg.as_bytes())
        .with_context(|| format!("writing {}", svg_path.display()))?;
    Ok(vec![png_path, svg_path])
}

fn paint<DB: DrawingBackend>(plot: &impl Plot, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    plot.draw(root)?;
    root.present()
}

pub fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Figures are published in git: spend a little time for much smaller files.
    encoder.set_compression(png::Compression::Best);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(bytes)
}
