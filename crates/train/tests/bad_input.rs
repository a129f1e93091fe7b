//! What bad input gets from the real `train` binary: each case asserts the exit code (2 for
//! a usage error, 1 for a failure), that stderr is exactly one line `train: error: ...`
//! holding a phrase of the message, and what is left in `--out`: nothing at all for input
//! refused up front, the directory as it was for a resume that cannot start, and only the
//! failed `run.h5` (and config.json) for a run that diverged.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// What a case may leave at its `--out`.
enum Left {
    /// `--out` must not exist: the inputs were refused before it was created.
    Nothing,
    /// `--out` existed before (a prepared run directory) and must be byte for byte as it was.
    Unchanged,
    /// Exactly these files, no temp file, no checkpoint.
    Only(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    /// Edits of the base run's flags: `("--flag", Some(value))` sets, `None` removes.
    edits: Vec<(&'static str, Option<String>)>,
    /// Flags appended as they are (bare switches, `--flag=value` forms, unknown flags).
    extra: Vec<String>,
    /// A prepared run directory copied to `--out` before the run.
    prepare: Option<PathBuf>,
    code: i32,
    phrase: &'static str,
    left: Left,
}

fn case(
    name: &'static str,
    edits: &[(&'static str, &str)],
    code: i32,
    phrase: &'static str,
) -> Case {
    Case {
        name,
        edits: edits
            .iter()
            .map(|(f, v)| (*f, Some(v.to_string())))
            .collect(),
        extra: Vec::new(),
        prepare: None,
        code,
        phrase,
        left: Left::Nothing,
    }
}

impl Case {
    fn extra(mut self, flags: &[&str]) -> Case {
        self.extra = flags.iter().map(ToString::to_string).collect();
        self
    }

    fn without(mut self, flag: &'static str) -> Case {
        self.edits.push((flag, None));
        self
    }

    fn resuming(mut self, prepared: &Path) -> Case {
        self.prepare = Some(prepared.to_path_buf());
        self.extra.push("--resume".into());
        self.left = Left::Unchanged;
        self
    }

    fn leaves(mut self, left: Left) -> Case {
        self.left = left;
        self
    }
}

/// The base run: 5 updates of a small tanh net on a Shapeset file.
fn base_args(data: &Path, out: &Path) -> Vec<(String, Option<String>)> {
    let pairs = [
        ("--dataset", "shapeset"),
        ("--activation", "tanh"),
        ("--init", "xavier"),
        ("--width", "16"),
        ("--updates", "5"),
        ("--device", "cpu"),
        ("--data", data.to_str().unwrap()),
        ("--out", out.to_str().unwrap()),
    ];
    pairs
        .iter()
        .map(|(f, v)| (f.to_string(), Some(v.to_string())))
        .collect()
}

fn args_of(case: &Case, data: &Path, out: &Path) -> Vec<String> {
    let mut pairs = base_args(data, out);
    for (flag, value) in &case.edits {
        match pairs.iter_mut().find(|(f, _)| f == flag) {
            Some(pair) => pair.1.clone_from(value),
            None => pairs.push((flag.to_string(), value.clone())),
        }
    }
    let mut args = Vec::new();
    for (flag, value) in pairs {
        if let Some(value) = value {
            args.extend([flag, value]);
        }
    }
    args.extend(case.extra.iter().cloned());
    args
}

fn check(case: &Case, index: usize, root: &Path, data: &Path) {
    let out = root.join(format!("case{index}")).join("out");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    if let Some(prepared) = &case.prepare {
        copy_dir(prepared, &out);
    }
    let before = snapshot(&out);
    let args = args_of(case, data, &out);
    let output = train(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let what = format!("case {:?} ({})", case.name, args.join(" "));
    assert_one_line_error(&output, case.code, case.phrase, &what);
    assert!(temp_files(&out).is_empty(), "{what}: temp files left");
    match case.left {
        Left::Nothing => assert!(!out.exists(), "{what}: created {}", out.display()),
        Left::Unchanged => assert!(snapshot(&out) == before, "{what}: changed --out"),
        Left::Only(names) => {
            let left: Vec<String> = snapshot(&out)
                .keys()
                .map(|p| p.display().to_string())
                .collect();
            assert_eq!(left, names, "{what}");
        }
    }
}

/// A run directory with a checkpoint at step 100, the first probe that saves one
/// (`--stop-after 1` of a 200-update run).
fn checkpointed_run(root: &Path, data: &Path) -> PathBuf {
    let out = root.join("prepared");
    let mut args = Vec::new();
    for (flag, value) in base_args(data, &out) {
        let value = if flag == "--updates" {
            "200".into()
        } else {
            value.unwrap()
        };
        args.extend([flag, value]);
    }
    args.extend(["--probe-every".into(), "100".into()]);
    args.extend(["--stop-after".into(), "1".into()]);
    train_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.join("pack-checkpoint.json").exists());
    assert!(out.join("checkpoint/a/state.json").exists());
    out
}

#[test]
fn every_bad_input_gets_one_line_a_nonzero_exit_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let data = shapeset_file(root, 300);
    let mnist = |name, train, valid, test| {
        mnist_like(root, name, train, valid, test)
            .to_str()
            .unwrap()
            .to_string()
    };
    let empty_valid = mnist("empty-valid.h5", Some(50), 0, 300);
    let small_test = mnist("small-test.h5", Some(50), 10, 299);
    let small_train = mnist("small-train.h5", Some(5), 10, 300);
    let no_train = mnist("no-train.h5", None, 10, 300);
    let good_mnist = mnist("mnist.h5", Some(50), 10, 300);
    let garbage = root.join("garbage.h5");
    std::fs::write(&garbage, b"not an HDF5 file").unwrap();
    let file = root.join("a-file");
    std::fs::write(&file, b"").unwrap();
    let prepared = checkpointed_run(root, &data);
    let corrupt_state = root.join("corrupt-state");
    copy_dir(&prepared, &corrupt_state);
    std::fs::write(
        corrupt_state.join("checkpoint/a/state.json"),
        b"{\"step\": 1, tru",
    )
    .unwrap();
    let corrupt_weights = root.join("corrupt-weights");
    copy_dir(&prepared, &corrupt_weights);
    std::fs::write(
        corrupt_weights.join("checkpoint/a/weights-step100.ot"),
        b"PK\x03\x04junk",
    )
    .unwrap();
    let finished = root.join("finished");
    std::fs::create_dir_all(&finished).unwrap();
    std::fs::write(finished.join("run.h5"), b"a finished run").unwrap();

    let mnist_on = |name, path: &str, edits: &[(&'static str, &str)], phrase| {
        let mut c = case(name, edits, 1, phrase);
        c.edits.push(("--dataset", Some("mnist".into())));
        c.edits.push(("--data", Some(path.to_string())));
        c
    };
    let cases = vec![
        // Usage errors: clap's and the run parameters' own checks (exit 2).
        case("unknown flag", &[], 2, "--bogus").extra(&["--bogus"]),
        case(
            "unknown activation",
            &[("--activation", "gelu")],
            2,
            "possible values",
        ),
        case("unknown init", &[("--init", "glorot")], 2, "glorot"),
        case("unknown dataset", &[("--dataset", "svhn")], 2, "svhn"),
        case("no length", &[], 2, "required").without("--updates"),
        case(
            "two lengths",
            &[("--epochs", "1")],
            2,
            "cannot be used with",
        ),
        case("too deep", &[("--hidden-layers", "6")], 2, "6"),
        case("no hidden layer", &[("--hidden-layers", "0")], 2, "0"),
        case(
            "zero width",
            &[("--width", "0")],
            2,
            "--width must be positive",
        ),
        case(
            "overflowing width",
            &[("--width", "18446744073709551615")],
            2,
            "overflows",
        ),
        case(
            "width not a number",
            &[("--width", "abc")],
            2,
            "invalid value",
        ),
        case(
            "zero batch",
            &[("--batch-size", "0")],
            2,
            "--batch-size must be positive",
        ),
        case("NaN learning rate", &[("--lr", "nan")], 2, "--lr"),
        case("infinite learning rate", &[("--lr", "inf")], 2, "--lr"),
        case("negative learning rate", &[], 2, "--lr").extra(&["--lr=-1"]),
        case(
            "zero updates",
            &[("--updates", "0")],
            2,
            "--updates must be positive",
        ),
        case(
            "zero probe cadence",
            &[("--probe-every", "0")],
            2,
            "--probe-every",
        ),
        case(
            "too many Jacobian examples",
            &[("--jacobian-examples", "301")],
            2,
            "at most 300",
        ),
        case(
            "a seed-layout export without raw snapshots",
            &[("--raw-every-epochs", "0")],
            2,
            "--raw-every-epochs 0 keeps none",
        )
        .extra(&["--export-seed-layout"]),
        case(
            "overflowing epochs",
            &[("--epochs", "922337203685478")],
            2,
            "overflows",
        )
        .without("--updates"),
        case("negative threads", &[], 2, "-3").extra(&["--threads=-3"]),
        case("zero threads", &[("--threads", "0")], 2, "--threads"),
        case("too many threads", &[("--threads", "5000")], 2, "--threads"),
        case("negative seed", &[], 2, "--seed").extra(&["--seed=-1"]),
        case(
            "unknown device",
            &[("--device", "tpu")],
            2,
            "unknown device",
        ),
        case(
            "mnist without data",
            &[("--dataset", "mnist")],
            2,
            "--data FILE",
        )
        .without("--data"),
        // Failures found before anything is written (exit 1).
        case("absent GPU", &[("--device", "cuda:7")], 1, "CUDA device"),
        case(
            "net too large for memory",
            &[("--hidden-layers", "1"), ("--width", "4000000000")],
            1,
            "of memory, more than",
        ),
        case(
            "batch too large for memory",
            &[("--batch-size", "100000000000")],
            1,
            "of memory, more than",
        ),
        case(
            "batch beyond counting",
            &[("--batch-size", "18446744073709551615")],
            1,
            "more memory than a u64",
        ),
        case(
            "missing data file",
            &[("--data", "/nonexistent/x.h5")],
            1,
            "/nonexistent/x.h5",
        ),
        case(
            "data file not HDF5",
            &[("--data", garbage.to_str().unwrap())],
            1,
            "bad dataset file",
        ),
        mnist_on(
            "empty valid split",
            &empty_valid,
            &[],
            "the valid split is empty",
        ),
        mnist_on(
            "test split below the probe set",
            &small_test,
            &[],
            "has 299 examples, the probes need 300",
        ),
        mnist_on(
            "train split below one batch",
            &small_train,
            &[],
            "train split has 5 examples, fewer than one batch of 10",
        ),
        mnist_on("no train split", &no_train, &[], "no train split"),
        case(
            "data of another dataset",
            &[("--data", good_mnist.as_str())],
            1,
            "holds dataset mnist, not shapeset",
        ),
        case(
            "out under a file",
            &[("--out", file.join("out").to_str().unwrap())],
            1,
            "cannot create",
        ),
        // A resume that cannot start exits with spec::cli::EXIT_CANNOT_RESUME (3), which
        // `paper` reads to start the stage over.
        case("resume without a run", &[], 3, "no checkpoint").extra(&["--resume"]),
        case("resume a finished run", &[], 3, "no checkpoint").resuming(&finished),
        case(
            "resume with other flags",
            &[("--updates", "200"), ("--lr", "0.5")],
            3,
            "different config",
        )
        .resuming(&prepared),
        case(
            "resume a corrupt state",
            &[("--updates", "200")],
            3,
            "corrupt checkpoint",
        )
        .resuming(&corrupt_state),
        case(
            "resume corrupt weights",
            &[("--updates", "200")],
            3,
            "corrupt checkpoint",
        )
        .resuming(&corrupt_weights),
        // A run that diverges: one line, and run.h5 says why.
        case(
            "diverging loss",
            &[
                ("--activation", "relu"),
                ("--lr", "1e6"),
                ("--updates", "300"),
                ("--width", "64"),
            ],
            1,
            "non-finite loss at step",
        )
        .leaves(Left::Only(&["config.json", "run.h5"])),
    ];
    let count = cases.len();
    for (index, case) in cases.iter().enumerate() {
        check(case, index, root, &data);
    }
    eprintln!("{count} bad-input cases passed");
    assert_eq!(count, 44);
}

/// A resume whose raw snapshot of step 0 is gone, with the seed-layout export (which reads
/// it): one line naming the snapshot, not a torch trace, and no temp file.
#[test]
fn a_missing_raw_snapshot_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let prepared = checkpointed_run(dir.path(), &data);
    let raw = prepared.join("checkpoint/raw");
    let snapshots: Vec<PathBuf> = std::fs::read_dir(&raw)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("step0")
        })
        .collect();
    assert_eq!(snapshots.len(), 1, "the step-0 snapshot: {snapshots:?}");
    std::fs::remove_file(&snapshots[0]).unwrap();
    let mut args: Vec<String> = Vec::new();
    for (flag, value) in base_args(&data, &prepared) {
        let value = if flag == "--updates" {
            "200".into()
        } else {
            value.unwrap()
        };
        args.extend([flag, value]);
    }
    args.extend(["--probe-every", "100", "--resume", "--export-seed-layout"].map(String::from));
    let output = train(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_one_line_error(&output, 1, "raw snapshot", "resume without raw/step0");
    assert!(temp_files(&prepared).is_empty());
}
