#!/usr/bin/env bash
# Configures pagedllm (Release, Ninja) into build/ and builds the program build/pagedllm, nothing else:
#   scripts/build.sh            the program only (enough to serve, chat, generate, fine-tune)
#   scripts/build.sh all        the program, every test binary and the benchmarks (scripts/test.sh does this)
#   scripts/build.sh TARGET...  the named ninja targets
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
targets=("${@:-pagedllm}")
[ "${targets[0]}" = all ] && targets=()
ninja -C build -j"${JOBS:-$(nproc)}" "${targets[@]}"
