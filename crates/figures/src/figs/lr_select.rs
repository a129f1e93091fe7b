//! The learning-rate selection: each configuration's trials (short runs over a grid of
//! rates, the same seeds) and the rate chosen on validation error, by `spec::selection`'s
//! one rule. It states no claim of the paper: it is the evidence for the protocol's rates,
//! listed in REPORT.md beside the verdicts, not among them; Table 1 and REPORT.md take every
//! configuration's rate and how it was set from [`Rate`].

use super::error_curves::series_name;
use super::Figure;
use crate::canvas::{self, DrawResult, Plot};
use crate::runs::{Catalog, Missing};
use crate::style::{self, snap};
use crate::verdict::{Assessment, Finding, Verdict};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use spec::selection::{choose, Selection, Trial, RULE};
use spec::{Dataset, FigureId, Selector};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub struct LrSelect;

/// What `selector`'s trials choose, by `spec::selection::choose`; None without trials.
pub fn selection(catalog: &Catalog, selector: &Selector) -> Result<Option<Selection>> {
    let runs = catalog.trials(selector);
    let Some(first) = runs.first() else {
        return Ok(None);
    };
    let trials = runs
        .iter()
        .map(|run| run.open()?.trial())
        .collect::<Result<Vec<Trial>>>()?;
    Ok(Some(choose(*selector, first.params().updates, trials)?))
}

/// Every selection of the catalog, in selector order.
pub fn selections(catalog: &Catalog) -> Result<Vec<Selection>> {
    let mut all = Vec::new();
    for selector in catalog.trial_selectors() {
        all.extend(selection(catalog, selector)?);
    }
    Ok(all)
}

/// A configuration's learning rate: the final runs' rate and how it was set.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub lr: f64,
    /// The trials' choice; None when the profile fixed the rate.
    pub selection: Option<Selection>,
}

/// What the marks of [`Rate::text`] mean.
pub const RATE_LEGEND: &str = "*lr a of {…}*: the final runs' rate a was selected on \
    validation error among the rates listed (learning-rate trials of the same configuration, \
    see lr-select); *lr a (fixed)*: the profile set a, no trials; *lr a (trials chose b of \
    {…})*: the final runs' rate is not the trials' choice";

impl Rate {
    /// The rate of `selector`'s final runs; None when it has none.
    pub fn of(catalog: &Catalog, selector: &Selector) -> Result<Option<Rate>> {
        let Some(run) = catalog.seeds(selector).first() else {
            return Ok(None);
        };
        Ok(Some(Rate {
            lr: run.params().lr,
            selection: selection(catalog, selector)?,
        }))
    }

    /// "0.03 of {0.1, 0.03, 0.01}", "0.01 (fixed)" or "0.1 (trials chose 0.03 of {...})".
    pub fn text(&self) -> String {
        match &self.selection {
            None => format!("{} (fixed)", self.lr),
            Some(s) if s.chosen_lr == self.lr => format!("{} of {{{}}}", self.lr, grid(s)),
            Some(s) => format!(
                "{} (trials chose {} of {{{}}})",
                self.lr,
                s.chosen_lr,
                grid(s)
            ),
        }
    }

    /// "selected on validation", "fixed by the profile" or "not the selected rate".
    pub fn how(&self) -> &'static str {
        match &self.selection {
            None => "fixed by the profile",
            Some(s) if s.chosen_lr == self.lr => "selected on validation",
            Some(_) => "not the selected rate",
        }
    }
}

/// The rates tried, highest first: "0.1, 0.03, 0.01".
pub fn grid(selection: &Selection) -> String {
    let words: Vec<String> = rates(selection).iter().map(f64::to_string).collect();
    words.join(", ")
}

/// The rates tried, highest first.
fn rates(selection: &Selection) -> Vec<f64> {
    let mut rates: Vec<f64> = selection.scores.iter().map(|s| s.lr).collect();
    rates.sort_by(|a, b| b.total_cmp(a));
    rates
}

/// "trial seeds: 0, 1; updates per trial: 1000" over `selections` (every value that occurs).
fn budget(selections: &[Selection]) -> String {
    let seeds: BTreeSet<u64> = selections
        .iter()
        .flat_map(|s| s.trials.iter().map(|t| t.seed))
        .collect();
    let updates: BTreeSet<u64> = selections.iter().map(|s| s.updates).collect();
    let list = |v: Vec<String>| v.join(", ");
    format!(
        "trial seeds: {}; updates per trial: {}",
        list(seeds.iter().map(u64::to_string).collect()),
        list(updates.iter().map(u64::to_string).collect())
    )
}

impl Figure for LrSelect {
    fn id(&self) -> FigureId {
        FigureId::LrSelect
    }

    fn claim(&self) -> &'static str {
        ""
    }

    fn rule(&self) -> String {
        RULE.into()
    }

    fn requirement(&self, catalog: &Catalog) -> Result<(), Missing> {
        if catalog.trial_selectors().next().is_none() {
            return Err(Missing(
                "learning-rate trials (the \"trials\" of a runs.json); these runs have none".into(),
            ));
        }
        Ok(())
    }

    /// The chosen rate of each configuration with trials: evidence, not a verdict.
    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let lines = selections(catalog)?
            .iter()
            .map(|s| format!("{}: {} of {{{}}}", s.selector, s.chosen_lr, grid(s)))
            .collect();
        Ok(Assessment::new(lines, Verdict::Illustration))
    }

    /// No claim, so no item among REPORT.md's verdicts: [`report_section`] lists it apart.
    fn findings(&self, _catalog: &Catalog) -> Result<Vec<Finding>> {
        Ok(Vec::new())
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        let figure = LrFigure::read(catalog)?;
        canvas::save(&figure, out, self.id().id(), size)
    }
}

/// REPORT.md's section on the learning rates: each configuration's rate, how it was set and,
/// when selected, every rate's mean validation error. Anchor `lr-select`.
pub fn report_section(catalog: &Catalog) -> Result<String> {
    let id = FigureId::LrSelect;
    let mut md = format!("\n<a id=\"{id}\"></a>\n## {id} (protocol: no claim, no verdict)\n\n");
    if LrSelect.requirement(catalog).is_ok() {
        let _ = writeln!(md, "![{id}]({id}.png)\n");
    }
    let chosen = selections(catalog)?;
    if chosen.is_empty() {
        md.push_str("No learning-rate trials: the profile fixed every rate.\n\n");
    } else {
        let _ = writeln!(md, "**Rule:** {RULE} ({}).\n", budget(&chosen));
    }
    md.push_str("| run | lr | set | mean validation error (%) per rate |\n|---|---:|---|---|\n");
    for selector in catalog.selectors() {
        let rate = Rate::of(catalog, selector)?.expect("a catalog selector has runs");
        let scores = rate.selection.as_ref().map_or("–".into(), scores_text);
        let _ = writeln!(
            md,
            "| {selector} | {} | {} | {scores} |",
            rate.lr,
            rate.how()
        );
    }
    Ok(md)
}

/// "0.1: 45.00, **0.03: 30.10**, 0.01: 50.20": every rate's score, the chosen one in bold.
fn scores_text(selection: &Selection) -> String {
    let mut scores = selection.scores.clone();
    scores.sort_by(|a, b| b.lr.total_cmp(&a.lr));
    let words: Vec<String> = scores
        .iter()
        .map(|s| {
            let word = format!("{}: {:.2}", s.lr, 100.0 * s.mean_valid_error);
            if s.lr == selection.chosen_lr {
                format!("**{word}**")
            } else {
                word
            }
        })
        .collect();
    words.join(", ")
}

/// One panel per dataset with trials; one line per configuration.
pub struct LrFigure {
    pub panels: Vec<LrPanel>,
    pub caption: String,
}

pub struct LrPanel {
    pub dataset: Dataset,
    pub selections: Vec<Selection>,
}

impl LrFigure {
    pub fn read(catalog: &Catalog) -> Result<LrFigure> {
        let all = selections(catalog)?;
        let panels = Dataset::ALL
            .into_iter()
            .map(|dataset| LrPanel {
                dataset,
                selections: all
                    .iter()
                    .filter(|s| s.selector.dataset == dataset)
                    .cloned()
                    .collect(),
            })
            .filter(|p| !p.selections.is_empty())
            .collect();
        let caption = [
            FigureId::LrSelect.title(),
            "mean over the trial seeds of the validation error at the last probe (whole validation set)",
            &format!("{}; a diverged trial counts as 100%", budget(&all)),
            "ring: the rate chosen (lowest mean, ties to the smaller rate), which the final runs \
             train with; dashed: standard init",
        ]
        .join("\n");
        Ok(LrFigure { panels, caption })
    }
}

impl Plot for LrFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = style::with_caption(root, &self.caption)?;
        let px = style::text_px(root);
        let areas = body.split_evenly((1, self.panels.len().max(1)));
        for (area, panel) in areas.iter().zip(&self.panels) {
            panel.draw(area, px)?;
        }
        Ok(())
    }
}

impl LrPanel {
    /// Every rate tried in the panel, lowest first: the x axis, one position per rate.
    fn axis(&self) -> Vec<f64> {
        let mut all: Vec<f64> = self.selections.iter().flat_map(rates).collect();
        all.sort_by(f64::total_cmp);
        all.dedup();
        all
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, px: f64) -> DrawResult<DB> {
        let axis = self.axis();
        let top = style::bounds(
            self.selections
                .iter()
                .flat_map(|s| points(s, &axis))
                .map(|p| p.1),
        )
        .1;
        let mut chart = style::rate_chart(
            area,
            px,
            self.dataset.title(),
            &axis,
            0.0..self.y_top(area, px, top),
            (
                "learning rate (the grid, evenly spaced)",
                "validation error (%)",
            ),
        )?;
        for s in &self.selections {
            draw_selection(&mut chart, s, &axis, px)?;
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperRight, px)
    }

    /// The y axis's end: room above the highest point `top` for the legend, whose box then
    /// covers no point.
    fn y_top<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, px: f64, top: f64) -> f64 {
        let legend_px = (self.selections.len() as f64 + 1.0) * px * 1.1;
        let plot_px = (f64::from(area.dim_in_pixel().1) - px * 6.0).max(1.0);
        let legend_share = (legend_px / plot_px).clamp(0.0, 0.6);
        (top * 1.05).clamp(1.0, 105.0) / (1.0 - legend_share)
    }
}

/// A rate's position on the panel's `axis` (see [`LrPanel::axis`]).
fn position(axis: &[f64], lr: f64) -> f64 {
    axis.iter().position(|&r| r == lr).unwrap_or(0) as f64
}

/// (axis position, mean validation error %) of each rate tried, lowest rate first.
fn points(selection: &Selection, axis: &[f64]) -> Vec<(f64, f64)> {
    let mut scores = selection.scores.clone();
    scores.sort_by(|a, b| a.lr.total_cmp(&b.lr));
    scores
        .iter()
        .map(|r| (position(axis, r.lr), 100.0 * r.mean_valid_error))
        .collect()
}

/// One configuration: its line, a dot per rate, a ring around the chosen one.
fn draw_selection<'a, DB: DrawingBackend + 'a>(
    chart: &mut style::Chart<'a, DB>,
    selection: &Selection,
    axis: &[f64],
    px: f64,
) -> DrawResult<DB> {
    let color = style::series_color(&selection.selector);
    let line = points(selection, axis);
    let label = format!(
        "{}: chose {}",
        series_name(&selection.selector),
        selection.chosen_lr
    );
    let dashed = style::is_dashed(selection.selector.init);
    style::draw_line(chart, line.clone(), color, dashed, Some(&label))?;
    let dot =
        |(x, y): (f64, f64)| Circle::new((snap(x), snap(y)), (px * 0.25) as i32, color.filled());
    chart.draw_series(line.into_iter().map(dot))?;
    let at = (
        snap(position(axis, selection.chosen_lr)),
        snap(100.0 * chosen_score(selection)),
    );
    let ring = Circle::new(at, (px * 0.7) as i32, color.stroke_width(2));
    chart.draw_series(std::iter::once(ring))?;
    Ok(())
}

/// The chosen rate's mean validation error.
fn chosen_score(selection: &Selection) -> f64 {
    selection
        .scores
        .iter()
        .find(|s| s.lr == selection.chosen_lr)
        .map_or(f64::NAN, |s| s.mean_valid_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::{Activation, Init};

    fn selected(lr: f64) -> Rate {
        let selector = Selector::new(Dataset::Shapeset, Activation::Tanh, Init::Standard, 5);
        let trial = |lr, valid_error| Trial {
            lr,
            seed: 0,
            valid_error: Some(valid_error),
        };
        let trials = vec![trial(0.01, 0.5), trial(0.1, 0.4), trial(0.03, 0.3)];
        Rate {
            lr,
            selection: Some(choose(selector, 100, trials).unwrap()),
        }
    }

    #[test]
    fn a_rate_says_how_it_was_set() {
        assert_eq!(selected(0.03).text(), "0.03 of {0.1, 0.03, 0.01}");
        assert_eq!(selected(0.03).how(), "selected on validation");
        assert_eq!(
            selected(0.1).text(),
            "0.1 (trials chose 0.03 of {0.1, 0.03, 0.01})"
        );
        assert_eq!(selected(0.1).how(), "not the selected rate");
        let fixed = Rate {
            lr: 0.01,
            selection: None,
        };
        assert_eq!(
            (fixed.text().as_str(), fixed.how()),
            ("0.01 (fixed)", "fixed by the profile")
        );
        let s = selected(0.03).selection.unwrap();
        assert_eq!(scores_text(&s), "0.1: 40.00, **0.03: 30.00**, 0.01: 50.00");
        assert_eq!(budget(&[s]), "trial seeds: 0; updates per trial: 100");
    }
}
