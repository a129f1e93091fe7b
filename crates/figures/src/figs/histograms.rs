//! Per-layer histograms of a raw snapshot (Figs 4, 6, 7, 8): one panel per run, one line per
//! layer. Activation panels share one span so that the two runs compare directly; gradient
//! panels each span their own (see `HistogramFigure::read`).

use crate::canvas::{DrawResult, Plot};
use crate::runs::Run;
use crate::style;
use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use spec::Quantity;
use std::ops::Range;

pub const BINS: usize = 81;
/// Gradient histograms span +-this quantile of |value| over all layers and panels, so that a
/// few outliers do not squeeze the bulk into one bin.
const GRADIENT_QUANTILE: f64 = 0.995;

/// Which raw snapshot a histogram reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshot {
    Init,
    End,
}

impl Snapshot {
    pub fn step(self, run: &Run) -> Result<u64> {
        match self {
            Snapshot::Init => Ok(0),
            Snapshot::End => run
                .open()?
                .raw_steps()?
                .last()
                .copied()
                .with_context(|| format!("{}: no raw snapshot under raw/", run.path.display())),
        }
    }
}

pub struct HistogramPanel {
    pub title: String,
    /// The span of the bins.
    pub range: Range<f64>,
    /// Per layer (from 1): the fraction of values in each bin.
    pub fractions: Vec<Vec<f64>>,
}

pub struct HistogramFigure {
    pub panels: Vec<HistogramPanel>,
    pub x_desc: String,
    pub caption: String,
}

impl HistogramFigure {
    pub fn read(
        runs: &[&Run],
        titles: &[String],
        snapshot: Snapshot,
        quantity: Quantity,
        x_desc: &str,
        caption: String,
    ) -> Result<HistogramFigure> {
        let mut values = Vec::new();
        for run in runs {
            let recording = run.open()?;
            let step = snapshot.step(run)?;
            let layers = (1..=run.hidden_layers())
                .map(|k| recording.raw(step, k, quantity))
                .collect::<Result<Vec<_>>>()?;
            values.push(layers);
        }
        let ranges: Vec<Range<f64>> = match quantity {
            // Activations share their natural span, so panels compare directly.
            Quantity::Activation => {
                let (lo, hi) =
                    style::bounds(values.iter().flatten().flatten().map(|&v| f64::from(v)));
                vec![style::padded(lo, hi.max(lo + 1e-9)); values.len()]
            }
            // Gradient scales differ by orders of magnitude between inits: each panel spans
            // its own, so the spread across layers (the claim) shows in both.
            Quantity::PreactGrad | Quantity::WeightGrad => values
                .iter()
                .map(|layers| {
                    let all: Vec<&[f32]> = layers.iter().map(Vec::as_slice).collect();
                    let edge = abs_quantile(&all, GRADIENT_QUANTILE).max(f64::MIN_POSITIVE);
                    -edge..edge
                })
                .collect(),
        };
        let panels = values
            .iter()
            .zip(titles)
            .zip(ranges)
            .map(|((layers, title), range)| HistogramPanel {
                title: title.clone(),
                fractions: layers.iter().map(|v| fractions(v, &range)).collect(),
                range,
            })
            .collect();
        Ok(HistogramFigure {
            panels,
            x_desc: x_desc.to_string(),
            caption,
        })
    }
}

impl HistogramPanel {
    pub fn bin_centers(&self) -> Vec<f64> {
        let width = (self.range.end - self.range.start) / BINS as f64;
        (0..BINS)
            .map(|i| self.range.start + (i as f64 + 0.5) * width)
            .collect()
    }
}

/// The fraction of `values` in each of `BINS` equal bins over `range` (values outside count
/// toward the total, not toward a bin).
pub fn fractions(values: &[f32], range: &Range<f64>) -> Vec<f64> {
    let mut counts = vec![0usize; BINS];
    let scale = BINS as f64 / (range.end - range.start);
    for &v in values {
        let bin = ((f64::from(v) - range.start) * scale).floor();
        if bin >= 0.0 && (bin as usize) < BINS {
            counts[bin as usize] += 1;
        } else if f64::from(v) == range.end {
            counts[BINS - 1] += 1;
        }
    }
    let total = values.len().max(1) as f64;
    counts.iter().map(|&c| c as f64 / total).collect()
}

/// The `q` quantile of |v| over several arrays.
fn abs_quantile(arrays: &[&[f32]], q: f64) -> f64 {
    let mut all: Vec<f32> = arrays
        .iter()
        .flat_map(|a| a.iter())
        .map(|v| v.abs())
        .filter(|v| v.is_finite())
        .collect();
    if all.is_empty() {
        return 0.0;
    }
    let index = ((all.len() - 1) as f64 * q).round() as usize;
    let (_, value, _) = all.select_nth_unstable_by(index, f32::total_cmp);
    f64::from(*value)
}

impl Plot for HistogramFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let px = style::text_px(root);
        let areas = style::layer_panels(
            root,
            &self.caption,
            self.panels.iter().map(|p| p.fractions.len()),
        )?;
        let top = style::bounds(
            self.panels
                .iter()
                .flat_map(|p| p.fractions.iter().flatten().copied()),
        )
        .1;
        for (area, panel) in areas.iter().zip(&self.panels) {
            let mut chart = style::chart(
                area,
                px,
                &panel.title,
                panel.range.clone(),
                0.0..top * 1.05,
                (&self.x_desc, "fraction of values per bin"),
            )?;
            let centers = panel.bin_centers();
            for (index, fraction) in panel.fractions.iter().enumerate() {
                let points = centers.iter().copied().zip(fraction.iter().copied());
                let layer = index + 1;
                style::draw_line(
                    &mut chart,
                    points.collect(),
                    style::layer_color(layer),
                    false,
                    None,
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_count_each_value_once() {
        let values = [-1.0, -0.99, 0.0, 0.5, 1.0, 3.0];
        let f = fractions(&values, &(-1.0..1.0));
        // 3.0 is out of range: it counts toward the total only
        assert!((f.iter().sum::<f64>() - 5.0 / 6.0).abs() < 1e-12);
        assert!((f[0] - 2.0 / 6.0).abs() < 1e-12); // -1.0 and -0.99 share the first bin
        assert!((f[BINS / 2] - 1.0 / 6.0).abs() < 1e-12); // 0 is the centre bin
        assert!((f[BINS - 1] - 1.0 / 6.0).abs() < 1e-12); // the right edge is inclusive
    }

    #[test]
    fn abs_quantile_ignores_sign_and_nan() {
        let a = [-4.0, 1.0, f32::NAN];
        let b = [2.0, -3.0, 0.0];
        assert_eq!(abs_quantile(&[&a, &b], 1.0), 4.0);
        assert_eq!(abs_quantile(&[&a, &b], 0.5), 2.0);
    }
}
