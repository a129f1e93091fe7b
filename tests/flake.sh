#!/usr/bin/env bash
# Proves flake.nix parses and evaluates, offline, against the stub nixpkgs in nix/stubs/.
# Skipped (saying so) where nix is not installed; `apt-get install nix-bin` provides it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nix >/dev/null; then
  echo "flake: skipped, nix is not installed"
  exit 0
fi
nix-instantiate --parse flake.nix >/dev/null
nix-instantiate --parse nix/stubs/nixpkgs/flake.nix >/dev/null
nix --extra-experimental-features 'nix-command flakes' flake check --offline --no-write-lock-file \
  --override-input nixpkgs "path:$PWD/nix/stubs/nixpkgs" "$PWD"
shell=$(nix --extra-experimental-features 'nix-command flakes' eval --offline --no-write-lock-file \
  --override-input nixpkgs "path:$PWD/nix/stubs/nixpkgs" --raw "$PWD#devShells.x86_64-linux.default.env.LIBTORCH_USE_PYTORCH")
[[ $shell == 1 ]] || { echo "flake: devShell does not set LIBTORCH_USE_PYTORCH=1" >&2; exit 1; }
echo "flake: parses and evaluates against nix/stubs (nix $(nix --version | awk '{print $NF}'))"
