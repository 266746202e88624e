#!/usr/bin/env bash
# The whole test suite: installs the interop peers (the official python and node OVH
# clients, pinned in tests/interop/), then runs every Rust test (unit, integration, interop).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
if [ -f tests/interop/package-lock.json ]; then
  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
else
  npm install --prefix tests/interop --no-audit --no-fund --loglevel=error
fi

cargo test "$@"
