#!/usr/bin/env bash
# `cmake --install` (what scripts/install.sh runs) puts a working program in PREFIX/bin.
#   tests/install_program.sh BUILD_DIR EXPECTED_VERSION
set -euo pipefail
build_dir="${1:?usage: install_program.sh BUILD_DIR EXPECTED_VERSION}"
expected="pagedllm ${2:?usage: install_program.sh BUILD_DIR EXPECTED_VERSION}"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
version="$("$prefix/bin/pagedllm" --version)"
[ "$version" = "$expected" ] || { echo "install_program: '$version', expected '$expected'" >&2; exit 1; }
echo "install_program: $prefix/bin/pagedllm --version: $version"
