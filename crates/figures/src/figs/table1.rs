//! Table 1: the paper's test errors beside ours. The numbers and the tests are computed by
//! `crate::table`; this module states the claim and the rule and writes the files.

use super::fig11::any_of;
use super::Figure;
use crate::paper;
use crate::runs::{Catalog, Missing};
use crate::table::{Cell, Table1, VsPaper};
use crate::verdict::{Assessment, Verdict};
use anyhow::Result;
use spec::FigureId;
use std::path::{Path, PathBuf};

pub struct Table1Output;

impl Figure for Table1Output {
    fn id(&self) -> FigureId {
        FigureId::Table1
    }

    fn claim(&self) -> &'static str {
        "The test errors of Table 1."
    }

    fn rule(&self) -> String {
        format!(
            "each cell run at the paper's length ({} updates) is compared with the paper's value \
             through its 95% interval (see table1.md): reproduced if every such cell is \
             consistent, partially if some are, not reproduced if none is; an inconclusive cell \
             (too wide an interval) never counts as consistent. Not tested at this scale when no \
             cell was trained that long; not tested when no cell has an interval",
            paper::PAPER_UPDATES
        )
    }

    fn requirement(&self, catalog: &Catalog) -> Result<(), Missing> {
        any_of(self, catalog)
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        Ok(assess_cells(Table1::build(catalog)?.cells()))
    }

    fn render(&self, catalog: &Catalog, out: &Path, _size: (u32, u32)) -> Result<Vec<PathBuf>> {
        Table1::build(catalog)?.write(out)
    }
}

/// The verdict over the cells that have both a paper value and a run.
fn assess_cells<'a>(cells: impl Iterator<Item = &'a Cell>) -> Assessment {
    let mut measured = Vec::new();
    let (mut compared, mut at_scale, mut consistent_at_scale) = (0, 0, 0);
    for cell in cells {
        let (Some(ours), Some(paper)) = (&cell.ours, cell.paper) else {
            continue;
        };
        let vs = cell.vs_paper();
        let interval = cell.interval.map_or_else(
            || "no interval".into(),
            |i| format!("95% [{:.2}, {:.2}]", i.low, i.high),
        );
        let scale = if cell.at_paper_scale() {
            "at the paper's length".to_string()
        } else {
            format!("{} updates, shorter than the paper's", ours.updates)
        };
        let rate = cell
            .rate
            .as_ref()
            .map_or(String::new(), |r| format!(", lr {}", r.text()));
        measured.push(format!(
            "{} {}: ours {:.2}% {interval} (n={}, {scale}{rate}) vs paper {paper:.2}%: {}",
            cell.selector.dataset.title(),
            cell.selector.short_name(),
            ours.error_pct.mean,
            ours.error_pct.n,
            vs.word()
        ));
        if matches!(
            vs,
            VsPaper::Consistent | VsPaper::Differs | VsPaper::Inconclusive
        ) {
            compared += 1;
            if cell.at_paper_scale() {
                at_scale += 1;
                consistent_at_scale += usize::from(vs == VsPaper::Consistent);
            }
        }
    }
    measured.push(format!(
        "{consistent_at_scale} of {at_scale} cells at the paper's length are consistent with it \
         ({compared} cells compared in all)"
    ));
    let verdict = if compared == 0 {
        Verdict::Untested
    } else if at_scale == 0 {
        Verdict::NotTestedAtScale
    } else if consistent_at_scale == at_scale {
        Verdict::Reproduced
    } else if consistent_at_scale > 0 {
        Verdict::Partial
    } else {
        Verdict::NotReproduced
    };
    Assessment::new(measured, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::FinalError;
    use crate::stats::{Interval, Summary};
    use spec::{Activation, Dataset, Init, Selector};

    fn cell(paper: f64, mean: f64, low: f64, high: f64, updates: u64) -> Cell {
        let selector = Selector::new(Dataset::Shapeset, Activation::Tanh, Init::Standard, 5);
        Cell {
            selector,
            ours: Some(FinalError {
                selector,
                error_pct: Summary::of(&[mean]),
                updates,
            }),
            paper: Some(paper),
            interval: Some(Interval { low, high }),
            rate: None,
        }
    }

    const FULL: u64 = paper::PAPER_UPDATES;

    #[test]
    fn each_outcome_has_a_case() {
        let consistent = cell(16.0, 16.5, 15.0, 18.0, FULL);
        let differs = cell(16.0, 25.0, 24.0, 26.0, FULL);
        let wide = cell(16.0, 20.0, 5.0, 35.0, FULL);
        assert_eq!(consistent.vs_paper(), VsPaper::Consistent);
        assert_eq!(differs.vs_paper(), VsPaper::Differs);
        assert_eq!(wide.vs_paper(), VsPaper::Inconclusive);
        let verdict = |cells: &[Cell]| assess_cells(cells.iter()).verdict;
        assert_eq!(
            verdict(std::slice::from_ref(&consistent)),
            Verdict::Reproduced
        );
        assert_eq!(
            verdict(&[consistent.clone(), differs.clone()]),
            Verdict::Partial
        );
        assert_eq!(
            verdict(std::slice::from_ref(&differs)),
            Verdict::NotReproduced
        );
        // A wide interval around the paper's value is not agreement.
        assert_eq!(verdict(&[wide]), Verdict::NotReproduced);
        // Short runs: the same numbers are not tested at this scale.
        let short = cell(16.0, 16.5, 15.0, 18.0, 20_000);
        assert_eq!(verdict(&[short]), Verdict::NotTestedAtScale);
        let mut no_interval = consistent;
        no_interval.interval = None;
        assert_eq!(verdict(&[no_interval]), Verdict::Untested);
    }
}
