//! Aggregations over runs, done with polars: final test error per config over seeds
//! (Table 1, Fig 11/12 legends, REPORT) and test-error curves per step over seeds (Fig 11/12).

use crate::runs::{Catalog, Run};
use crate::stats::Summary;
use anyhow::{Context, Result};
use polars::prelude::*;
use spec::{Activation, Dataset, Init, Selector};

/// Final test error (%) over the seeds of one selector.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalError {
    pub selector: Selector,
    pub error_pct: Summary,
    /// Updates each seed was trained for.
    pub updates: u64,
}

/// One row per run: its selector, seed, and the test error (%) at its last probe.
pub fn final_errors_frame(catalog: &Catalog) -> Result<DataFrame> {
    let runs: Vec<&Run> = catalog.runs().collect();
    let mut error_pct = Vec::with_capacity(runs.len());
    for run in &runs {
        let history = run.open()?.history()?;
        let last = history
            .test_error
            .last()
            .with_context(|| format!("{}: empty history/test_error", run.path.display()))?;
        error_pct.push(last * 100.0);
    }
    let column = |f: fn(&Run) -> &'static str| runs.iter().map(|r| f(r)).collect::<Vec<_>>();
    let numbers = |f: fn(&Run) -> u64| runs.iter().map(|r| f(r)).collect::<Vec<_>>();
    let frame = df!(
        "dataset" => column(|r| r.params().dataset.id()),
        "activation" => column(|r| r.params().activation.id()),
        "init" => column(|r| r.params().init.id()),
        "hidden_layers" => numbers(|r| r.hidden_layers() as u64),
        "seed" => numbers(|r| r.params().seed),
        "updates" => numbers(|r| r.params().updates),
        "test_error_pct" => error_pct,
    )?;
    Ok(frame)
}

/// Mean, sample std (ddof 1) and count of the final test error per selector.
pub fn final_errors(catalog: &Catalog) -> Result<Vec<FinalError>> {
    let keys = ["dataset", "activation", "init", "hidden_layers"];
    let summary = final_errors_frame(catalog)?
        .lazy()
        .group_by(keys.map(col))
        .agg([
            col("test_error_pct").mean().alias("mean"),
            col("test_error_pct").std(1).alias("std"),
            col("test_error_pct").count().alias("n"),
            col("updates").max().alias("updates"),
        ])
        .sort(keys, SortMultipleOptions::default())
        .collect()?;
    let datasets = strings(&summary, "dataset")?;
    let activations = strings(&summary, "activation")?;
    let inits = strings(&summary, "init")?;
    let layers = floats(&summary, "hidden_layers")?;
    let (means, stds) = (floats(&summary, "mean")?, floats(&summary, "std")?);
    let (counts, updates) = (floats(&summary, "n")?, floats(&summary, "updates")?);
    (0..summary.height())
        .map(|i| {
            Ok(FinalError {
                selector: Selector::new(
                    parse(&datasets[i], Dataset::ALL, Dataset::id)?,
                    parse(&activations[i], Activation::ALL, Activation::id)?,
                    parse(&inits[i], Init::ALL, Init::id)?,
                    layers[i] as usize,
                ),
                error_pct: Summary {
                    mean: means[i],
                    std: stds[i],
                    n: counts[i] as usize,
                },
                updates: updates[i] as u64,
            })
        })
        .collect()
}

/// Test error (%) per probe step over seeds: mean, sample std (NaN for one seed), count.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub step: Vec<f64>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub n: Vec<usize>,
}

pub fn error_curve(seeds: &[Run]) -> Result<Curve> {
    let (mut step, mut error_pct, mut seed) =
        (Vec::<f64>::new(), Vec::<f64>::new(), Vec::<u64>::new());
    for run in seeds {
        let history = run.open()?.history()?;
        step.extend(&history.step);
        error_pct.extend(history.test_error.iter().map(|e| e * 100.0));
        seed.extend(std::iter::repeat_n(run.params().seed, history.step.len()));
    }
    let curve = df!("seed" => seed, "step" => step, "test_error_pct" => error_pct)?
        .lazy()
        .group_by([col("step")])
        .agg([
            col("test_error_pct").mean().alias("mean"),
            col("test_error_pct").std(1).alias("std"),
            col("seed").count().alias("n"),
        ])
        .sort(["step"], SortMultipleOptions::default())
        .collect()?;
    Ok(Curve {
        step: floats(&curve, "step")?,
        mean: floats(&curve, "mean")?,
        std: floats(&curve, "std")?,
        n: floats(&curve, "n")?.iter().map(|&n| n as usize).collect(),
    })
}

/// A numeric column as f64, nulls (e.g. std of one value) as NaN.
fn floats(frame: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

fn strings(frame: &DataFrame, name: &str) -> Result<Vec<String>> {
    let column = frame.column(name)?;
    Ok(column
        .str()?
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect())
}

fn parse<T: Copy, const N: usize>(
    id: &str,
    all: [T; N],
    id_of: fn(T) -> &'static str,
) -> Result<T> {
    all.into_iter()
        .find(|&x| id_of(x) == id)
        .with_context(|| format!("unknown id {id:?}"))
}
