#!/usr/bin/env bash
# Builds everything (the test binaries too: scripts/build.sh builds only the program) and runs every test: the
# GoogleTest binaries and the conformance/server suites registered with ctest (those need the npm packages pinned
# in their package.json, installed here from the npm registry).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh all
for dir in tests/tokenizer_conformance tests/server; do
  if [ -f "$dir/package.json" ]; then
    (cd "$dir" && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })
  fi
done
cd build
ctest --output-on-failure -j"${JOBS:-$(nproc)}" --timeout 1200
