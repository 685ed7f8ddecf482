#!/usr/bin/env bash
# Installs every Debian package pagedllm builds and tests with. Idempotent: packages already present are skipped.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libopenblas-dev nlohmann-json3-dev libcpp-httplib-dev libpcre2-dev libsentencepiece-dev
  libicu-dev libcli11-dev libfmt-dev libxxhash-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-jinja2 nodejs npm curl
  chromium  # the chat page's browser tests (tests/web)
  pybind11-dev python3-pybind11 python3-dev python3-pytest python3-venv  # the Python package (python/)
  openmpi-bin libopenmpi-dev  # tensor- and data-parallel runs over MPI (src/dist)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian on some machines; a working `npm` counts as present.
if command -v npm >/dev/null 2>&1; then
  filtered=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
