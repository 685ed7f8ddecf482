#!/usr/bin/env bash
# Runs every test: the GoogleTest binaries and the conformance/server suites registered with ctest
# (those need the npm packages pinned in their package.json, installed here from the npm registry).
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in tests/tokenizer_conformance tests/server tests/structured; do
  if [ -f "$dir/package.json" ]; then
    (cd "$dir" && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })
  fi
done
cd build
ctest --output-on-failure -j"${JOBS:-$(nproc)}" --timeout 1200
