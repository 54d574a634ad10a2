#!/usr/bin/env bash
# Runs every test that needs no GPU for one build preset: the ctest suites (unit tests, CLI
# tests, reference parity) and, where they exist, the node suites under tests/.
set -euo pipefail
preset=${1:-release}
cd "$(dirname "$0")/.."
ctest --preset "$preset" -j "$(nproc)"
