//! Fig 5: the cross-entropy and the quadratic cost over two weights, drawn as heat maps with
//! a colour bar each (the paper draws 3-D surfaces; a heat map shows the plateaus without
//! hiding part of the surface behind the rest).

use crate::canvas::{DrawResult, Plot};
use crate::style;
use crate::surface::{plateau_fraction, CostSurface};
use plotters::coord::Shift;
use plotters::prelude::*;

pub struct CostSurfaceFigure {
    pub surface: CostSurface,
    pub caption: String,
}

/// Viridis sampled at five points, interpolated linearly: dark = low cost, yellow = high.
const RAMP: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

fn ramp(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64;
    let i = (t.floor() as usize).min(RAMP.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Plot for CostSurfaceFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let px = style::text_px(root);
        let body = style::with_caption(root, &self.caption)?;
        let panels = body.split_evenly((1, 2));
        let s = &self.surface;
        let named = [
            ("cross-entropy  -log P(y|x)", &s.cross_entropy),
            ("quadratic  ||softmax - onehot||^2", &s.quadratic),
        ];
        for (area, (name, cost)) in panels.iter().zip(named) {
            let title = format!("{name}: {:.0}% plateau", 100.0 * plateau_fraction(cost));
            self.heat_map(area, px, &title, cost)?;
        }
        Ok(())
    }
}

impl CostSurfaceFigure {
    fn heat_map<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        px: f64,
        title: &str,
        cost: &[Vec<f64>],
    ) -> DrawResult<DB> {
        let (w, _) = area.dim_in_pixel();
        let (map_area, bar_area) = area.split_horizontally(w as i32 * 82 / 100);
        let s = &self.surface;
        let step = s.w1[1] - s.w1[0];
        let half = step / 2.0;
        let x = s.w1[0] - half..s.w1[s.w1.len() - 1] + half;
        let y = s.w2[0] - half..s.w2[s.w2.len() - 1] + half;
        let (lo, hi) = style::bounds(cost.iter().flatten().copied());
        let mut chart = style::chart(
            &map_area,
            px,
            title,
            x,
            y,
            (
                "W1[0][0] (first layer weight)",
                "W2[0][1] (output layer weight)",
            ),
        )?;
        chart.draw_series(s.w2.iter().enumerate().flat_map(|(r, &w2)| {
            s.w1.iter().enumerate().map(move |(c, &w1)| {
                let color = ramp((cost[r][c] - lo) / (hi - lo).max(1e-12));
                let (x0, y0) = (style::snap(w1 - half), style::snap(w2 - half));
                let (x1, y1) = (style::snap(w1 + half), style::snap(w2 + half));
                Rectangle::new([(x0, y0), (x1, y1)], color.filled())
            })
        }))?;
        colour_bar(&bar_area, px, lo, hi)
    }
}

/// The cost scale of one panel beside its map, ticks and name on its right so that no label
/// runs into the map or past the canvas edge.
fn colour_bar<DB: DrawingBackend>(
    bar_area: &DrawingArea<DB, Shift>,
    px: f64,
    lo: f64,
    hi: f64,
) -> DrawResult<DB> {
    let (lo, hi) = (style::snap(lo), style::snap(hi.max(lo + 1e-12)));
    let mut bar = ChartBuilder::on(bar_area)
        .margin_top((px * 2.5) as i32)
        .margin_bottom((px * 4.0) as i32)
        .margin_left((px * 0.5) as i32)
        .margin_right((px * 0.3) as i32)
        .right_y_label_area_size((px * 4.5) as i32)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    bar.configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .disable_y_mesh()
        .y_desc("cost")
        .y_labels(6)
        .y_label_formatter(&|v| style::tick(*v, hi - lo))
        .label_style(style::font(px * 0.85))
        .axis_desc_style(style::font(px * 0.85))
        .draw()?;
    let levels = 100;
    bar.draw_series((0..levels).map(|i| {
        let (a, b) = (i as f64 / levels as f64, (i + 1) as f64 / levels as f64);
        let (c0, c1) = (
            style::snap(lo + a * (hi - lo)),
            style::snap(lo + b * (hi - lo)),
        );
        Rectangle::new([(0.0, c0), (1.0, c1)], ramp(a).filled())
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_runs_from_dark_purple_to_yellow() {
        assert_eq!(ramp(0.0), RGBColor(68, 1, 84));
        assert_eq!(ramp(1.0), RGBColor(253, 231, 37));
        assert_eq!(ramp(0.5), RGBColor(33, 145, 140));
        assert_eq!(ramp(-3.0), ramp(0.0));
    }
}
