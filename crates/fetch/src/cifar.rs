//! CIFAR-10 binary records and the official CIFAR-10 sets read from its batch files.
//!
//! A record is 1 label byte followed by 3072 pixel bytes: 1024 red, 1024 green, 1024 blue,
//! each a 32x32 row-major plane. `x` keeps that channel-major (CHW) order unchanged, so
//! row `i` of `x` is record `i` without its label byte.

use std::collections::BTreeMap;

use anyhow::{ensure, Context, Result};

use crate::manifest::{Manifest, Part};
use spec::dataset_h5::Split;

pub const DIM: usize = 3 * 32 * 32;
pub const RECORD_BYTES: usize = 1 + DIM;
pub const CLASSES: u8 = 10;

/// Decodes a batch of records into a split.
pub fn records(bytes: &[u8]) -> Result<Split> {
    let n = bytes.len() / RECORD_BYTES;
    ensure!(
        n * RECORD_BYTES == bytes.len(),
        "{} bytes is not a whole number of {RECORD_BYTES}-byte records",
        bytes.len()
    );
    let mut x = Vec::with_capacity(n * DIM);
    let mut y = Vec::with_capacity(n);
    for (i, record) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        ensure!(
            record[0] < CLASSES,
            "record {i} has label {}, expected 0..{CLASSES}",
            record[0]
        );
        y.push(record[0]);
        x.extend_from_slice(&record[1..]);
    }
    Ok(Split::new(x, y))
}

/// The official training and test sets from the verified batch members (keyed by member
/// name): the training batches in manifest order, then the test batches.
pub fn official_sets(
    manifest: &Manifest,
    members: &BTreeMap<String, Vec<u8>>,
) -> Result<(Split, Split)> {
    ensure!(
        manifest.dim == DIM,
        "CIFAR-10 records have {DIM} pixels, manifest says dim = {}",
        manifest.dim
    );
    let concat = |part: Part| -> Result<Split> {
        let mut all = Split::new(Vec::new(), Vec::new());
        for (_, member) in manifest.members().filter(|(_, m)| m.part == part) {
            let bytes = members
                .get(&member.name)
                .with_context(|| format!("{} was not loaded", member.name))?;
            let batch = records(bytes).with_context(|| member.name.clone())?;
            all.x.extend(batch.x);
            all.y.extend(batch.y);
            all.n += batch.n;
        }
        Ok(all)
    };
    Ok((concat(Part::TrainRecords)?, concat(Part::TestRecords)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_chw_order_and_labels() {
        let mut bytes = Vec::new();
        for label in [3u8, 9] {
            bytes.push(label);
            // red plane = label, green = 100 + label, blue = 200 + label
            for channel in 0..3u8 {
                bytes.extend(std::iter::repeat_n(channel * 100 + label, 1024));
            }
        }
        let split = records(&bytes).unwrap();
        assert_eq!((split.n, split.y.clone()), (2, vec![3, 9]));
        let second = split.row(1, DIM);
        assert_eq!((second[0], second[1024], second[3071]), (9, 109, 209));
    }

    #[test]
    fn rejects_partial_records_and_bad_labels() {
        let err = records(&[0u8; RECORD_BYTES + 1]).unwrap_err();
        assert!(err.to_string().contains("3074 bytes"), "{err}");
        let mut bad = vec![0u8; 2 * RECORD_BYTES];
        bad[RECORD_BYTES] = 10;
        let err = records(&bad).unwrap_err();
        assert_eq!(err.to_string(), "record 1 has label 10, expected 0..10");
    }
}
