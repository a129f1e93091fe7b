//! Fig 3: with standard init, tanh layers saturate one after another from layer 1 up;
//! softsign does not. The measurement (when each layer's 98th percentile first reaches the
//! saturation level) is shared with Fig 10, which reads it on the normalized-init run.

use super::layer_stats::Look;
use super::panel_plot::{PanelKind, PanelPlot};
use super::{judge_over_seeds, seed_run, Figure};
use crate::gate::MARGIN_PTS;
use crate::runs::{Catalog, Run};
use crate::verdict::{Assessment, Verdict};
use anyhow::Result;
use spec::{FigureId, Quantity};
use std::path::{Path, PathBuf};

/// A tanh/softsign layer whose 98th percentile reaches this is saturated at +-1.
pub const SATURATED_P98: f64 = 0.95;

pub struct Fig3;

/// Per layer (from 1): the first probe step at which p98 >= [`SATURATED_P98`], if any.
pub fn saturation_steps(run: &Run) -> Result<Vec<Option<f64>>> {
    let recording = run.open()?;
    (1..=run.hidden_layers())
        .map(|k| {
            let stats = recording.layer_stats(k, Quantity::Activation)?;
            Ok((0..stats.p98.len())
                .find(|&i| stats.p98[i] >= SATURATED_P98)
                .map(|i| stats.step[i]))
        })
        .collect()
}

/// "layer 1 at step 1000, layer 2 never, ...".
pub fn describe_saturation(steps: &[Option<f64>]) -> String {
    let parts: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(k, s)| match s {
            Some(step) => format!("layer {} at step {step}", k + 1),
            None => format!("layer {} never", k + 1),
        })
        .collect();
    parts.join(", ")
}

/// Layer 1 saturates, at least 2 tanh layers do, as a prefix 1..m in non-decreasing time,
/// and fewer softsign layers do.
pub fn sequential(tanh: &[Option<f64>], softsign: &[Option<f64>]) -> (bool, bool) {
    let saturated: Vec<f64> = tanh.iter().flatten().copied().collect();
    let prefix = tanh.iter().take_while(|s| s.is_some()).count() == saturated.len();
    let ordered = prefix && saturated.windows(2).all(|w| w[0] <= w[1]);
    let softsign_count = softsign.iter().flatten().count();
    let pass = tanh.first().is_some_and(Option::is_some)
        && saturated.len() >= 2
        && ordered
        && softsign_count < saturated.len();
    (pass, ordered)
}

/// A run in which no tanh layer saturated, shorter than the paper's: saturation unfolds over
/// tens of epochs in the paper, so its absence says nothing; `verdict` otherwise.
pub fn at_scale(verdict: Verdict, standard_tanh: &[Option<f64>], updates: u64) -> Verdict {
    let paper = crate::paper::paper_updates(spec::Dataset::Shapeset);
    if standard_tanh.iter().all(Option::is_none) && updates < paper {
        Verdict::NotTestedAtScale
    } else {
        verdict
    }
}

/// What [`at_scale`] saw when it said "not tested at this scale".
pub fn no_saturation_line(updates: u64) -> String {
    format!(
        "no standard-init tanh layer reached p98 >= {SATURATED_P98} within {updates} updates \
         (the paper's runs: {}); not tested at this scale",
        crate::paper::paper_updates(spec::Dataset::Shapeset)
    )
}

impl Figure for Fig3 {
    fn id(&self) -> FigureId {
        FigureId::Fig3
    }

    fn claim(&self) -> &'static str {
        "Tanh, standard init: the layers saturate (98th percentile near +-1) one after another, \
         starting with layer 1; softsign does not saturate like this."
    }

    fn rule(&self) -> String {
        format!(
            "both nets must have left chance (95% upper bound {MARGIN_PTS} points below the \
             majority-class error), else not tested at this scale. In each seed: reproduced if \
             tanh's layer 1 reaches p98 >= {SATURATED_P98}, at least 2 tanh layers do, in order \
             from layer 1 upward (first-saturation steps non-decreasing), and fewer softsign \
             layers do; not tested at this scale when no tanh layer saturates in a run shorter \
             than the paper's. Over seeds: the seeds' common verdict, partially when some seeds \
             reproduce it and others do not"
        )
    }

    fn assess(&self, catalog: &Catalog) -> Result<Assessment> {
        let selectors = self.selectors();
        let (tanh, softsign) = (&selectors[0], &selectors[1]);
        judge_over_seeds(catalog, tanh, &selectors, |seed| {
            let (Some(tanh), Some(softsign)) = (
                seed_run(catalog, tanh, seed),
                seed_run(catalog, softsign, seed),
            ) else {
                return Ok(None);
            };
            judge_seed(tanh, softsign).map(Some)
        })
    }

    fn render(&self, catalog: &Catalog, out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>> {
        SATURATION.render(self.id(), catalog, out, size)
    }
}

/// The rule on one seed's tanh and softsign runs.
fn judge_seed(tanh: &Run, softsign: &Run) -> Result<(Verdict, Vec<String>)> {
    let (t, s) = (saturation_steps(tanh)?, saturation_steps(softsign)?);
    let (pass, ordered) = sequential(&t, &s);
    let mut measured = vec![
        format!(
            "tanh: p98 >= {SATURATED_P98} first reached by {}",
            describe_saturation(&t)
        ),
        format!("softsign: {}", describe_saturation(&s)),
        format!(
            "tanh saturated layers: {}, in order from layer 1: {ordered}; softsign saturated layers: {}",
            t.iter().flatten().count(),
            s.iter().flatten().count()
        ),
    ];
    let verdict = at_scale(Verdict::of(pass), &t, tanh.params().updates);
    if verdict == Verdict::NotTestedAtScale {
        measured.push(no_saturation_line(tanh.params().updates));
    }
    Ok((verdict, measured))
}

/// Figs 3 and 10: the std (lines), 98th (triangles) and 2nd percentile (circles) of each
/// layer's activations.
pub const SATURATION: PanelPlot = PanelPlot {
    kind: PanelKind::LayerStats(Look::StdWithPercentileMarkers),
    quantity: Quantity::Activation,
    axis_desc: "activation",
    detail: "triangles: 98th pct, circles: 2nd pct, lines: std; top: tanh, bottom: softsign \
             (standard init, Shapeset-3x2)",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_must_climb_from_layer_one() {
        let s = |v: &[Option<f64>]| v.to_vec();
        let none = s(&[None; 5]);
        let climbing = s(&[Some(10.0), Some(100.0), None, None, None]);
        assert_eq!(sequential(&climbing, &none), (true, true));
        // out of order, or not from layer 1, or no fewer softsign layers: not reproduced
        let reversed = s(&[Some(100.0), Some(10.0), None, None, None]);
        assert!(!sequential(&reversed, &none).0);
        let gap = s(&[Some(10.0), None, Some(100.0), None, None]);
        assert!(!sequential(&gap, &none).0);
        assert!(!sequential(&climbing, &climbing).0);
        assert!(!sequential(&none, &none).0);
    }

    #[test]
    fn no_saturation_in_a_short_run_is_not_tested() {
        let none = [None; 5];
        let short = 20_000;
        let long = crate::paper::paper_updates(spec::Dataset::Shapeset);
        let failed = Verdict::NotReproduced;
        assert_eq!(at_scale(failed, &none, short), Verdict::NotTestedAtScale);
        assert_eq!(at_scale(failed, &none, long), Verdict::NotReproduced);
        let one = [Some(1000.0), None, None, None, None];
        assert_eq!(at_scale(failed, &one, short), Verdict::NotReproduced);
    }
}
