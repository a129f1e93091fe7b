//! Bad input to `fetch`, table-driven: each case asserts the exit code (2 for a wrong
//! command line, 1 for a failure), the one line on stderr, and that the store holds no
//! entry, build dir or half download afterwards. Plus the real MNIST files imported onto a
//! disk too small for them, and under a file-size limit.

mod common;
#[path = "../../spec/tests/common/limits.rs"]
mod limits;

use common::*;
use limits::{assert_one_line, case, on_both_limits, Case, FIVE_MIB};
use std::path::Path;
use std::process::Command;

/// In `args`: `{store}` is a fresh store path, `{dir}` a temp dir holding `file` (a regular
/// file), `mnist.toml` (a valid fixture manifest whose URLs are unreachable), `bad.toml`
/// (not TOML) and `from/` (empty).
const CASES: &[Case] = &[
    case(
        "imagenet --store {store}",
        2,
        "invalid value 'imagenet' for '<DATASET>'",
    ),
    case(
        "shapeset --store {store}",
        2,
        "shapeset is generated, not fetched",
    ),
    case(
        "mnist",
        2,
        "the following required arguments were not provided",
    ),
    case(
        "--store {store}",
        2,
        "the following required arguments were not provided",
    ),
    case(
        "mnist --store {store} --bogus",
        2,
        "unexpected argument '--bogus'",
    ),
    case(
        "mnist --store {store} --from {dir}/from --mirror http://x",
        2,
        "cannot be used with",
    ),
    case(
        "mnist --store {store} --from {dir}/from --cache {dir}/c",
        2,
        "cannot be used with",
    ),
    case(
        "cifar10 --store {store} --manifest {dir}/mnist.toml",
        2,
        "manifest describes dataset mnist, not cifar10",
    ),
    case(
        "mnist --store {store} --manifest {dir}/missing.toml",
        1,
        "cannot read manifest",
    ),
    case(
        "mnist --store {store} --manifest {dir}/bad.toml",
        1,
        "bad manifest",
    ),
    case(
        "mnist --store {store} --from {dir}/from",
        1,
        "found neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte",
    ),
    case(
        "mnist --store {store} --from {dir}/nothing-here",
        1,
        "nothing-here",
    ),
    case("mnist --store {dir}/file", 1, "file"),
    case(
        "mnist --store {store} --manifest {dir}/mnist.toml",
        1,
        "train-images-idx3-ubyte.gz",
    ),
    case(
        "mnist --store {store} --manifest {dir}/mnist.toml --mirror not-a-url",
        1,
        "train-images-idx3-ubyte.gz",
    ),
];

fn setup(dir: &Path) {
    std::fs::write(dir.join("file"), b"not a directory").unwrap();
    std::fs::write(dir.join("bad.toml"), b"dataset = [").unwrap();
    std::fs::create_dir(dir.join("from")).unwrap();
    let mini = mini_mnist();
    // Port 9 (discard) on loopback: refused at once.
    let unreachable = "http://127.0.0.1:9";
    let manifest = dir.join("mnist.toml");
    write_manifest(
        &manifest,
        "mnist",
        "idx",
        MINI_DIM,
        (8, 4, 5),
        &mini.files,
        unreachable,
    );
}

#[test]
fn bad_input_fails_in_one_line_with_the_right_code_and_leaves_nothing() {
    for case in CASES {
        let tmp = tempfile::tempdir().unwrap();
        setup(tmp.path());
        let store = tmp.path().join("store");
        let args: Vec<String> = case
            .args
            .split(' ')
            .map(|a| {
                a.replace("{store}", store.to_str().unwrap())
                    .replace("{dir}", tmp.path().to_str().unwrap())
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = fetch(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let what = format!("`fetch {}`: {stderr}", case.args);
        assert_one_line(&output, "fetch", Some(case.code), case.message, &what);
        assert!(output.stdout.is_empty(), "{what}");
        assert_no_leftovers(&store);
        assert!(file_names(&tmp.path().join("from")).is_empty(), "{what}");
    }
    println!("{} bad-input cases", CASES.len());
}

/// `fetch mnist --from <the real files>` onto a 5 MiB store: the 15 MB `dataset.h5` cannot
/// be written. One line, exit 1, and no entry, temp file or build dir left.
#[test]
fn mnist_on_a_full_disk_and_past_the_file_size_limit_is_one_line_and_leaves_nothing() {
    let Some(from) = mnist_data_dir() else { return };
    on_both_limits(FIVE_MIB, |disk| {
        let store = disk.path().join("store");
        let mut command = Command::new(env!("CARGO_BIN_EXE_fetch"));
        command.args(["mnist", "--store", store.to_str().unwrap(), "--from"]);
        let output = disk.assert_fails_cleanly(command.arg(&from), "fetch", disk.limit.error());
        assert!(output.stdout.is_empty());
        assert_no_leftovers(&store);
    });
}
