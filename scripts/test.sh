#!/usr/bin/env bash
# Runs every test that needs no GPU for one build preset: the ctest suites (unit tests, CLI
# tests, reference parity, and the node suites that compare with outside references). The
# pinned npm packages are installed first when tests/node_modules is missing or stale.
set -euo pipefail
preset=${1:-release}
cd "$(dirname "$0")/.."
if command -v npm >/dev/null 2>&1; then
  if [ ! -f tests/node_modules/.package-lock.json ] ||
     ! cmp -s tests/package-lock.json tests/node_modules/.ingot-lock-installed; then
    echo "test: installing the pinned npm packages (tests/package-lock.json)"
    npm ci --prefix tests --no-audit --no-fund --loglevel=error
    cp tests/package-lock.json tests/node_modules/.ingot-lock-installed
  fi
fi
ctest --preset "$preset" -j "$(nproc)"
