//! One look for every figure: the embedded font, the layer and configuration colours, caption
//! lines, chart frames, the training-time axis, and [`snap`], which keeps last-bit float noise
//! from moving a pixel between machines.

use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use spec::{Activation, Init, Selector, PAPER_DEPTH};
use std::ops::Range;
use std::sync::Once;

pub type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
pub type DrawError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;

/// Text is drawn with DejaVu Sans compiled into the binary: no system font is ever looked up,
/// so figures look the same on every machine.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font is valid"));
    });
}

/// Okabe-Ito colours (distinguishable with colour-blindness), layer 1 first; the same layer has
/// the same colour in every figure.
const LAYER_COLORS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
];

/// `layer` counts from 1, like the recordings.
pub fn layer_color(layer: usize) -> RGBColor {
    LAYER_COLORS[(layer - 1) % LAYER_COLORS.len()]
}

pub fn activation_color(activation: Activation) -> RGBColor {
    match activation {
        Activation::Sigmoid => RGBColor(0, 0, 0),
        Activation::Tanh => RGBColor(0, 114, 178),
        Activation::Softsign => RGBColor(0, 158, 115),
        Activation::Relu => RGBColor(213, 94, 0),
    }
}

/// A configuration's curve colour: its activation's, in grey for a sigmoid net of another
/// depth than the paper's (Fig 11 draws the 4-layer sigmoid beside the 5-layer one).
pub fn series_color(selector: &Selector) -> RGBColor {
    if selector.hidden_layers != PAPER_DEPTH && selector.activation == Activation::Sigmoid {
        return RGBColor(150, 150, 150);
    }
    activation_color(selector.activation)
}

/// Standard init is drawn dashed, normalized and He init solid (see [`draw_line`]).
pub fn is_dashed(init: Init) -> bool {
    init == Init::Standard
}

/// Significant digits kept by [`snap`].
const SNAP_DIGITS: i32 = 9;

/// `v` rounded to 9 significant digits. Every coordinate a figure draws goes through this
/// (data points in [`draw_line`], ranges in [`chart`], bars, markers and polygons at their
/// call sites): two machines whose sums differ in the last bit then draw the same pixels,
/// unless a value straddles a 9th-digit rounding boundary (about 1 in 10^7). Fig 8 once
/// differed by one polyline coordinate between two machines.
pub fn snap(v: f64) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    let exponent = v.abs().log10().floor() as i32;
    let scale = 10f64.powi(SNAP_DIGITS - 1 - exponent);
    if !scale.is_finite() || scale == 0.0 {
        return v;
    }
    (v * scale).round() / scale
}

/// A range with both ends snapped.
pub fn snap_range(r: Range<f64>) -> Range<f64> {
    snap(r.start)..snap(r.end)
}

/// Base text size in pixels, scaled to the canvas so labels stay readable at any size.
pub fn text_px<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> f64 {
    let (w, h) = area.dim_in_pixel();
    (f64::from(w.min(h)) / 48.0).clamp(11.0, 26.0)
}

pub fn font(px: f64) -> TextStyle<'static> {
    ("sans-serif", px).into_font().color(&BLACK)
}

/// Draws `caption` (one or more lines) along the bottom of `root` and returns the area above.
pub fn with_caption<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    caption: &str,
) -> Result<DrawingArea<DB, Shift>, DrawError<DB>> {
    let px = text_px(root);
    let lines: Vec<&str> = caption.lines().collect();
    let line_height = (px * 1.35) as i32;
    let (w, h) = root.dim_in_pixel();
    let caption_height = line_height * lines.len() as i32 + line_height / 2;
    let (body, foot) = root.split_vertically(h as i32 - caption_height);
    let style = font(px).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Center,
        plotters::style::text_anchor::VPos::Top,
    ));
    for (i, line) in lines.iter().enumerate() {
        foot.draw_text(
            line,
            &style,
            (w as i32 / 2, line_height / 4 + i as i32 * line_height),
        )?;
    }
    Ok(body)
}

/// A band along the top of `area` naming each layer's colour, shared by all panels so no
/// legend box covers data; returns the area below it.
fn with_layer_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    px: f64,
    layers: usize,
) -> Result<DrawingArea<DB, Shift>, DrawError<DB>> {
    let (w, _) = area.dim_in_pixel();
    let band = (px * 2.0) as i32;
    let (top, body) = area.split_vertically(band);
    let style = font(px * 0.9).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Left,
        plotters::style::text_anchor::VPos::Center,
    ));
    let (line, gap) = ((px * 1.8) as i32, (px * 0.4) as i32);
    let labels: Vec<String> = (1..=layers).map(|k| format!("layer {k}")).collect();
    let widths: Vec<i32> = labels
        .iter()
        .map(|l| {
            top.estimate_text_size(l, &style)
                .map_or(px as i32 * 4, |(w, _)| w as i32)
        })
        .collect();
    let spacing = (px * 1.5) as i32;
    let total: i32 =
        widths.iter().map(|w| line + gap + w).sum::<i32>() + spacing * (layers as i32 - 1);
    let (mut x, y) = ((w as i32 - total) / 2, band / 2);
    for (k, (label, width)) in labels.iter().zip(widths).enumerate() {
        let color = layer_color(k + 1);
        top.draw(&PathElement::new(
            vec![(x, y), (x + line, y)],
            color.stroke_width(3),
        ))?;
        top.draw_text(label, &style, (x + line + gap, y))?;
        x += line + gap + width + spacing;
    }
    Ok(body)
}

/// The layout of the per-layer figures: the caption at the bottom, the layer legend on top and
/// one panel a row between them. `layers_per_panel` holds each panel's layer count (the legend
/// names the deepest); returns the panel areas, top first.
pub fn layer_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    caption: &str,
    layers_per_panel: impl IntoIterator<Item = usize>,
) -> Result<Vec<DrawingArea<DB, Shift>>, DrawError<DB>> {
    let layers_per_panel: Vec<usize> = layers_per_panel.into_iter().collect();
    let px = text_px(root);
    let body = with_caption(root, caption)?;
    let depth = layers_per_panel.iter().copied().max().unwrap_or(0);
    let body = with_layer_legend(&body, px, depth)?;
    Ok(body.split_evenly((layers_per_panel.len(), 1)))
}

/// A framed x/y chart with a panel title, axis descriptions and formatted tick labels;
/// `px` is the figure's text size (from the whole canvas, so every panel reads the same).
pub fn chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    px: f64,
    title: &str,
    x: Range<f64>,
    y: Range<f64>,
    axes: (&str, &str),
) -> Result<Chart<'a, DB>, DrawError<DB>> {
    let x_span = x.end - x.start;
    let x_tick = |v: &f64| tick(*v, x_span);
    chart_ticked(area, px, title, (x, y), axes, (usize::MAX, &x_tick))
}

/// [`chart`] with at most `max_ticks` x ticks (fewer in a narrow panel), labelled by
/// `x_tick`.
fn chart_ticked<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    px: f64,
    title: &str,
    (x, y): (Range<f64>, Range<f64>),
    axes: (&str, &str),
    (max_ticks, x_tick): (usize, &dyn Fn(&f64) -> String),
) -> Result<Chart<'a, DB>, DrawError<DB>> {
    let (x, y) = (snap_range(x), snap_range(y));
    let mut chart = titled(area, px, title).build_cartesian_2d(x.clone(), y.clone())?;
    let y_span = y.end - y.start;
    let y_tick = |v: &f64| tick(*v, y_span);
    // Room for a label of ~6 characters each: a narrow panel gets fewer, so none overlap.
    let room = (f64::from(area.dim_in_pixel().0) / (px * 7.0)).clamp(2.0, 10.0) as usize;
    let x_labels = room.min(max_ticks);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(axes.0)
        .y_desc(axes.1)
        .x_labels(x_labels)
        .x_label_formatter(x_tick)
        .y_label_formatter(&y_tick);
    draw_mesh(mesh, px)?;
    Ok(chart)
}

/// A chart whose x axis holds `rates` (ascending) at positions 0, 1, ..., each ticked with
/// its value: a grid of learning rates, spaced evenly as a log axis would space a geometric
/// grid, and labelled with the rates actually tried.
pub fn rate_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    px: f64,
    title: &str,
    rates: &[f64],
    y: Range<f64>,
    axes: (&str, &str),
) -> Result<Chart<'a, DB>, DrawError<DB>> {
    let labels: Vec<String> = rates.iter().map(f64::to_string).collect();
    indexed_chart(area, px, title, (&labels, 0.0), y, axes)
}

/// A chart whose x axis is the hidden layer, 1..=depth, ticked at whole layers.
pub fn layer_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    px: f64,
    title: &str,
    depth: usize,
    y: Range<f64>,
    y_desc: &str,
) -> Result<Chart<'a, DB>, DrawError<DB>> {
    let labels: Vec<String> = (1..=depth).map(|k| k.to_string()).collect();
    indexed_chart(area, px, title, (&labels, 1.0), y, ("hidden layer", y_desc))
}

/// A chart whose x axis holds `labels` at the whole positions first, first + 1, ...
fn indexed_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    px: f64,
    title: &str,
    (labels, first): (&[String], f64),
    y: Range<f64>,
    axes: (&str, &str),
) -> Result<Chart<'a, DB>, DrawError<DB>> {
    let y = snap_range(y);
    let n = labels.len().max(1);
    let x = first - 0.5..first + n as f64 - 0.5;
    let mut chart = titled(area, px, title).build_cartesian_2d(x, y.clone())?;
    let y_span = y.end - y.start;
    let x_tick = |v: &f64| {
        let i = v.round();
        let label = ((v - i).abs() < 1e-6 && i >= first).then(|| labels.get((i - first) as usize));
        label.flatten().cloned().unwrap_or_default()
    };
    let y_tick = |v: &f64| tick(*v, y_span);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(axes.0)
        .y_desc(axes.1)
        .x_labels(n)
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick);
    draw_mesh(mesh, px)?;
    Ok(chart)
}

/// A chart builder on `area` with the panel title, margin and tick-label room every chart has.
fn titled<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    px: f64,
    title: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, font(px * 1.1))
        .margin(px as i32)
        .x_label_area_size((px * 3.0) as i32)
        .y_label_area_size((px * 5.0) as i32);
    builder
}

/// Draws `mesh` with the label fonts and grid colours every chart shares.
fn draw_mesh<DB: DrawingBackend>(
    mut mesh: MeshStyle<'_, '_, RangedCoordf64, RangedCoordf64, DB>,
    px: f64,
) -> Result<(), DrawError<DB>> {
    mesh.label_style(font(px * 0.85))
        .axis_desc_style(font(px))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
}

/// The legend box, in the corner the figure chooses.
pub fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    corner: SeriesLabelPosition,
    px: f64,
) -> Result<(), DrawError<DB>> {
    chart
        .configure_series_labels()
        .position(corner)
        .label_font(font(px * 0.85))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .draw()
}

/// Tick labels: scientific notation for tiny or huge values (gradients), else short
/// decimals. `span` is the axis length: values within 1e-9 of it from 0 are rounding noise.
pub fn tick(v: f64, span: f64) -> String {
    let a = v.abs();
    if a <= span.abs() * 1e-9 {
        "0".to_string()
    } else if !(1e-2..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let text = format!("{v:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A line, solid or dashed, with a legend entry when `label` is given.
pub fn draw_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
    label: Option<&str>,
) -> Result<(), DrawError<DB>> {
    let style = color.stroke_width(2);
    let points: Vec<(f64, f64)> = points
        .into_iter()
        .map(|(x, y)| (snap(x), snap(y)))
        .collect();
    let annotation = if dashed {
        chart.draw_series(DashedLineSeries::new(points, 8, 5, style))?
    } else {
        chart.draw_series(LineSeries::new(points, style))?
    };
    if let Some(label) = label {
        annotation.label(label).legend(move |(x, y)| {
            let ends = vec![(x, y), (x + 24, y)];
            if dashed {
                plotters::element::DashedPathElement::new(ends, 6, 4, color.stroke_width(2))
                    .into_dyn()
            } else {
                PathElement::new(ends, color.stroke_width(2)).into_dyn()
            }
        });
    }
    Ok(())
}

/// Training time on the x axis: epochs once a run spans two epochs or more, else updates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    per_unit: f64,
    epochs: bool,
}

impl TimeAxis {
    pub fn new(last_step: f64, updates_per_epoch: u64) -> TimeAxis {
        let per_epoch = updates_per_epoch.max(1) as f64;
        let epochs = last_step >= 2.0 * per_epoch;
        TimeAxis {
            per_unit: if epochs { per_epoch } else { 1.0 },
            epochs,
        }
    }

    pub fn at(&self, step: f64) -> f64 {
        step / self.per_unit
    }

    pub fn label(&self) -> String {
        if self.epochs {
            format!("epochs ({} updates each)", self.per_unit)
        } else {
            "updates (minibatches)".to_string()
        }
    }

    /// The axis range for steps up to `last_step`.
    pub fn range(&self, last_step: f64) -> Range<f64> {
        0.0..self.at(last_step).max(1e-9)
    }
}

/// `lo..hi` widened by 5% on each side (and made non-empty), so marks at the edges show.
pub fn padded(lo: f64, hi: f64) -> Range<f64> {
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    lo - 0.05 * span..hi + 0.05 * span
}

/// Finite min and max of values.
pub fn bounds(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_absorbs_last_bit_noise() {
        for v in [
            0.1f64 + 0.2,
            1.0 / 3.0,
            2.5e-5 / 7.0,
            -123_456.789_012_3,
            0.999_999_999_9,
        ] {
            let noisy = f64::from_bits(v.to_bits() + 1);
            assert_ne!(v, noisy);
            assert_eq!(snap(v), snap(noisy), "{v}");
            assert!((snap(v) - v).abs() <= v.abs() * 1e-8, "{v}");
        }
        assert_eq!(snap(0.0), 0.0);
        assert!(snap(f64::NAN).is_nan());
        assert_eq!(snap(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn ticks_are_short_and_hide_rounding_noise() {
        assert_eq!(tick(-2.2e-16, 2.0), "0");
        assert_eq!(tick(1.0, 2.0), "1");
        assert_eq!(tick(-0.999_999_999_9, 2.0), "-1");
        assert_eq!(tick(0.25, 2.0), "0.25");
        assert_eq!(tick(20000.0, 1e5), "20000");
        assert_eq!(tick(-5e-4, 1e-3), "-5.0e-4");
        assert_eq!(tick(3e-9, 1e-8), "3.0e-9");
    }
}
