#!/usr/bin/env bash
# Alternates `train bench` (tch, hand-written backward) and bench/pytorch_eager.py on the
# same CPU, same sizes and thread counts, and writes the median examples/s of each and
# their ratios (tch / the faster PyTorch variant) to bench/results/train-cpu.json.
#
# Usage: bench/run.sh [REPS]   (env: TRAIN=path/to/train, BENCH_PYTHON=python with torch,
#                               STEPS, WARMUP, BATCH_SIZES=10,128, THREADS=1,0)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
train=${TRAIN:-${CARGO_TARGET_DIR:-target}/release/train}
python=${BENCH_PYTHON:-${XAVIER_CACHE:-$HOME/.cache/xavier}/venv-bench/bin/python}
steps=${STEPS:-300}
warmup=${WARMUP:-30}
batches=${BATCH_SIZES:-10,128}
threads=${THREADS:-1,0}
[[ -x $train ]] || { echo "bench/run.sh: no train binary at $train (cargo build --release -p train)" >&2; exit 1; }
"$python" -c 'import torch' 2>/dev/null || {
    echo "bench/run.sh: $python cannot import torch; see bench/README.md for the full install" >&2; exit 1; }
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for rep in $(seq "$reps"); do
    echo "bench/run.sh: round $rep of $reps" >&2
    OMP_NUM_THREADS=1 "$train" bench --steps "$steps" --warmup "$warmup" \
        --batch-sizes "$batches" --threads "$threads" >>"$lines"
    # libtorch sizes its pool from set_num_threads; OMP_NUM_THREADS only caps the default.
    OMP_NUM_THREADS=1 "$python" bench/pytorch_eager.py --steps "$steps" --warmup "$warmup" \
        --batch-sizes "$batches" --threads "$threads" >>"$lines"
done
mkdir -p bench/results
"$python" - "$lines" bench/results/train-cpu.json <<'PY'
import json, platform, statistics, sys, os
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
runs = {}
for r in rows:
    runs.setdefault((r["impl"], r["batch_size"], r["threads"]), []).append(r["examples_per_s"])
results = []
for (impl, batch, threads), values in sorted(runs.items()):
    results.append({"impl": impl, "batch_size": batch, "threads": threads,
                    "examples_per_s": statistics.median(values), "runs": values})
ratios = []
for r in results:
    if r["impl"] != "tch-manual":
        continue
    torch_best = max((q for q in results if q["impl"].startswith("pytorch")
                      and q["batch_size"] == r["batch_size"] and q["threads"] == r["threads"]),
                     key=lambda q: q["examples_per_s"])
    ratios.append({"batch_size": r["batch_size"], "threads": r["threads"],
                   "vs": torch_best["impl"], "ratio": r["examples_per_s"] / torch_best["examples_per_s"]})
torch_version = next((r["torch"] for r in rows if "torch" in r), None)
out = {"net": "1024-5x1000 tanh-9, plain SGD lr 0.01, fp32, CPU",
       "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
       "torch": torch_version, "statistic": "median over rounds", "results": results, "ratios": ratios}
tmp = sys.argv[2] + ".tmp"
json.dump(out, open(tmp, "w"), indent=2)
os.replace(tmp, sys.argv[2])
for r in ratios:
    print(f"batch {r['batch_size']:>4} threads {r['threads']}: tch / {r['vs']} = {r['ratio']:.2f}x")
print(sys.argv[2])
PY
