//! The one HDF5 writer (`spec::h5::NewFile`, behind `dataset.h5` and `run.h5`) on a disk too
//! small for the file: an error naming the OS error, no crash of this very process (HDF5
//! used to segfault closing a file after a failed write) and no temp file. (HDF5 keeps the
//! failed file's descriptor open, so the space of the removed temp file comes back only when
//! the process ends: every binary exits on this error.)
#![cfg(feature = "hdf5")]

#[path = "common/limits.rs"]
mod limits;

use limits::{debris, Limit, SmallDisk};
use spec::dataset_h5::{read_h5, write_h5, Dataset, Split};

/// `n` rows of 1024 bytes that deflate cannot shrink.
fn incompressible(n: usize, seed: u64) -> Split {
    let mut state = seed;
    let x = (0..n * 1024)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 56) as u8
        })
        .collect();
    Split::new(x, vec![0; n])
}

fn dataset(n: usize) -> Dataset {
    Dataset {
        name: "noise".into(),
        dim: 1024,
        classes: 1,
        train: Some(incompressible(n, 1)),
        valid: incompressible(n / 10 + 1, 2),
        test: incompressible(n / 10 + 1, 3),
        sources: Default::default(),
        decoder: "full-disk test".into(),
    }
}

/// A 1 MiB tmpfs; `None` where none can be mounted (in-process, a file-size limit would
/// apply to the test runner itself).
fn small_disk() -> Option<SmallDisk> {
    let disk = SmallDisk::full_disk(1 << 20);
    let mounted = disk.limit == Limit::FullDisk;
    if !mounted {
        println!("skipped: no tmpfs can be mounted here");
    }
    mounted.then_some(disk)
}

#[test]
fn a_dataset_larger_than_the_disk_is_an_error_and_leaves_no_temp_file() {
    let Some(disk) = small_disk() else { return };
    let path = disk.path().join("dataset.h5");
    let err = write_h5(&path, &dataset(2000)).unwrap_err();
    let line = spec::cli::one_line(&err);
    let os_error = "No space left on device (os error 28)";
    assert!(
        line.contains("cannot write") && line.ends_with(os_error),
        "{line}"
    );
    assert!(!path.exists());
    assert!(debris(disk.path()).is_empty(), "{:?}", debris(disk.path()));
}

#[test]
fn a_dataset_that_fits_reads_back_whole_from_the_small_disk() {
    let Some(disk) = small_disk() else { return };
    let path = disk.path().join("dataset.h5");
    let small = dataset(200);
    write_h5(&path, &small).unwrap();
    assert_eq!(read_h5(&path).unwrap(), small);
    assert!(debris(disk.path()).is_empty(), "{:?}", debris(disk.path()));
}
