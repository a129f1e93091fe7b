#!/usr/bin/env bash
# Proves flake.nix parses and evaluates, offline, against the stub nixpkgs in nix/stubs/, and
# that it pins what it claims to: the nixpkgs revision, libtorch 2.11.0 from the PyPI wheel
# by sha256, no LIBTORCH_BYPASS_VERSION_CHECK, no HDF5_DIR, and a cuda shell (XAVIER_CUDA=1,
# which `just build` turns into --features train/cuda; 0 in the default shell).
# Skipped (saying so) where nix is not installed; `apt-get install nix-bin` provides it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nix >/dev/null; then
  echo "flake: skipped, nix is not installed"
  exit 0
fi

# The pins, stated once more here so that a change to any of them is a visible test change.
nixpkgs_rev=2680ad0cfc17b68f4b56f5a7788c78040563105c
torch_version=2.11.0
declare -A wheel_sha256=(
  [x86_64-linux]=7aa2f9bbc6d4595ba72138026b2074be1233186150e9292865e04b7a63b8c67a
  [aarch64-linux]=d91aac77f24082809d2c5a93f52a5f085032740a1ebc9252a7b052ef5a4fddc6
)

fail() { echo "flake: $*" >&2; exit 1; }

nix-instantiate --parse flake.nix >/dev/null
for f in nix/*.nix nix/stubs/nixpkgs/*.nix; do nix-instantiate --parse "$f" >/dev/null; done

url=$(sed -n 's/^ *inputs\.nixpkgs\.url *= *"\(.*\)";.*/\1/p' flake.nix)
[[ $url == "github:NixOS/nixpkgs/$nixpkgs_rev" ]] \
  || fail "nixpkgs must be pinned to github:NixOS/nixpkgs/$nixpkgs_rev, found '$url'"
[[ $url =~ /[0-9a-f]{40}$ ]] || fail "nixpkgs input '$url' is not a 40-hex revision"

# Evaluate a copy holding only what the flake reads (flake.nix, nix/), as a path: flake, so
# untracked files in a working tree count and nothing else of the repository is copied.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r flake.nix nix "$tmp/"
nixf() {
  nix --extra-experimental-features 'nix-command flakes' "$@" --offline --no-write-lock-file \
    --override-input nixpkgs "path:$tmp/nix/stubs/nixpkgs" 2> >(grep -v -e '^warning: not writing' -e "^• Added input 'nixpkgs'" -e "^    'path:" >&2)
}
nixf flake check "path:$tmp"
ev() { nixf eval --raw "path:$tmp#$1"; }

for system in x86_64-linux aarch64-linux; do
  for pkg in libtorch libtorch-cuda; do
    v=$(ev "packages.$system.$pkg.version")
    [[ $v == "$torch_version" ]] || fail "$system $pkg is version '$v', not $torch_version"
    sha=$(ev "packages.$system.$pkg.src.outputHash")
    [[ $sha == "${wheel_sha256[$system]}" ]] || fail "$system $pkg wheel sha256 is '$sha'"
    src=$(ev "packages.$system.$pkg.src.url")
    [[ $src == https://files.pythonhosted.org/*/torch-$torch_version-*.whl ]] || fail "$system $pkg src '$src' is not the PyPI torch $torch_version wheel"
  done
  for shell in default cuda; do
    env_json=$(nixf eval --json "path:$tmp#devShells.$system.$shell.env")
    for banned in LIBTORCH_BYPASS_VERSION_CHECK HDF5_DIR LIBTORCH_USE_PYTORCH; do
      ! grep -q "\"$banned\"" <<<"$env_json" || fail "$system devShell $shell sets $banned"
    done
    want=$([[ $shell == cuda ]] && echo libtorch-cuda || echo libtorch)
    # scripts/setup and `just build` read XAVIER_CUDA: 1 only in the cuda shell.
    cuda=$(ev "devShells.$system.$shell.env.XAVIER_CUDA")
    [[ $cuda == "$([[ $shell == cuda ]] && echo 1 || echo 0)" ]] || fail "$system devShell $shell sets XAVIER_CUDA='$cuda'"
    [[ $(ev "devShells.$system.$shell.env.LIBTORCH") == "$(ev "packages.$system.$want.outPath")" ]] \
      || fail "$system devShell $shell does not point LIBTORCH at packages.$want"
  done
done
[[ $(nixf eval --json "path:$tmp#packages.x86_64-linux.libtorch-cuda.cuda") == true ]] || fail "libtorch-cuda is not the CUDA variant"

# scripts/setup pins the same wheels (pip --require-hashes): both files' hashes must agree.
for system in x86_64-linux aarch64-linux; do
  grep -q "${wheel_sha256[$system]}" scripts/setup || fail "scripts/setup does not pin the $system torch wheel's sha256 ${wheel_sha256[$system]}"
done

# Where scripts/setup already downloaded the same wheel, its bytes must match the pin.
cache=${XAVIER_CACHE:-$HOME/.cache/xavier}
whl=$(ev packages.x86_64-linux.libtorch.src.url); whl=$cache/wheels/${whl##*/}
checked="not in the cache"
if [[ -f $whl ]]; then
  [[ $(sha256sum "$whl" | cut -d' ' -f1) == "${wheel_sha256[x86_64-linux]}" ]] || fail "$whl does not match the pinned sha256"
  checked="matches the cached wheel"
fi
echo "flake: parses and evaluates against nix/stubs (nix $(nix --version | awk '{print $NF}')); nixpkgs ${nixpkgs_rev:0:12}, libtorch $torch_version, wheel sha256 ${wheel_sha256[x86_64-linux]:0:12} ($checked)"
