//! Bad input to `shapeset`, table-driven: each case asserts the exit code (2 for a wrong
//! command line, 1 for a failure), the one line on stderr, and that nothing was left behind.
//! Plus the ways a write can end early: a signal, a SIGKILL's leftover, a full disk and a
//! file-size limit.

#[path = "../../spec/tests/common/limits.rs"]
mod limits;

use limits::{assert_one_line, case, on_both_limits, Case, Limit};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn shapeset(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shapeset"))
        // A shell may export it: the one-line error under test must not depend on it.
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .output()
        .expect("spawning shapeset")
}

/// Every file under `dir`, recursively, relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            out.extend(
                files(&entry.path())
                    .into_iter()
                    .map(|f| format!("{name}/{f}")),
            );
        } else {
            out.push(name);
        }
    }
    out.sort();
    out
}

/// `{dir}` in `args` is a fresh temp dir holding only `file` (a regular file) and `sub/`.
const CASES: &[Case] = &[
    case(
        "generate --seed 1 --count 0 --out {dir}/x.h5",
        2,
        "--count must be at least 1",
    ),
    case(
        "generate --seed 1 --count 1e11 --out {dir}/x.h5",
        1,
        "--count 100000000000 needs 102500.0 GB",
    ),
    case(
        "generate --seed 1 --count 99999999999999999999999 --out {dir}/x.h5",
        2,
        "is not a count of images",
    ),
    case(
        "generate --seed 1 --count 1e400 --out {dir}/x.h5",
        2,
        "this machine can address",
    ),
    case(
        "generate --seed 1 --count 1.5 --out {dir}/x.h5",
        2,
        "\"1.5\" is not a count of images",
    ),
    case(
        "generate --seed 1 --count -3 --out {dir}/x.h5",
        2,
        "unexpected argument '-3'",
    ),
    case(
        "generate --seed abc --count 5 --out {dir}/x.h5",
        2,
        "invalid value 'abc' for '--seed <SEED>'",
    ),
    case(
        "generate --seed -1 --count 5 --out {dir}/x.h5",
        2,
        "unexpected argument '-1'",
    ),
    case(
        "generate --seed 1 --count 5",
        2,
        "the following required arguments were not provided",
    ),
    case(
        "generate --seed 1 --count 5 --offset 18446744073709551615 --out {dir}/x.h5",
        2,
        "overflows the stream index",
    ),
    case(
        "generate --seed 1 --count 5 --out {dir}/no/such/x.h5",
        1,
        "no/such",
    ),
    case(
        "generate --seed 1 --count 5 --out {dir}/file/x.h5",
        1,
        "Not a directory",
    ),
    case("generate --seed 1 --count 5 --out {dir}/sub", 1, "sub"),
    case(
        "generate --seed 1 --count 5 --out {dir}/x.h5 --bogus",
        2,
        "unexpected argument '--bogus'",
    ),
    case(
        "grid --seed 1 --out {dir}/g.png",
        2,
        "unrecognized subcommand 'grid'",
    ),
    case("dataset --store {dir}/file", 1, "opening store"),
    case("dataset", 2, "required arguments were not provided"),
    case(
        "bench --threads 0 --count 10",
        2,
        "--threads must be at least 1",
    ),
    case("bench --count 0", 2, "--count must be at least 1"),
    case("bench --count 1e15", 1, "of memory"),
    case(
        "bench --count 1e19 --threads 1",
        1,
        "need more bytes than a usize holds",
    ),
];

#[test]
fn bad_input_fails_in_one_line_with_the_right_code_and_leaves_nothing() {
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), b"not a directory").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let before = files(dir.path());
        let args: Vec<String> = case
            .args
            .split(' ')
            .map(|a| a.replace("{dir}", dir.path().to_str().unwrap()))
            .collect();
        let output = shapeset(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let what = format!("`shapeset {}`: {stderr}", case.args);
        assert_one_line(&output, "shapeset", Some(case.code), case.message, &what);
        assert!(output.stdout.is_empty(), "{what}");
        assert_eq!(files(dir.path()), before, "{what}");
    }
    println!("{} bad-input cases", CASES.len());
}

#[test]
fn sigterm_during_generate_removes_the_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.h5");
    let child = Command::new(env!("CARGO_BIN_EXE_shapeset"))
        // The one-line error is what is under test; a backtrace setting would lengthen it.
        .env_remove("RUST_BACKTRACE")
        .args(["generate", "--seed", "1", "--count", "2000000", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while files(dir.path()).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no temp file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(128 + 15), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("interrupted by signal 15"), "{stderr}");
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
}

#[test]
fn a_killed_writers_temp_file_is_swept_by_the_next_generate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.h5");
    // pid 999999999 is above any pid_max, so its writer is certainly gone; a name from
    // another file and a live pid (ours) are kept.
    let dead = dir.path().join(".x.h5.tmp-999999999-1-0");
    let other_file = dir.path().join(".y.h5.tmp-999999999-1-0");
    let alive = dir
        .path()
        .join(format!(".x.h5.tmp-{}-1-0", std::process::id()));
    for path in [&dead, &other_file, &alive] {
        std::fs::write(path, b"half").unwrap();
    }
    let args = ["generate", "--seed", "1", "--count", "3", "--out"].map(String::from);
    let output = shapeset(&[&args[..], &[out.to_str().unwrap().to_owned()]].concat());
    assert!(output.status.success(), "{output:?}");
    let mut want = vec![".x.h5.tmp-".to_owned() + &format!("{}-1-0", std::process::id())];
    want.extend([".y.h5.tmp-999999999-1-0".into(), "x.h5".into()]);
    want.sort();
    assert_eq!(files(dir.path()), want);
}

/// The pinned sets' `dataset.h5` compresses to ~1.2 MB: a disk of half a MiB cannot hold it.
const TOO_SMALL_FOR_THE_DATASET: u64 = 512 << 10;

/// `shapeset dataset` into a store on a disk that cannot hold the pinned sets' file, and
/// `shapeset generate` of a file too large for it: one line, exit 1, no entry and no temp file.
#[test]
fn dataset_on_a_full_disk_and_past_the_file_size_limit_is_one_line_and_leaves_nothing() {
    on_both_limits(TOO_SMALL_FOR_THE_DATASET, |disk| {
        let store = disk.path().join("store");
        let mut command = Command::new(env!("CARGO_BIN_EXE_shapeset"));
        command.args(["dataset", "--store", store.to_str().unwrap()]);
        let output = disk.assert_fails_cleanly(&mut command, "shapeset", disk.limit.error());
        assert!(output.stdout.is_empty());
        let entries: Vec<String> = files(&store)
            .into_iter()
            .filter(|f| f.ends_with("dataset.h5"))
            .collect();
        assert!(entries.is_empty(), "{entries:?}");
        // `generate` streams to disk, so it is refused before it writes.
        let mut command = Command::new(env!("CARGO_BIN_EXE_shapeset"));
        let out = disk.path().join("x.h5");
        command.args(["generate", "--seed", "1", "--count", "10000", "--out"]);
        let refusal = match disk.limit {
            Limit::FullDisk => "MB free",
            Limit::FileSize => "(ulimit -f)",
        };
        disk.assert_fails_cleanly(command.arg(&out), "shapeset", refusal);
        assert!(!out.exists());
    });
}
