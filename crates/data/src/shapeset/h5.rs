//! `shapeset generate`'s output: a slice of a stream as an HDF5 file.

use std::path::Path;

use anyhow::{Context, Result};
use ndarray::{s, ArrayView1, ArrayView2};

use super::{batch, GENERATOR, IMAGE_DIM};
use crate::dataset::write_str_attr;

/// Images per write: bounds memory at 64 MiB whatever the count.
const CHUNK: usize = 1 << 16;

/// Writes images `offset..offset + count` of stream `seed` to `path`: datasets `x`
/// (u8 `[count, 1024]`, row-major 32x32) and `y` (u8 `[count]`), root attributes `seed`,
/// `offset` (u64) and `generator` (string). Atomic: a temp file renamed into place.
pub fn write_stream_h5(path: &Path, seed: u64, offset: u64, count: usize) -> Result<()> {
    let file = store::atomic::AtomicFile::create(path)?;
    write_unchecked(file.path(), seed, offset, count)
        .with_context(|| format!("writing {}", path.display()))?;
    file.commit()
}

fn write_unchecked(path: &Path, seed: u64, offset: u64, count: usize) -> Result<()> {
    let h5 = hdf5::File::create(path)?;
    h5.new_attr::<u64>().create("seed")?.write_scalar(&seed)?;
    h5.new_attr::<u64>()
        .create("offset")?
        .write_scalar(&offset)?;
    write_str_attr(&h5, "generator", GENERATOR)?;
    let x = h5
        .new_dataset::<u8>()
        .shape((count, IMAGE_DIM))
        .create("x")?;
    let y = h5.new_dataset::<u8>().shape(count).create("y")?;
    for start in (0..count).step_by(CHUNK) {
        let end = (start + CHUNK).min(count);
        let (pixels, labels) = batch(seed, offset + start as u64, end - start);
        x.write_slice(
            ArrayView2::from_shape((end - start, IMAGE_DIM), &pixels)?,
            s![start..end, ..],
        )?;
        y.write_slice(ArrayView1::from(&labels), s![start..end])?;
    }
    h5.close()?;
    Ok(())
}
