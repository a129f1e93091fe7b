//! Spreading training runs over GPUs, one device per run. This machine has no GPU, so the stage
//! binaries are replaced by small recorders (shell scripts that make real store entries and note
//! the device they were given); what is under test is `paper`'s scheduling and keying.

mod common;

use common::{succeeded, Sandbox};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Four runs (two settings, two seeds) to spread over two GPUs.
fn four_runs() -> String {
    common::profile(
        "four runs to spread over two GPUs",
        r#"[runs]
tanh   = { dataset = "shapeset", activation = "tanh", init = "standard", seeds = [0, 1] }
tanh-n = { dataset = "shapeset", activation = "tanh", init = "normalized", seeds = [0, 1] }
[figures]
fig6 = { runs = ["tanh", "tanh-n"] }
"#,
    )
}

/// `shapeset dataset --store S`: a real (tiny) store entry, made the way the store makes them.
const SHAPESET: &str = r#"tmp=$(mktemp -d "$store/tmp/recorder.XXXXXX")
printf 'not really a dataset\n' > "$tmp/dataset.h5"
printf '{"inputs":{},"params":{},"stage":"recorder","tool":"recorder"}' > "$tmp/key.json"
key=$(sha256sum "$tmp/key.json" | cut -c1-64)
sha=$(sha256sum "$tmp/dataset.h5" | cut -c1-64)
printf '{"files":{"dataset.h5":{"sha256":"%s","size":21}}}' "$sha" > "$tmp/outputs.json"
mkdir -p "$store/${key:0:2}"
mv -T "$tmp" "$store/${key:0:2}/$key" 2>/dev/null || rm -rf "$tmp"
echo "shapeset $key $store/${key:0:2}/$key/dataset.h5"
"#;

/// `train ... --device D --out DIR`: notes its device and when it ran, then "trains" for a while.
const TRAIN: &str = r#"echo "start $(date +%s.%N) ${CUDA_VISIBLE_DEVICES:-none} $device" >> "$RECORDER_LOG"
sleep 1
echo "end $(date +%s.%N) ${CUDA_VISIBLE_DEVICES:-none} $device" >> "$RECORDER_LOG"
echo "${CUDA_VISIBLE_DEVICES:-none} $device" > "$out/run.h5"
echo "$out/run.h5"
"#;

/// `figures render ... --out DIR --only ID`.
const FIGURES: &str = r#"echo drawn > "$out/$only.txt"
echo "$out"
"#;

/// What every recorder starts with: the options they read (`--store S`, `--device D`, `--out DIR`,
/// `--only ID`) become shell variables (`$store`, ...); other arguments are ignored.
const PREAMBLE: &str = r#"#!/usr/bin/env bash
set -euo pipefail
while [[ $# -gt 0 ]]; do
  case $1 in --store|--device|--out|--only) declare "${1#--}=$2"; shift 2;; *) shift;; esac
done
"#;

fn recorders(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, script) in [
        ("shapeset", SHAPESET),
        ("train", TRAIN),
        ("figures", FIGURES),
    ] {
        std::fs::write(dir.join(name), format!("{PREAMBLE}{script}")).unwrap();
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn each_training_run_gets_its_own_gpu() {
    let scratch = tempfile::tempdir().unwrap();
    recorders(&scratch.path().join("bin"));
    let sb = Sandbox::with_bins(&four_runs(), scratch.path().join("bin"));
    let log = scratch.path().join("recorder.log");
    let mut args = sb.run_args();
    args.extend(["--gpus", "2"].map(String::from));
    let run = sb.command(args).env("RECORDER_LOG", &log).output().unwrap();
    let stdout = succeeded("paper run --gpus 2", &run);
    assert!(stdout.contains("training on 2 x unknown"), "{stdout}");

    // (time, +1/-1, gpu) events: no GPU ever holds two runs, and both GPUs were used at once.
    let text = std::fs::read_to_string(&log).unwrap();
    let mut events: Vec<(f64, i32, String)> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f[3], "cuda", "a GPU run is told --device cuda: {l}");
            (
                f[1].parse().unwrap(),
                if f[0] == "start" { 1 } else { -1 },
                f[2].to_string(),
            )
        })
        .collect();
    assert_eq!(events.len(), 8, "four runs:\n{text}");
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut busy = std::collections::BTreeMap::<String, i32>::new();
    let mut most = 0;
    for (_, delta, gpu) in &events {
        assert!(gpu == "0" || gpu == "1", "CUDA_VISIBLE_DEVICES={gpu}");
        *busy.entry(gpu.clone()).or_default() += delta;
        assert!(busy[gpu] <= 1, "GPU {gpu} ran two runs at once:\n{text}");
        most = most.max(busy.values().sum::<i32>());
    }
    assert_eq!(most, 2, "two runs at once, one per GPU:\n{text}");

    // The device class is part of the key: on the CPU the same runs are other stages.
    let status = sb.ok([
        "status",
        "--gpus",
        "0",
        "--profile-file",
        sb.profile().to_str().unwrap(),
    ]);
    assert_eq!(
        status
            .lines()
            .filter(|l| l.starts_with("missing  train/"))
            .count(),
        4,
        "{status}"
    );
}
