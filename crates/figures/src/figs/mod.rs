//! One module per output: each `fig*.rs` (and `table1.rs`, `ext_he.rs`, `lr_select.rs`)
//! holds, for its output, the paper's claim, the rule, the measurement and the rendering, so that a claim
//! and the picture it is judged on cannot drift apart. The outputs that look alike share a
//! renderer family (`layer_stats`, `histograms`, `error_curves`, `cost_surface`, `sheet`),
//! which knows how to draw and nothing of claims.
//!
//! [`Figure`] is what every output module implements; [`definition`] maps each
//! [`FigureId`] to its module, and [`findings`] walks them all for REPORT.md.

pub mod cost_surface;
pub mod error_curves;
pub mod ext_he;
pub mod fig1;
pub mod fig10;
pub mod fig11;
pub mod fig12;
pub mod fig2;
pub mod fig3;
pub mod fig4;
pub mod fig5;
pub mod fig6;
pub mod fig7;
pub mod fig8;
pub mod fig9;
pub mod histograms;
pub mod layer_stats;
pub mod lr_select;
pub mod panel_plot;
pub mod sheet;
pub mod sheet_grid;
pub mod table1;

use crate::gate::gate;
use crate::paired::Passes;
use crate::report::ReportOutput;
use crate::runs::{Catalog, Missing, Run};
use crate::verdict::{over_seeds, Assessment, Finding, Verdict};
use anyhow::Result;
use spec::{Dataset, FigureId, Selector};
use std::path::{Path, PathBuf};

/// One output of `figures render`: what the paper claims about it, the rule that judges the
/// claim on our runs, and how it is drawn.
pub trait Figure: Sync {
    fn id(&self) -> FigureId;

    /// What the paper says, in a sentence or two ("" for outputs that state nothing).
    fn claim(&self) -> &'static str;

    /// The rule that turns [`Figure::assess`]'s numbers into a verdict, in words.
    fn rule(&self) -> String;

    /// Ok when the catalog holds what this output draws. Default: every run of
    /// `FigureId::needs`, the panels of a per-run figure.
    fn requirement(&self, catalog: &Catalog) -> Result<(), Missing> {
        catalog.lowest_seeds(&self.selectors()).map(|_| ())
    }

    /// Measures the claim on the runs and applies the rule; called only when
    /// [`Figure::requirement`] holds.
    fn assess(&self, catalog: &Catalog) -> Result<Assessment>;

    /// Draws the output into `out`; returns the files written. Called only when
    /// [`Figure::requirement`] holds.
    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>>;

    /// Every claim judged on this output's runs, for REPORT.md: by default one.
    fn findings(&self, catalog: &Catalog) -> Result<Vec<Finding>> {
        Ok(vec![finding(self, self.id().id(), catalog)?])
    }

    /// The runs this output draws, in panel order.
    fn selectors(&self) -> Vec<spec::Selector> {
        self.id().needs(&Dataset::ALL)
    }
}

/// The module that defines `id`.
pub fn definition(id: FigureId) -> &'static dyn Figure {
    match id {
        FigureId::Fig1 => &fig1::Fig1,
        FigureId::Fig2 => &fig2::Fig2,
        FigureId::Fig3 => &fig3::Fig3,
        FigureId::Fig4 => &fig4::Fig4,
        FigureId::Fig5 => &fig5::Fig5,
        FigureId::Fig6 => &fig6::Fig6,
        FigureId::Fig7 => &fig7::Fig7,
        FigureId::Fig8 => &fig8::Fig8,
        FigureId::Fig9 => &fig9::Fig9,
        FigureId::Fig10 => &fig10::Fig10,
        FigureId::Fig11 => &fig11::Fig11,
        FigureId::Fig12 => &fig12::Fig12,
        FigureId::Table1 => &table1::Table1Output,
        FigureId::ExtHe => &ext_he::ExtHe,
        FigureId::LrSelect => &lr_select::LrSelect,
        FigureId::Report => &ReportOutput,
    }
}

/// Every claim of every output but the report, in the report's order.
pub fn findings(catalog: &Catalog) -> Result<Vec<Finding>> {
    let mut all = Vec::new();
    for id in FigureId::ALL
        .into_iter()
        .filter(|&id| id != FigureId::Report)
    {
        all.extend(definition(id).findings(catalog)?);
    }
    Ok(all)
}

/// The finding of `figure`'s claim under `anchor`: assessed when its runs exist, else
/// "not run" with what is missing.
pub fn finding<F: Figure + ?Sized>(
    figure: &F,
    anchor: &'static str,
    catalog: &Catalog,
) -> Result<Finding> {
    let assessment = match figure.requirement(catalog) {
        Ok(()) => figure.assess(catalog)?,
        Err(missing) => Assessment::new(vec![missing.to_string()], Verdict::NotRun),
    };
    Ok(Finding {
        anchor,
        figure: figure.id(),
        claim: figure.claim(),
        rule: figure.rule(),
        measured: assessment.measured,
        verdict: assessment.verdict,
    })
}

/// The run of `selector` with `seed`, if it ran.
pub fn seed_run<'c>(catalog: &'c Catalog, selector: &Selector, seed: u64) -> Option<&'c Run> {
    catalog
        .seeds(selector)
        .iter()
        .find(|r| r.params().seed == seed)
}

/// A training-time rule judged on every seed of `seeds_of` (`judge` gives a seed's verdict
/// and lines, `None` when a partner run of that seed is missing), combined by
/// [`over_seeds`]; first the chance gate over `gated` (`gate`): a closed gate makes the claim
/// "not tested at this scale", whatever the seeds say.
pub fn judge_over_seeds(
    catalog: &Catalog,
    seeds_of: &Selector,
    gated: &[Selector],
    judge: impl Fn(u64) -> Result<Option<(Verdict, Vec<String>)>>,
) -> Result<Assessment> {
    let (mut measured, mut verdicts, mut words) = (Vec::new(), Vec::new(), Vec::new());
    for run in catalog.seeds(seeds_of) {
        let seed = run.params().seed;
        if let Some((verdict, lines)) = judge(seed)? {
            measured.extend(lines.into_iter().map(|l| format!("seed {seed}: {l}")));
            words.push(format!("seed {seed} {verdict}"));
            verdicts.push(verdict);
        }
    }
    measured.push(format!("per seed: {}", words.join("; ")));
    let gate = gate(&mut Passes::new(catalog), gated)?;
    if !gate.open {
        measured.extend(gate.lines);
        return Ok(Assessment::new(measured, Verdict::NotTestedAtScale));
    }
    Ok(Assessment::new(measured, over_seeds(&verdicts)))
}

/// The lowest-seed run of each panel of `figure`.
pub fn panel_runs<'c, F: Figure + ?Sized>(
    figure: &F,
    catalog: &'c Catalog,
) -> Result<Vec<&'c Run>> {
    Ok(catalog.lowest_seeds(&figure.selectors())?)
}

/// A panel title: "Tanh, standard init (seed 0, 1000 units, 20000 updates)".
pub fn panel_title(run: &Run) -> String {
    let p = run.params();
    format!("{}, {} init ({})", p.activation.title(), p.init, about(run))
}

/// "Tanh, standard init (mean of seeds 0, 1, 2; 1000 units, 20000 updates)": a panel drawn
/// from every seed of one configuration (`runs`, not empty).
pub fn seeds_title(runs: &[Run]) -> String {
    let p = runs[0].params();
    let seeds: Vec<String> = runs.iter().map(|r| r.params().seed.to_string()).collect();
    let which = match seeds.as_slice() {
        [one] => format!("seed {one}"),
        _ => format!("mean of seeds {}, thin: each seed", seeds.join(", ")),
    };
    format!(
        "{}, {} init ({which}; {} units, {} updates)",
        p.activation.title(),
        p.init,
        p.width,
        p.updates
    )
}

/// "seed 0, 1000 units, 20000 updates": what a panel was drawn from.
pub fn about(run: &Run) -> String {
    let p = run.params();
    format!("seed {}, {} units, {} updates", p.seed, p.width, p.updates)
}

/// "Fig. 6. <title>": the first caption line of a paper figure, from its one title.
pub fn caption_head(id: FigureId) -> String {
    let number = id.id().trim_start_matches("fig");
    format!("Fig. {number}. {}", id.title())
}
