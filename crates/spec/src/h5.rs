//! Writing HDF5 the same way in both file formats: no object timestamps (so the same
//! content gives the same bytes, and store hashes are stable), and arrays chunked with
//! shuffle + deflate.
//!
//! Every file is built in memory (HDF5's core driver) and reaches the disk only when it is
//! closed, in one write of the whole image to a temp file beside its final path, which is
//! then renamed into place ([`NewFile`]). An HDF5 library whose writes fail half way (a full
//! disk, a file-size limit) segfaults while it closes the file; a write of the finished image
//! that fails is just an error, and the temp file goes.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result};
use hdf5::types::VarLenUnicode;
use store::atomic::AtomicFile;

/// Deflate level of array datasets: level 4 gets nearly all of level 9's ratio on float
/// snapshots at a fraction of its time.
const DEFLATE_LEVEL: u8 = 4;

/// How the in-memory image grows. HDF5 writes the whole grown buffer to the temp file when it
/// creates and when it closes the file (the file is then cut to its real length, so the bytes
/// do not depend on this): a small step keeps that overshoot small on a nearly full disk.
const IMAGE_INCREMENT: usize = 64 << 10;

/// A new HDF5 file being built in memory, to be written at `path` by [`NewFile::commit`].
/// Dropped uncommitted (an error on the way), it leaves nothing at `path` or beside it.
pub struct NewFile {
    // Declared first so that it is closed before `temp` removes the temp file.
    file: hdf5::File,
    temp: AtomicFile,
    path: std::path::PathBuf,
}

impl NewFile {
    /// A new, empty file whose objects carry no creation or modification time.
    pub fn create(path: &Path) -> Result<NewFile> {
        let temp = AtomicFile::create(path)?;
        let file = hdf5::File::with_options()
            .with_fapl(|fapl| fapl.core_options(IMAGE_INCREMENT, true))
            .with_fcpl(|fcpl| fcpl.obj_track_times(false))
            .create(temp.path())
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(NewFile {
            file,
            temp,
            path: path.to_path_buf(),
        })
    }

    /// The root group to fill.
    pub fn file(&self) -> &hdf5::File {
        &self.file
    }

    /// Writes the image (closing the file), fsyncs it and renames it into place.
    pub fn commit(self) -> Result<()> {
        let NewFile { file, temp, path } = self;
        file.close()
            .map_err(os_error)
            .with_context(|| format!("cannot write {}", path.display()))?;
        temp.commit()
    }
}

/// HDF5's error for a failed write of the image names the OS error among a dozen fields
/// (`..., errno = 28, error message = 'No space left on device', ptr = 0x..., ...`): that
/// OS error alone, as std words it, or HDF5's error when it names none.
fn os_error(err: hdf5::Error) -> anyhow::Error {
    let text = err.to_string();
    let errno = text
        .split_once("errno = ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<i32>().ok());
    match errno {
        Some(errno) => std::io::Error::from_raw_os_error(errno).into(),
        None => err.into(),
    }
}

/// A new HDF5 file on disk, written as it is filled, whose objects carry no creation or
/// modification time: for a file too large to build in memory (`shapeset generate`), whose
/// writer must make sure beforehand that it fits ([`NewFile`] for every other file).
pub fn create_untimed(path: &Path) -> Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fcpl(|fcpl| fcpl.obj_track_times(false))
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Writes the HDF5 file `path` atomically: `fill` builds it in memory, and only a whole file
/// is renamed into place.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&hdf5::File) -> Result<()>) -> Result<()> {
    let new = NewFile::create(path)?;
    fill(new.file()).with_context(|| format!("cannot write {}", path.display()))?;
    new.commit()
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
            .deflate(DEFLATE_LEVEL)
            // No chunk cache: each chunk goes to the image as it is written, so a failed
            // write (out of memory) leaves no dirty chunk for the close to flush, which
            // crashes HDF5. The bytes are the same, and the file is written faster.
            .chunk_cache(0, 0, 1.0);
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
