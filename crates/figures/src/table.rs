//! Table 1: final test error (%) per activation x init x dataset at the paper's depth, ours
//! beside the paper's, as Markdown and CSV.
//!
//! - Ours: mean ± sample std over seeds, and a 95% interval for the configuration's
//!   expected test error from the seeds' final test passes (`paired::interval`: exact
//!   binomial with one seed; seed variance plus binomial variance, t with n - 1 df, with more).
//! - Against the paper ([`VsPaper`]): "differs" when the paper's value lies outside the
//!   interval; "consistent" only when it lies inside an interval narrow enough to mean
//!   something (half-width at most [`INFORMATIVE_HALF_WIDTH`] of the paper's value), else
//!   "inconclusive". A wide interval that happens to contain the paper's value is never
//!   counted as agreement.
//! - Normalized vs standard init, per activation and dataset: McNemar's exact test on the
//!   test examples, paired by seed (`paired::Passes::paired`).
//! - Each cell's learning rate, and whether it was selected on validation or fixed by the
//!   profile ([`Rate`]).

use crate::aggregate::{final_errors, FinalError};
use crate::figs::lr_select::{grid, Rate, RATE_LEGEND};
use crate::paired::{interval, PairedTest, Passes};
use crate::paper;
use crate::runs::Catalog;
use crate::stats::Interval;
use anyhow::{Context, Result};
use polars::prelude::*;
use spec::figure::table1_rows;
use spec::{Activation, Dataset, Init, Selector, PAPER_DEPTH};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The interval's two-sided level: 95%.
pub const INTERVAL_ALPHA: f64 = 0.05;
/// Significance level of the paired init comparisons.
pub const PAIRED_ALPHA: f64 = 0.005;
/// An interval counts as informative when its half-width is at most this fraction of the
/// paper's value: ±4 points around Shapeset's ~16%, ±0.4 around MNIST's ~1.7%.
pub const INFORMATIVE_HALF_WIDTH: f64 = 0.25;

/// How a cell compares with the paper's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsPaper {
    /// Table 1 has no value here (another depth or activation, or beyond the paper).
    NoPaperValue,
    NotRun,
    /// The runs hold no final test predictions: no interval.
    NoInterval,
    Consistent,
    Differs,
    /// The paper's value is inside an interval too wide to tell.
    Inconclusive,
}

impl VsPaper {
    pub fn word(self) -> &'static str {
        match self {
            VsPaper::NoPaperValue => "no paper value",
            VsPaper::NotRun => "not run",
            VsPaper::NoInterval => "no interval",
            VsPaper::Consistent => "consistent",
            VsPaper::Differs => "differs",
            VsPaper::Inconclusive => "inconclusive",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub selector: Selector,
    pub ours: Option<FinalError>,
    pub paper: Option<f64>,
    /// The 95% interval for our expected test error, in percent.
    pub interval: Option<Interval>,
    /// The final runs' learning rate and how it was set; None when not run.
    pub rate: Option<Rate>,
}

impl Cell {
    pub fn vs_paper(&self) -> VsPaper {
        let Some(paper) = self.paper else {
            return VsPaper::NoPaperValue;
        };
        if self.ours.is_none() {
            return VsPaper::NotRun;
        }
        let Some(interval) = self.interval else {
            return VsPaper::NoInterval;
        };
        let half_width = (interval.high - interval.low) / 2.0;
        if !interval.contains(paper) {
            VsPaper::Differs
        } else if half_width > INFORMATIVE_HALF_WIDTH * paper {
            VsPaper::Inconclusive
        } else {
            VsPaper::Consistent
        }
    }

    /// Whether every seed trained as long as the paper's runs.
    pub fn at_paper_scale(&self) -> bool {
        self.ours
            .as_ref()
            .is_some_and(|o| o.updates >= paper::PAPER_UPDATES)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InitComparison {
    pub dataset: Dataset,
    pub activation: Activation,
    pub standard: FinalError,
    pub normalized: FinalError,
    /// `only_first`: examples only the normalized net got right.
    pub test: Option<PairedTest>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table1 {
    /// Row-major: (activation, init) rows, each with one cell per dataset.
    pub rows: Vec<Vec<Cell>>,
    pub comparisons: Vec<InitComparison>,
}

impl Table1 {
    pub fn build(catalog: &Catalog) -> Result<Table1> {
        let errors: Vec<FinalError> = final_errors(catalog)?
            .into_iter()
            .filter(|e| e.selector.hidden_layers == PAPER_DEPTH)
            .collect();
        let find = |s: &Selector| errors.iter().find(|e| e.selector == *s).cloned();
        // The paper's rows first, in its order; then any other configuration we ran.
        let mut keys: Vec<(Activation, Init)> = table1_rows().collect();
        for e in &errors {
            let key = (e.selector.activation, e.selector.init);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let mut passes = Passes::new(catalog);
        let mut rows = Vec::new();
        for &(activation, init) in &keys {
            let mut row = Vec::new();
            for &dataset in &Dataset::ALL {
                let selector = Selector::new(dataset, activation, init, PAPER_DEPTH);
                let interval = passes
                    .of(&selector)?
                    .and_then(|p| interval(p, INTERVAL_ALPHA))
                    .map(|i| Interval {
                        low: 100.0 * i.low,
                        high: 100.0 * i.high,
                    });
                row.push(Cell {
                    selector,
                    ours: find(&selector),
                    paper: paper::table1_error(&selector),
                    interval,
                    rate: Rate::of(catalog, &selector)?,
                });
            }
            rows.push(row);
        }
        let mut comparisons = Vec::new();
        for &dataset in &Dataset::ALL {
            for &activation in &Activation::ALL {
                let at = |init| Selector::new(dataset, activation, init, PAPER_DEPTH);
                let (standard, normalized) = (at(Init::Standard), at(Init::Normalized));
                let (Some(standard_error), Some(normalized_error)) =
                    (find(&standard), find(&normalized))
                else {
                    continue;
                };
                let test = passes.paired(&normalized, &standard)?;
                comparisons.push(InitComparison {
                    dataset,
                    activation,
                    standard: standard_error,
                    normalized: normalized_error,
                    test,
                });
            }
        }
        Ok(Table1 { rows, comparisons })
    }

    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.rows.iter().flatten()
    }

    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# Table 1: test error (%) after training, {PAPER_DEPTH} hidden layers\n\n\
             Ours: mean ± sample std over seeds of the test error of the final test pass, then \
             [the 95% interval for the configuration's test error] (exact binomial over the test \
             examples with one seed; with more, seed variance plus binomial variance, t with \
             n - 1 df), n = seeds, updates per seed, and the learning rate: {RATE_LEGEND}. \
             Against the paper's value: **consistent** \
             when it lies inside an interval whose half-width is at most {:.0}% of it; \
             **differs** when it lies outside; **inconclusive** when it lies inside a wider one. \
             Runs shorter than the paper's {} updates compare a shorter training with the \
             paper's: the word is then followed by *(short)*.\n\n",
            INFORMATIVE_HALF_WIDTH * 100.0,
            paper::PAPER_UPDATES
        );
        md.push_str("| activation |");
        for d in Dataset::ALL {
            let _ = write!(md, " {0} paper | {0} ours |", d.title());
        }
        md.push_str("\n|---|");
        md.push_str(&"---:|---|".repeat(Dataset::ALL.len()));
        md.push('\n');
        for row in &self.rows {
            let _ = write!(md, "| {} |", row[0].selector.short_name());
            for cell in row {
                let paper = cell.paper.map_or("–".to_string(), |p| format!("{p:.2}"));
                let _ = write!(md, " {paper} | {} |", ours_text(cell));
            }
            md.push('\n');
        }
        md.push_str(&self.comparisons_markdown());
        md
    }

    /// The normalized-vs-standard section.
    fn comparisons_markdown(&self) -> String {
        let mut md = format!(
            "\n## Normalized vs standard initialization\n\n\
             McNemar's exact two-sided test on the test examples, paired by seed (the same \
             examples, the same seed): *only N* counts the examples only the normalized net \
             classified correctly, *only S* those only the standard one did, summed over the \
             seeds both ran. A difference is called at p < {PAIRED_ALPHA}; \"no significant \
             difference\" is not evidence that the two are equal.\n\n"
        );
        if self.comparisons.is_empty() {
            md.push_str("No activation was run with both initializations.\n");
            return md;
        }
        md.push_str(
            "| dataset | activation | standard | normalized | difference | only N | only S | seeds | p | verdict |\n",
        );
        md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for c in &self.comparisons {
            let (s, n) = (c.standard.error_pct, c.normalized.error_pct);
            let (only_n, only_s, seeds, p, verdict) = match c.test {
                Some(t) => (
                    t.only_first.to_string(),
                    t.only_second.to_string(),
                    t.seeds.to_string(),
                    format!("{:.2e}", t.p),
                    if t.p >= PAIRED_ALPHA {
                        "no significant difference"
                    } else if t.only_first > t.only_second {
                        "normalized better"
                    } else {
                        "normalized worse"
                    },
                ),
                None => {
                    let dash = || "–".to_string();
                    (dash(), dash(), dash(), dash(), "no paired predictions")
                }
            };
            let _ = writeln!(
                md,
                "| {} | {} | {:.2} (n={}) | {:.2} (n={}) | {:+.2} | {only_n} | {only_s} | {seeds} | {p} | {verdict} |",
                c.dataset.title(),
                c.activation.title(),
                s.mean,
                s.n,
                n.mean,
                n.n,
                n.mean - s.mean
            );
        }
        md
    }

    /// One row per cell we ran, long format.
    pub fn frame(&self) -> Result<DataFrame> {
        let cells: Vec<(&Cell, &FinalError)> = self
            .cells()
            .filter_map(|c| Some((c, c.ours.as_ref()?)))
            .collect();
        let finite = |v: f64| v.is_finite().then_some(v);
        use spec::figure::table1_csv as column;
        let frame = df!(
            column::DATASET => cells.iter().map(|(c, _)| c.selector.dataset.id()).collect::<Vec<_>>(),
            column::ACTIVATION => cells.iter().map(|(c, _)| c.selector.activation.id()).collect::<Vec<_>>(),
            column::INIT => cells.iter().map(|(c, _)| c.selector.init.id()).collect::<Vec<_>>(),
            column::HIDDEN_LAYERS => cells.iter().map(|(c, _)| c.selector.hidden_layers as u64).collect::<Vec<_>>(),
            column::SEEDS => cells.iter().map(|(_, o)| o.error_pct.n as u64).collect::<Vec<_>>(),
            column::UPDATES => cells.iter().map(|(_, o)| o.updates).collect::<Vec<_>>(),
            column::TEST_ERROR_PCT_MEAN => cells.iter().map(|(_, o)| o.error_pct.mean).collect::<Vec<_>>(),
            column::TEST_ERROR_PCT_STD => cells.iter().map(|(_, o)| finite(o.error_pct.std)).collect::<Vec<_>>(),
            column::CI95_LOW_PCT => cells.iter().map(|(c, _)| c.interval.map(|i| i.low)).collect::<Vec<_>>(),
            column::CI95_HIGH_PCT => cells.iter().map(|(c, _)| c.interval.map(|i| i.high)).collect::<Vec<_>>(),
            column::PAPER_TEST_ERROR_PCT => cells.iter().map(|(c, _)| c.paper).collect::<Vec<_>>(),
            column::VS_PAPER => cells.iter().map(|(c, _)| c.vs_paper().word()).collect::<Vec<_>>(),
            column::AT_PAPER_SCALE => cells.iter().map(|(c, _)| c.at_paper_scale()).collect::<Vec<_>>(),
            column::LR => cells.iter().map(|(c, _)| c.rate.as_ref().map(|r| r.lr)).collect::<Vec<_>>(),
            column::LR_SET => cells.iter().map(|(c, _)| c.rate.as_ref().map(Rate::how)).collect::<Vec<_>>(),
            column::LR_GRID => cells.iter().map(|(c, _)| lr_grid(c)).collect::<Vec<_>>(),
        )?;
        Ok(frame)
    }

    pub fn csv(&self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        CsvWriter::new(&mut bytes)
            .finish(&mut self.frame()?)
            .map_err(|e| anyhow::anyhow!("writing Table 1 as CSV: {e}"))?;
        Ok(bytes)
    }

    /// Writes `table1.md` and `table1.csv` into `out`.
    pub fn write(&self, out: &Path) -> Result<Vec<PathBuf>> {
        let (md, csv) = (out.join("table1.md"), out.join("table1.csv"));
        store::atomic::write_atomic(&md, self.markdown().as_bytes())
            .with_context(|| format!("writing {}", md.display()))?;
        store::atomic::write_atomic(&csv, &self.csv()?)
            .with_context(|| format!("writing {}", csv.display()))?;
        Ok(vec![md, csv])
    }
}

/// The rates a cell's trials tried, highest first, space-separated ("0.1 0.03 0.01"); None
/// when its rate was fixed.
fn lr_grid(cell: &Cell) -> Option<String> {
    let selection = cell.rate.as_ref()?.selection.as_ref()?;
    Some(grid(selection).replace(", ", " "))
}

/// "27.00 ± 2.00 [21.68, 32.32] (n=3, 3000 updates, lr 0.01 (fixed)): **consistent**
/// *(short)*", "20.00 [19.22, 20.80] (n=1, ...)", or "not run".
fn ours_text(cell: &Cell) -> String {
    let Some(ours) = &cell.ours else {
        return "not run".to_string();
    };
    let s = ours.error_pct;
    let mut text = if s.n >= 2 {
        format!("{:.2} ± {:.2}", s.mean, s.std)
    } else {
        format!("{:.2}", s.mean)
    };
    if let Some(i) = cell.interval {
        let _ = write!(text, " [{:.2}, {:.2}]", i.low, i.high);
    }
    let _ = write!(text, " (n={}, {} updates", s.n, ours.updates);
    if let Some(rate) = &cell.rate {
        let _ = write!(text, ", lr {}", rate.text());
    }
    text.push(')');
    match cell.vs_paper() {
        VsPaper::NoPaperValue => {}
        verdict => {
            let _ = write!(text, ": **{}**", verdict.word());
            if !cell.at_paper_scale() {
                text.push_str(" *(short)*");
            }
        }
    }
    text
}
