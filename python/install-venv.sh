#!/usr/bin/env bash
# Makes a virtual environment in which `import pagedllm` works, without PyPI: Debian's python3 with
# --system-site-packages (pytest, and tqdm when python3-tqdm is installed) and a pagedllm.pth file that puts the
# built package (build/python, from scripts/build.sh) on its path. Usage: python/install-venv.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if [ ! -f build/python/pagedllm/__init__.py ] || ! ls build/python/pagedllm/_pagedllm*.so >/dev/null 2>&1; then
  echo "build/python/pagedllm is not built yet: run scripts/build.sh pagedllm _pagedllm first" >&2
  exit 1
fi
"$python" -m venv --system-site-packages "$venv"
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PWD/build/python" > "$site/pagedllm.pth"
"$venv/bin/python" -c 'import pagedllm; print("pagedllm", pagedllm.__version__, "from", pagedllm.__file__)'
