//! The learning-rate selection: each configuration's trials (short runs over a grid of
//! rates, the same seeds) and the rate chosen on validation error by `spec::selection`'s one
//! rule, once per rate group (dataset, activation, depth), on the trials of every init of the
//! activation pooled, so that both inits train at one rate. It states no claim of the paper:
//! it is the evidence for the protocol's rates, listed in REPORT.md beside the verdicts, not
//! among them; Table 1 and REPORT.md take every configuration's rate and how it was set from
//! [`Rate`].

use super::error_curves::series_name;
use super::Figure;
use crate::canvas::{self, DrawResult, Plot};
use crate::runs::{Catalog, Missing};
use crate::style::{self, snap};
use crate::verdict::{Assessment, Finding, Verdict};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use spec::selection::{choose, RateGroup, RateScore, Selection, Trial, RULE};
use spec::{Dataset, FigureId, Selector};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub struct LrSelect;

/// The selection whose rate `selector` trains with: that of its rate group, over the trials
/// of every init of the group in the catalog; None without trials.
pub fn selection(catalog: &Catalog, selector: &Selector) -> Result<Option<Selection>> {
    if catalog.trials(selector).is_empty() {
        return Ok(None);
    }
    group_selection(catalog, RateGroup::of(selector)).map(Some)
}

/// What the trials of every init of `group` choose, by `spec::selection::choose`.
fn group_selection(catalog: &Catalog, group: RateGroup) -> Result<Selection> {
    let runs: Vec<_> = catalog
        .trial_selectors()
        .filter(|s| group.contains(s))
        .flat_map(|s| catalog.trials(s))
        .collect();
    let updates = runs.first().map_or(0, |run| run.params().updates);
    let trials = runs
        .iter()
        .map(|run| run.open()?.trial())
        .collect::<Result<Vec<Trial>>>()?;
    choose(group, updates, trials)
}

/// Every selection of the catalog, one per rate group, in group order.
pub fn selections(catalog: &Catalog) -> Result<Vec<Selection>> {
    let groups: BTreeSet<RateGroup> = catalog.trial_selectors().map(RateGroup::of).collect();
    groups
        .into_iter()
        .map(|group| group_selection(catalog, group))
        .collect()
}

/// A configuration's learning rate: the final runs' rate and how it was set.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub lr: f64,
    /// The choice of the trials of its rate group; None when the profile fixed the rate.
    pub selection: Option<Selection>,
}

/// What the marks of [`Rate::text`] mean.
pub const RATE_LEGEND: &str = "*lr a of {…}*: the final runs' rate a was selected on \
    validation error among the rates listed, one rate per activation (learning-rate trials \
    of every init of the activation pooled, see lr-select); *lr a (fixed)*: the profile set \
    a, no trials; *lr a (trials chose b of {…})*: the final runs' rate is not the trials' \
    choice";

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

    /// The chosen rate of each rate group with trials: evidence, not a verdict.
    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let lines = selections(catalog)?
            .iter()
            .map(|s| {
                let inits: Vec<&str> = s.inits.iter().map(|i| i.id()).collect();
                format!(
                    "{} ({}): {} of {{{}}}; {}",
                    s.group,
                    inits.join(", "),
                    s.chosen_lr,
                    grid(s),
                    choice_text(s)
                )
            })
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
/// when selected, every rate's mean validation error, its own and pooled over the inits that
/// share the rate, and whether noise left the choice to the rule. Anchor `lr-select`.
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
        md.push_str(SHARED);
    }
    md.push_str(
        "| run | lr | set | mean validation error (%) per rate: this init | \
         all inits of the activation (the choice) |\n|---|---:|---|---|---|\n",
    );
    for selector in catalog.selectors() {
        let rate = Rate::of(catalog, selector)?.expect("a catalog selector has runs");
        let (own, pooled) = rate.selection.as_ref().map_or_else(
            || ("–".to_string(), "–".to_string()),
            |s| {
                let own = scores_text(&s.init_scores(selector.init), s.chosen_lr);
                let pooled = format!(
                    "{}; {}",
                    scores_text(&s.scores, s.chosen_lr),
                    choice_text(s)
                );
                (own, pooled)
            },
        );
        let _ = writeln!(
            md,
            "| {selector} | {} | {} | {own} | {pooled} |",
            rate.lr,
            rate.how()
        );
    }
    Ok(md)
}

/// What REPORT.md says of the shared rate, before the table.
const SHARED: &str = "The rate is shared by the inits of an activation (per dataset and \
    depth): it is chosen on their trials pooled, and the final runs of every init train at \
    it, so that an init's advantage is not a learning rate's.\n\n";

/// How the rule decided: "0.03: lowest pooled error beyond the noise", "undecided among
/// {0.1, 0.03}: largest non-diverged rate" or "every rate diverged: lowest error".
pub fn choice_text(selection: &Selection) -> String {
    if selection.undecided {
        let tied: Vec<String> = selection.tied.iter().map(f64::to_string).collect();
        format!(
            "undecided among {{{}}}: largest non-diverged rate",
            tied.join(", ")
        )
    } else if selection.scores.iter().all(|s| s.diverged) {
        "every rate diverged: lowest error, ties to the smaller rate".into()
    } else {
        format!(
            "{}: lowest pooled error beyond the noise",
            selection.chosen_lr
        )
    }
}

/// "0.1: 45.00, **0.03: 30.10**, 0.01: 50.20": every rate's score, the `chosen` one in bold.
fn scores_text(scores: &[RateScore], chosen: f64) -> String {
    let mut scores = scores.to_vec();
    scores.sort_by(|a, b| b.lr.total_cmp(&a.lr));
    let words: Vec<String> = scores
        .iter()
        .map(|s| {
            let word = format!("{}: {:.2}", s.lr, 100.0 * s.mean_valid_error);
            if s.lr == chosen {
                format!("**{word}**")
            } else {
                word
            }
        })
        .collect();
    words.join(", ")
}

/// One panel per dataset with trials; one line per configuration, grouped by the selection
/// whose rate it shares.
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
                    .filter(|s| s.group.dataset == dataset)
                    .cloned()
                    .collect(),
            })
            .filter(|p| !p.selections.is_empty())
            .collect();
        let caption = [
            FigureId::LrSelect.title(),
            "mean over the trial seeds of the validation error at the last probe (whole validation set)",
            &format!("{}; a diverged trial counts as 100%", budget(&all)),
            "ring: the rate chosen for the activation on every init's trials pooled, at which both \
             inits' final runs train; dashed: standard init",
            "(the lowest mean; rates within 1.96 binomial standard errors of it are tied, and the \
             largest tied rate that did not diverge is taken)",
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
                .flat_map(|s| {
                    s.inits
                        .iter()
                        .flat_map(|&i| points(&s.init_scores(i), &axis))
                })
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
            for selector in s.selectors() {
                draw_configuration(&mut chart, s, selector, &axis, px)?;
            }
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperRight, px)
    }

    /// The y axis's end: room above the highest point `top` for the legend, whose box then
    /// covers no point.
    fn y_top<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, px: f64, top: f64) -> f64 {
        let lines: usize = self.selections.iter().map(|s| s.inits.len()).sum();
        let legend_px = (lines as f64 + 1.0) * px * 1.1;
        let plot_px = (f64::from(area.dim_in_pixel().1) - px * 6.0).max(1.0);
        let legend_share = (legend_px / plot_px).clamp(0.0, 0.6);
        (top * 1.05).clamp(1.0, 105.0) / (1.0 - legend_share)
    }
}

/// A rate's position on the panel's `axis` (see [`LrPanel::axis`]).
fn position(axis: &[f64], lr: f64) -> f64 {
    axis.iter().position(|&r| r == lr).unwrap_or(0) as f64
}

/// (axis position, mean validation error %) of each rate of `scores`, lowest rate first.
fn points(scores: &[RateScore], axis: &[f64]) -> Vec<(f64, f64)> {
    let mut scores = scores.to_vec();
    scores.sort_by(|a, b| a.lr.total_cmp(&b.lr));
    scores
        .iter()
        .map(|r| (position(axis, r.lr), 100.0 * r.mean_valid_error))
        .collect()
}

/// One configuration of `selection`'s group: its own trials' line, a dot per rate, a ring
/// around the group's chosen rate.
fn draw_configuration<'a, DB: DrawingBackend + 'a>(
    chart: &mut style::Chart<'a, DB>,
    selection: &Selection,
    selector: Selector,
    axis: &[f64],
    px: f64,
) -> DrawResult<DB> {
    let color = style::series_color(&selector);
    let scores = selection.init_scores(selector.init);
    let line = points(&scores, axis);
    let undecided = if selection.undecided {
        " (undecided)"
    } else {
        ""
    };
    let label = format!(
        "{}: chose {}{undecided}",
        series_name(&selector),
        selection.chosen_lr
    );
    let dashed = style::is_dashed(selector.init);
    style::draw_line(chart, line.clone(), color, dashed, Some(&label))?;
    let dot =
        |(x, y): (f64, f64)| Circle::new((snap(x), snap(y)), (px * 0.25) as i32, color.filled());
    chart.draw_series(line.into_iter().map(dot))?;
    let at = (
        snap(position(axis, selection.chosen_lr)),
        snap(100.0 * score_at(&scores, selection.chosen_lr)),
    );
    let ring = Circle::new(at, (px * 0.7) as i32, color.stroke_width(2));
    chart.draw_series(std::iter::once(ring))?;
    Ok(())
}

/// The mean validation error of `scores` at `lr` (NaN when not tried).
fn score_at(scores: &[RateScore], lr: f64) -> f64 {
    scores
        .iter()
        .find(|s| s.lr == lr)
        .map_or(f64::NAN, |s| s.mean_valid_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::{Activation, Init};

    fn trial(init: Init, lr: f64, valid_error: f64) -> Trial {
        Trial {
            init,
            lr,
            seed: 0,
            valid_error: Some(valid_error),
            valid_examples: Some(10_000),
        }
    }

    fn group() -> RateGroup {
        let tanh = Selector::new(Dataset::Shapeset, Activation::Tanh, Init::Standard, 5);
        RateGroup::of(&tanh)
    }

    fn selected(lr: f64) -> Rate {
        let s = |lr, e| trial(Init::Standard, lr, e);
        let trials = vec![s(0.01, 0.5), s(0.1, 0.4), s(0.03, 0.3)];
        Rate {
            lr,
            selection: Some(choose(group(), 100, trials).unwrap()),
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
        assert_eq!(
            scores_text(&s.scores, s.chosen_lr),
            "0.1: 40.00, **0.03: 30.00**, 0.01: 50.00"
        );
        assert_eq!(
            choice_text(&s),
            "0.03: lowest pooled error beyond the noise"
        );
        assert_eq!(budget(&[s]), "trial seeds: 0; updates per trial: 100");
    }

    #[test]
    fn an_undecided_choice_says_so_and_is_shared_by_both_inits() {
        // Pooled over both inits (10000 validation examples each): 0.03 scores 0.302, the
        // best; 0.1 0.305, within noise; 0.01 0.45.
        let trials = vec![
            trial(Init::Standard, 0.1, 0.35),
            trial(Init::Standard, 0.03, 0.304),
            trial(Init::Standard, 0.01, 0.5),
            trial(Init::Normalized, 0.1, 0.26),
            trial(Init::Normalized, 0.03, 0.3),
            trial(Init::Normalized, 0.01, 0.4),
        ];
        let s = choose(group(), 100, trials).unwrap();
        assert_eq!((s.best_lr, s.chosen_lr, s.undecided), (0.03, 0.1, true));
        assert_eq!(
            choice_text(&s),
            "undecided among {0.1, 0.03}: largest non-diverged rate"
        );
        let rate = Rate {
            lr: 0.1,
            selection: Some(s.clone()),
        };
        assert_eq!(rate.text(), "0.1 of {0.1, 0.03, 0.01}");
        assert_eq!(
            s.selectors(),
            [Init::Standard, Init::Normalized].map(|i| group().selector(i))
        );
        assert_eq!(
            scores_text(&s.init_scores(Init::Standard), s.chosen_lr),
            "**0.1: 35.00**, 0.03: 30.40, 0.01: 50.00"
        );
    }
}
