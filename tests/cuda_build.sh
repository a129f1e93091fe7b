#!/usr/bin/env bash
# The CUDA build that `just setup` + `just build` make on a GPU machine, checked on any machine
# (no GPU needed):
#   1. `scripts/setup` with XAVIER_CUDA=1 provisions venv-torch-2.11.0-cuda (torch 2.11.0 and
#      its NVIDIA libraries, hash-pinned), and with XAVIER_CUDA=0 the small CPU venv;
#   2. `train` built with the cuda feature against it (its own target dir, so the CPU build is
#      never clobbered) links libtorch_cuda.so, and every library it loads resolves but the
#      driver's libcuda.so.1; the CPU build does not link libtorch_cuda.so;
#   3. `train identity` of the CUDA build exits 0 with cuda_built true and cuda true exactly
#      when nvidia-smi lists a GPU;
#   4. a short Shapeset run on the CPU (train, and a train-pack of 2) writes the same run.h5
#      bytes (sha256) from the CUDA build as from the CPU build.
# Skipped unless XAVIER_CUDA=1: the first run downloads ~2 GB of CUDA wheels and builds train
# twice (CPU build: $CARGO_TARGET_DIR, default $XAVIER_CACHE/target; CUDA build:
# $CUDA_TARGET_DIR, default $XAVIER_CACHE/target-cuda). `.venv` is left pointing where it was.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${XAVIER_CUDA:-} != 1 ]]; then
  echo "cuda_build: skipped, XAVIER_CUDA is not 1 (XAVIER_CUDA=1 tests/cuda_build.sh downloads ~2 GB once and builds train twice)"
  exit 0
fi
export XAVIER_CACHE=${XAVIER_CACHE:-$HOME/.cache/xavier}
cpu_target=${CARGO_TARGET_DIR:-$XAVIER_CACHE/target}
cuda_target=${CUDA_TARGET_DIR:-$XAVIER_CACHE/target-cuda}
fail() { echo "cuda_build: FAILED: $*" >&2; exit 1; }
say() { echo "cuda_build: $*"; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$1" "$(now)"; }

tmp=$(mktemp -d)
venv_link=$(readlink .venv 2>/dev/null || true)
# shellcheck disable=SC2317  # (a trap handler)
restore() {
  # scripts/setup points .venv at the venv it provisioned last; put back what was there.
  if [[ -n $venv_link ]]; then ln -sfn "$venv_link" .venv; fi
  rm -rf "$tmp"
}
trap restore EXIT

# 1. Both installs.
for cuda in 0 1; do
  start=$(now)
  XAVIER_CUDA=$cuda scripts/setup
  venv[cuda]=$(XAVIER_CUDA=$cuda scripts/setup venv-path)
  libtorch[cuda]=$(XAVIER_CUDA=$cuda scripts/setup libtorch-path)
  [[ -f ${libtorch[$cuda]}/lib/libtorch_cuda.so ]] || fail "no libtorch_cuda.so under ${libtorch[$cuda]}"
  say "XAVIER_CUDA=$cuda: ${venv[$cuda]} ($(du -sh "${venv[$cuda]}" | cut -f1)), setup $(since "$start") s"
done
[[ ${venv[0]} != "${venv[1]}" ]] || fail "the CUDA and CPU installs share ${venv[0]}"
[[ $(XAVIER_CUDA=1 scripts/setup cuda-enabled) == 1 && $(XAVIER_CUDA=0 scripts/setup cuda-enabled) == 0 ]] \
  || fail "scripts/setup cuda-enabled does not follow XAVIER_CUDA"

# 2. The two builds, as `just build` makes them (CUDA: --features train/cuda).
build() { # 0|1 target
  local start features=()
  start=$(now)
  [[ $1 == 1 ]] && features=(--features train/cuda)
  CARGO_TARGET_DIR=$2 LIBTORCH=${libtorch[$1]} CMAKE=${venv[$1]}/bin/cmake \
    nice -n 15 cargo build --release --quiet -p train --bins "${features[@]}"
  say "XAVIER_CUDA=$1 build of train and train-pack: $(since "$start") s ($2)"
}
build 0 "$cpu_target"
build 1 "$cuda_target"
cpu=$cpu_target/release cud=$cuda_target/release
for b in train train-pack; do
  readelf -d "$cud/$b" | grep -q 'NEEDED.*\[libtorch_cuda\.so\]' || fail "the CUDA $b does not link libtorch_cuda.so"
  ! readelf -d "$cpu/$b" | grep -q 'NEEDED.*\[libtorch_cuda\.so\]' || fail "the CPU $b links libtorch_cuda.so"
  missing=$(ldd "$cud/$b" | grep 'not found' | grep -v 'libcuda\.so\.1' || true)
  [[ -z $missing ]] || fail "the CUDA $b cannot load: $missing"
done
say "the CUDA train and train-pack link libtorch_cuda.so ($(ldd "$cud/train" | grep -c '/nvidia/') NVIDIA libraries resolved from ${venv[1]}); the CPU ones do not"

# 3. identity.
id=$("$cud/train" identity) || fail "train identity (CUDA build) exited $?"
gpu=false
nvidia-smi -L 2>/dev/null | grep -q '^GPU ' && gpu=true
python3 - "$id" "$gpu" <<'PY' || fail "train identity of the CUDA build: $id"
import json, sys
id, gpu = json.loads(sys.argv[1]), sys.argv[2] == "true"
assert id["cuda_built"] is True, "cuda_built is not true"
assert id["cuda"] is gpu, f"cuda is {id['cuda']} on a machine where nvidia-smi lists {'a' if gpu else 'no'} GPU"
PY
say "identity (CUDA build): $id"

# 4. The same CPU run from both builds.
args=(--dataset shapeset --activation tanh --init normalized --hidden-layers 2 --width 64
  --updates 50 --probe-every 25 --jacobian-examples 2 --eval-examples 200 --device cpu)
cat >"$tmp/runs.json" <<'JSON'
[{"dataset": "shapeset", "activation": "tanh", "init": "normalized", "hidden_layers": 2, "width": 64, "batch_size": 10, "lr": 0.01, "updates": 50, "seed": 0, "probe_every": 25, "jacobian_examples": 2, "eval_examples": 200, "raw_every_epochs": 1},
 {"dataset": "shapeset", "activation": "tanh", "init": "standard", "hidden_layers": 2, "width": 64, "batch_size": 10, "lr": 0.02, "updates": 50, "seed": 1, "probe_every": 25, "jacobian_examples": 2, "eval_examples": 200, "raw_every_epochs": 1}]
JSON
for side in cpu cud; do
  dir=${!side}
  "$dir/train" "${args[@]}" --out "$tmp/$side-train" >/dev/null 2>"$tmp/$side.log" \
    || fail "train ($side build): $(tail -n 1 "$tmp/$side.log")"
  "$dir/train-pack" --runs "$tmp/runs.json" --device cpu --out "$tmp/$side-pack" >/dev/null 2>"$tmp/$side.log" \
    || fail "train-pack ($side build): $(tail -n 1 "$tmp/$side.log")"
done
n=0
while IFS= read -r f; do
  a=$(sha256sum "$tmp/cpu-$f" | cut -d' ' -f1)
  b=$(sha256sum "$tmp/cud-$f" | cut -d' ' -f1) || fail "the CUDA build wrote no $f"
  [[ $a == "$b" ]] || fail "$f differs: CPU build $a, CUDA build $b"
  say "$f: sha256 $a from both builds"
  n=$((n + 1))
done < <(cd "$tmp/cpu-train/.." && find cpu-train cpu-pack -name run.h5 | sed 's#^cpu-##' | sort)
[[ $n == 3 ]] || fail "expected 3 run.h5 files (1 train, 2 train-pack), compared $n"
say "ok: the CUDA build links libtorch_cuda, identity cuda_built=true cuda=$gpu, and its CPU runs are byte-identical to the CPU build's"
