//! Per-layer statistics during training (Figs 2, 3, 9, 10), one panel per configuration,
//! drawn from `stats/layer<k>/<q>/{mean,std,p02,p98}` of every seed: the look of the mean over
//! seeds, and each seed's main line (the mean, or the std) thin and faint beside it, so that a
//! claim judged over seeds is drawn over seeds.

use crate::canvas::{DrawResult, Plot};
use crate::runs::Run;
use crate::style::{self, snap, TimeAxis};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use spec::run_h5::read::LayerStats;
use spec::Quantity;
use std::ops::Range;

/// How a panel draws each layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// A line through the means and vertical bars of +-1 std (Figs 2, 9).
    MeanWithStdBars,
    /// A line for the std, triangles for the 98th and circles for the 2nd percentile (Figs 3,
    /// 10): tanh saturates at +1 and -1 alike.
    StdWithPercentileMarkers,
}

pub struct Panel {
    pub title: String,
    /// Per layer, the mean over seeds of each statistic at each probe.
    pub layers: Vec<LayerStats>,
    /// Per seed, per layer: that seed's statistics (drawn thin when there are several).
    pub seeds: Vec<Vec<LayerStats>>,
}

/// The mean over `seeds` of each statistic, probe by probe (the seeds of one configuration
/// share their probe steps).
fn mean_over_seeds(seeds: &[LayerStats]) -> LayerStats {
    let n = seeds.len() as f64;
    let field = |f: fn(&LayerStats) -> &Vec<f64>| -> Vec<f64> {
        let len = seeds.iter().map(|s| f(s).len()).min().unwrap_or(0);
        (0..len)
            .map(|i| seeds.iter().map(|s| f(s)[i]).sum::<f64>() / n)
            .collect()
    };
    LayerStats {
        step: field(|s| &s.step),
        mean: field(|s| &s.mean),
        std: field(|s| &s.std),
        p02: field(|s| &s.p02),
        p98: field(|s| &s.p98),
    }
}

pub struct LayerStatsFigure {
    pub panels: Vec<Panel>,
    pub look: Look,
    pub axis: TimeAxis,
    pub last_step: f64,
    /// The y range of each panel.
    pub y: Vec<Range<f64>>,
    pub y_desc: String,
    pub caption: String,
}

impl LayerStatsFigure {
    /// Reads `quantity` for every hidden layer of every seed: one panel per configuration
    /// (`seeds`, each not empty, titled by `titles`).
    pub fn read(
        seeds: &[&[Run]],
        titles: &[String],
        quantity: Quantity,
        look: Look,
        y_desc: &str,
        caption: String,
    ) -> Result<LayerStatsFigure> {
        let mut panels = Vec::new();
        for (runs, title) in seeds.iter().zip(titles) {
            let per_seed = runs
                .iter()
                .map(|run| {
                    let recording = run.open()?;
                    (1..=run.hidden_layers())
                        .map(|k| recording.layer_stats(k, quantity))
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?;
            let layers = (0..per_seed[0].len())
                .map(|k| {
                    mean_over_seeds(&per_seed.iter().map(|s| s[k].clone()).collect::<Vec<_>>())
                })
                .collect();
            panels.push(Panel {
                title: title.clone(),
                layers,
                seeds: per_seed,
            });
        }
        let all = || panels.iter().flat_map(|p| &p.layers);
        let last_step = style::bounds(all().flat_map(|l| l.step.iter().copied())).1;
        let y = match look {
            // Gradients of the two inits differ by orders of magnitude: each panel gets its
            // own scale, so the spread across layers (the claim) shows in both.
            Look::MeanWithStdBars => panels
                .iter()
                .map(|p| {
                    let (lo, hi) = style::bounds(p.layers.iter().flat_map(|l| {
                        let (m, s) = (&l.mean, &l.std);
                        (0..m.len()).flat_map(move |i| [m[i] - s[i], m[i] + s[i]])
                    }));
                    style::padded(lo, hi)
                })
                .collect(),
            // Activations share one scale, with 0 in view: saturation reads against it.
            Look::StdWithPercentileMarkers => {
                let (lo, hi) = style::bounds(
                    all().flat_map(|l| l.std.iter().chain(&l.p98).chain(&l.p02).copied()),
                );
                vec![style::padded(lo.min(0.0), hi); panels.len()]
            }
        };
        Ok(LayerStatsFigure {
            axis: TimeAxis::new(last_step, seeds[0][0].config.updates_per_epoch),
            panels,
            look,
            last_step,
            y,
            y_desc: y_desc.to_string(),
            caption,
        })
    }
}

impl Plot for LayerStatsFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let px = style::text_px(root);
        let areas = style::layer_panels(
            root,
            &self.caption,
            self.panels.iter().map(|p| p.layers.len()),
        )?;
        let x = self.axis.range(self.last_step);
        for ((area, panel), y) in areas.iter().zip(&self.panels).zip(&self.y) {
            let mut chart = style::chart(
                area,
                px,
                &panel.title,
                style::padded(x.start, x.end),
                y.clone(),
                (&self.axis.label(), &self.y_desc),
            )?;
            // Bars of different layers at one probe are set slightly apart to stay readable.
            let dodge = (x.end - x.start) * 0.006;
            let middle = (panel.layers.len() as f64 + 1.0) / 2.0;
            for (index, stats) in panel.layers.iter().enumerate() {
                let shift = match self.look {
                    Look::MeanWithStdBars => (index as f64 + 1.0 - middle) * dodge,
                    Look::StdWithPercentileMarkers => 0.0,
                };
                if panel.seeds.len() > 1 {
                    for seed in &panel.seeds {
                        self.draw_seed(&mut chart, (index + 1, shift), &seed[index])?;
                    }
                }
                self.draw_layer(&mut chart, index + 1, stats, shift)?;
            }
        }
        Ok(())
    }
}

impl LayerStatsFigure {
    /// One seed's main line of one layer, thin and faint: the mean (Figs 2, 9) or the std
    /// (Figs 3, 10).
    fn draw_seed<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut style::Chart<'a, DB>,
        (layer, shift): (usize, f64),
        stats: &LayerStats,
    ) -> DrawResult<DB> {
        let values = match self.look {
            Look::MeanWithStdBars => &stats.mean,
            Look::StdWithPercentileMarkers => &stats.std,
        };
        let points: Vec<(f64, f64)> = stats
            .step
            .iter()
            .zip(values)
            .map(|(&s, &v)| (snap(self.axis.at(s) + shift), snap(v)))
            .collect();
        let faint = style::layer_color(layer).mix(0.35).stroke_width(1);
        chart.draw_series(std::iter::once(PathElement::new(points, faint)))?;
        Ok(())
    }

    fn draw_layer<'a, DB: DrawingBackend + 'a>(
        &self,
        chart: &mut style::Chart<'a, DB>,
        layer: usize,
        stats: &LayerStats,
        shift: f64,
    ) -> DrawResult<DB> {
        let color = style::layer_color(layer);
        let x: Vec<f64> = stats
            .step
            .iter()
            .map(|&s| self.axis.at(s) + shift)
            .collect();
        match self.look {
            Look::MeanWithStdBars => {
                let means = x.iter().copied().zip(stats.mean.iter().copied());
                style::draw_line(chart, means.collect(), color, false, None)?;
                chart.draw_series((0..x.len()).map(|i| {
                    let (m, s) = (stats.mean[i], stats.std[i]);
                    let (x, lo, mid, hi) = (snap(x[i]), snap(m - s), snap(m), snap(m + s));
                    ErrorBar::new_vertical(x, lo, mid, hi, color.stroke_width(2), 8)
                }))?;
            }
            Look::StdWithPercentileMarkers => {
                let stds = x.iter().copied().zip(stats.std.iter().copied());
                style::draw_line(chart, stds.collect(), color, false, None)?;
                chart.draw_series(
                    x.iter()
                        .zip(&stats.p98)
                        .map(|(&x, &p)| TriangleMarker::new((snap(x), snap(p)), 6, color.filled())),
                )?;
                chart.draw_series(
                    x.iter()
                        .zip(&stats.p02)
                        .map(|(&x, &p)| Circle::new((snap(x), snap(p)), 4, color.stroke_width(2))),
                )?;
            }
        }
        Ok(())
    }
}
