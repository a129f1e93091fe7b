//! "A is better than B", the one comparison behind every such claim (Figs 11 and 12, Table 1's
//! init comparisons, ext-he). Its primary test is over seeds, the unit of replication: the
//! per-seed differences of final test error, paired by seed, by a paired t test (with the
//! exact sign-flip p beside it). It is made only on equal footing:
//!
//! - both nets left chance (`gate`), else "not tested at this scale";
//! - two inits of one activation trained at the same learning rate, else no comparison (the
//!   rate would be confounded with the init);
//! - at least two seeds ran both.
//!
//! McNemar's test on the pooled test examples is kept beside it, labelled for what it is: a
//! statement about these trained networks, not about the configurations.

use crate::gate::gate;
use crate::paired::{paired_test, PairedTest, Passes, SeedPass};
use crate::stats::{seed_test, seeds_needed, SeedTest};
use crate::verdict::Part;
use anyhow::Result;
use spec::Selector;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Level of the test over seeds (two-sided).
pub const SEED_ALPHA: f64 = 0.05;

/// What the comparison of `first` with `second` concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `first` has significantly lower error over seeds.
    Better,
    Worse,
    NoDifference,
    /// A net has not left chance: not tested at this scale.
    AtChance,
    /// No test was possible (no passes, different rates, fewer than two paired seeds).
    Untestable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub first: Selector,
    pub second: Selector,
    pub outcome: Outcome,
    /// Over seeds, in percentage points (first - second); None when not tested.
    pub test: Option<SeedTest>,
    /// McNemar on the seeds' pooled test examples (`only_first`: only `first` right), whenever
    /// both have final passes, tested or not: a statement about these trained nets only.
    pub mcnemar: Option<PairedTest>,
    /// Seed -> (first, second) final test error (%).
    pub per_seed: BTreeMap<u64, (f64, f64)>,
    /// What was measured, one line each: the gate, the seed test, McNemar.
    pub lines: Vec<String>,
}

impl Comparison {
    /// The claim "first is better than second" as a part of a verdict.
    pub fn part(&self) -> Part {
        match self.outcome {
            Outcome::Better => Part::Pass,
            Outcome::Worse | Outcome::NoDifference => Part::Fail,
            Outcome::AtChance => Part::NotAtScale,
            Outcome::Untestable => Part::Untested,
        }
    }

    pub fn names(&self) -> String {
        format!(
            "{} vs {}",
            self.first.short_name(),
            self.second.short_name()
        )
    }
}

/// Compares `first` with `second`; `gated` are the nets that must have left chance (both,
/// unless a claim says one of them sits at chance, as sigmoid does on Shapeset).
pub fn compare(
    passes: &mut Passes<'_>,
    first: &Selector,
    second: &Selector,
    gated: &[Selector],
) -> Result<Comparison> {
    let mut c = Comparison {
        first: *first,
        second: *second,
        outcome: Outcome::Untestable,
        test: None,
        mcnemar: None,
        per_seed: BTreeMap::new(),
        lines: Vec::new(),
    };
    let names = c.names();
    let pair = passes.both(first, second)?;
    let paired = pair.is_some();
    c.mcnemar = pair.and_then(|(a, b)| paired_test(a, b));
    c.per_seed = pair.map(|(a, b)| paired_errors(a, b)).unwrap_or_default();
    let rates = (rate(passes, first), rate(passes, second));
    // Two inits of one activation: the rate must be equal, or it is confounded with the init.
    // Two activations each train at their own selected rate, as the paper's Table 1 did.
    if let (Some(a), Some(b), true) = (rates.0, rates.1, first.activation == second.activation) {
        if a != b {
            c.lines.push(format!(
                "{names}: trained at different learning rates ({a} vs {b}): not compared, the \
                 rate would be confounded with the init"
            ));
            return Ok(c);
        }
    }
    let gate = gate(passes, gated)?;
    if !gate.open {
        c.outcome = Outcome::AtChance;
        c.lines
            .extend(gate.lines.iter().map(|l| format!("{names}: {l}")));
        return Ok(c);
    }
    if !paired {
        c.lines
            .push(format!("{names}: no final test passes to pair, no test"));
        return Ok(c);
    }
    let differences: Vec<f64> = c.per_seed.values().map(|(x, y)| x - y).collect();
    let Some(test) = seed_test(&differences, SEED_ALPHA) else {
        c.lines.push(format!(
            "{names}: {} seed(s) ran both: no test over seeds",
            differences.len()
        ));
        return Ok(c);
    };
    c.outcome = if test.t_p >= SEED_ALPHA {
        Outcome::NoDifference
    } else if test.mean < 0.0 {
        Outcome::Better
    } else {
        Outcome::Worse
    };
    c.lines.push(seed_line(&names, &test, c.outcome));
    if let Some(t) = c.mcnemar {
        c.lines.push(format!(
            "{names}, about these trained networks only (McNemar on the {} seed(s)' pooled test \
             examples, not a test of the configurations): {} vs {} examples right only by one, \
             p = {:.2e}",
            t.seeds, t.only_first, t.only_second, t.p
        ));
    }
    c.test = Some(test);
    Ok(c)
}

/// The final runs' learning rate of `selector` (all its seeds share it).
fn rate(passes: &Passes<'_>, selector: &Selector) -> Option<f64> {
    passes
        .catalog()
        .seeds(selector)
        .first()
        .map(|r| r.params().lr)
}

/// Seed -> (error of a, error of b), in percent, over the seeds both ran.
fn paired_errors(a: &[SeedPass], b: &[SeedPass]) -> BTreeMap<u64, (f64, f64)> {
    a.iter()
        .filter_map(|x| {
            let y = b.iter().find(|y| y.seed == x.seed)?;
            Some((x.seed, (100.0 * x.error(), 100.0 * y.error())))
        })
        .collect()
}

/// "Tanh N vs Tanh: -3.10 points [95%: -5.20, -1.00] over 3 seeds (-2.90, -3.50, -2.90),
/// paired t p = 0.012, sign-flip p = 0.25 (its floor with 3 seeds): better at p < 0.05".
fn seed_line(names: &str, test: &SeedTest, outcome: Outcome) -> String {
    let n = test.differences.len();
    let mut per_seed = String::new();
    for (i, d) in test.differences.iter().enumerate() {
        let _ = write!(per_seed, "{}{d:+.2}", if i == 0 { "" } else { ", " });
    }
    let word = match outcome {
        Outcome::Better => "better",
        Outcome::Worse => "worse",
        _ => "no significant difference",
    };
    format!(
        "{names}, over seeds (the test of the configurations): {:+.2} points [95%: {:+.2}, \
         {:+.2}] over {n} seeds ({per_seed}), paired t p {}, exact sign-flip p = {:.3} \
         (its floor with {n} seeds: {:.3}): {word} at p < {SEED_ALPHA}",
        test.mean,
        test.interval.low,
        test.interval.high,
        p_is(test.t_p),
        test.sign_flip_p,
        2.0 / f64::powi(2.0, n as i32)
    )
}

/// A p-value as REPORT prints it: three decimals, or "< 0.001".
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// "= 0.020" or "< 0.001": a p-value in a sentence.
pub fn p_is(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("= {p:.3}")
    }
}

/// How many seeds a paired t test at [`SEED_ALPHA`] needs to detect the paper's gap (points;
/// `paper_gap`, first better by that much) with 80% power, at the spread of the per-seed
/// differences measured here.
pub fn power_line(c: &Comparison, paper_gap: Option<f64>) -> Option<String> {
    let (test, gap) = (c.test.as_ref()?, paper_gap?);
    let sd = crate::stats::sample_std(&test.differences);
    let needed = seeds_needed(gap, sd, SEED_ALPHA, 0.8)
        .map_or_else(|| "more than 10,000".to_string(), |n| n.to_string());
    Some(format!(
        "{}: to detect the paper's gap of {gap:.2} points at p < {SEED_ALPHA} with 80% power, at \
         the spread measured here (sd of the per-seed differences {sd:.2} points), takes {needed} \
         seeds ({} ran)",
        c.names(),
        test.differences.len()
    ))
}
