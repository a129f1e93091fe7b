//! `train select` on real trial recordings: the trials of both inits of tanh pooled into one
//! selection (one rate per activation), with the noise test's validation size taken from the
//! trials' dataset file; and a runs.json that mixes rate groups refused in one line.

mod common;

use common::{assert_one_line_error, shapeset_file, small_args, train, train_ok};
use serde_json::Value;
use spec::selection::RULE;
use std::path::{Path, PathBuf};

/// A 100-update trial of tanh `init` at `lr` on `data` (300 validation examples), into
/// `<dir>/<name>`.
fn trial(dir: &Path, data: &Path, name: &str, init: &str, lr: &str) -> PathBuf {
    let out = dir.join(name);
    let mut args = small_args(data.to_str().unwrap(), out.to_str().unwrap(), "100");
    let at = args.iter().position(|a| *a == "xavier").unwrap();
    args[at] = init;
    args.extend([
        "--lr",
        lr,
        "--raw-every-epochs",
        "0",
        "--jacobian-examples",
        "0",
        "--diverged-ok",
    ]);
    train_ok(&args)
}

/// `train select` over `runs`; its output.
fn select(dir: &Path, runs: &[PathBuf]) -> std::process::Output {
    let file = dir.join("runs.json");
    std::fs::write(&file, serde_json::json!({ "runs": runs }).to_string()).unwrap();
    let out = dir.join("selection");
    let (file, out) = (file.to_str().unwrap(), out.to_str().unwrap());
    train(&["select", "--trials", file, "--out", out])
}

#[test]
fn the_trials_of_both_inits_choose_one_rate() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    let mut runs = Vec::new();
    for init in ["standard", "normalized"] {
        for lr in ["0.1", "0.001"] {
            runs.push(trial(dir.path(), &data, &format!("{init}-{lr}"), init, lr));
        }
    }
    let output = select(dir.path(), &runs);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let path = String::from_utf8(output.stdout).unwrap();
    let s: Value = serde_json::from_slice(&std::fs::read(path.trim()).unwrap()).unwrap();
    assert_eq!(
        s["group"],
        serde_json::json!({"dataset": "shapeset", "activation": "tanh", "hidden_layers": 5})
    );
    assert_eq!(s["inits"], serde_json::json!(["standard", "normalized"]));
    assert_eq!(s["rule"], RULE);
    let trials = s["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    assert!(trials.iter().all(|t| t["valid_examples"] == 300), "{s}");
    let error = |init: &str, lr: f64| {
        let t = trials.iter().find(|t| t["init"] == init && t["lr"] == lr);
        t.unwrap()["valid_error"].as_f64().unwrap()
    };
    for score in s["scores"].as_array().unwrap() {
        let lr = score["lr"].as_f64().unwrap();
        let pooled = (error("standard", lr) + error("normalized", lr)) / 2.0;
        let mean = score["mean_valid_error"].as_f64().unwrap();
        assert!((mean - pooled).abs() < 1e-12, "{s}");
        assert_eq!(score["valid_examples"], 600, "two trials of 300");
    }
    let tied = s["tied"].as_array().unwrap();
    assert_eq!(s["chosen_lr"], tied[0], "the largest tied rate: {s}");
    assert_eq!(s["undecided"], tied.len() > 1);
    assert!(tied.contains(&s["best_lr"]));
    assert!(
        stderr.contains("train: shapeset-tanh-l5: learning rate"),
        "{stderr}"
    );

    // A trial of another activation is another group: refused in one line.
    let sigmoid = {
        let out = dir.path().join("sigmoid");
        let mut args = small_args(data.to_str().unwrap(), out.to_str().unwrap(), "100");
        let at = args.iter().position(|a| *a == "tanh").unwrap();
        args[at] = "sigmoid";
        args.extend(["--raw-every-epochs", "0", "--jacobian-examples", "0"]);
        train_ok(&args)
    };
    runs.push(sigmoid);
    let mixed = select(dir.path(), &runs);
    assert_one_line_error(&mixed, 1, "cannot share a rate", "mixed groups");
}
