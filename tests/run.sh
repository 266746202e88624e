#!/usr/bin/env bash
# The whole test suite: installs the interop peers (the official python and node OVH
# clients, pinned in tests/interop/), then runs every Rust test of the workspace (unit,
# integration, interop; the simulator and signature crates under crates/ included).
#
# The python peer goes into a virtual environment under the target directory
# (target/interop-venv, or $CARGO_TARGET_DIR/interop-venv): systems that follow PEP 668 refuse
# a system-wide `pip install`. INTEROP_PYTHON tells the tests which interpreter to run. The
# node peer goes into tests/interop/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir"
target_dir="$(cd "$target_dir" && pwd)"
venv="$target_dir/interop-venv"
if ! "$venv/bin/python" -c '' 2>/dev/null; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv"; then
    echo "error: could not create the python virtual environment $venv" >&2
    echo "hint: install python3's venv module (Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r tests/interop/requirements.txt
export INTEROP_PYTHON="$venv/bin/python"

if [ -f tests/interop/package-lock.json ]; then
  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
else
  npm install --prefix tests/interop --no-audit --no-fund --loglevel=error
fi

cargo test --workspace "$@"
