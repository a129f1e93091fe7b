//! Stand-ins for the stage binaries: small shell scripts that make real store entries (sealed
//! the way the store seals them) in milliseconds. What is under test with them is `paper`:
//! its scheduling, keying, repair and publishing, not what the stages compute.
//!
//! Knobs, all environment variables: `RECORDER_LOG` (train notes its device and times there),
//! `FAKE_TRAIN_FAIL` (a train whose command line contains it fails with one error line),
//! `FAKE_TRAIN_ABORT` (set: train says something and dies of SIGABRT), `FAKE_TRAIN_SLEEP`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// `shapeset dataset --store S`: a tiny sealed store entry, and the dataset line.
const SHAPESET: &str = r#"tmp=$(mktemp -d "$store/tmp/recorder.XXXXXX")
printf 'not really a dataset\n' > "$tmp/dataset.h5"
printf '{"inputs":{},"params":{},"stage":"recorder","tool":"recorder"}' > "$tmp/key.json"
key=$(sha256sum "$tmp/key.json" | cut -c1-64)
sha=$(sha256sum "$tmp/dataset.h5" | cut -c1-64)
printf '{"files":{"dataset.h5":{"sha256":"%s","size":21}}}' "$sha" > "$tmp/outputs.json"
outputs=$(sha256sum "$tmp/outputs.json" | cut -c1-64)
printf '{"key":"%s","outputs_sha256":"%s"}' "$key" "$outputs" > "$tmp/seal.json"
mkdir -p "$store/${key:0:2}"
mv -T "$tmp" "$store/${key:0:2}/$key" 2>/dev/null || rm -rf "$tmp"
echo "shapeset $key $store/${key:0:2}/$key/dataset.h5"
"#;

/// `train identity` or `train ... --device D --out DIR`.
const TRAIN: &str = r#"if [[ -n "${RECORDER_LOG:-}" ]]; then
  echo "start $(date +%s.%N) ${CUDA_VISIBLE_DEVICES:-none} $device" >> "$RECORDER_LOG"
fi
if [[ -n "${FAKE_TRAIN_FAIL:-}" && "$all" == *"$FAKE_TRAIN_FAIL"* ]]; then
  echo "train: error: failing on purpose" >&2
  exit 1
fi
if [[ -n "${FAKE_TRAIN_ABORT:-}" ]]; then
  echo "some context" >&2
  echo "terminate called after throwing an instance of 'c10::Error'" >&2
  kill -ABRT $$
fi
sleep "${FAKE_TRAIN_SLEEP:-0}"
if [[ -n "${RECORDER_LOG:-}" ]]; then
  sleep 1
  echo "end $(date +%s.%N) ${CUDA_VISIBLE_DEVICES:-none} $device" >> "$RECORDER_LOG"
fi
echo "${CUDA_VISIBLE_DEVICES:-none} $device $all" > "$out/run.h5"
echo "$out/run.h5"
"#;

/// `figures render --runs R --out DIR --only ID`: one file per output, naming its runs.
const FIGURES: &str = r#"cat "$runs" > "$out/$only.txt"
echo "width ${width:-default}" >> "$out/$only.txt"
echo "$out"
"#;

/// What every recorder starts with: `identity` answers at once; the options they read become
/// shell variables (`$store`, `$device`, `$out`, `$only`, `$runs`, `$width`); `$all` is the
/// whole line.
const PREAMBLE: &str = r#"#!/usr/bin/env bash
set -euo pipefail
if [[ "${1:-}" == identity ]]; then echo '{"libtorch":"fake","cuda_built":true,"cuda":true,"devices":["cpu"]}'; exit 0; fi
all="$*"
while [[ $# -gt 0 ]]; do
  case $1 in --store|--device|--out|--only|--runs|--width) declare "${1#--}=$2"; shift 2;; *) shift;; esac
done
"#;

/// Writes the recorders `shapeset`, `train` and `figures` into `dir`.
pub fn recorders(dir: &Path) {
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

/// A sandbox whose stage binaries are the recorders (in the sandbox's own `bin/`).
pub fn sandbox(profile: &str) -> super::Sandbox {
    let mut sb = super::Sandbox::with_bins(profile, std::path::PathBuf::new());
    sb.bins = sb.dir.path().join("bin");
    recorders(&sb.bins);
    sb
}
