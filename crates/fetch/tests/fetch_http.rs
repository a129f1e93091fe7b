//! The real `fetch` binary against a real HTTP server on 127.0.0.1 serving MNIST-format
//! fixtures: resume, corruption, truncation, bad IDX, and the store short-cut.

mod common;

use ::fetch::manifest::Manifest;
use common::*;
use spec::dataset_h5::read_h5;
use std::path::{Path, PathBuf};

/// Writes the fixture manifest for `files` served at `base` and returns its path.
fn manifest(dir: &Path, files: &[FixtureFile], base: &str) -> String {
    let path = dir.join("mnist.toml");
    write_manifest(&path, "mnist", "idx", MINI_DIM, (8, 4, 5), files, base);
    path.to_str().unwrap().to_owned()
}

fn run(store: &Path, manifest: &str, extra: &[&str]) -> std::process::Output {
    fetch_with_manifest("mnist", store, manifest, extra)
}

/// `files` served over HTTP, a manifest pointing at the server and a store path, in one
/// temporary directory.
struct Served {
    server: Server,
    manifest: String,
    store: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Served {
    fn new(files: &[FixtureFile]) -> Served {
        let tmp = tempfile::tempdir().unwrap();
        let server = Server::serving(files);
        let manifest = manifest(tmp.path(), files, &server.base);
        let store = tmp.path().join("store");
        Served {
            server,
            manifest,
            store,
            _tmp: tmp,
        }
    }

    /// `fetch mnist` from the server into the store, with `extra` arguments.
    fn run(&self, extra: &[&str]) -> std::process::Output {
        run(&self.store, &self.manifest, extra)
    }

    /// The same, asserting that it succeeds.
    fn run_ok(&self) -> std::process::Output {
        let output = self.run(&[]);
        assert!(output.status.success(), "{output:?}");
        output
    }
}

#[test]
fn interrupted_download_resumes_with_range_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let mini = mini_mnist();
    // Cut the first response half-way through the largest file.
    let images = &mini.files[0];
    let half = images.bytes.len() / 2;
    let server = Server::start(by_name(&mini.files), half, 1);
    let manifest = manifest(tmp.path(), &mini.files, &server.base);
    let store = tmp.path().join("store");

    let output = run(&store, &manifest, &[]);
    assert!(output.status.success(), "{output:?}");

    let to_images: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == images.name)
        .collect();
    assert_eq!(to_images.len(), 2, "{to_images:?}");
    assert_eq!(to_images[0].range, None);
    assert_eq!(to_images[1].range, Some(format!("bytes={half}-")));

    let line = stdout_last_line(&output);
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields.len(), 3, "{line}");
    assert_eq!(fields[0], "mnist");
    let pinned = ::fetch::pinned_key_spec(&Manifest::load(Path::new(&manifest)).unwrap());
    assert_eq!(fields[1], pinned.key().to_string());

    let ds = read_h5(Path::new(fields[2])).unwrap();
    let train = ds.train.unwrap();
    assert_eq!(
        (train.n, ds.valid.n, ds.test.n, ds.dim),
        (8, 4, 5, MINI_DIM)
    );
    assert_eq!(train.x, mini.train_x[..8 * MINI_DIM]);
    assert_eq!(ds.valid.x, mini.train_x[8 * MINI_DIM..]);
    assert_eq!(ds.valid.y, mini.train_y[8..]);
    assert_eq!((ds.test.x, ds.test.y), (mini.test_x, mini.test_y));
    assert_eq!(ds.sources[&images.name], sha256(&images.bytes));

    // The cache holds the four verified files and no leftover .part.
    let cached = file_names(&store.join("downloads"));
    assert_eq!(cached.len(), 4, "{cached:?}");
    assert!(cached.iter().all(|n| n.ends_with(".gz")), "{cached:?}");
}

#[test]
fn partial_download_is_resumed_by_a_later_run() {
    let tmp = tempfile::tempdir().unwrap();
    let mini = mini_mnist();
    let images = &mini.files[0];
    let step = images.bytes.len() / 5;
    // This server cuts every response after `step` bytes: three resumed attempts leave
    // 3 * step bytes in the .part file, and the run fails.
    let only_images = [(images.name.clone(), images.bytes.clone())].into();
    let flaky = Server::start(only_images, step, usize::MAX);
    let manifest = manifest(tmp.path(), &mini.files, &flaky.base);
    let store = tmp.path().join("store");

    assert_clean_failure(&run(&store, &manifest, &[]), "transfer interrupted", &store);
    let part = store
        .join("downloads")
        .join(format!("{}.part", images.name));
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 3 * step as u64);

    let good = Server::serving(&mini.files);
    let output = run(&store, &manifest, &["--mirror", &good.base]);
    assert!(output.status.success(), "{output:?}");
    let first = &good.requests()[0];
    assert_eq!(first.path, images.name);
    assert_eq!(first.range, Some(format!("bytes={}-", 3 * step)));
    assert!(!part.exists());
    assert_eq!(store_entries(&store).len(), 1);
}

#[test]
fn corrupt_byte_names_file_and_both_hashes_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mini = mini_mnist();
    let manifest = manifest(tmp.path(), &mini.files, "http://unused.invalid");
    let labels = &mini.files[1];
    let mut corrupt = labels.bytes.clone();
    corrupt[20] ^= 0x01;
    let mut served = by_name(&mini.files);
    served.insert(labels.name.clone(), corrupt.clone());
    let server = Server::start(served, 0, 0);
    let store = tmp.path().join("store");

    let output = run(&store, &manifest, &["--mirror", &server.base]);
    let line = assert_clean_failure(&output, &labels.name, &store);
    assert!(line.starts_with("fetch: error: "), "{line}");
    assert!(
        line.contains(&sha256(&labels.bytes)),
        "expected hash missing: {line}"
    );
    assert!(
        line.contains(&sha256(&corrupt)),
        "actual hash missing: {line}"
    );
    let cached = file_names(&store.join("downloads"));
    assert!(
        !cached.contains(&labels.name) && !cached.iter().any(|n| n.ends_with(".part")),
        "{cached:?}"
    );
}

#[test]
fn truncated_file_is_rejected_before_decoding() {
    let tmp = tempfile::tempdir().unwrap();
    let mini = mini_mnist();
    let manifest = manifest(tmp.path(), &mini.files, "http://unused.invalid");
    let images = &mini.files[0];
    let truncated = images.bytes[..images.bytes.len() - 10].to_vec();
    let served = [(images.name.clone(), truncated.clone())].into();
    let server = Server::start(served, 0, 0);
    let store = tmp.path().join("store");

    let output = run(&store, &manifest, &["--mirror", &server.base]);
    let line = assert_clean_failure(&output, &images.name, &store);
    assert!(
        line.contains(&format!("({} bytes), got", images.bytes.len())),
        "{line}"
    );
    assert!(line.contains(&sha256(&truncated)), "{line}");
}

#[test]
fn truncated_gzip_that_matches_its_manifest_is_a_clean_decode_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut mini = mini_mnist();
    // A manifest that pins a cut-off gzip stream: verification passes, decompression fails.
    let images = &mut mini.files[0];
    images.bytes.truncate(images.bytes.len() / 2);
    let manifest = manifest(tmp.path(), &mini.files, "http://unused.invalid");
    let from = tmp.path().join("from");
    write_files(&from, &mini.files);
    let store = tmp.path().join("store");

    assert_clean_failure(
        &run(&store, &manifest, &["--from", from.to_str().unwrap()]),
        "cannot decompress train-images-idx3-ubyte.gz",
        &store,
    );
}

#[test]
fn bad_idx_magic_is_a_clean_error() {
    let mut mini = mini_mnist();
    let raw = idx(0x804, &[5, 4, 4], &mini.test_x);
    mini.files[2].bytes = gzip(&raw);
    mini.files[2].members[0].2 = raw;
    let served = Served::new(&mini.files);

    assert_clean_failure(
        &served.run(&[]),
        "t10k-images-idx3-ubyte: bad IDX magic 0x00000804, expected 0x00000803",
        &served.store,
    );
}

#[test]
fn a_stored_dataset_is_found_without_any_request() {
    let served = Served::new(&mini_mnist().files);
    let first = served.run_ok();
    let requests = served.server.requests().len();
    assert_eq!(requests, 4);

    let again = served.run(&["--mirror", "http://127.0.0.1:9"]);
    assert!(again.status.success(), "{again:?}");
    assert_eq!(stdout_last_line(&again), stdout_last_line(&first));
    assert_eq!(served.server.requests().len(), requests);
}

#[test]
fn bad_command_lines_fail_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let store = store.to_str().unwrap();
    let output = fetch(&["imagenet", "--store", store]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid value 'imagenet'"));

    let missing = tmp.path().join("nothing-here");
    let line = failure_line(&fetch(&[
        "mnist",
        "--store",
        store,
        "--from",
        missing.to_str().unwrap(),
    ]));
    assert!(
        line.contains("found neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte"),
        "{line}"
    );

    let mini = mini_mnist();
    let cifar_manifest = tmp.path().join("m.toml");
    write_manifest(
        &cifar_manifest,
        "mnist",
        "idx",
        MINI_DIM,
        (8, 4, 5),
        &mini.files,
        "http://x",
    );
    let store = Path::new(store);
    assert_clean_failure(
        &fetch_with_manifest("cifar10", store, cifar_manifest.to_str().unwrap(), &[]),
        "manifest describes dataset mnist, not cifar10",
        store,
    );
}

#[test]
fn a_tampered_stored_dataset_is_quarantined_and_rebuilt_not_handed_out() {
    let served = Served::new(&mini_mnist().files);
    let first = served.run_ok();
    let line = stdout_last_line(&first);
    let path = Path::new(line.rsplit(' ').next().unwrap()).to_owned();
    let good = std::fs::read(&path).unwrap();

    // Flip one byte of the stored dataset.h5 (entries are read-only).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bad = good.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();

    let again = served.run_ok();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("is damaged (dataset.h5 has the wrong sha256)"),
        "{stderr}"
    );
    assert!(!stderr.contains("already in the store"), "{stderr}");
    assert_eq!(stdout_last_line(&again), line);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        good,
        "the tampered file was handed out"
    );
    assert_eq!(file_names(&served.store.join("quarantine")).len(), 1);

    let third = served.run(&[]);
    assert!(String::from_utf8_lossy(&third.stderr).contains("already in the store"));
}
