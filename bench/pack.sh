#!/usr/bin/env bash
# Pack rows on the CPU: model-updates/s of `train-pack bench` for K in 1,4,16,64, beside
# one model of `train bench` and a jit-compiled JAX step (bench/pack_jax.py: K=1 plain,
# K>1 under vmap), alternated over rounds, every process pinned to one core with taskset
# (XLA otherwise spreads over every core whatever its flags say). Writes the medians to
# bench/results/train-pack-cpu.json.
#
# Usage: bench/pack.sh [ROUNDS]   (env: TRAIN, TRAIN_PACK, BENCH_PYTHON with jax, PACKS,
#                                  MODEL_UPDATES, CORE)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bin=${CARGO_TARGET_DIR:-target}/release
train=${TRAIN:-$bin/train}
pack=${TRAIN_PACK:-$bin/train-pack}
python=${BENCH_PYTHON:-${XAVIER_CACHE:-$HOME/.cache/xavier}/venv-bench/bin/python}
packs=${PACKS:-1,4,16,64}
updates=${MODEL_UPDATES:-600}
pin=(taskset -c "${CORE:-0}")
for tool in "$train" "$pack"; do
    [[ -x $tool ]] || { echo "bench/pack.sh: no binary at $tool (cargo build --release -p train)" >&2; exit 1; }
done
"$python" -c 'import jax' 2>/dev/null || {
    echo "bench/pack.sh: $python cannot import jax (pip install 'jax[cpu]')" >&2; exit 1; }
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for round in $(seq "$rounds"); do
    echo "bench/pack.sh: round $round of $rounds" >&2
    OMP_NUM_THREADS=1 "${pin[@]}" "$train" bench --batch-sizes 10 --threads 1 >>"$lines"
    OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 "${pin[@]}" "$pack" bench --device cpu --packs "$packs" \
        --model-updates "$updates" --producer-models 16 >>"$lines"
    OMP_NUM_THREADS=1 "${pin[@]}" "$python" bench/pack_jax.py --packs "$packs" \
        --model-updates "$updates" >>"$lines"
done
mkdir -p bench/results
"$python" - "$lines" bench/results/train-pack-cpu.json <<'PY'
import json, os, platform, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    if r["impl"] == "tch-manual":
        key, value = ("train (single run)", 1), r["examples_per_s"] / r["batch_size"]
    elif r["impl"] in ("tch-pack", "jax-jit"):
        key, value = (r["impl"], r["k"]), r["model_updates_per_s"]
    elif r["impl"] == "shapeset-producer":
        key, value = ("shapeset-producer", r["models"]), r["images_per_s"]
    else:
        continue
    groups.setdefault(key, []).append(value)
results = [{"impl": impl, "k": k, "median": statistics.median(v), "runs": v}
           for (impl, k), v in sorted(groups.items())]
memory = next((r for r in rows if r["impl"] == "memory-model"), None)
jax_version = next((r["jax"] for r in rows if "jax" in r), None)
out = {"net": "1024-5x1000 tanh-9, plain SGD lr 0.01, batch 10, fp32, CPU",
       "unit": "model-updates/s (shapeset-producer: images/s on one core)",
       "pinning": "taskset -c 0, one thread each", "cpu": platform.processor() or platform.machine(),
       "jax": jax_version, "statistic": "median over rounds", "results": results,
       "memory_model": memory}
tmp = sys.argv[2] + ".tmp"
json.dump(out, open(tmp, "w"), indent=2)
os.replace(tmp, sys.argv[2])
for r in results:
    print(f"{r['impl']:>20} K={r['k']:<3} {r['median']:10.1f}")
print(sys.argv[2])
PY
