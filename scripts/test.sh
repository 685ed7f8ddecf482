#!/usr/bin/env bash
# Builds everything (the test binaries too: scripts/build.sh builds only the program) and runs every test: the
# GoogleTest binaries and the conformance/server suites registered with ctest (those need the npm packages pinned
# in their package.json, installed here from the npm registry).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh all
for dir in tests/tokenizer_conformance tests/server tests/web tests/structured; do
  if [ -f "$dir/package.json" ]; then
    (cd "$dir" && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })
  fi
done
cd build
# Which kernel paths this CPU runs (PAGEDLLM_NO_AVX512=1 honoured): the tests of a path that is off are Skipped.
if [ -x tests/kernel_paths ]; then tests/kernel_paths; fi
ctest --output-on-failure -j"${JOBS:-$(nproc)}" --timeout 1200
