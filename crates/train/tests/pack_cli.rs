//! The `train-pack` binary: its output layout and last line, and its one-line refusals.

mod common;

use common::train_pack;
use serde_json::{json, Value};

fn run(seed: u64, activation: &str) -> Value {
    json!({"dataset": "shapeset", "activation": activation, "init": "he", "hidden_layers": 2,
           "width": 16, "batch_size": 10, "lr": 0.01, "updates": 30, "seed": seed,
           "probe_every": 15, "jacobian_examples": 1, "eval_examples": 0, "raw_every_epochs": 1})
}

#[test]
fn a_pack_writes_one_run_dir_per_model_and_lists_them_last() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    let output = train_pack(&json!([run(0, "relu"), run(5, "relu")]), &out, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let runs = last["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for (entry, name) in runs
        .iter()
        .zip(["shapeset-relu-he-l2-w16-s0", "shapeset-relu-he-l2-w16-s5"])
    {
        assert_eq!(entry["name"], name);
        assert_eq!(entry["status"], "complete");
        let run_h5 = out.join(name).join("run.h5");
        assert_eq!(entry["run_h5"], run_h5.to_str().unwrap());
        assert!(run_h5.is_file() && out.join(name).join("config.json").is_file());
        assert!(!out.join(name).join("checkpoint").exists());
    }
}

#[test]
fn a_mixed_pack_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = train_pack(
        &json!([run(0, "tanh"), run(1, "relu")]),
        &dir.path().join("p"),
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("train-pack: error: runs shapeset-tanh-he-l2-w16-s0 and shapeset-relu-he-l2-w16-s1 cannot share a pack: they differ in activation"),
        "{stderr}"
    );
    assert!(!dir.path().join("p").exists());
}
