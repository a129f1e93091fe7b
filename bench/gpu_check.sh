#!/usr/bin/env bash
# The pack trainer's GPU check, one script sized for 8 minutes of one H200:
#   1. `train-pack bench` on the GPU for K in 1,4,16,32,64 (model-updates/s);
#   2. a K=32 Shapeset pack of about 2 minutes with probes (wall time, probe share);
#   3. model 0 of that pack against the same run trained alone by `train` on the GPU
#      (`train-pack compare`, GPU tolerance: float summation order differs, see below).
# Everything goes to $OUT_DIR/train-gpu.json (with the GPU's name) and $OUT_DIR/gpu-check.log.
#
# Build here (2 cores, no GPU) and carry: the device machine has torch but no Rust.
#   cargo build --release -p train --features train/cuda
#   mkdir -p .gpu && cp $CARGO_TARGET_DIR/release/{train,train-pack} .gpu/ && strip .gpu/*
#   echo /.gpu/ >> .git/info/exclude     # then carry [".gpu"]
# Run there:  bench/gpu_check.sh "$OUT"
# Check the script itself on a CPU with tiny sizes:  DEVICE=cpu TINY=1 bench/gpu_check.sh /tmp/gc
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results}
device=${DEVICE:-cuda}
bin=${BIN:-.gpu}
[[ -x $bin/train-pack ]] || bin=${CARGO_TARGET_DIR:-target}/release
pack=$bin/train-pack
train=$bin/train
if [[ -n ${TINY:-} ]]; then
    # Sizes that check the script's plumbing in seconds on a CPU.
    packs=1,2 k=2 width=32 layers=2 bench_s=0.5 seconds=3 min_steps=3 jac=1
else
    packs=1,4,16,32,64 k=32 width=1000 layers=5 bench_s=8 seconds=110 min_steps=200 jac=5
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$out/gpu-check.log
: >"$log"
# The machine's own torch (same 2.11.0+cu130 the binaries were built against) when the
# binaries' rpath points at a venv that is not there.
if python3 -c 'import torch' 2>/dev/null; then
    torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
    export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || true)
echo "gpu_check: device $device (${gpu:-no GPU}), binaries from $bin" | tee -a "$log"

# 1. The bench: each K times at least min_steps steps (warm-up excluded).
"$pack" bench --device "$device" --packs "$packs" --seconds "$bench_s" \
    --min-steps "$min_steps" --width "$width" --hidden-layers "$layers" \
    | tee "$work/bench.jsonl" | tee -a "$log"

# 2. A K-model Shapeset pack of about $seconds s of training: its length comes from the
#    bench's rate at this K (capped so that the single run of step 3 stays under 2 minutes
#    at the measured 1,418 updates/s of one model alone).
python3 - "$work" "$k" "$width" "$layers" "$seconds" "$jac" <<'PY'
import json, sys
work, k, width, layers, seconds, jac = sys.argv[1], *map(int, sys.argv[2:])
rows = [json.loads(l) for l in open(f"{work}/bench.jsonl")]
rate = max((r["model_updates_per_s"] for r in rows if r.get("k") == k), default=None)
rate = rate or max(r["model_updates_per_s"] for r in rows if "k" in r)
updates = max(100, min(int(seconds * rate / k) // 100 * 100, 150_000))
inits, lrs = ["standard", "normalized", "he"], [0.01, 0.02, 0.005, 0.03]
runs = [{"dataset": "shapeset", "activation": "tanh", "init": inits[i % 3], "hidden_layers": layers,
         "width": width, "batch_size": 10, "lr": lrs[i % 4], "updates": updates, "seed": i,
         "probe_every": max(updates // 5, 1), "jacobian_examples": jac, "raw_every_epochs": 1}
        for i in range(k)]
json.dump(runs, open(f"{work}/runs.json", "w"))
print(f"gpu_check: pack of {k} x {updates} updates")
PY
start=$(date +%s.%N)
set +e
"$pack" --runs "$work/runs.json" --out "$work/pack" --device "$device" \
    >"$work/pack.out" 2>"$work/pack.err"
pack_rc=$?
set -e
pack_s=$(python3 -c "import time; print(time.time() - $start)")
cat "$work/pack.err" "$work/pack.out" >>"$log"
tail -n 1 "$work/pack.err"

# 3. Model 0 alone, the same parameters through `train`, then the comparison.
args=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))[0]
print(" ".join("--" + k.replace("_", "-") + " " + str(v) for k, v in r.items()))' "$work/runs.json")
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$train" $args --device "$device" --out "$work/single" >>"$log" 2>&1
single_s=$(python3 -c "import time; print(time.time() - $start)")
name=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["runs"][0]["name"])' "$work/pack.out")
set +e
verdict=$("$pack" compare "$work/pack/$name/run.h5" "$work/single/run.h5" \
    --relative 1e-2 --histogram 2e-2 2>&1)
set -e
echo "gpu_check: model 0 vs alone: $verdict" | tee -a "$log"

python3 - "$work" "$out/train-gpu.json" "$gpu" "$device" "$pack_rc" "$pack_s" "$single_s" "$verdict" <<'PY'
import json, os, sys
work, path, gpu, device, rc, pack_s, single_s, verdict = sys.argv[1:]
rows = [json.loads(l) for l in open(f"{work}/bench.jsonl")]
runs = json.load(open(f"{work}/runs.json"))
last = open(f"{work}/pack.out").read().splitlines()
timing = [json.load(open(f"{work}/pack/{r['name']}/timing.json"))
          for r in (json.loads(last[-1])["runs"] if last else []) if r["status"] == "complete"]
train_s = timing[0]["train_s"] if timing else None
probe_s = sum(t["probe_s"] for t in timing)
k, updates = len(runs), runs[0]["updates"]
out = {
    "gpu": gpu or None, "device": device,
    "net": f"1024-{runs[0]['hidden_layers']}x{runs[0]['width']} tanh-9, batch 10, fp32",
    "bench": [r for r in rows if r.get("impl") == "tch-pack"],
    "producer": next((r for r in rows if r.get("impl") == "shapeset-producer"), None),
    "memory_model": next((r for r in rows if r.get("impl") == "memory-model"), None),
    "pack_run": {"k": k, "updates": updates, "exit_code": int(rc), "wall_s": float(pack_s),
                 "train_s": train_s, "probe_s": probe_s,
                 "model_updates_per_s_training": k * updates / train_s if train_s else None,
                 "model_updates_per_s_wall": k * updates / float(pack_s),
                 "probe_share_of_training": probe_s / train_s if train_s else None},
    "alone": {"updates": updates, "wall_s": float(single_s), "compare": verdict,
              "tolerance": {"relative": 1e-2, "histogram": 2e-2}},
}
tmp = path + ".tmp"
json.dump(out, open(tmp, "w"), indent=2)
os.replace(tmp, path)
print(path)
PY
