//! `dataset.h5`: the one file format every dataset stage writes and `train` reads. Written
//! without object timestamps, so the same data gives the same bytes.
//!
//! Layout (see ARCHITECTURE.md):
//! - groups `train` (optional: Shapeset has none), `valid`, `test`, each with
//!   `x`: u8 `[N, D]` row-major and `y`: u8 `[N]`;
//! - root attributes `dataset` (string), `sources` (JSON string: file name -> sha256),
//!   `decoder` (string), `classes` (u32), `dim` (u32).
//!
//! Strings are variable-length UTF-8 so h5py reads them as `str`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use hdf5::types::VarLenUnicode;
use ndarray::ArrayView2;

use crate::h5::{array, group, write_atomic, write_str_attr};

/// One split: `n` examples, `x` is `n * dim` bytes row-major, `y` is `n` labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub x: Vec<u8>,
    pub y: Vec<u8>,
    pub n: usize,
}

impl Split {
    /// A split from its pixel bytes and labels; `n` is the number of labels.
    pub fn new(x: Vec<u8>, y: Vec<u8>) -> Split {
        let n = y.len();
        Split { x, y, n }
    }

    /// The pixels of example `i`.
    pub fn row(&self, i: usize, dim: usize) -> &[u8] {
        &self.x[i * dim..(i + 1) * dim]
    }

    /// Splits into the first `head` examples and the rest (e.g. MNIST train/valid).
    pub fn split_at(mut self, head: usize, dim: usize) -> Result<(Split, Split)> {
        ensure!(
            head <= self.n,
            "cannot take {head} examples from a split of {}",
            self.n
        );
        let tail_x = self.x.split_off(head * dim);
        let tail_y = self.y.split_off(head);
        Ok((Split::new(self.x, self.y), Split::new(tail_x, tail_y)))
    }

    fn check(&self, split: &str, dim: usize, classes: usize) -> Result<()> {
        ensure!(
            self.y.len() == self.n,
            "{split}: {} labels for n = {}",
            self.y.len(),
            self.n
        );
        ensure!(
            self.x.len() == self.n * dim,
            "{split}: {} pixel bytes, expected n * dim = {} * {dim}",
            self.x.len(),
            self.n
        );
        if let Some((i, &label)) = self
            .y
            .iter()
            .enumerate()
            .find(|(_, &l)| usize::from(l) >= classes)
        {
            bail!("{split}: label {label} at row {i} is not below classes = {classes}");
        }
        Ok(())
    }
}

/// A whole dataset as stored in `dataset.h5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    pub dim: usize,
    pub classes: usize,
    pub train: Option<Split>,
    pub valid: Split,
    pub test: Split,
    /// Source file name -> sha256: what the arrays were decoded from (for `fetch`, the
    /// same map as the store key's inputs: published files, or unpinned members by their own hash).
    pub sources: BTreeMap<String, String>,
    /// Identity of the decoder that produced the arrays.
    pub decoder: String,
}

impl Dataset {
    /// Checks that every split agrees with `dim` and `classes`.
    pub fn validate(&self) -> Result<()> {
        ensure!(self.dim > 0, "dim must be positive");
        ensure!(
            (1..=256).contains(&self.classes),
            "classes = {} must be in 1..=256 (labels are u8)",
            self.classes
        );
        for (split, data) in self.splits() {
            data.check(split, self.dim, self.classes)?;
        }
        Ok(())
    }

    /// The splits present, with their group names.
    pub fn splits(&self) -> Vec<(&'static str, &Split)> {
        let mut out = Vec::new();
        if let Some(train) = &self.train {
            out.push(("train", train));
        }
        out.push(("valid", &self.valid));
        out.push(("test", &self.test));
        out
    }
}

/// Writes `ds` to `path` atomically: built in memory, written to a temp file in the same
/// directory, renamed into place (`crate::h5::NewFile`).
pub fn write_h5(path: &Path, ds: &Dataset) -> Result<()> {
    ds.validate()
        .with_context(|| format!("refusing to write invalid dataset {}", ds.name))?;
    write_atomic(path, |file| fill(file, ds))
}

fn fill(file: &hdf5::File, ds: &Dataset) -> Result<()> {
    write_str_attr(file, "dataset", &ds.name)?;
    write_str_attr(file, "sources", &serde_json::to_string(&ds.sources)?)?;
    write_str_attr(file, "decoder", &ds.decoder)?;
    let classes = u32::try_from(ds.classes)?;
    let dim = u32::try_from(ds.dim)?;
    file.new_attr::<u32>()
        .create("classes")?
        .write_scalar(&classes)?;
    file.new_attr::<u32>().create("dim")?.write_scalar(&dim)?;
    for (name, split) in ds.splits() {
        let split_group = group(file, name)?;
        let x = ArrayView2::from_shape((split.n, ds.dim), &split.x)?;
        array(&split_group, "x", x)?;
        array(&split_group, "y", split.y.as_slice())?;
    }
    Ok(())
}

/// Reads and validates a `dataset.h5`; every layout problem is a one-line error naming the file.
pub fn read_h5(path: &Path) -> Result<Dataset> {
    read_h5_unchecked(path).with_context(|| format!("bad dataset file {}", path.display()))
}

fn read_h5_unchecked(path: &Path) -> Result<Dataset> {
    let file = hdf5::File::open(path)?;
    let sources = read_str_attr(&file, "sources")?;
    let sources: BTreeMap<String, String> = serde_json::from_str(&sources)
        .context("attribute sources is not a JSON object of strings")?;
    let dim = read_u32_attr(&file, "dim")? as usize;
    let classes = read_u32_attr(&file, "classes")? as usize;
    let train = if file.link_exists("train") {
        Some(read_split(&file, "train", dim)?)
    } else {
        None
    };
    let ds = Dataset {
        name: read_str_attr(&file, "dataset")?,
        dim,
        classes,
        train,
        valid: read_split(&file, "valid", dim)?,
        test: read_split(&file, "test", dim)?,
        sources,
        decoder: read_str_attr(&file, "decoder")?,
    };
    ds.validate()?;
    Ok(ds)
}

fn read_str_attr(file: &hdf5::File, name: &str) -> Result<String> {
    let attr = file
        .attr(name)
        .with_context(|| format!("missing attribute {name}"))?;
    let value: VarLenUnicode = attr
        .read_scalar()
        .with_context(|| format!("attribute {name} is not a scalar UTF-8 string"))?;
    Ok(value.as_str().to_owned())
}

fn read_u32_attr(file: &hdf5::File, name: &str) -> Result<u32> {
    let attr = file
        .attr(name)
        .with_context(|| format!("missing attribute {name}"))?;
    ensure!(
        attr.is_scalar() && attr.dtype()?.is::<u32>(),
        "attribute {name} is not a scalar u32"
    );
    Ok(attr.read_scalar()?)
}

fn read_split(file: &hdf5::File, name: &str, dim: usize) -> Result<Split> {
    let group = file
        .group(name)
        .with_context(|| format!("missing group {name}"))?;
    let x = read_u8(&group, name, "x")?;
    let y = read_u8(&group, name, "y")?;
    let n = y.shape()[0];
    ensure!(
        y.ndim() == 1,
        "{name}/y has shape {:?}, expected [N]",
        y.shape()
    );
    ensure!(
        x.shape() == [n, dim],
        "{name}/x has shape {:?}, expected [{n}, {dim}]",
        x.shape()
    );
    Ok(Split::new(x.read_raw()?, y.read_raw()?))
}

fn read_u8(group: &hdf5::Group, split: &str, name: &str) -> Result<hdf5::Dataset> {
    let data = group
        .dataset(name)
        .with_context(|| format!("missing dataset {split}/{name}"))?;
    ensure!(
        data.dtype()?.is::<u8>(),
        "{split}/{name} is not u8 (dtype {:?})",
        data.dtype()?.to_descriptor()?
    );
    ensure!(data.ndim() >= 1, "{split}/{name} is a scalar");
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Dataset {
        let dim = 3;
        let split = |n: usize, seed: u8| {
            let x = (0..n * dim)
                .map(|i| (i as u8).wrapping_mul(7) ^ seed)
                .collect();
            let y = (0..n).map(|i| (i % 4) as u8).collect();
            Split::new(x, y)
        };
        Dataset {
            name: "toy".into(),
            dim,
            classes: 4,
            train: Some(split(5, 1)),
            valid: split(2, 2),
            test: split(3, 3),
            sources: [("a.gz".to_string(), "ab".repeat(32))].into(),
            decoder: "toy-decoder-v1 é".into(),
        }
    }

    #[test]
    fn round_trip_with_and_without_train() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset.h5");
        let mut ds = sample();
        write_h5(&path, &ds).unwrap();
        assert_eq!(read_h5(&path).unwrap(), ds);
        let first = std::fs::read(&path).unwrap();
        write_h5(&path, &ds).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            first,
            "output is not byte-stable"
        );
        ds.train = None;
        write_h5(&path, &ds).unwrap();
        assert_eq!(read_h5(&path).unwrap(), ds);
        // Only the final file is left: the temp file was renamed, not copied.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn invalid_dataset_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset.h5");
        let mut ds = sample();
        ds.test.y[1] = 9;
        let err = format!("{:#}", write_h5(&path, &ds).unwrap_err());
        assert!(err.contains("label 9 at row 1"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn wrong_dtype_and_shape_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.h5");
        write_h5(&path, &sample()).unwrap();
        {
            let file = hdf5::File::open_rw(&path).unwrap();
            file.unlink("valid/y").unwrap();
            let group = file.group("valid").unwrap();
            group
                .new_dataset_builder()
                .with_data(&[1u16, 2])
                .create("y")
                .unwrap();
        }
        let err = format!("{:#}", read_h5(&path).unwrap_err());
        assert!(err.contains("valid/y is not u8"), "{err}");

        write_h5(&path, &sample()).unwrap();
        {
            let file = hdf5::File::open_rw(&path).unwrap();
            file.attr("dim").unwrap().write_scalar(&4u32).unwrap();
        }
        let err = format!("{:#}", read_h5(&path).unwrap_err());
        assert!(
            err.contains("train/x has shape [5, 3], expected [5, 4]"),
            "{err}"
        );
    }

    #[test]
    fn split_at_keeps_order() {
        let ds = sample();
        let (head, tail) = ds.train.clone().unwrap().split_at(3, ds.dim).unwrap();
        let train = ds.train.unwrap();
        assert_eq!((head.n, tail.n), (3, 2));
        assert_eq!(tail.row(0, ds.dim), train.row(3, ds.dim));
        assert_eq!(head.y, train.y[..3]);
    }
}
