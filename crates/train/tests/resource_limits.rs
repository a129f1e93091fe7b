//! `train` and `train-pack` writing their run directories onto a disk too small for them (a
//! 5 MiB tmpfs) and under a 5 MiB file-size limit: one line on stderr, a non-zero exit, no
//! temp file and no complete-looking run left.

mod common;
#[path = "../../spec/tests/common/limits.rs"]
mod limits;

use common::shapeset_file;
use limits::{on_both_limits, SmallDisk, FIVE_MIB};
use std::path::Path;
use std::process::Command;

/// Two hidden layers of 1500: a checkpoint is ~15 MB, three times what the disk holds, while
/// an update on 300 probe examples stays cheap on one CPU thread.
const NET: [&str; 16] = [
    "--dataset",
    "shapeset",
    "--activation",
    "tanh",
    "--init",
    "normalized",
    "--hidden-layers",
    "2",
    "--width",
    "1500",
    "--updates",
    "20",
    "--probe-every",
    "10",
    "--jacobian-examples",
    "0",
];

/// `command` with one thread and no HDF5 file locks (see `common::train_command`).
fn quiet(mut command: Command) -> Command {
    command
        .env("OMP_NUM_THREADS", "1")
        .env("HDF5_USE_FILE_LOCKING", "FALSE");
    command
}

fn train_on(disk: &SmallDisk, data: &Path) {
    let out = disk.path().join("run");
    let mut command = quiet(Command::new(env!("CARGO_BIN_EXE_train")));
    command.args(NET).args(["--device", "cpu", "--data"]);
    command.arg(data).arg("--out").arg(&out);
    disk.assert_fails_cleanly(&mut command, "train", disk.limit.error());
    assert!(!out.join("run.h5").exists(), "a run.h5 was left");
}

fn train_pack_on(disk: &SmallDisk, data: &Path) {
    let run = |seed: u64| {
        serde_json::json!({"dataset": "shapeset", "activation": "tanh", "init": "normalized",
            "hidden_layers": 2, "width": 1500, "batch_size": 10, "lr": 0.01, "updates": 20,
            "seed": seed, "probe_every": 10, "jacobian_examples": 0, "eval_examples": 0,
            "raw_every_epochs": 1})
    };
    // The runs file lies beside the disk: only the pack's output is limited.
    let runs = data.with_file_name("runs.json");
    std::fs::write(&runs, serde_json::json!([run(0), run(1)]).to_string()).unwrap();
    let out = disk.path().join("pack");
    let mut command = quiet(Command::new(env!("CARGO_BIN_EXE_train-pack")));
    command.args(["--device", "cpu", "--threads", "1", "--runs"]);
    command
        .arg(&runs)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(&out);
    disk.assert_fails_cleanly(&mut command, "train-pack", disk.limit.error());
    for seed in [0, 1] {
        let run_h5 = out.join(format!("shapeset-tanh-normalized-l2-w1500-s{seed}/run.h5"));
        assert!(!run_h5.exists(), "{} was left", run_h5.display());
    }
}

#[test]
fn train_and_train_pack_on_a_full_disk_and_past_the_file_size_limit_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = shapeset_file(dir.path(), 300);
    on_both_limits(FIVE_MIB, |disk| train_on(disk, &data));
    on_both_limits(FIVE_MIB, |disk| train_pack_on(disk, &data));
}
