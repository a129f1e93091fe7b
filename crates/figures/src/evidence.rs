//! The paper's claims, one per figure (plus Table 1 and §4.2.2), each tested on the recordings
//! by a measured quantity and a fixed rule that yields the verdict REPORT.md prints.

use crate::aggregate::final_errors;
use crate::config::{Activation, Dataset, Init, Selector};
use crate::figs::histograms::Snapshot;
use crate::figs::SURFACE_SEED;
use crate::paper;
use crate::recording::Quantity;
use crate::runs::{Catalog, Missing, Run};
use crate::surface::{cost_surface, plateau_fraction};
use crate::table::Table1;
use crate::target::{Target, PAPER_DEPTH};
use anyhow::Result;
use std::fmt;

/// A sigmoid layer whose mean activation is below this is saturated at 0 (Fig 2).
pub const SIGMOID_SATURATED_MEAN: f64 = 0.1;
/// A tanh/softsign layer whose 98th percentile reaches this is saturated at +-1 (Figs 3, 10).
pub const SATURATED_P98: f64 = 0.95;
/// |h| above this counts as saturated, and between 0.4 and it as the "knee" (Fig 4).
pub const SATURATED_ABS: f64 = 0.9;
pub const KNEE_ABS: f64 = 0.4;
/// Standard init must shrink the layer-to-layer ratio below this share of normalized's (Figs 6, 7).
pub const SHRINK_FACTOR: f64 = 0.75;
/// Weight-gradient std "about equal" across layers: max/min at most this (Fig 8).
pub const EQUAL_SPREAD: f64 = 3.0;
/// Jacobian mean singular value within this of the paper's value (§4.2.2).
pub const JACOBIAN_TOLERANCE: f64 = 0.1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Reproduced,
    NotReproduced,
    /// The runs it needs are not in this profile.
    NotRun,
    /// Table 1 with one seed per cell: no test possible.
    Untested,
    /// A picture with no quantitative claim (Fig 1).
    Illustration,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::NotRun => "not run at this profile",
            Verdict::Untested => "not tested (one seed per cell)",
            Verdict::Illustration => "illustration (no quantitative claim)",
        })
    }
}

pub struct Finding {
    /// `fig1`..`fig12`, `table1` or `sec4.2.2`.
    pub id: &'static str,
    pub claim: &'static str,
    pub rule: String,
    /// The measured numbers, one line each.
    pub measured: Vec<String>,
    pub verdict: Verdict,
}

/// Every claim, in the report's order.
pub fn findings(catalog: &Catalog) -> Result<Vec<Finding>> {
    let mut all = Vec::new();
    for target in Target::FIGURES.into_iter().chain([Target::Table1]) {
        all.push(finding(target.id(), target.requirement(catalog), || {
            measure(target, catalog)
        })?);
    }
    let jacobian_runs = jacobian_selectors();
    all.push(finding(
        "sec4.2.2",
        catalog.lowest_seeds(&jacobian_runs).map(|_| ()),
        || jacobian(catalog),
    )?);
    Ok(all)
}

struct Measurement {
    claim: &'static str,
    rule: String,
    measured: Vec<String>,
    verdict: Verdict,
}

fn finding(
    id: &'static str,
    requirement: Result<(), Missing>,
    measure: impl FnOnce() -> Result<Measurement>,
) -> Result<Finding> {
    let m = match requirement {
        Ok(()) => measure()?,
        Err(missing) => {
            let (claim, rule) = claim_and_rule(id);
            Measurement {
                claim,
                rule,
                measured: vec![missing.to_string()],
                verdict: Verdict::NotRun,
            }
        }
    };
    Ok(Finding {
        id,
        claim: m.claim,
        rule: m.rule,
        measured: m.measured,
        verdict: m.verdict,
    })
}

fn claim_and_rule(id: &str) -> (&'static str, String) {
    match id {
        "fig1" => (
            "Shapeset-3x2 images: one or two grey triangles, parallelograms or ellipses on a grey background.",
            "none: a picture".into(),
        ),
        "fig2" => (
            "Sigmoid, 4 hidden layers: the top hidden layer is driven to saturation at 0 early in \
             training while the lower layers stay near 0.5; it escapes only slowly (around epoch 100).",
            format!(
                "reproduced if the top layer's mean activation falls below {SIGMOID_SATURATED_MEAN} \
                 within the first epoch while layer 1's mean stays above 0.3 at that probe"
            ),
        ),
        "fig3" => (
            "Tanh, standard init: the layers saturate (98th percentile near +-1) one after another, \
             starting with layer 1; softsign does not saturate like this.",
            format!(
                "reproduced if tanh's layer 1 reaches p98 >= {SATURATED_P98}, at least 2 tanh layers \
                 do, in order from layer 1 upward (first-saturation steps non-decreasing), and \
                 fewer softsign layers do"
            ),
        ),
        "fig4" => (
            "At the end of training tanh activations pile up at -1, 0 and +1 (saturation), softsign \
             activations around the knees (+-0.6..0.8).",
            format!(
                "reproduced if the share of |h| > {SATURATED_ABS} (averaged over layers) is larger \
                 for tanh and the share of {KNEE_ABS} <= |h| <= {SATURATED_ABS} is larger for softsign"
            ),
        ),
        "fig5" => (
            "The quadratic cost has plateaus where the cross-entropy keeps a slope.",
            "reproduced if a larger share of the grid is plateau for the quadratic cost".into(),
        ),
        "fig6" => (
            "Tanh at initialization: with standard init the activations shrink toward 0 as depth \
             grows (the 0 peak grows); with normalized init they keep about the same spread.",
            format!(
                "ratio r = std(top layer) / std(layer 1) at step 0; reproduced if \
                 r_standard < {SHRINK_FACTOR} * r_normalized"
            ),
        ),
        "fig7" => (
            "Tanh at initialization: with standard init the back-propagated gradients dCost/ds get \
             smaller toward the input; with normalized init they stay about the same.",
            format!(
                "ratio g = std(dCost/ds, layer 1) / std(dCost/ds, top layer) at step 0; reproduced \
                 if g_standard < {SHRINK_FACTOR} * g_normalized"
            ),
        ),
        "fig8" => (
            "Just after initialization the weight gradients have about the same spread in every \
             layer, with either init.",
            format!(
                "spread = max/min over layers of std(dCost/dW) at step 0; reproduced if it is at \
                 most {EQUAL_SPREAD} for both inits"
            ),
        ),
        "fig9" => (
            "During training, with standard init the weight gradients get smaller in the higher \
             layers; normalized init keeps the same variance across layers.",
            "R = mean over probes after step 0 of std(dCost/dW, top) / std(dCost/dW, layer 1); \
             reproduced if R_standard < R_normalized and 0.5 <= R_normalized <= 2"
                .into(),
        ),
        "fig10" => (
            "Tanh with normalized init does not show the sequential saturation of Fig 3 (it looks \
             like softsign).",
            format!(
                "reproduced if fewer tanh layers ever reach p98 >= {SATURATED_P98} with normalized \
                 init than with standard init"
            ),
        ),
        "fig11" => (
            "On Shapeset, normalized init lowers tanh's test error (15.60% vs 27.15%) and sigmoid is \
             the worst (82.61%, chance level).",
            "reproduced if Tanh N ends below Tanh and, when sigmoid was run, Sigmoid ends worst".into(),
        ),
        "fig12" => (
            "On MNIST and CIFAR-10 the same holds in smaller measure: Tanh N beats Tanh \
             (1.64% vs 1.76%, 52.92% vs 55.9%).",
            "reproduced if, on every dataset with both, Tanh N ends below Tanh".into(),
        ),
        "table1" => (
            "The test errors of Table 1.",
            format!(
                "reproduced if no cell with >= 2 seeds differs from the paper's value (one-sample \
                 two-sided t test, p < {})",
                crate::table::ALPHA
            ),
        ),
        _ => (
            "Mean singular value of the layer-to-layer Jacobian at initialization (tanh): about 0.5 \
             with standard init, 0.8 with normalized init.",
            format!(
                "mean over layers 1..L-1 of stats/layer<k>/jacobian_sv_mean at step 0; reproduced \
                 if standard < normalized and each is within {JACOBIAN_TOLERANCE} of the paper's value"
            ),
        ),
    }
}

fn measure(target: Target, catalog: &Catalog) -> Result<Measurement> {
    let (claim, rule) = claim_and_rule(target.id());
    let runs = catalog.lowest_seeds(&target.selectors())?;
    let (measured, verdict) = match target {
        Target::Fig1 => (
            vec!["the sheet is drawn by data::shapeset::grid_png".into()],
            Verdict::Illustration,
        ),
        Target::Fig2 => fig2(runs[0])?,
        Target::Fig3 => fig3(runs[0], runs[1])?,
        Target::Fig4 => fig4(runs[0], runs[1])?,
        Target::Fig5 => fig5(),
        Target::Fig6 => depth_ratio(&runs, Quantity::Activation, false)?,
        Target::Fig7 => depth_ratio(&runs, Quantity::PreactGrad, true)?,
        Target::Fig8 => fig8(&runs)?,
        Target::Fig9 => fig9(&runs)?,
        Target::Fig10 => fig10(catalog, runs[0])?,
        Target::Fig11 | Target::Fig12 => error_order(catalog, target.datasets())?,
        Target::Table1 => table1(catalog)?,
        Target::Report => unreachable!("the report states claims, it is not one"),
    };
    Ok(Measurement {
        claim,
        rule,
        measured,
        verdict,
    })
}

type Outcome = (Vec<String>, Verdict);

fn verdict(pass: bool) -> Verdict {
    if pass {
        Verdict::Reproduced
    } else {
        Verdict::NotReproduced
    }
}

/// Three significant digits whatever the scale (activations ~0.3, gradients ~1e-5).
fn numbers(values: &[f64]) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| {
            if v.abs() < 1e-2 && *v != 0.0 {
                format!("{v:.2e}")
            } else {
                format!("{v:.3}")
            }
        })
        .collect();
    parts.join(", ")
}

fn name(run: &Run) -> String {
    format!("{} (seed {})", run.config.selector(), run.config.seed)
}

fn fig2(run: &Run) -> Result<Outcome> {
    let recording = run.open()?;
    let depth = run.config.hidden_layers;
    let top = recording.layer_stats(depth, Quantity::Activation)?;
    let bottom = recording.layer_stats(1, Quantity::Activation)?;
    let epoch = run.config.updates_per_epoch as f64;
    let mut measured = vec![
        format!("run: {}", name(run)),
        format!(
            "layer {depth} (top) mean activation at step 0: {:.3}",
            top.mean[0]
        ),
    ];
    let Some(first) = (0..top.mean.len()).find(|&i| top.mean[i] < SIGMOID_SATURATED_MEAN) else {
        let (lo, _) = crate::style::bounds(top.mean.iter().copied());
        measured.push(format!(
            "top layer never below {SIGMOID_SATURATED_MEAN} (lowest mean {lo:.3})"
        ));
        return Ok((measured, Verdict::NotReproduced));
    };
    measured.push(format!(
        "top-layer mean first below {SIGMOID_SATURATED_MEAN} at step {} ({:.3}; layer 1 mean there: {:.3})",
        top.step[first], top.mean[first], bottom.mean[first]
    ));
    measured.push(
        match (first..top.mean.len()).find(|&i| top.mean[i] >= SIGMOID_SATURATED_MEAN) {
            Some(i) => format!(
                "top layer back above {SIGMOID_SATURATED_MEAN} at step {} (epoch {:.1})",
                top.step[i],
                top.step[i] / epoch
            ),
            None => format!(
                "top layer still saturated after {} updates",
                run.config.updates
            ),
        },
    );
    let pass = top.step[first] <= epoch && bottom.mean[first] > 0.3;
    Ok((measured, verdict(pass)))
}

/// Per layer: the first probe step at which p98 >= SATURATED_P98, if any.
fn saturation_steps(run: &Run) -> Result<Vec<Option<f64>>> {
    let recording = run.open()?;
    (1..=run.config.hidden_layers)
        .map(|k| {
            let stats = recording.layer_stats(k, Quantity::Activation)?;
            Ok((0..stats.p98.len())
                .find(|&i| stats.p98[i] >= SATURATED_P98)
                .map(|i| stats.step[i]))
        })
        .collect()
}

fn describe_saturation(steps: &[Option<f64>]) -> String {
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

fn fig3(tanh: &Run, softsign: &Run) -> Result<Outcome> {
    let t = saturation_steps(tanh)?;
    let s = saturation_steps(softsign)?;
    let saturated: Vec<f64> = t.iter().flatten().copied().collect();
    // Sequential from layer 1: the saturated layers are a prefix 1..m in increasing time.
    let prefix = t.iter().take_while(|s| s.is_some()).count() == saturated.len();
    let ordered = saturated.windows(2).all(|w| w[0] <= w[1]);
    let softsign_count = s.iter().flatten().count();
    let pass = t[0].is_some()
        && saturated.len() >= 2
        && prefix
        && ordered
        && softsign_count < saturated.len();
    let measured = vec![
        format!("tanh {}: p98 >= {SATURATED_P98} first reached by {}", name(tanh), describe_saturation(&t)),
        format!("softsign {}: {}", name(softsign), describe_saturation(&s)),
        format!(
            "tanh saturated layers: {}, in order from layer 1: {}; softsign saturated layers: {softsign_count}",
            saturated.len(),
            prefix && ordered
        ),
    ];
    Ok((measured, verdict(pass)))
}

/// Mean over layers of the shares of |h| > SATURATED_ABS and KNEE_ABS <= |h| <= SATURATED_ABS.
fn end_shares(run: &Run) -> Result<(f64, f64)> {
    let recording = run.open()?;
    let step = Snapshot::End.step(run)?;
    let (mut saturated, mut knee) = (0.0, 0.0);
    let depth = run.config.hidden_layers;
    for k in 1..=depth {
        let values = recording.raw(step, k, Quantity::Activation)?;
        let n = values.len().max(1) as f64;
        let abs = || values.iter().map(|v| f64::from(v.abs()));
        saturated += abs().filter(|&a| a > SATURATED_ABS).count() as f64 / n;
        knee += abs()
            .filter(|&a| (KNEE_ABS..=SATURATED_ABS).contains(&a))
            .count() as f64
            / n;
    }
    Ok((saturated / depth as f64, knee / depth as f64))
}

fn fig4(tanh: &Run, softsign: &Run) -> Result<Outcome> {
    let (ts, tk) = end_shares(tanh)?;
    let (ss, sk) = end_shares(softsign)?;
    let measured = vec![
        format!(
            "tanh {}: saturated share {ts:.3}, knee share {tk:.3}",
            name(tanh)
        ),
        format!(
            "softsign {}: saturated share {ss:.3}, knee share {sk:.3}",
            name(softsign)
        ),
    ];
    Ok((measured, verdict(ts > ss && sk > tk)))
}

fn fig5() -> Outcome {
    let surface = cost_surface(SURFACE_SEED);
    let ce = plateau_fraction(&surface.cross_entropy);
    let quadratic = plateau_fraction(&surface.quadratic);
    let measured = vec![format!(
        "plateau share of the grid: cross-entropy {ce:.3}, quadratic {quadratic:.3} (seed {SURFACE_SEED})"
    )];
    (measured, verdict(quadratic > ce))
}

/// Per-layer std of a quantity at step 0.
fn init_stds(run: &Run, quantity: Quantity) -> Result<Vec<f64>> {
    let recording = run.open()?;
    (1..=run.config.hidden_layers)
        .map(|k| Ok(recording.layer_stats(k, quantity)?.std[0]))
        .collect()
}

/// Figs 6 and 7: std(top)/std(layer 1) (or its inverse) at init, standard vs normalized.
fn depth_ratio(runs: &[&Run], quantity: Quantity, bottom_over_top: bool) -> Result<Outcome> {
    let mut measured = Vec::new();
    let mut ratios = Vec::new();
    for run in runs {
        let stds = init_stds(run, quantity)?;
        let (first, last) = (stds[0], stds[stds.len() - 1]);
        let ratio = if bottom_over_top {
            first / last
        } else {
            last / first
        };
        measured.push(format!(
            "{} {}: std per layer at step 0 = [{}], ratio {ratio:.3}",
            run.config.init.id(),
            name(run),
            numbers(&stds)
        ));
        ratios.push(ratio);
    }
    Ok((measured, verdict(ratios[0] < SHRINK_FACTOR * ratios[1])))
}

fn fig8(runs: &[&Run]) -> Result<Outcome> {
    let mut measured = Vec::new();
    let mut pass = true;
    for run in runs {
        let stds = init_stds(run, Quantity::WeightGrad)?;
        let (lo, hi) = crate::style::bounds(stds.iter().copied());
        let spread = hi / lo;
        pass &= spread <= EQUAL_SPREAD;
        measured.push(format!(
            "{} {}: std(dCost/dW) per layer at step 0 = [{}], spread {spread:.2}",
            run.config.init.id(),
            name(run),
            stds.iter()
                .map(|v| format!("{v:.2e}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok((measured, verdict(pass)))
}

fn fig9(runs: &[&Run]) -> Result<Outcome> {
    let mut measured = Vec::new();
    let mut ratios = Vec::new();
    for run in runs {
        let recording = run.open()?;
        let bottom = recording.layer_stats(1, Quantity::WeightGrad)?;
        let top = recording.layer_stats(run.config.hidden_layers, Quantity::WeightGrad)?;
        let later: Vec<f64> = (1..top.std.len())
            .map(|i| top.std[i] / bottom.std[i])
            .collect();
        let ratio = crate::stats::mean(&later);
        measured.push(format!(
            "{} {}: R = {ratio:.3} over {} probes after step 0",
            run.config.init.id(),
            name(run),
            later.len()
        ));
        ratios.push(ratio);
    }
    let pass = ratios[0] < ratios[1] && (0.5..=2.0).contains(&ratios[1]);
    Ok((measured, verdict(pass)))
}

fn fig10(catalog: &Catalog, normalized: &Run) -> Result<Outcome> {
    let n = saturation_steps(normalized)?;
    let mut measured = vec![format!(
        "tanh normalized {}: {}",
        name(normalized),
        describe_saturation(&n)
    )];
    let standard = Selector::new(
        Dataset::Shapeset,
        Activation::Tanh,
        Init::Standard,
        PAPER_DEPTH,
    );
    let Some(standard_run) = catalog.seeds(&standard).first() else {
        measured.push(format!("needs run {standard} for the comparison"));
        return Ok((measured, Verdict::NotRun));
    };
    let s = saturation_steps(standard_run)?;
    measured.push(format!(
        "tanh standard {}: {}",
        name(standard_run),
        describe_saturation(&s)
    ));
    let (count_n, count_s) = (n.iter().flatten().count(), s.iter().flatten().count());
    measured.push(format!(
        "saturated layers: normalized {count_n}, standard {count_s}"
    ));
    Ok((measured, verdict(count_n < count_s)))
}

fn error_order(catalog: &Catalog, datasets: &[Dataset]) -> Result<Outcome> {
    let errors: Vec<_> = final_errors(catalog)?
        .into_iter()
        .filter(|e| {
            e.selector.hidden_layers == PAPER_DEPTH && datasets.contains(&e.selector.dataset)
        })
        .collect();
    let mut measured = Vec::new();
    let mut pass = true;
    let mut compared = false;
    for &dataset in datasets {
        let mut here: Vec<_> = errors
            .iter()
            .filter(|e| e.selector.dataset == dataset)
            .collect();
        if here.is_empty() {
            continue;
        }
        here.sort_by(|a, b| a.error_pct.mean.total_cmp(&b.error_pct.mean));
        let order: Vec<String> = here
            .iter()
            .map(|e| {
                format!(
                    "{} {:.2}% (n={})",
                    e.selector.short_name(),
                    e.error_pct.mean,
                    e.error_pct.n
                )
            })
            .collect();
        measured.push(format!("{}: {}", dataset.title(), order.join(" < ")));
        let mean_of = |a, i| {
            here.iter()
                .find(|e| e.selector.activation == a && e.selector.init == i)
                .map(|e| e.error_pct.mean)
        };
        if let (Some(n), Some(s)) = (
            mean_of(Activation::Tanh, Init::Normalized),
            mean_of(Activation::Tanh, Init::Standard),
        ) {
            compared = true;
            pass &= n < s;
        }
        if dataset == Dataset::Shapeset {
            if let Some(sigmoid) = mean_of(Activation::Sigmoid, Init::Standard) {
                pass &= here.iter().all(|e| e.error_pct.mean <= sigmoid);
            }
        }
    }
    if !compared {
        measured.push("needs both Tanh and Tanh N for the comparison".into());
        return Ok((measured, Verdict::NotRun));
    }
    Ok((measured, verdict(pass)))
}

fn table1(catalog: &Catalog) -> Result<Outcome> {
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
    let v = if tested == 0 {
        Verdict::Untested
    } else {
        verdict(differing == 0)
    };
    measured.push(format!(
        "{differing} of {tested} tested cells differ significantly"
    ));
    Ok((measured, v))
}

fn jacobian_selectors() -> Vec<Selector> {
    Init::ALL
        .iter()
        .map(|&i| Selector::new(Dataset::Shapeset, Activation::Tanh, i, PAPER_DEPTH))
        .collect()
}

fn jacobian(catalog: &Catalog) -> Result<Measurement> {
    let (claim, rule) = claim_and_rule("sec4.2.2");
    let runs = catalog.lowest_seeds(&jacobian_selectors())?;
    let mut measured = Vec::new();
    let mut values = Vec::new();
    for run in &runs {
        let recording = run.open()?;
        let per_layer = (1..run.config.hidden_layers)
            .map(|k| Ok(recording.jacobian_sv_mean(k)?[0]))
            .collect::<Result<Vec<f64>>>()?;
        let value = crate::stats::mean(&per_layer);
        measured.push(format!(
            "{} {}: per layer [{}], mean {value:.3}",
            run.config.init.id(),
            name(run),
            numbers(&per_layer)
        ));
        values.push(value);
    }
    let (standard, normalized) = (values[0], values[1]);
    if !(standard.is_finite() && normalized.is_finite()) {
        measured.push("no Jacobian singular values recorded (jacobian_examples = 0?)".into());
        return Ok(Measurement {
            claim,
            rule,
            measured,
            verdict: Verdict::NotRun,
        });
    }
    measured.push(format!(
        "paper: standard {}, normalized {}",
        paper::JACOBIAN_SV_STANDARD,
        paper::JACOBIAN_SV_NORMALIZED
    ));
    let pass = standard < normalized
        && (standard - paper::JACOBIAN_SV_STANDARD).abs() <= JACOBIAN_TOLERANCE
        && (normalized - paper::JACOBIAN_SV_NORMALIZED).abs() <= JACOBIAN_TOLERANCE;
    Ok(Measurement {
        claim,
        rule,
        measured,
        verdict: verdict(pass),
    })
}
