//! `shapeset generate`'s output: a slice of a stream as an HDF5 file.
//!
//! Written without object timestamps (`spec::h5`), so one seed, offset and count always
//! give the same bytes. The size is checked against the free disk space before anything is
//! written, and so is this process's file-size limit (a count typo must not fill a disk, and
//! HDF5, which streams this file to disk, crashes on close after a failed write), and the temp file
//! is removed on error, on SIGINT/SIGTERM ([`crate::cleanup`]) and, after a SIGKILL, by the
//! next write to the same path.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use ndarray::{s, ArrayView1, ArrayView2};
use spec::cli::usage;
use spec::h5::write_str_attr;

use super::{batch, cleanup, GENERATOR, IMAGE_DIM};

/// Images per write: bounds memory at 64 MiB whatever the count.
const CHUNK: usize = 1 << 16;

/// HDF5's own structures (superblock, object headers, attributes), generously.
const METADATA_BYTES: u64 = 64 << 10;

/// Bytes of a `generate` file of `count` images (pixels, labels and metadata), or `None`
/// when that overflows a u64.
pub fn stream_h5_bytes(count: usize) -> Option<u64> {
    u64::try_from(count)
        .ok()?
        .checked_mul(IMAGE_DIM as u64 + 1)?
        .checked_add(METADATA_BYTES)
}

/// Writes images `offset..offset + count` of stream `seed` to `path`: datasets `x`
/// (u8 `[count, 1024]`, row-major 32x32) and `y` (u8 `[count]`), root attributes `seed`,
/// `offset` (u64) and `generator` (string). Atomic: a temp file renamed into place.
pub fn write_stream_h5(path: &Path, seed: u64, offset: u64, count: usize) -> Result<()> {
    if count == 0 {
        return Err(usage("--count must be at least 1"));
    }
    if offset.checked_add(count as u64).is_none() {
        return Err(usage(format!(
            "--offset {offset} + --count {count} overflows the stream index"
        )));
    }
    ensure_room(path, count)?;
    let file = store::atomic::AtomicFile::create(path)?;
    let _registered = cleanup::Registered::new(file.path());
    cleanup::sweep_stale(file.path());
    write_unchecked(file.path(), seed, offset, count)
        .with_context(|| format!("writing {}", path.display()))?;
    file.commit()
}

/// Refuses a count whose file would not fit on the disk that `path` goes to.
fn ensure_room(path: &Path, count: usize) -> Result<()> {
    let needed = stream_h5_bytes(count)
        .with_context(|| format!("--count {count} needs more than 2^64 bytes"))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let available =
        fs4::available_space(dir).with_context(|| format!("cannot write to {}", dir.display()))?;
    ensure!(
        needed <= available,
        "--count {count} needs {} and {} has {} free",
        human(needed),
        dir.display(),
        human(available)
    );
    if let Some(limit) = file_size_limit() {
        ensure!(
            needed <= limit,
            "--count {count} needs {} and this process may write files of {} at most (ulimit -f)",
            human(needed),
            human(limit)
        );
    }
    Ok(())
}

/// This process's file-size limit in bytes (`ulimit -f`), from `/proc/self/limits`; `None`
/// when unlimited or unknown.
fn file_size_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max file size"))?;
    // `Max file size   <soft>   <hard>   bytes`: the soft limit is the one enforced.
    line["Max file size".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// GB, or MB below one GB (a small disk's 5 MB must not read "0.0 GB").
fn human(bytes: u64) -> String {
    match bytes as f64 {
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b => format!("{:.1} MB", b / 1e6),
    }
}

fn write_unchecked(path: &Path, seed: u64, offset: u64, count: usize) -> Result<()> {
    let h5 = create_untimed(path)?;
    h5.new_attr::<u64>().create("seed")?.write_scalar(&seed)?;
    h5.new_attr::<u64>()
        .create("offset")?
        .write_scalar(&offset)?;
    write_str_attr(&h5, "generator", GENERATOR)?;
    let x = h5
        .new_dataset::<u8>()
        .obj_track_times(false)
        .shape((count, IMAGE_DIM))
        .create("x")?;
    let y = h5
        .new_dataset::<u8>()
        .obj_track_times(false)
        .shape(count)
        .create("y")?;
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

/// A new file-backed HDF5 file without object timestamps: `generate` streams chunks of a file
/// that may be larger than memory, so it cannot be built in memory like the store's formats;
/// its size is checked against the free disk and the file-size limit first.
fn create_untimed(path: &Path) -> Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fcpl(|fcpl| fcpl.obj_track_times(false))
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))
}
