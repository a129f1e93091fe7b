//! `train-pack --resume`, with the real binary: a pack stopped at a checkpoint (or killed by
//! SIGTERM) and resumed writes the same bytes as the pack trained in one go, a model that
//! failed before the stop stays failed, and a resume of other runs is refused in one line.

mod common;

use std::path::Path;
use std::process::Output;

use common::train_pack;
use serde_json::{json, Value};

/// Three relu models; seed 2's huge learning rate makes it fail in its first 100 updates.
fn runs() -> Value {
    let run = |seed: u64, lr: f64| {
        json!({"dataset": "shapeset", "activation": "relu", "init": "he", "hidden_layers": 2,
               "width": 16, "batch_size": 10, "lr": lr, "updates": 300, "seed": seed,
               "probe_every": 100, "jacobian_examples": 1, "eval_examples": 0,
               "raw_every_epochs": 1})
    };
    json!([run(0, 0.01), run(1, 0.05), run(2, 1e6)])
}

const NAMES: [&str; 3] = [
    "shapeset-relu-he-l2-w16-s0-lr0.01",
    "shapeset-relu-he-l2-w16-s1-lr0.05",
    "shapeset-relu-he-l2-w16-s2-lr1000000",
];

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The statuses of the runs line (the last stdout line).
fn statuses(output: &Output) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last: Value = serde_json::from_str(stdout.lines().last().expect("a runs line")).unwrap();
    last["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The runs `names` wrote the same run.h5 bytes under `a` and `b`.
fn assert_same_run_h5(a: &Path, b: &Path, names: &[&str]) {
    for name in names {
        let path = |root: &Path| root.join(name).join("run.h5");
        assert!(
            read(&path(a)) == read(&path(b)),
            "{name}: run.h5 differs after the resume"
        );
    }
}

#[test]
fn a_stopped_pack_resumes_to_the_bytes_of_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let output = train_pack(&runs(), &whole, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let expected = [
        "complete",
        "complete",
        "failed: non-finite loss at step 100",
    ];
    assert_eq!(statuses(&output), expected);

    let sliced = dir.path().join("sliced");
    let stopped = train_pack(&runs(), &sliced, &["--stop-after", "150"]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    assert!(
        stopped.stdout.is_empty(),
        "a stopped pack prints no runs line"
    );
    assert!(stderr(&stopped).contains("stopped after step 200"));
    // Rounds at steps 100 (slot a) and 200 (slot b); the file names the last whole one.
    let round: Value = serde_json::from_slice(&read(&sliced.join("pack-checkpoint.json"))).unwrap();
    assert_eq!(round, json!({"step": 200, "slot": 1}));
    for name in &NAMES[..2] {
        let checkpoint = sliced.join(name).join("checkpoint/b");
        assert!(checkpoint.join("state.json").is_file());
        // The file holds this model's weights, not the whole pack's storage.
        let weights = std::fs::metadata(checkpoint.join("weights-step200.ot")).unwrap();
        let model_bytes = 4 * (1024 * 16 + 16 + 16 * 16 + 16 + 16 * 9 + 9);
        assert!(
            weights.len() < model_bytes + model_bytes / 4,
            "{name}: {} bytes for a {model_bytes}-byte model",
            weights.len()
        );
    }
    assert!(!sliced.join(NAMES[2]).join("checkpoint").exists());

    // Other runs than the checkpoints were made by are refused, and the checkpoints kept.
    let mut other = runs();
    other[1]["jacobian_examples"] = json!(2);
    let before = common::snapshot(&sliced);
    let refused = train_pack(&other, &sliced, &["--resume"]);
    assert!(
        common::snapshot(&sliced) == before,
        "a refused resume leaves every file as it was"
    );
    assert_eq!(refused.status.code(), Some(3));
    let message = stderr(&refused);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(message.contains("different config"), "{message}");

    let resumed = train_pack(&runs(), &sliced, &["--resume"]);
    assert_eq!(resumed.status.code(), Some(1), "{}", stderr(&resumed));
    assert_eq!(statuses(&resumed), expected);
    assert_same_run_h5(&whole, &sliced, &NAMES);
    for name in NAMES {
        assert!(!sliced.join(name).join("checkpoint").exists());
    }
    assert!(!sliced.join("pack-checkpoint.json").exists());
}

/// A pack killed in the middle of a checkpoint round (here: model 0 has written its round
/// of step 200, model 1 has not) resumes from the last whole round, step 100, and still
/// ends with the bytes of an uninterrupted pack.
#[test]
fn a_pack_killed_mid_round_resumes_from_the_last_whole_round() {
    let dir = tempfile::tempdir().unwrap();
    let two = || {
        let mut runs = runs();
        runs.as_array_mut().unwrap().truncate(2);
        runs
    };
    let whole = dir.path().join("whole");
    let output = train_pack(&two(), &whole, &[]);
    assert!(output.status.success(), "{}", stderr(&output));

    // Stopped at 200, then put back to what a kill between the two models leaves: the round
    // file still names step 100, and only model 0 has step 200 in slot b.
    let sliced = dir.path().join("sliced");
    let stopped = train_pack(&two(), &sliced, &["--stop-after", "150"]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    std::fs::write(
        sliced.join("pack-checkpoint.json"),
        r#"{"step":100,"slot":0}"#,
    )
    .unwrap();
    std::fs::remove_dir_all(sliced.join(NAMES[1]).join("checkpoint/b")).unwrap();

    let resumed = train_pack(&two(), &sliced, &["--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming 2 models from their checkpoints of step 100"),
        "{}",
        stderr(&resumed)
    );
    assert_same_run_h5(&whole, &sliced, &NAMES[..2]);
}

#[test]
fn a_resume_without_checkpoints_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = train_pack(&runs(), &dir.path().join("empty"), &["--resume"]);
    // spec::cli::EXIT_CANNOT_RESUME: `paper` reads the code and starts the pack over.
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains("no checkpoint to resume from"),
        "{message}"
    );
}
