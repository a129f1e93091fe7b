//! Learning-rate selection with the real binaries: trials over a grid, a select stage that
//! picks the lowest validation error, final runs trained at the chosen rate and keyed on the
//! selection, and a grid change that re-selects without retraining the trials it kept.

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

/// The selection.json and the final run's config.json of tanh `init`, via the manifest.
fn selection_and_run(sb: &Sandbox, init: &str) -> (Value, Value) {
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
    (selection, run)
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
        "select/shapeset-tanh-standard-l5",
        "train/shapeset-tanh-normalized-l5-w32-s0",
        "render/lr-select",
    ] {
        assert!(
            started.iter().any(|s| s == stage),
            "{stage} not built:\n{first}"
        );
    }
    for init in ["standard", "normalized"] {
        let (selection, run) = selection_and_run(&sb, init);
        let scores = selection["scores"].as_array().unwrap();
        assert_eq!(scores.len(), 3);
        let best = scores
            .iter()
            .min_by(|a, b| {
                let e = |s: &Value| s["mean_valid_error"].as_f64().unwrap();
                e(a).total_cmp(&e(b))
            })
            .unwrap();
        let chosen = selection["chosen_lr"].as_f64().unwrap();
        assert_eq!(chosen, best["lr"].as_f64().unwrap(), "{selection}");
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
    // lr-select draws what fig6 draws: the dataset, 2 x 3 trials, 2 selections, 2 final runs
    // and 2 renders.
    sb.run_cached(1 + 6 + 2 + 2 + 2);

    // A new grid re-selects; the trials of rates it keeps are not retrained.
    sb.set_profile(&selecting("[0.05, 0.0001]"));
    let second = sb.run();
    let rebuilt = starts(&second);
    assert!(
        !rebuilt.iter().any(|s| s.starts_with("trial/")),
        "kept rates are cached:\n{second}"
    );
    assert!(rebuilt
        .iter()
        .any(|s| s == "select/shapeset-tanh-normalized-l5"));
    let (selection, _) = selection_and_run(&sb, "normalized");
    assert_eq!(selection["scores"].as_array().unwrap().len(), 2);
}
