//! Test error during training (Figs 11, 12): one panel per dataset, one curve per
//! activation x init (mean over seeds, a +-1 std band when there are several seeds), legend
//! ordered by final error like the paper's.

use crate::aggregate::{error_curve, Curve};
use crate::canvas::{DrawResult, Plot};
use crate::config::{Dataset, Selector};
use crate::runs::Catalog;
use crate::style::{self, TimeAxis};
use crate::target::{paper_depth_selectors, PAPER_DEPTH};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

pub struct Series {
    pub selector: Selector,
    pub curve: Curve,
    pub seeds: usize,
}

impl Series {
    pub fn final_error(&self) -> f64 {
        self.curve.mean.last().copied().unwrap_or(f64::NAN)
    }
}

pub struct ErrorPanel {
    pub dataset: Dataset,
    pub axis: TimeAxis,
    pub last_step: f64,
    /// Lowest final error first.
    pub series: Vec<Series>,
}

pub struct ErrorCurvesFigure {
    pub panels: Vec<ErrorPanel>,
    pub caption: String,
}

impl ErrorCurvesFigure {
    /// One panel per dataset in `datasets` that has paper-depth runs.
    pub fn read(catalog: &Catalog, datasets: &[Dataset], caption: String) -> Result<Self> {
        let mut panels = Vec::new();
        for &dataset in datasets {
            let mut series = Vec::new();
            let mut updates_per_epoch = 1;
            for selector in paper_depth_selectors(catalog, &[dataset]) {
                let seeds = catalog.seeds(&selector);
                updates_per_epoch = seeds[0].config.updates_per_epoch;
                series.push(Series {
                    selector,
                    curve: error_curve(seeds)?,
                    seeds: seeds.len(),
                });
            }
            if series.is_empty() {
                continue;
            }
            series.sort_by(|a, b| a.final_error().total_cmp(&b.final_error()));
            let last_step =
                style::bounds(series.iter().flat_map(|s| s.curve.step.iter().copied())).1;
            panels.push(ErrorPanel {
                dataset,
                axis: TimeAxis::new(last_step, updates_per_epoch),
                last_step,
                series,
            });
        }
        Ok(ErrorCurvesFigure { panels, caption })
    }
}

impl Plot for ErrorCurvesFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::with_caption(root, &self.caption)?;
        let px = style::text_px(root);
        for (area, panel) in body
            .split_evenly((1, self.panels.len()))
            .iter()
            .zip(&self.panels)
        {
            let top = style::bounds(panel.series.iter().flat_map(|s| {
                let c = &s.curve;
                (0..c.mean.len()).map(move |i| c.mean[i] + c.std[i].max(0.0))
            }))
            .1;
            let seeds = panel.series.iter().map(|s| s.seeds).max().unwrap_or(1);
            let title = format!(
                "{} ({PAPER_DEPTH} hidden layers, {})",
                panel.dataset.title(),
                if seeds > 1 {
                    format!("mean of up to {seeds} seeds, band = +-1 std")
                } else {
                    "1 seed".to_string()
                }
            );
            let mut chart = style::chart(
                area,
                px,
                &title,
                panel.axis.range(panel.last_step),
                0.0..(top * 1.08).clamp(1.0, 100.0),
                (&panel.axis.label(), "test error (%)"),
            )?;
            for series in &panel.series {
                draw_series(&mut chart, &panel.axis, series)?;
            }
            style::legend(&mut chart, SeriesLabelPosition::MiddleRight, px)?;
        }
        Ok(())
    }
}

fn draw_series<'a, DB: DrawingBackend + 'a>(
    chart: &mut style::Chart<'a, DB>,
    axis: &TimeAxis,
    series: &Series,
) -> DrawResult<DB> {
    let c = &series.curve;
    let color = style::activation_color(series.selector.activation);
    let x: Vec<f64> = c.step.iter().map(|&s| axis.at(s)).collect();
    let banded: Vec<usize> = (0..x.len())
        .filter(|&i| c.n[i] > 1 && c.std[i].is_finite())
        .collect();
    if banded.len() > 1 {
        let upper = banded.iter().map(|&i| (x[i], c.mean[i] + c.std[i]));
        let lower = banded
            .iter()
            .rev()
            .map(|&i| (x[i], (c.mean[i] - c.std[i]).max(0.0)));
        chart.draw_series(std::iter::once(Polygon::new(
            upper.chain(lower).collect::<Vec<_>>(),
            color.mix(0.18).filled(),
        )))?;
    }
    let label = format!(
        "{}: {:.2}%",
        series.selector.short_name(),
        series.final_error()
    );
    let points = x.iter().copied().zip(c.mean.iter().copied()).collect();
    style::draw_line(
        chart,
        points,
        color,
        style::is_dashed(series.selector.init),
        Some(&label),
    )
}
