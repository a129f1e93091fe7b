//! Writing HDF5 the same way in both file formats: no object timestamps (so the same
//! content gives the same bytes, and store hashes are stable), and arrays chunked with
//! shuffle + deflate.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result};
use hdf5::types::VarLenUnicode;

/// Deflate level of array datasets: level 4 gets nearly all of level 9's ratio on float
/// snapshots at a fraction of its time.
const DEFLATE_LEVEL: u8 = 4;

/// A new HDF5 file whose objects carry no creation or modification time.
pub fn create_untimed(path: &Path) -> Result<hdf5::File> {
    let file = hdf5::File::with_options()
        .with_fcpl(|fcpl| fcpl.obj_track_times(false))
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    Ok(file)
}

/// A group without timestamps.
pub fn group(parent: &hdf5::Group, name: &str) -> Result<hdf5::Group> {
    Ok(parent
        .create_group_builder()
        .obj_track_times(false)
        .create(name)?)
}

/// A compressed, untimed dataset holding `data` (1-D or 2-D).
pub fn array<'d, A, T, D>(parent: &hdf5::Group, name: &str, data: A) -> Result<hdf5::Dataset>
where
    A: Into<ndarray::ArrayView<'d, T, D>>,
    T: hdf5::H5Type + 'd,
    D: ndarray::Dimension,
{
    let view = data.into();
    let (shape, len) = (view.shape().to_vec(), view.len());
    let mut builder = parent
        .new_dataset_builder()
        .with_data(view)
        .obj_track_times(false);
    if len > 1 {
        builder = builder
            .chunk(chunk_shape(&shape))
            .shuffle()
            .deflate(DEFLATE_LEVEL);
    }
    builder
        .create(name)
        .with_context(|| format!("cannot write dataset {name}"))
}

/// Rows of up to ~256 KiB at f32: whole rows, so a reader of one row touches one chunk.
fn chunk_shape(shape: &[usize]) -> Vec<usize> {
    match shape {
        [n] => vec![(*n).clamp(1, 65_536)],
        [rows, cols, ..] => {
            let per_chunk = (65_536 / (*cols).max(1)).clamp(1, (*rows).max(1));
            let mut chunk = vec![per_chunk, *cols];
            chunk.extend(&shape[2..]);
            chunk
        }
        [] => Vec::new(),
    }
}

pub fn write_str_attr(location: &hdf5::Location, name: &str, value: &str) -> Result<()> {
    let value = VarLenUnicode::from_str(value)
        .with_context(|| format!("attribute {name} holds a NUL byte"))?;
    location
        .new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&value)?;
    Ok(())
}
