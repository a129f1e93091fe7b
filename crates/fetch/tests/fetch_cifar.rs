//! CIFAR-10 in its real binary layout (a tar.gz of `cifar-10-batches-bin/*.bin`), fetched
//! over HTTP, imported as the archive, and imported as extracted batches.

mod common;

use common::*;
use fetch::cifar::{DIM, RECORD_BYTES};
use spec::dataset_h5::read_h5;
use std::path::Path;

const BATCHES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
const PER_TRAIN_BATCH: usize = 2;
const TEST_RECORDS: usize = 3;

/// Records with label `(batch + i) % 10` and pixels from a per-batch pattern.
fn batch(index: u8, count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..count {
        out.push((index as usize + i) as u8 % 10);
        out.extend(pattern(DIM, index * 16 + i as u8));
    }
    out
}

struct Fixture {
    archive: FixtureFile,
    train_batches: Vec<Vec<u8>>,
    test_batch: Vec<u8>,
}

fn fixture(pinned_members: bool) -> Fixture {
    let train_batches: Vec<Vec<u8>> = (0..5).map(|b| batch(b, PER_TRAIN_BATCH)).collect();
    let test_batch = batch(9, TEST_RECORDS);
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("cifar-10-batches-bin/{name}"), bytes)
            .unwrap();
    };
    add("batches.meta.txt", b"airplane\nautomobile\n");
    let mut members = Vec::new();
    for (name, bytes) in BATCHES.iter().zip(&train_batches) {
        add(name, bytes);
        members.push((
            format!("cifar-10-batches-bin/{name}"),
            "train-records",
            bytes.clone(),
            pinned_members,
        ));
    }
    add("test_batch.bin", &test_batch);
    members.push((
        "cifar-10-batches-bin/test_batch.bin".into(),
        "test-records",
        test_batch.clone(),
        pinned_members,
    ));
    add("readme.html", b"<html></html>");
    let archive = FixtureFile {
        name: "cifar-10-binary.tar.gz".into(),
        archive: "tar-gz",
        bytes: gzip(&tar.into_inner().unwrap()),
        members,
    };
    Fixture {
        archive,
        train_batches,
        test_batch,
    }
}

/// Train = batches 1-4, valid = batch 5, test = the test batch.
const SPLIT: (usize, usize, usize) = (4 * PER_TRAIN_BATCH, PER_TRAIN_BATCH, TEST_RECORDS);

/// Writes `dir/cifar10.toml` for `archive` served at `base` and returns its path.
fn write_split(
    dir: &Path,
    archive: &FixtureFile,
    split: (usize, usize, usize),
    base: &str,
) -> String {
    let path = dir.join("cifar10.toml");
    write_manifest(
        &path,
        "cifar10",
        "cifar10-binary",
        DIM,
        split,
        std::slice::from_ref(archive),
        base,
    );
    path.to_str().unwrap().to_owned()
}

fn write(dir: &Path, fx: &Fixture, base: &str) -> String {
    write_split(dir, &fx.archive, SPLIT, base)
}

fn fetch_ok(store: &Path, manifest: &str, extra: &[&str]) -> (String, String) {
    let output = fetch_with_manifest("cifar10", store, manifest, extra);
    assert!(output.status.success(), "{output:?}");
    let line = stdout_last_line(&output);
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!((fields.len(), fields[0]), (3, "cifar10"), "{line}");
    (fields[1].to_owned(), fields[2].to_owned())
}

/// Checks the decoded split against the records: train = batches 1-4, valid = batch 5,
/// test = test batch, pixels in record (CHW) order.
fn check_split(path: &str, fx: &Fixture) {
    let ds = read_h5(Path::new(path)).unwrap();
    let train = ds.train.unwrap();
    assert_eq!(
        (train.n, ds.valid.n, ds.test.n, ds.dim, ds.classes),
        (8, 2, 3, 3072, 10)
    );
    let record = |bytes: &[u8], i: usize| bytes[i * RECORD_BYTES..(i + 1) * RECORD_BYTES].to_vec();
    for (row, (b, i)) in (0..4)
        .flat_map(|b| (0..PER_TRAIN_BATCH).map(move |i| (b, i)))
        .enumerate()
    {
        let rec = record(&fx.train_batches[b], i);
        assert_eq!(train.y[row], rec[0]);
        assert_eq!(train.row(row, DIM), &rec[1..]);
    }
    for i in 0..PER_TRAIN_BATCH {
        let rec = record(&fx.train_batches[4], i);
        assert_eq!((ds.valid.y[i], ds.valid.row(i, DIM)), (rec[0], &rec[1..]));
    }
    for i in 0..TEST_RECORDS {
        let rec = record(&fx.test_batch, i);
        assert_eq!((ds.test.y[i], ds.test.row(i, DIM)), (rec[0], &rec[1..]));
    }
}

#[test]
fn archive_over_http_and_from_disk_give_the_same_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture(false);
    let server = Server::serving(std::slice::from_ref(&fx.archive));
    let manifest = write(tmp.path(), &fx, &server.base);
    let (key, path) = fetch_ok(&tmp.path().join("a"), &manifest, &[]);
    check_split(&path, &fx);

    let from = tmp.path().join("from");
    write_files(&from, std::slice::from_ref(&fx.archive));
    let (key2, path2) = fetch_ok(
        &tmp.path().join("b"),
        &manifest,
        &["--from", from.to_str().unwrap()],
    );
    assert_eq!(key2, key);
    assert_eq!(std::fs::read(path2).unwrap(), std::fs::read(&path).unwrap());
}

#[test]
fn extracted_batches_without_pinned_hashes_are_keyed_by_their_own_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture(false);
    let manifest = write(tmp.path(), &fx, "http://unused.invalid");
    let from = tmp.path().join("cifar-10-batches-bin");
    std::fs::create_dir_all(&from).unwrap();
    for (name, bytes) in BATCHES.iter().zip(&fx.train_batches) {
        std::fs::write(from.join(name), bytes).unwrap();
    }
    std::fs::write(from.join("test_batch.bin"), &fx.test_batch).unwrap();
    let (key, path) = fetch_ok(
        &tmp.path().join("s"),
        &manifest,
        &["--from", from.to_str().unwrap()],
    );
    check_split(&path, &fx);
    let pinned =
        ::fetch::pinned_key_spec(&::fetch::manifest::Manifest::load(Path::new(&manifest)).unwrap());
    assert_ne!(key, pinned.key().to_string());
    let sources = read_h5(Path::new(&path)).unwrap().sources;
    assert_eq!(
        sources["cifar-10-batches-bin/test_batch.bin"],
        sha256(&fx.test_batch)
    );

    // Pinned member hashes make the extracted batches stand for the archive.
    let pinned_fx = fixture(true);
    let manifest = write(tmp.path(), &pinned_fx, "http://unused.invalid");
    let (key, _) = fetch_ok(
        &tmp.path().join("t"),
        &manifest,
        &["--from", from.to_str().unwrap()],
    );
    let pinned =
        ::fetch::pinned_key_spec(&::fetch::manifest::Manifest::load(Path::new(&manifest)).unwrap());
    assert_eq!(key, pinned.key().to_string());
}

#[test]
fn wrong_record_count_and_missing_member_are_clean_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture(false);
    let from = tmp.path().join("from");
    write_files(&from, std::slice::from_ref(&fx.archive));
    let store = tmp.path().join("store");
    let run = |manifest: &str| {
        fetch_with_manifest(
            "cifar10",
            &store,
            manifest,
            &["--from", from.to_str().unwrap()],
        )
    };
    // The manifest asks for one more test record than the batch holds.
    let (train, valid, test) = SPLIT;
    let manifest = write_split(
        tmp.path(),
        &fx.archive,
        (train, valid, test + 1),
        "http://x",
    );
    assert_clean_failure(&run(&manifest), "split 8/2/4 needs 10 and 4", &store);

    // An archive without one of the manifest's members.
    let mut renamed = fixture(false);
    renamed.archive.members[5].0 = "cifar-10-batches-bin/test_batch_missing.bin".into();
    let manifest = write_split(tmp.path(), &renamed.archive, SPLIT, "http://x");
    assert_clean_failure(
        &run(&manifest),
        "cifar-10-binary.tar.gz has no member cifar-10-batches-bin/test_batch_missing.bin",
        &store,
    );
}
