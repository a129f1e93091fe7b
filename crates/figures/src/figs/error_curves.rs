//! Test error during training (Figs 11, 12, and the left panel of ext-he): one panel per
//! dataset, one curve per configuration (mean over seeds, a +-1 std band when there are
//! several seeds), legend ordered by final error like the paper's. Also the shared
//! measurement of those figures: the order of final test errors, decided by tests over seeds.

use super::{caption_head, Figure};
use crate::aggregate::{error_curve, final_errors, Curve};
use crate::canvas::{self, DrawResult, Plot};
use crate::compare::{compare, power_line, Comparison};
use crate::paired::Passes;
use crate::runs::Catalog;
use crate::style::{self, snap, TimeAxis};
use crate::verdict::Part;
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use spec::{Activation, Dataset, Init, Selector, PAPER_DEPTH};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub struct Series {
    pub selector: Selector,
    pub curve: Curve,
    pub seeds: usize,
}

impl Series {
    pub fn final_error(&self) -> f64 {
        self.curve.mean.last().copied().unwrap_or(f64::NAN)
    }

    /// "Tanh N", or "Sigmoid (4 layers)" off the paper's depth.
    pub fn name(&self) -> String {
        series_name(&self.selector)
    }
}

/// A configuration's legend name: the paper's row name, plus the depth when it is not 5.
pub fn series_name(selector: &Selector) -> String {
    if selector.hidden_layers == PAPER_DEPTH {
        selector.short_name()
    } else {
        format!(
            "{} ({} layers)",
            selector.short_name(),
            selector.hidden_layers
        )
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

/// Figs 11 and 12: the test-error curves of whichever of `figure`'s runs exist.
pub fn render_init_comparison(
    figure: &dyn Figure,
    catalog: &Catalog,
    out: &Path,
    size: (u32, u32),
) -> Result<Vec<PathBuf>> {
    let mut caption = format!(
        "{}\ndashed: standard init, solid: normalized init; legend ordered by final test error",
        caption_head(figure.id())
    );
    if let Some(note) = eval_note(catalog, &figure.selectors()) {
        caption = format!("{caption}\n{note}");
    }
    let curves = ErrorCurvesFigure::read(catalog, &figure.selectors(), caption)?;
    canvas::save(&curves, out, figure.id().id(), size)
}

/// How much of the test set each point of a curve is: the runs' `eval_examples` (the first N
/// examples at every probe but the last, the whole set at the last). None when every run of
/// `selectors` evaluated whole sets throughout.
pub fn eval_note(catalog: &Catalog, selectors: &[Selector]) -> Option<String> {
    let sizes: BTreeSet<usize> = selectors
        .iter()
        .flat_map(|s| catalog.seeds(s))
        .map(|run| run.params().eval_examples)
        .filter(|&n| n > 0)
        .collect();
    if sizes.is_empty() {
        return None;
    }
    let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
    Some(format!(
        "points before the last: test error on the first {} test examples; the last point: \
         the whole test set",
        sizes.join(" or ")
    ))
}

impl ErrorCurvesFigure {
    /// One panel per dataset among `selectors` that has runs, in `Dataset::ALL` order; one
    /// curve per selector that has runs.
    pub fn read(catalog: &Catalog, selectors: &[Selector], caption: String) -> Result<Self> {
        let mut panels = Vec::new();
        for dataset in Dataset::ALL {
            let here: Vec<Selector> = selectors
                .iter()
                .filter(|s| s.dataset == dataset)
                .copied()
                .collect();
            if let Some(panel) = ErrorPanel::read(catalog, dataset, &catalog.present(&here))? {
                panels.push(panel);
            }
        }
        Ok(ErrorCurvesFigure { panels, caption })
    }
}

impl ErrorPanel {
    /// The curves of `selectors` (all with runs) on one dataset; None when there are none.
    pub fn read(
        catalog: &Catalog,
        dataset: Dataset,
        selectors: &[Selector],
    ) -> Result<Option<Self>> {
        let mut series = Vec::new();
        let mut updates_per_epoch = 1;
        for &selector in selectors {
            let seeds = catalog.seeds(&selector);
            updates_per_epoch = seeds[0].config.updates_per_epoch;
            series.push(Series {
                selector,
                curve: error_curve(seeds)?,
                seeds: seeds.len(),
            });
        }
        if series.is_empty() {
            return Ok(None);
        }
        series.sort_by(|a, b| a.final_error().total_cmp(&b.final_error()));
        let last_step = style::bounds(series.iter().flat_map(|s| s.curve.step.iter().copied())).1;
        Ok(Some(ErrorPanel {
            dataset,
            axis: TimeAxis::new(last_step, updates_per_epoch),
            last_step,
            series,
        }))
    }

    /// "Shapeset-3x2 (mean of up to 2 seeds, band = +-1 std)".
    pub fn title(&self) -> String {
        let seeds = self.series.iter().map(|s| s.seeds).max().unwrap_or(1);
        let seeds = if seeds > 1 {
            format!("mean of up to {seeds} seeds, band = +-1 std")
        } else {
            "1 seed".to_string()
        };
        format!("{} ({seeds})", self.dataset.title())
    }

    /// Draws the panel into `area` under `title`; `px` is the figure's text size.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        px: f64,
        title: &str,
    ) -> DrawResult<DB> {
        let top = style::bounds(self.series.iter().flat_map(|s| {
            let c = &s.curve;
            (0..c.mean.len()).map(move |i| c.mean[i] + c.std[i].max(0.0))
        }))
        .1;
        let mut chart = style::chart(
            area,
            px,
            title,
            self.axis.range(self.last_step),
            0.0..(top * 1.08).clamp(1.0, 100.0),
            (&self.axis.label(), "test error (%)"),
        )?;
        for series in &self.series {
            draw_series(&mut chart, &self.axis, series)?;
        }
        style::legend(&mut chart, SeriesLabelPosition::MiddleRight, px)
    }
}

impl Plot for ErrorCurvesFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::with_caption(root, &self.caption)?;
        let px = style::text_px(root);
        let areas = body.split_evenly((1, self.panels.len().max(1)));
        for (area, panel) in areas.iter().zip(&self.panels) {
            panel.draw(area, px, &panel.title())?;
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
    let color = style::series_color(&series.selector);
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
        let outline: Vec<(f64, f64)> = upper
            .chain(lower)
            .map(|(x, y)| (snap(x), snap(y)))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(
            outline,
            color.mix(0.18).filled(),
        )))?;
    }
    let label = format!("{}: {:.2}%", series.name(), series.final_error());
    let points = x.iter().copied().zip(c.mean.iter().copied()).collect();
    style::draw_line(
        chart,
        points,
        color,
        style::is_dashed(series.selector.init),
        Some(&label),
    )
}

/// The order of final test errors per dataset among `selectors` at the paper's depth, and
/// the comparisons (`compare`: over seeds, gated, at equal rates) that decide the claims about
/// it.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorOrder {
    /// One line per dataset with runs ("MNIST: Tanh N 3.66% (n=1) < ..."), then the lines of
    /// each comparison.
    pub lines: Vec<String>,
    /// Per dataset where both tanh inits ran: Tanh N against Tanh.
    pub tanh: Vec<(Dataset, Comparison)>,
    /// Shapeset, when sigmoid ran: every other configuration against sigmoid, gated on the
    /// other one only (the claim is that sigmoid sits at chance).
    pub against_sigmoid: Vec<Comparison>,
}

impl ErrorOrder {
    pub fn measure(catalog: &Catalog, selectors: &[Selector]) -> Result<ErrorOrder> {
        let errors: Vec<_> = final_errors(catalog)?
            .into_iter()
            .filter(|e| e.selector.hidden_layers == PAPER_DEPTH && selectors.contains(&e.selector))
            .collect();
        let mut passes = Passes::new(catalog);
        let mut order = ErrorOrder {
            lines: Vec::new(),
            tanh: Vec::new(),
            against_sigmoid: Vec::new(),
        };
        for dataset in Dataset::ALL {
            let mut here: Vec<_> = errors
                .iter()
                .filter(|e| e.selector.dataset == dataset)
                .collect();
            if here.is_empty() {
                continue;
            }
            here.sort_by(|a, b| a.error_pct.mean.total_cmp(&b.error_pct.mean));
            let names: Vec<String> = here
                .iter()
                .map(|e| {
                    format!(
                        "{} {:.2}% (n={})",
                        e.selector.short_name(),
                        e.error_pct.mean,
                        e.error_pct.n
                    )
                })
                .collect();
            order
                .lines
                .push(format!("{}: {}", dataset.title(), names.join(" < ")));
            let ran = |a, i| {
                let s = Selector::new(dataset, a, i, PAPER_DEPTH);
                here.iter().any(|e| e.selector == s).then_some(s)
            };
            if let (Some(n), Some(s)) = (
                ran(Activation::Tanh, Init::Normalized),
                ran(Activation::Tanh, Init::Standard),
            ) {
                let c = compare(&mut passes, &n, &s, &[n, s])?;
                order.push_lines(dataset, &c);
                order.lines.extend(power_line(&c, paper_gap(&n, &s)));
                order.tanh.push((dataset, c));
            }
            if let (Dataset::Shapeset, Some(sigmoid)) =
                (dataset, ran(Activation::Sigmoid, Init::Standard))
            {
                for other in here.iter().filter(|e| e.selector != sigmoid) {
                    let c = compare(&mut passes, &other.selector, &sigmoid, &[other.selector])?;
                    order.push_lines(dataset, &c);
                    order.against_sigmoid.push(c);
                }
            }
        }
        Ok(order)
    }

    fn push_lines(&mut self, dataset: Dataset, c: &Comparison) {
        let title = dataset.title();
        self.lines
            .extend(c.lines.iter().map(|line| format!("{title}: {line}")));
    }

    /// "Tanh N is better than Tanh" on `dataset`; `NotRun` when both were not run.
    pub fn tanh_part(&self, dataset: Dataset) -> Part {
        self.tanh
            .iter()
            .find(|(d, _)| *d == dataset)
            .map_or(Part::NotRun, |(_, c)| c.part())
    }

    /// "Sigmoid is the worst": one part per other configuration (better than sigmoid), so
    /// that those at chance are not tested while the others are; empty when sigmoid was not
    /// run.
    pub fn sigmoid_parts(&self) -> Vec<Part> {
        self.against_sigmoid.iter().map(Comparison::part).collect()
    }
}

/// The paper's Table 1 gap (points) between two configurations, when it has both.
pub fn paper_gap(first: &Selector, second: &Selector) -> Option<f64> {
    Some(crate::paper::table1_error(second)? - crate::paper::table1_error(first)?)
}
