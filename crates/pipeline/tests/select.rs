//! Learning-rate selection with the real binaries: trials of both tanh inits over a grid, one
//! select stage for the activation that pools them (`spec::selection::RULE`), both inits'
//! final runs trained at its rate and keyed on it, and a grid change that re-selects without
//! retraining the trials it kept.

mod common;

use common::{starts, Sandbox, TRAIN_TABLES};
use serde_json::Value;

/// fig6's two tanh runs, their rates chosen from `grid` after 100-update trials.
fn selecting(grid: &str) -> String {
    format!(
        "description = \"selection\"\n{TRAIN_TABLES}[select]\ngrid = {grid}\nupdates = 100\n\
         [figures]\nfig6 = {{ width = 640, height = 480 }}\nlr-select = {{}}\n"
    )
}

fn json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The selection.json (and its key) and the final run's config.json of tanh `init`, via the
/// manifest.
fn selection_and_run(sb: &Sandbox, init: &str) -> (Value, String, Value) {
    let manifest = sb.manifest();
    let inputs = &manifest["files"]["fig6.png"]["inputs"];
    let run_key = inputs[format!("train/shapeset-tanh-{init}-l5-w32-s0")]
        .as_str()
        .unwrap();
    let run = json(&sb.entry(run_key).join("config.json"));
    let key_record = json(&sb.entry(run_key).join("key.json"));
    let select_key = key_record["inputs"]["lr"]
        .as_str()
        .expect("keyed on its selection");
    let selection = json(&sb.entry(select_key).join("selection.json"));
    (selection, select_key.to_string(), run)
}

/// What `spec::selection::RULE` says of `selection`: the best is the lowest score of a rate
/// with no diverged trial, the chosen rate the largest of those tied with it.
fn assert_follows_the_rule(selection: &Value) {
    let scores = selection["scores"].as_array().unwrap();
    let error = |s: &Value| s["mean_valid_error"].as_f64().unwrap();
    let best = scores
        .iter()
        .filter(|s| s["diverged"] == false)
        .min_by(|a, b| error(a).total_cmp(&error(b)))
        .expect("a rate that did not diverge");
    assert_eq!(selection["best_lr"], best["lr"], "{selection}");
    let tied = selection["tied"].as_array().unwrap();
    assert!(tied.contains(&best["lr"]), "{selection}");
    assert_eq!(selection["chosen_lr"], tied[0], "the largest tied rate");
    assert_eq!(selection["undecided"], tied.len() > 1);
}

#[test]
fn final_runs_train_at_the_rate_their_trials_chose() {
    let Some(sb) = Sandbox::new(&selecting("[1.0, 0.05, 0.0001]")) else {
        return;
    };
    let first = sb.run();
    let started = starts(&first);
    for stage in [
        "trial/shapeset-tanh-standard-l5-w32-s0-lr1",
        "trial/shapeset-tanh-normalized-l5-w32-s0-lr0.0001",
        "select/shapeset-tanh-l5",
        "train/shapeset-tanh-normalized-l5-w32-s0",
        "render/lr-select",
    ] {
        assert!(
            started.iter().any(|s| s == stage),
            "{stage} not built:\n{first}"
        );
    }
    let (_, shared, _) = selection_and_run(&sb, "standard");
    for init in ["standard", "normalized"] {
        let (selection, key, run) = selection_and_run(&sb, init);
        assert_eq!(key, shared, "both inits train at one selection");
        assert_eq!(
            selection["inits"],
            serde_json::json!(["standard", "normalized"])
        );
        let trials = selection["trials"].as_array().unwrap();
        assert_eq!(trials.len(), 6);
        assert!(
            trials.iter().all(|t| t["valid_examples"] == 10_000),
            "the noise test knows Shapeset's validation set: {selection}"
        );
        let scores = selection["scores"].as_array().unwrap();
        assert_eq!(scores.len(), 3);
        assert_follows_the_rule(&selection);
        let chosen = selection["chosen_lr"].as_f64().unwrap();
        assert_ne!(
            chosen, 0.0001,
            "100 updates at 1e-4 cannot beat 0.05: {selection}"
        );
        assert_eq!(
            run["lr"].as_f64().unwrap(),
            chosen,
            "trained at the chosen rate"
        );
        assert_eq!(
            run["updates"], 300,
            "the final run's length, not the trials'"
        );
    }
    // lr-select draws what fig6 draws: the dataset, 2 x 3 trials, 1 selection, 2 final runs
    // and 2 renders.
    sb.run_cached(1 + 6 + 1 + 2 + 2);

    // A new grid re-selects; the trials of rates it keeps are not retrained.
    sb.set_profile(&selecting("[0.05, 0.0001]"));
    let second = sb.run();
    let rebuilt = starts(&second);
    assert!(
        !rebuilt.iter().any(|s| s.starts_with("trial/")),
        "kept rates are cached:\n{second}"
    );
    assert!(rebuilt.iter().any(|s| s == "select/shapeset-tanh-l5"));
    let (selection, _, _) = selection_and_run(&sb, "normalized");
    assert_eq!(selection["scores"].as_array().unwrap().len(), 2);
}
