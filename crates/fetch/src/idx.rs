//! IDX decoding (the MNIST file format) and the official MNIST sets read from its four files.
//!
//! An IDX file is a big-endian header, `0x00 0x00 <type> <ndims>` then `ndims` u32
//! dimensions, followed by the data. MNIST uses type 0x08 (u8): images are magic
//! 0x00000803 `[N, rows, cols]`, labels are magic 0x00000801 `[N]`.

use std::collections::BTreeMap;

use anyhow::{ensure, Context, Result};

use crate::manifest::{Manifest, Part};
use spec::dataset_h5::Split;

pub const IMAGES_MAGIC: u32 = 0x0000_0803;
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Checks the header of an IDX u8 file against `magic` and returns its dims and data.
pub fn parse(bytes: &[u8], magic: u32) -> Result<(Vec<usize>, &[u8])> {
    ensure!(
        bytes.len() >= 4,
        "IDX file of {} bytes has no header",
        bytes.len()
    );
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    ensure!(
        found == magic,
        "bad IDX magic 0x{found:08x}, expected 0x{magic:08x}"
    );
    let ndims = usize::from(bytes[3]);
    let header = 4 + 4 * ndims;
    ensure!(
        bytes.len() >= header,
        "IDX header needs {header} bytes, file has {}",
        bytes.len()
    );
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .context("IDX dimensions overflow")?;
    let data = &bytes[header..];
    ensure!(
        data.len() == expected,
        "IDX dims {dims:?} need {expected} data bytes, file has {}",
        data.len()
    );
    Ok((dims, data))
}

/// Images as `(n, rows * cols, pixels)`.
pub fn images(bytes: &[u8]) -> Result<(usize, usize, &[u8])> {
    let (dims, data) = parse(bytes, IMAGES_MAGIC)?;
    Ok((dims[0], dims[1] * dims[2], data))
}

/// Labels, one byte each.
pub fn labels(bytes: &[u8]) -> Result<&[u8]> {
    Ok(parse(bytes, LABELS_MAGIC)?.1)
}

/// The official training and test sets from the verified, decompressed IDX members (keyed
/// by member name).
pub fn official_sets(
    manifest: &Manifest,
    members: &BTreeMap<String, Vec<u8>>,
) -> Result<(Split, Split)> {
    let dim = manifest.dim;
    let member = |part: Part| -> Result<(&str, &[u8])> {
        let (_, m) = manifest
            .members()
            .find(|(_, m)| m.part == part)
            .with_context(|| format!("manifest has no {part:?}"))?;
        let bytes = members
            .get(&m.name)
            .with_context(|| format!("{} was not loaded", m.name))?;
        Ok((&m.name, bytes))
    };
    let split = |images_part: Part, labels_part: Part| -> Result<Split> {
        let (images_name, images_bytes) = member(images_part)?;
        let (labels_name, labels_bytes) = member(labels_part)?;
        let (n, image_dim, pixels) = images(images_bytes).context(images_name.to_owned())?;
        let y = labels(labels_bytes).context(labels_name.to_owned())?;
        ensure!(
            image_dim == dim,
            "{images_name}: images have {image_dim} pixels, manifest says dim = {dim}"
        );
        ensure!(
            y.len() == n,
            "{labels_name} has {} labels for {n} images in {images_name}",
            y.len()
        );
        Ok(Split::new(pixels.to_vec(), y.to_vec()))
    };
    Ok((
        split(Part::TrainImages, Part::TrainLabels)?,
        split(Part::TestImages, Part::TestLabels)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out.extend(data);
        out
    }

    #[test]
    fn parses_images_and_labels() {
        let bytes = idx(
            IMAGES_MAGIC,
            &[2, 2, 3],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        );
        let (n, dim, pixels) = images(&bytes).unwrap();
        assert_eq!((n, dim, pixels[11]), (2, 6, 11));
        assert_eq!(
            labels(&idx(LABELS_MAGIC, &[3], &[7, 8, 9])).unwrap(),
            [7, 8, 9]
        );
    }

    #[test]
    fn rejects_bad_magic_and_lengths() {
        let err = labels(&idx(IMAGES_MAGIC, &[1, 1, 1], &[0])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad IDX magic 0x00000803, expected 0x00000801"
        );
        let err = images(&idx(IMAGES_MAGIC, &[2, 2, 2], &[0; 7])).unwrap_err();
        assert!(
            err.to_string().contains("need 8 data bytes, file has 7"),
            "{err}"
        );
        assert!(images(&[0, 0, 8, 3, 0, 0]).is_err());
        assert!(labels(&[0, 0]).is_err());
    }
}
