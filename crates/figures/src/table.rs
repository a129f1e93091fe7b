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
//! - Each cell's nets must have left chance (`gate`) to be compared with the paper: a net at
//!   chance agrees with any value an untrained net would.
//! - Normalized vs standard init, per activation and dataset: the paired test over seeds
//!   (`compare`, at equal rates, gated on chance), with McNemar's test on the pooled test
//!   examples beside it as a statement about these trained networks only.
//! - Each cell's learning rate, and whether it was selected on validation or fixed by the
//!   profile ([`Rate`]).

use crate::aggregate::{final_errors, FinalError};
use crate::compare::{compare, p_value, power_line, Comparison, Outcome, SEED_ALPHA};
use crate::figs::error_curves::paper_gap;
use crate::figs::lr_select::{grid, Rate, RATE_LEGEND};
use crate::gate::{chance, Chance, MARGIN_PTS};
use crate::paired::{interval, Passes};
use crate::paper;
use crate::plateau::{plateau, Plateau};
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
    /// Our nets have not left chance: whatever the interval, not compared.
    AtChance,
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
            VsPaper::AtChance => "at chance, not compared",
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
    /// Where the nets stand against chance; None without final test passes.
    pub chance: Option<Chance>,
    /// (seed, final test error %) of every seed, lowest seed first.
    pub seed_errors: Vec<(u64, f64)>,
    /// Whether the test error was still falling at the end (information for a short cell);
    /// None without a late probe.
    pub plateau: Option<Plateau>,
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
        if !self.chance.is_some_and(|c| c.left()) {
            return VsPaper::AtChance;
        }
        let half_width = (interval.high - interval.low) / 2.0;
        if !interval.contains(paper) {
            VsPaper::Differs
        } else if half_width > INFORMATIVE_HALF_WIDTH * paper {
            VsPaper::Inconclusive
        } else {
            VsPaper::Consistent
        }
    }

    /// Whether every seed trained as long as the paper's runs on this dataset.
    pub fn at_paper_scale(&self) -> bool {
        self.ours
            .as_ref()
            .is_some_and(|o| o.updates >= paper::paper_updates(self.selector.dataset))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InitComparison {
    pub dataset: Dataset,
    pub activation: Activation,
    pub standard: FinalError,
    pub normalized: FinalError,
    /// The final runs' learning rates: one number when equal, "normalized / standard" else.
    pub lr: String,
    /// Normalized against standard, over seeds (the test of the configurations), with
    /// McNemar beside it (`only_first`: only the normalized net right).
    pub comparison: Comparison,
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
                let seed_errors = passes.of(&selector)?.map_or_else(Vec::new, |p| {
                    p.iter().map(|s| (s.seed, 100.0 * s.error())).collect()
                });
                row.push(Cell {
                    selector,
                    ours: find(&selector),
                    paper: paper::table1_error(&selector),
                    interval,
                    rate: Rate::of(catalog, &selector)?,
                    chance: chance(&mut passes, &selector)?,
                    seed_errors,
                    plateau: plateau(&mut passes, &selector)?,
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
                let both = [normalized, standard];
                let rate =
                    |s: &Selector| catalog.seeds(s).first().map_or(f64::NAN, |r| r.params().lr);
                let (rate_n, rate_s) = (rate(&normalized), rate(&standard));
                comparisons.push(InitComparison {
                    dataset,
                    activation,
                    lr: if rate_n == rate_s {
                        rate_n.to_string()
                    } else {
                        format!("{rate_n} / {rate_s}")
                    },
                    standard: standard_error,
                    normalized: normalized_error,
                    comparison: compare(&mut passes, &normalized, &standard, &both)?,
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
             Against the paper's value, only for nets that left chance (the interval's upper \
             end at least {MARGIN_PTS} points below the test set's majority-class error; \
             otherwise **at chance, not compared**): **consistent** when it lies inside an \
             interval whose half-width is at most {:.0}% of it; **differs** when it lies \
             outside; **inconclusive** when it lies inside a wider one. Runs shorter than the \
             paper's on that dataset ({}) compare a shorter training with the paper's: the \
             word is then followed by *(short)*, and the cell is not tested (REPORT.md says \
             whether its error was still falling). Each seed's error is in table1.csv.\n\n",
            INFORMATIVE_HALF_WIDTH * 100.0,
            scales()
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
             The test is over seeds, the unit of replication: the per-seed differences of final \
             test error (normalized - standard, paired by seed), by a paired t test at p < \
             {SEED_ALPHA} (the exact sign-flip p beside it), with the 95% interval of the mean \
             difference. It is made only between nets trained at the same learning rate that \
             both left chance. McNemar's exact test on the test examples, pooled over the seeds \
             both ran (*only N*, *only S*: examples only the normalized, only the standard net \
             classified correctly), is a statement about these trained networks, not about the \
             initializations. \"no significant difference\" is not evidence that the two are \
             equal.\n\n"
        );
        if self.comparisons.is_empty() {
            md.push_str("No activation was run with both initializations.\n");
            return md;
        }
        md.push_str(
            "| dataset | activation | lr | standard | normalized | difference [95%] | seeds | t p | sign-flip p | over seeds | McNemar (these nets): only N / only S, p |\n",
        );
        md.push_str("|---|---|---:|---:|---:|---|---:|---:|---:|---|---|\n");
        for c in &self.comparisons {
            md.push_str(&comparison_row(c));
        }
        let notes: Vec<String> = self
            .comparisons
            .iter()
            .flat_map(|c| {
                let gap = paper_gap(&c.comparison.first, &c.comparison.second);
                let why = (c.comparison.test.is_none()).then(|| c.comparison.lines.join("; "));
                why.into_iter().chain(power_line(&c.comparison, gap))
            })
            .collect();
        if !notes.is_empty() {
            md.push('\n');
            for note in notes {
                let _ = writeln!(md, "- {note}");
            }
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
            column::LEFT_CHANCE => cells.iter().map(|(c, _)| c.chance.map(|x| x.left())).collect::<Vec<_>>(),
            column::TEST_ERROR_PCT_BY_SEED => cells.iter().map(|(c, _)| by_seed(c)).collect::<Vec<_>>(),
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

/// "0:12.31 1:13.02 2:12.80": each seed's final test error (%).
fn by_seed(cell: &Cell) -> String {
    let words: Vec<String> = cell
        .seed_errors
        .iter()
        .map(|(seed, e)| format!("{seed}:{e:.2}"))
        .collect();
    words.join(" ")
}

/// "Shapeset-3x2 2500000, MNIST 5000000, ...": the paper's length per dataset.
fn scales() -> String {
    let words: Vec<String> = Dataset::ALL
        .iter()
        .map(|&d| format!("{} {} updates", d.title(), paper::paper_updates(d)))
        .collect();
    words.join(", ")
}

/// One row of the normalized-vs-standard table.
fn comparison_row(c: &InitComparison) -> String {
    let (s, n) = (c.standard.error_pct, c.normalized.error_pct);
    let dash = || "–".to_string();
    let (difference, seeds, t_p, flip_p) = match &c.comparison.test {
        Some(t) => (
            format!(
                "{:+.2} [{:+.2}, {:+.2}]",
                t.mean, t.interval.low, t.interval.high
            ),
            t.differences.len().to_string(),
            p_value(t.t_p),
            format!("{:.3}", t.sign_flip_p),
        ),
        None => (format!("{:+.2}", n.mean - s.mean), dash(), dash(), dash()),
    };
    let verdict = match c.comparison.outcome {
        Outcome::Better => "normalized better",
        Outcome::Worse => "normalized worse",
        Outcome::NoDifference => "no significant difference",
        Outcome::AtChance => "not tested: a net at chance",
        Outcome::Untestable => "no test (see below)",
    };
    let mcnemar = c.comparison.mcnemar.map_or_else(dash, |t| {
        format!("{} / {}, p = {:.2e}", t.only_first, t.only_second, t.p)
    });
    let lr = &c.lr;
    format!(
        "| {} | {} | {lr} | {:.2} (n={}) | {:.2} (n={}) | {difference} | {seeds} | {t_p} | {flip_p} | {verdict} | {mcnemar} |\n",
        c.dataset.title(),
        c.activation.title(),
        s.mean,
        s.n,
        n.mean,
        n.n,
    )
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
