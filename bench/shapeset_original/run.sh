#!/usr/bin/env bash
# Times the ORIGINAL Shapeset-3x2 generator (glorotxa/Shapeset: polygongen.py + pygame
# rendering via buildfeaturespolygon.py) on this machine. No original code lives in this
# repository: the script copies it from a checkout outside the repo into a temp dir and
# applies mechanical Python 3 edits there (see README.md).
#
# usage: bench/shapeset_original/run.sh [--checkout DIR] [--python PY] [--count N] [--out FILE.json]
#   --checkout  a clone of https://github.com/glorotxa/Shapeset (default: $SHAPESET_ORIGINAL,
#               else ~/.cache/xavier/shapeset-original, cloned there if missing)
#   --python    a Python 3 with numpy and pygame (default: python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
checkout="${SHAPESET_ORIGINAL:-$HOME/.cache/xavier/shapeset-original}"
python=python3
count=20000
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --checkout) checkout="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ ! -f "$checkout/polygongen.py" ]; then
  echo "run.sh: no polygongen.py in $checkout; cloning glorotxa/Shapeset there" >&2
  git clone --depth 1 https://github.com/glorotxa/Shapeset "$checkout" >&2
fi
"$python" -c "import numpy, pygame" >/dev/null 2>&1 || {
  echo "run.sh: $python lacks numpy or pygame (try: python3 -m venv V && V/bin/pip install numpy pygame)" >&2
  exit 1
}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Python 2 -> 3, nothing else: xrange, the print statement, and floor division where
# Python 2 divided integers (the pre-rotation index arithmetic).
sed -e 's/\bxrange\b/range/g' \
    -e "s/print 'Too many rejections : stop polygon sampling'/self.n_dropped = getattr(self, 'n_dropped', 0) + 1/" \
    -e 's#rotation_resolution/(len(points_orig))#rotation_resolution//(len(points_orig))#' \
    -e 's#(rotation_resolution-1)/(2\*len(points_orig))#(rotation_resolution-1)//(2*len(points_orig))#' \
    -e 's#(rotation_resolution-1)/(len(points_orig))#(rotation_resolution-1)//(len(points_orig))#' \
    "$checkout/polygongen.py" > "$work/polygongen.py"
sed -e 's/\bxrange\b/range/g' "$checkout/buildfeaturespolygon.py" > "$work/buildfeaturespolygon.py"
grep -q '//(len(points_orig))' "$work/polygongen.py" || { echo "run.sh: polygongen.py differs from the version this script knows" >&2; exit 1; }
PYTHONPATH="$work" "$python" "$here/time_original.py" --count "$count" ${out:+--out "$out"}
