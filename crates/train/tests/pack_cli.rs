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
    for (entry, name) in runs.iter().zip([
        "shapeset-relu-he-l2-w16-s0-lr0.01",
        "shapeset-relu-he-l2-w16-s5-lr0.01",
    ]) {
        assert_eq!(entry["name"], name);
        assert_eq!(entry["status"], "complete");
        let run_h5 = out.join(name).join("run.h5");
        assert_eq!(entry["run_h5"], run_h5.to_str().unwrap());
        assert!(run_h5.is_file() && out.join(name).join("config.json").is_file());
        assert!(!out.join(name).join("checkpoint").exists());
    }
}

/// A configuration's learning-rate trials share one name and differ in their rate: they pack
/// together, each in its own directory, and under `--diverged-ok` a trial whose rate diverges
/// is a result (`diverged: ...`), the others train on and the process succeeds.
#[test]
fn trials_of_one_configuration_pack_and_a_diverging_one_is_a_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trials");
    let trial = |lr: f64| {
        let mut r = run(0, "relu");
        r["lr"] = json!(lr);
        r
    };
    let runs = json!([trial(0.01), trial(1e6)]);
    let output = train_pack(&runs, &out, &["--diverged-ok"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let runs = last["runs"].as_array().unwrap();
    assert_eq!(runs[0]["name"], "shapeset-relu-he-l2-w16-s0-lr0.01");
    assert_eq!(runs[0]["status"], "complete");
    assert_eq!(runs[1]["name"], "shapeset-relu-he-l2-w16-s0-lr1000000");
    assert!(
        runs[1]["status"]
            .as_str()
            .unwrap()
            .starts_with("diverged: "),
        "{last}"
    );
    for entry in runs {
        assert!(std::path::Path::new(entry["run_h5"].as_str().unwrap()).is_file());
    }
    // Without --diverged-ok the same pack fails, naming the model.
    let failed = train_pack(
        &json!([trial(0.01), trial(1e6)]),
        &dir.path().join("f"),
        &[],
    );
    assert!(!failed.status.success());
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
