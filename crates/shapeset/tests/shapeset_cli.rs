//! The `shapeset` binary, run as the pipeline runs it: outputs, byte-reproducibility and
//! the store entry check. Bad input is in shapeset_bad_input.rs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use shapeset::{batch, IMAGE_DIM};
use spec::dataset_h5::read_h5;
use store::atomic::sha256_file;

fn shapeset(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shapeset"))
        // The one-line error is what is under test; a backtrace setting would lengthen it.
        .env_remove("RUST_BACKTRACE")
        .args(args)
        .output()
        .expect("spawning shapeset")
}

fn last_line(out: &Output) -> String {
    assert!(
        out.status.success(),
        "shapeset failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn generate_writes_the_stream_slice_with_its_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("slice.h5");
    let line = last_line(&shapeset(&[
        "generate",
        "--seed",
        "5",
        "--count",
        "300",
        "--offset",
        "1000",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(line, out.to_str().unwrap());
    assert_eq!(
        entries(dir.path()),
        ["slice.h5"],
        "no temp file left behind"
    );

    let file = hdf5::File::open(&out).unwrap();
    let x = file.dataset("x").unwrap();
    assert_eq!(x.shape(), [300, IMAGE_DIM]);
    let (want_x, want_y) = batch(5, 1000, 300);
    assert_eq!(x.read_raw::<u8>().unwrap(), want_x);
    assert_eq!(file.dataset("y").unwrap().read_raw::<u8>().unwrap(), want_y);
    assert_eq!(file.attr("seed").unwrap().read_scalar::<u64>().unwrap(), 5);
    assert_eq!(
        file.attr("offset").unwrap().read_scalar::<u64>().unwrap(),
        1000
    );
    let generator: hdf5::types::VarLenUnicode =
        file.attr("generator").unwrap().read_scalar().unwrap();
    assert_eq!(generator.as_str(), shapeset::GENERATOR);

    if let Some(python) = python_with_h5py() {
        let script = "import h5py,sys; f=h5py.File(sys.argv[1]); \
                      print(f['x'].shape, f['x'].dtype, int(f['y'][:].sum()), int(f.attrs['seed']))";
        let out = Command::new(python)
            .args(["-c", script, out.to_str().unwrap()])
            .output()
            .unwrap();
        let want = format!(
            "(300, 1024) uint8 {} 5",
            want_y.iter().map(|&l| u64::from(l)).sum::<u64>()
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want);
    }
}

/// The repository's .venv python, when it exists and has h5py.
fn python_with_h5py() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let works = Command::new(&python)
        .args(["-c", "import h5py"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !works {
        eprintln!("skipping the h5py check: no {} with h5py", python.display());
    }
    works.then_some(python)
}

#[test]
fn dataset_builds_once_and_holds_the_pinned_sets() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let first = shapeset(&["dataset", "--store", store.to_str().unwrap()]);
    let line = last_line(&first);
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 3, "{line}");
    assert_eq!(parts[0], "shapeset");
    assert_eq!(parts[1].len(), 64);
    assert!(parts[2].ends_with("dataset.h5") && parts[2].contains(parts[1]));
    let again = shapeset(&["dataset", "--store", store.to_str().unwrap()]);
    assert_eq!(last_line(&again), line);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already in the store"));

    let ds = read_h5(Path::new(parts[2])).unwrap();
    let sets = shapeset::eval_sets().unwrap();
    assert_eq!(
        (ds.name.as_str(), ds.dim, ds.classes),
        ("shapeset", IMAGE_DIM, 9)
    );
    assert!(ds.train.is_none());
    assert_eq!(ds.valid, sets.valid);
    assert_eq!(ds.test, sets.test);
    assert_eq!(ds.decoder, shapeset::GENERATOR);
}

#[test]
fn bench_reports_throughput_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench.json");
    let output = shapeset(&[
        "bench",
        "--count",
        "20000",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let per_core = report["per_core"].as_f64().unwrap();
    assert!(per_core > 1000.0, "{report}");
    assert_eq!(report["images_per_s"].as_f64().unwrap(), per_core);
    assert_eq!(report["count"], 20000);
}

#[test]
fn generate_twice_gives_byte_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let hash = |name: &str| {
        let out = dir.path().join(name);
        let args = [
            "generate", "--seed", "7", "--count", "1000", "--offset", "3",
        ];
        last_line(&shapeset(
            &[&args[..], &["--out", out.to_str().unwrap()]].concat(),
        ));
        sha256_file(&out).unwrap()
    };
    let first = hash("a.h5");
    // Later than a second: an HDF5 object timestamp would differ.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(hash("b.h5"), first, "same seed, different bytes");
}

#[test]
fn a_tampered_dataset_entry_is_quarantined_and_rebuilt_not_handed_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store_arg = store.to_str().unwrap();
    let line = last_line(&shapeset(&["dataset", "--store", store_arg]));
    let path = PathBuf::from(line.rsplit(' ').next().unwrap());
    let good = sha256_file(&path).unwrap();

    // Flip one byte in the middle of the stored dataset.h5 (entries are read-only).
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    assert_ne!(sha256_file(&path).unwrap(), good);

    let again = shapeset(&["dataset", "--store", store_arg]);
    assert_eq!(last_line(&again), line, "the key does not change");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!stderr.contains("already in the store"), "{stderr}");
    assert_eq!(
        sha256_file(&path).unwrap(),
        good,
        "the tampered file was handed out"
    );
    let quarantined = entries(&store.join("quarantine"));
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    let third = shapeset(&["dataset", "--store", store_arg]);
    assert!(String::from_utf8_lossy(&third.stderr).contains("already in the store"));
}
