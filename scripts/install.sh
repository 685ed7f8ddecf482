#!/usr/bin/env bash
# Builds the program (scripts/build.sh) and installs it as PREFIX/bin/pagedllm:
#   scripts/install.sh [PREFIX]    PREFIX defaults to ~/.local (then ~/.local/bin must be on PATH)
set -euo pipefail
prefix="${1:-$HOME/.local}"
cd "$(dirname "$0")/.."
scripts/build.sh
cmake --install build --prefix "$prefix"
echo "installed $prefix/bin/pagedllm; if \`pagedllm --version\` is not found, add $prefix/bin to PATH"
