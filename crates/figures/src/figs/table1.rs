//! Table 1: the paper's test errors beside ours. The numbers and the tests are computed by
//! `crate::table`; this module states the claim and the rule and writes the files.

use super::fig11::any_of;
use super::Figure;
use crate::runs::{Catalog, Missing};
use crate::table::{Table1, ALPHA};
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
            "reproduced if no cell with >= 2 seeds differs from the paper's value (one-sample \
             two-sided t test, p < {ALPHA})"
        )
    }

    fn requirement(&self, catalog: &Catalog) -> Result<(), Missing> {
        any_of(self, catalog)
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let table = Table1::build(catalog)?;
        let mut measured = Vec::new();
        let (mut tested, mut differing) = (0, 0);
        for cell in table.cells() {
            let (Some(ours), Some(paper)) = (&cell.ours, cell.paper) else {
                continue;
            };
            let test = match cell.vs_paper {
                Some(t) => {
                    tested += 1;
                    differing += usize::from(cell.differs_from_paper());
                    format!("t = {:.2}, p = {:.2e}", t.t, t.p)
                }
                None => "one seed, no test".to_string(),
            };
            measured.push(format!(
                "{} {}: ours {:.2}% (n={}) vs paper {paper:.2}% (gap {:+.2} points; {test})",
                cell.selector.dataset.title(),
                cell.selector.short_name(),
                ours.error_pct.mean,
                ours.error_pct.n,
                ours.error_pct.mean - paper
            ));
        }
        measured.push(format!(
            "{differing} of {tested} tested cells differ significantly"
        ));
        let verdict = if tested == 0 {
            Verdict::Untested
        } else {
            Verdict::of(differing == 0)
        };
        Ok(Assessment::new(measured, verdict))
    }

    fn render(&self, catalog: &Catalog, out: &Path, _size: (u32, u32)) -> Result<Vec<PathBuf>> {
        Table1::build(catalog)?.write(out)
    }
}
