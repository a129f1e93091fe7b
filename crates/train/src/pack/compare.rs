//! Compares two `run.h5` recordings of the same run (a pack's model and a single run, or
//! one device against another): the same attributes, the same datasets and shapes, and
//! every number within a stated tolerance. `train-pack compare` and the GPU check
//! use it; the first mismatch is the error.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use hdf5::types::VarLenUnicode;
use spec::layout::{attr, Quantity};

/// How close two recordings must be.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// Each value within `relative` x the largest magnitude of its dataset, or for a probed
    /// quantity's summaries of all its summaries (so values near zero, such as a
    /// gradient's mean or a median activation, are judged on their quantity's scale).
    pub relative: f64,
    /// Histogram counts may move between neighbouring bins: the summed absolute count
    /// difference of a row, as a fraction of the row's values. Also the fraction of test
    /// predictions that may differ.
    pub histogram: f64,
}

impl Tolerance {
    /// Pack against single run on the CPU: exact. Both take the same step on the pinned
    /// kernel path, and each model's GEMM is its own (`tests/pack_exact.rs` asserts the bytes).
    pub const CPU: Tolerance = Tolerance {
        relative: 0.0,
        histogram: 0.0,
    };
    /// One model of a GPU pack against the same run alone on the GPU, after a longer
    /// run: float summation differences grow along the trajectory.
    pub const GPU: Tolerance = Tolerance {
        relative: 1e-2,
        histogram: 2e-2,
    };
}

/// Ok when `a` and `b` agree as [`Tolerance`] states; the error names the first dataset
/// and index that does not.
pub fn compare(a: &Path, b: &Path, tolerance: Tolerance) -> Result<()> {
    let (fa, fb) = (open(a)?, open(b)?);
    for name in [attr::CONFIG, attr::DEVICE, attr::STATUS] {
        let (va, vb) = (text_attr(&fa, name)?, text_attr(&fb, name)?);
        ensure!(va == vb, "attribute {name} differs: {va} vs {vb}");
    }
    same_values(&fa, &fb, tolerance)
}

/// [`compare`] without the attributes: only the numbers (for two runs whose configs are
/// known to differ, such as a deliberately wrong one).
pub fn compare_values(a: &Path, b: &Path, tolerance: Tolerance) -> Result<()> {
    same_values(&open(a)?, &open(b)?, tolerance)
}

fn open(path: &Path) -> Result<hdf5::File> {
    hdf5::File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

fn same_values(fa: &hdf5::File, fb: &hdf5::File, tolerance: Tolerance) -> Result<()> {
    let (da, db) = (datasets(fa, "")?, datasets(fb, "")?);
    ensure!(da == db, "the datasets differ: {da:?} vs {db:?}");
    let scales = spreads(fb, &db)?;
    for name in &da {
        let (xa, xb) = (fa.dataset(name)?, fb.dataset(name)?);
        ensure!(
            xa.shape() == xb.shape(),
            "{name}: shape {:?} vs {:?}",
            xa.shape(),
            xb.shape()
        );
        let (va, vb) = (xa.read_raw::<f64>()?, xb.read_raw::<f64>()?);
        if name.ends_with("/hist") {
            let row = xa.shape().last().copied().unwrap_or(1).max(1);
            histograms(name, &va, &vb, row, tolerance.histogram)?;
        } else if name == spec::layout::PREDICTIONS_TEST {
            predictions(name, &va, &vb, tolerance.histogram)?;
        } else {
            let scale = scales
                .get(parent(name))
                .copied()
                .unwrap_or_else(|| largest(&vb));
            values(name, &va, &vb, tolerance.relative, scale)?;
        }
    }
    Ok(())
}

/// The scale of each probed quantity (`stats/layer<k>/<q>`): the largest magnitude among
/// its summaries. A median or mean near zero is judged on its quantity's spread, not on
/// its own size (a tanh layer's median activation is ~0.02 while values span +-1).
fn spreads(file: &hdf5::File, names: &[String]) -> Result<BTreeMap<String, f64>> {
    let mut scales = BTreeMap::new();
    let summaries = names.iter().filter(|n| {
        let group = parent(n);
        Quantity::ALL.iter().any(|q| group.ends_with(q.id())) && !n.ends_with("/hist")
    });
    for name in summaries {
        let values = file.dataset(name)?.read_raw::<f64>()?;
        let scale = scales.entry(parent(name).to_string()).or_insert(0.0f64);
        *scale = scale.max(largest(&values));
    }
    Ok(scales)
}

fn parent(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(group, _)| group)
}

fn largest(values: &[f64]) -> f64 {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()))
}

fn text_attr(file: &hdf5::File, name: &str) -> Result<String> {
    let value: VarLenUnicode = file
        .attr(name)
        .and_then(|a| a.read_scalar())
        .with_context(|| format!("attribute {name}"))?;
    Ok(value.as_str().to_string())
}

/// Every dataset's path under `group`, sorted.
fn datasets(group: &hdf5::Group, prefix: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for dataset in group.datasets()? {
        names.push(format!("{prefix}{}", leaf(&dataset.name())));
    }
    for child in group.groups()? {
        let path = format!("{prefix}{}/", leaf(&child.name()));
        names.extend(datasets(&child, &path)?);
    }
    names.sort();
    Ok(names)
}

fn leaf(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

fn values(name: &str, a: &[f64], b: &[f64], relative: f64, scale: f64) -> Result<()> {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let same = (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= relative * scale;
        if !same {
            bail!("{name}[{i}]: {x} vs {y} (tolerance {relative} x {scale:e})");
        }
    }
    Ok(())
}

/// Predicted classes: examples near a decision boundary may flip, as histogram counts may
/// move between bins; at most `fraction` of them may differ.
fn predictions(name: &str, a: &[f64], b: &[f64], fraction: f64) -> Result<()> {
    let differ = a.iter().zip(b).filter(|(x, y)| x != y).count();
    if differ as f64 > fraction * b.len() as f64 {
        bail!(
            "{name}: {differ} of {} predictions differ (tolerance {fraction})",
            b.len()
        );
    }
    Ok(())
}

fn histograms(name: &str, a: &[f64], b: &[f64], row: usize, fraction: f64) -> Result<()> {
    for (i, (ra, rb)) in a.chunks(row).zip(b.chunks(row)).enumerate() {
        let moved: f64 = ra.iter().zip(rb).map(|(x, y)| (x - y).abs()).sum();
        let total: f64 = rb.iter().sum();
        if moved > fraction * total {
            bail!("{name} row {i}: {moved} of {total} counts differ (tolerance {fraction})");
        }
    }
    Ok(())
}
