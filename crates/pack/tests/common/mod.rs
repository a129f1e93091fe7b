//! The real `train-pack` binary, as the tests run it.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `train-pack --device cpu --runs <out>.json --out <out> extra...`, with `runs` written to
/// `<out>.json`.
pub fn train_pack(runs: &Value, out: &Path, extra: &[&str]) -> Output {
    let file = out.with_extension("json");
    std::fs::write(&file, runs.to_string()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_train-pack"))
        .env_remove("RUST_BACKTRACE")
        .args(["--device", "cpu", "--runs"])
        .arg(&file)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}
