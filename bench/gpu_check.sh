#!/usr/bin/env bash
# The pack trainer's GPU check: one script, under 10 minutes on one H100 (budget $BUDGET_S,
# default 540 s: a step that would start past it is skipped and said so). It measures
#   1. bench: `train-pack bench` model-updates/s (5x1000 tanh, batch 10, fp32) for K in
#      1, 8, 16, 32, 64, 128 and the largest K that fits the GPU's free memory by the pack
#      trainer's memory model (`train-pack memory`), one process per K;
#   2. processes: 1, 2 and 4 `train-pack bench` processes on the GPU at once, at K = 1, 10
#      (the full profile's final packs: 5 seeds x 2 inits) and 64: each one's rate and their
#      sum, what `paper`'s choice of trainers per GPU rests on;
#   3. exactness: Shapeset packs of K = 1, 8, 64 and 128 trained for 1,500 updates (probes
#      every 500; model 0 is the same run in each), their wall, training and probe seconds,
#      and model 0 of each against model 0 of the pack of one (`train-pack compare`: the
#      smallest tolerance of a ladder that passes, from exact up to 1e-2), and the pack of one
#      against the same run trained by `train`.
# The JSON ($OUT_DIR/train-gpu.json) is rewritten after every measurement, so a run cut off
# at any point still reports what it measured; "complete" is true only at the end, "ok" when
# no step failed. A step that fails is recorded under "errors" and the script goes on; it
# exits 1 if any failed.
# Its log is $OUT_DIR/gpu-check.log; the work directory is kept (and named) when a step fails.
#
#   bench/gpu_check.sh [--dry] [OUT_DIR]
#
# --dry: the same steps at sizes that take seconds on a CPU (width 32, 2 hidden layers,
# K up to 8, 40 updates), on the CPU, into OUT_DIR (default $TMPDIR/gpu-check-dry). There,
# model 0 must be bit-identical across K (the CPU guarantee, tests/pack_exact.rs), so any
# difference fails it. CI runs it (.ci/run) so that the script cannot rot between GPU runs.
#
# Build here (no GPU needed) and carry: the device machine may have no Rust.
#   XAVIER_CUDA=1 just build        # or: XAVIER_CUDA=1 scripts/setup, then with LIBTORCH and
#                                   # CMAKE from `scripts/setup libtorch-path|venv-path`:
#                                   # cargo build --release -p train --features cuda
#   mkdir -p .gpu && cp $CARGO_TARGET_DIR/release/{train,train-pack} .gpu/ && strip .gpu/*
#   echo /.gpu/ >> .git/info/exclude     # then carry [".gpu"]
# The binaries' rpath points at $XAVIER_CACHE/venv-torch-2.11.0-cuda; where that is absent,
# the script puts the device machine's own torch 2.11.0 (cu130) on LD_LIBRARY_PATH.
# Run there:  bench/gpu_check.sh "$OUT"     (binaries from $BIN, default .gpu, else
# $CARGO_TARGET_DIR/release)
set -euo pipefail
cd "$(dirname "$0")/.."
dry=
if [[ ${1:-} == --dry ]]; then dry=1; shift; fi
if [[ -n $dry ]]; then
  out=${1:-${TMPDIR:-/tmp}/gpu-check-dry}
  device=${DEVICE:-cpu}
else
  out=${1:-bench/results}
  device=${DEVICE:-cuda}
fi
bin=${BIN:-.gpu}
[[ -x $bin/train-pack ]] || bin=${CARGO_TARGET_DIR:-${XAVIER_CACHE:-$HOME/.cache/xavier}/target}/release
pack=$bin/train-pack
train=$bin/train
[[ -x $pack && -x $train ]] || { echo "gpu_check: no train and train-pack in $bin (just build)" >&2; exit 2; }

if [[ -n $dry ]]; then
  # Sizes that run every step's plumbing in seconds on a CPU.
  packs=(1 2 4 8) cap=8 proc_ks=(1 4) exact_ks=(1 2 4 8)
  width=32 layers=2 bench_s=0.3 bench_limit=60 min_steps=3 producer=2
  updates=40 probe_every=20 eval=100 budget=${BUDGET_S:-120} bench_cost=5
else
  packs=(1 8 16 32 64 128) cap=4096 proc_ks=(1 10 64) exact_ks=(1 8 64 128)
  width=1000 layers=5 bench_s=5 bench_limit=120 min_steps=20 producer=16
  updates=1500 probe_every=500 eval=1000 budget=${BUDGET_S:-540} bench_cost=20
fi
# compare's ladder of (relative, histogram) tolerances, exact first.
ladder=("0 0" "1e-6 1e-4" "1e-5 1e-3" "1e-4 5e-3" "1e-3 1e-2" "1e-2 2e-2")

mkdir -p "$out"
json=$out/train-gpu.json
log=$out/gpu-check.log
: >"$log"
work=$(mktemp -d)
failed=0
# shellcheck disable=SC2317  # (a trap handler)
cleanup() {
  if ((failed)); then echo "gpu_check: work directory kept: $work" | tee -a "$log" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
# A cut-off run (SIGTERM, SIGINT) says so in its JSON before it goes.
trap 'error interrupted "a signal at $(elapsed) s"; jobs -p | xargs -r kill 2>/dev/null; exit 143' TERM INT
started=$(date +%s)
elapsed() { echo $(($(date +%s) - started)); }
say() { echo "gpu_check: $*" | tee -a "$log" >&2; }

# The machine's own torch (the same 2.11.0+cu130 the binaries were built against) when the
# binaries' rpath points at a venv that is not there.
if [[ -z $dry ]] && ldd "$pack" | grep -q 'libtorch.*not found' && python3 -c 'import torch' 2>/dev/null; then
  torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -n 1 || true)

# jq-less JSON editing: `jset KEY JSON` sets a top-level key, `jadd KEY JSON` appends to a
# list; each rewrites the whole file through a temp file and a rename.
jedit() {
  python3 - "$json" "$@" <<'PY'
import json, os, sys
path, op, key, value = sys.argv[1:5]
doc = json.load(open(path)) if os.path.exists(path) else {}
value = json.loads(value)
if op == "set":
    doc[key] = value
else:
    doc.setdefault(key, []).append(value)
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, path)
PY
}
jset() { jedit set "$1" "$2"; }
jadd() { jedit add "$1" "$2"; }
jstr() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }
error() { # step message
  failed=1
  say "FAILED: $1: $2"
  jadd errors "{\"step\": $(jstr "$1"), \"error\": $(jstr "$2"), \"at_s\": $(elapsed)}"
}
# Whether a step estimated to take $1 s still fits the budget; records the skip when not.
fits() {
  if (($(elapsed) + $1 > budget)); then
    say "skipped $2: $(elapsed) s spent, ~$1 s more would pass the ${budget} s budget"
    jadd skipped "$(jstr "$2")"
    return 1
  fi
}

rm -f "$json"
jset script '"bench/gpu_check.sh"'
jset mode "$([[ -n $dry ]] && echo '"dry"' || echo '"gpu"')"
jset started "$(jstr "$(date -u +%FT%TZ)")"
jset complete false
jset gpu "$(jstr "${gpu:-none}")"
jset device "$(jstr "$device")"
jset identity "$("$train" identity)"
jset net "$(jstr "1024-${layers}x${width} tanh-9, batch 10, fp32")"
say "device $device (${gpu:-no GPU}), binaries from $bin, budget ${budget} s, JSON $json"

# 0. The largest pack that fits: the trainer's memory model against the device's free memory
#    (the CPU: MemAvailable), capped at $cap.
runs_json() { # K width layers updates probe_every eval_examples: K Shapeset runs, model 0 the same in all
  python3 - "$@" <<'PY'
import json, sys
k, width, layers, updates, probe, evals = map(int, sys.argv[1:7])
inits, lrs = ["normalized", "standard", "he"], [0.01, 0.02, 0.005, 0.03]
print(json.dumps([{"dataset": "shapeset", "activation": "tanh", "init": inits[i % 3],
    "hidden_layers": layers, "width": width, "batch_size": 10, "lr": lrs[i % 4],
    "updates": updates, "seed": i, "probe_every": probe, "jacobian_examples": 1,
    "eval_examples": evals, "raw_every_epochs": 0} for i in range(k)]))
PY
}
runs_json 1 "$width" "$layers" "$updates" "$probe_every" "$eval" >"$work/shape.json"
if [[ $device == cpu ]]; then
  free_gb=$(awk '/MemAvailable/ {printf "%.2f", $2 * 1024 / 1e9 * 0.9}' /proc/meminfo)
else
  free_gb=$({ nvidia-smi --query-gpu=memory.free --format=csv,noheader,nounits 2>/dev/null || true; } \
    | head -n 1 | awk '{printf "%.2f", $1 * 1048576 / 1e9 * 0.9}')
fi
kmax=
if [[ -z $free_gb ]]; then
  error largest_k "cannot read the free memory of $device"
elif memory=$("$pack" memory --runs "$work/shape.json" --memory-gb "$free_gb" 2>>"$log"); then
  kmax=$(python3 -c 'import json, sys; print(min(json.loads(sys.argv[1])["max_models"], int(sys.argv[2])))' "$memory" "$cap")
  jset largest_k "{\"memory_gb_used\": $free_gb, \"memory_model\": $memory, \"cap\": $cap, \"k\": $kmax}"
  say "largest K that fits 90% of the free ${free_gb} GB: $kmax (cap $cap)"
else
  error largest_k "train-pack memory failed: $(tail -n 1 "$log")"
fi
ks=("${packs[@]}")
if [[ -n $kmax ]] && ((kmax > 0)) && [[ " ${packs[*]} " != *" $kmax "* ]]; then ks+=("$kmax"); fi

# 1. The bench, one process per K (an out-of-memory K fails alone).
bench_cmd() { # K producer-models: sets cmd to the bench command line, under a time limit
  cmd=(timeout "$bench_limit" "$pack" bench --device "$device" --packs "$1" --seconds "$bench_s"
    --min-steps "$min_steps" --width "$width" --hidden-layers "$layers" --producer-models "$2")
}
first=1
for k in "${ks[@]}"; do
  fits "$bench_cost" "bench k=$k" || continue
  prod=0
  ((first)) && prod=$producer
  first=0
  bench_cmd "$k" "$prod"
  if lines=$("${cmd[@]}" 2>>"$log"); then
    echo "$lines" >>"$log"
    while IFS= read -r l; do
      case $l in
        *'"tch-pack"'*) jadd bench "$l"; say "bench k=$k: $l" ;;
        *'"shapeset-producer"'*) jset producer "$l" ;;
        *'"memory-model"'*) jset memory_model_h200 "$l" ;;
      esac
    done <<<"$lines"
  else
    error "bench k=$k" "train-pack bench exited $? ($(tail -n 1 "$log"))"
  fi
done

# 2. P bench processes on the device at once, each at K: per-process rates and their sum.
for k in "${proc_ks[@]}"; do
  for p in 1 2 4; do
    fits "$bench_cost" "processes p=$p k=$k" || continue
    pids=()
    for i in $(seq "$p"); do
      bench_cmd "$k" 0
      "${cmd[@]}" >"$work/proc-$p-$k-$i.jsonl" 2>>"$log" &
      pids+=($!)
    done
    rc=0
    for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
    if ((rc)); then
      error "processes p=$p k=$k" "a bench process exited $rc"
      continue
    fi
    row=$(python3 - "$work" "$p" "$k" <<'PY'
import json, sys
work, p, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rates = []
for i in range(1, p + 1):
    rows = [json.loads(l) for l in open(f"{work}/proc-{p}-{k}-{i}.jsonl") if '"tch-pack"' in l]
    rates.append(rows[0]["model_updates_per_s"])
print(json.dumps({"processes": p, "k": k, "model_updates_per_s_each": rates,
                  "model_updates_per_s_total": sum(rates)}))
PY
    )
    jadd processes "$row"
    say "processes: $row"
  done
done

# 3. Exactness: model 0 (the same run in every pack) after $updates updates, across K.
timing() { # run dir -> {"train_s", "probe_s", ...} or null
  if [[ -f $1/timing.json ]]; then cat "$1/timing.json"; else echo null; fi
}
pack_dir() { echo "$work/pack-$1"; }
for k in "${exact_ks[@]}"; do
  fits $((k / 2 + 30)) "exactness pack k=$k" || continue
  runs_json "$k" "$width" "$layers" "$updates" "$probe_every" "$eval" >"$work/runs-$k.json"
  t0=$(date +%s.%N)
  rc=0
  timeout 300 "$pack" --runs "$work/runs-$k.json" --device "$device" --out "$(pack_dir "$k")" \
    >"$work/pack-$k.out" 2>>"$log" || rc=$?
  wall=$(python3 -c 'import sys, time; print(round(time.time() - float(sys.argv[1]), 3))' "$t0")
  name=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["runs"][0]["name"])' \
    "$work/pack-$k.out" 2>/dev/null || true)
  if ((rc)) || [[ -z $name ]]; then
    error "exactness pack k=$k" "train-pack exited $rc ($(tail -n 1 "$log"))"
    continue
  fi
  jadd exactness_packs "{\"k\": $k, \"updates\": $updates, \"wall_s\": $wall, \"model0_timing\": $(timing "$(pack_dir "$k")/$name")}"
  say "pack k=$k x $updates updates: ${wall} s wall"
  [[ $k == 1 ]] && continue
  [[ -f $(pack_dir 1)/$name/run.h5 ]] || { error "exactness k=$k" "no pack of one to compare with"; continue; }
  passes=null first_verdict=
  for t in "${ladder[@]}"; do
    read -r rel hist <<<"$t"
    if v=$("$pack" compare "$(pack_dir "$k")/$name/run.h5" "$(pack_dir 1)/$name/run.h5" \
      --relative "$rel" --histogram "$hist" 2>&1); then
      passes="{\"relative\": $rel, \"histogram\": $hist}"
      break
    fi
    [[ -n $first_verdict ]] || first_verdict=$v
  done
  exact=$([[ $passes == '{"relative": 0, "histogram": 0}' ]] && echo true || echo false)
  jadd exactness "{\"k\": $k, \"against\": \"k=1\", \"exact\": $exact, \"passes_at\": $passes, \"exact_verdict\": $(jstr "${first_verdict:-same}")}"
  say "model 0 of k=$k vs k=1: exact=$exact, passes at ${passes}"
  if [[ -n $dry && $exact != true ]]; then
    error "exactness k=$k" "on the CPU model 0 must be bit-identical across K: ${first_verdict}"
  fi
done

# The pack of one against the same run trained by `train` (one engine: the same bytes).
if fits 30 "train vs pack of one" && [[ -n ${name:-} && -f $(pack_dir 1)/$name/run.h5 ]]; then
  args=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))[0]
print(" ".join("--" + k.replace("_", "-") + " " + str(v) for k, v in r.items()))' "$work/runs-1.json")
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  if timeout 300 "$train" $args --device "$device" --out "$work/single" >>"$log" 2>&1; then
    wall=$(python3 -c 'import sys, time; print(round(time.time() - float(sys.argv[1]), 3))' "$t0")
    rc=0
    v=$("$pack" compare "$work/single/run.h5" "$(pack_dir 1)/$name/run.h5" 2>&1) || rc=$?
    same=$([[ $rc == 0 ]] && echo true || echo false)
    cmp -s "$work/single/run.h5" "$(pack_dir 1)/$name/run.h5" && bytes=true || bytes=false
    jset train_vs_pack_of_one "{\"exact\": $same, \"same_bytes\": $bytes, \"verdict\": $(jstr "$v"), \"train_wall_s\": $wall, \"timing\": $(timing "$work/single")}"
    say "train vs pack of one: exact=$same, same bytes=$bytes"
    [[ $same == true ]] || error "train vs pack of one" "$v"
  else
    error "train vs pack of one" "train exited $?"
  fi
fi

jset elapsed_s "$(elapsed)"
jset ok "$( ((failed)) && echo false || echo true)"
jset complete true
say "done in $(elapsed) s: $json"
[[ -n $dry ]] && cat "$json"
exit "$failed"
