//! Table 1: final test error (%) per activation x init x dataset at the paper's depth, ours
//! (mean ± sample std over seeds) beside the paper's, as Markdown and CSV.
//!
//! Test: for each cell with n >= 2 seeds, a one-sample two-sided Student t test of
//! H0 "our mean equals the paper's value" (t = (mean - paper) / (s / sqrt n), n - 1 df); the
//! cell is bold when p < 0.005. With one seed there is no test. Beside it, normalized vs
//! standard init per activation and dataset: Welch's two-sided t test (unequal variances).

use crate::aggregate::{final_errors, FinalError};
use crate::paper;
use crate::runs::Catalog;
use crate::stats::{one_sample_t, welch_t, TTest};
use anyhow::{Context, Result};
use polars::prelude::*;
use spec::figure::table1_rows;
use spec::{Activation, Dataset, Init, Selector, PAPER_DEPTH};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Significance level of both tests.
pub const ALPHA: f64 = 0.005;

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub selector: Selector,
    pub ours: Option<FinalError>,
    pub paper: Option<f64>,
    pub vs_paper: Option<TTest>,
}

impl Cell {
    pub fn differs_from_paper(&self) -> bool {
        self.vs_paper.is_some_and(|t| t.p < ALPHA)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InitComparison {
    pub dataset: Dataset,
    pub activation: Activation,
    pub standard: FinalError,
    pub normalized: FinalError,
    pub test: Option<TTest>,
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
        let rows = keys
            .iter()
            .map(|&(activation, init)| {
                Dataset::ALL
                    .iter()
                    .map(|&dataset| {
                        let selector = Selector::new(dataset, activation, init, PAPER_DEPTH);
                        let ours = find(&selector);
                        let paper = paper::table1_error(&selector);
                        let vs_paper = ours
                            .as_ref()
                            .zip(paper)
                            .and_then(|(o, p)| one_sample_t(o.error_pct, p));
                        Cell {
                            selector,
                            ours,
                            paper,
                            vs_paper,
                        }
                    })
                    .collect()
            })
            .collect();
        let mut comparisons = Vec::new();
        for &dataset in &Dataset::ALL {
            for &activation in &Activation::ALL {
                let at = |init| find(&Selector::new(dataset, activation, init, PAPER_DEPTH));
                if let (Some(standard), Some(normalized)) =
                    (at(Init::Standard), at(Init::Normalized))
                {
                    comparisons.push(InitComparison {
                        dataset,
                        activation,
                        test: welch_t(normalized.error_pct, standard.error_pct),
                        standard,
                        normalized,
                    });
                }
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
             Ours: mean ± sample std over seeds of the test error at the last probe (n = seeds).\n\
             **Bold**: ours differs significantly from the paper's value (one-sample two-sided \
             Student t test, p < {ALPHA}); with one seed no test is possible.\n\n"
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
        let mut md = String::new();
        md.push_str(
            "\n## Normalized vs standard initialization\n\n\
             Welch's two-sided t test (unequal variances) of normalized minus standard test error.\n\n",
        );
        if self.comparisons.is_empty() {
            md.push_str("No activation was run with both initializations.\n");
            return md;
        }
        md.push_str("| dataset | activation | standard | normalized | difference | t | df | p | verdict |\n");
        md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
        for c in &self.comparisons {
            let (s, n) = (c.standard.error_pct, c.normalized.error_pct);
            let (t, df, p, verdict) = match c.test {
                Some(t) => (
                    format!("{:.2}", t.t),
                    format!("{:.1}", t.df),
                    format!("{:.2e}", t.p),
                    if t.p < ALPHA {
                        if t.t < 0.0 {
                            "normalized better"
                        } else {
                            "normalized worse"
                        }
                    } else {
                        "no significant difference"
                    },
                ),
                None => ("–".into(), "–".into(), "–".into(), "needs >= 2 seeds each"),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {:.2} (n={}) | {:.2} (n={}) | {:+.2} | {t} | {df} | {p} | {verdict} |",
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
        let frame = df!(
            "dataset" => cells.iter().map(|(c, _)| c.selector.dataset.id()).collect::<Vec<_>>(),
            "activation" => cells.iter().map(|(c, _)| c.selector.activation.id()).collect::<Vec<_>>(),
            "init" => cells.iter().map(|(c, _)| c.selector.init.id()).collect::<Vec<_>>(),
            "hidden_layers" => cells.iter().map(|(c, _)| c.selector.hidden_layers as u64).collect::<Vec<_>>(),
            "seeds" => cells.iter().map(|(_, o)| o.error_pct.n as u64).collect::<Vec<_>>(),
            "updates" => cells.iter().map(|(_, o)| o.updates).collect::<Vec<_>>(),
            "test_error_pct_mean" => cells.iter().map(|(_, o)| o.error_pct.mean).collect::<Vec<_>>(),
            "test_error_pct_std" => cells.iter().map(|(_, o)| finite(o.error_pct.std)).collect::<Vec<_>>(),
            "paper_test_error_pct" => cells.iter().map(|(c, _)| c.paper).collect::<Vec<_>>(),
            "t_vs_paper" => cells.iter().map(|(c, _)| c.vs_paper.map(|t| t.t)).collect::<Vec<_>>(),
            "df" => cells.iter().map(|(c, _)| c.vs_paper.map(|t| t.df)).collect::<Vec<_>>(),
            "p_vs_paper" => cells.iter().map(|(c, _)| c.vs_paper.map(|t| t.p)).collect::<Vec<_>>(),
            "differs_from_paper" => cells.iter().map(|(c, _)| c.vs_paper.map(|t| t.p < ALPHA)).collect::<Vec<_>>(),
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

/// "**27.90 ± 1.20** (n=3, p=1.2e-4)", "27.90 (n=1, no test)", or "not run".
fn ours_text(cell: &Cell) -> String {
    let Some(ours) = &cell.ours else {
        return "not run".to_string();
    };
    let s = ours.error_pct;
    let value = if s.n >= 2 {
        format!("{:.2} ± {:.2}", s.mean, s.std)
    } else {
        format!("{:.2}", s.mean)
    };
    match (cell.vs_paper, cell.differs_from_paper()) {
        (Some(t), true) => format!("**{value}** (n={}, p={:.1e})", s.n, t.p),
        (Some(t), false) => format!("{value} (n={}, p={:.2})", s.n, t.p),
        (None, _) if cell.paper.is_some() => format!("{value} (n={}, no test)", s.n),
        (None, _) => format!("{value} (n={})", s.n),
    }
}
