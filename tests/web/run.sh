#!/usr/bin/env bash
# The chat page's tests: the Markdown renderer and the page's storage in Node, then the page in Debian's headless
# chromium (puppeteer-core) against real `pagedllm serve` processes that the tests start.
#   tests/web/run.sh PAGEDLLM_BINARY ARTIFACT_DIR
# Installs the pinned puppeteer-core when node_modules is missing, trains a 5-step LoRA adapter on stories260K for
# the adapter test, and leaves the screenshot ARTIFACT_DIR/web-chat.png.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 PAGEDLLM_BINARY ARTIFACT_DIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
source_dir="$(cd "$here/../.." && pwd)"
binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
mkdir -p "$2"
artifact_dir="$(cd "$2" && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "chromium not found at $chromium (apt-get install chromium)" >&2; exit 1; }

cd "$here"
[ -d node_modules/puppeteer-core ] || npm ci --no-audit --no-fund >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$binary" finetune --model "$source_dir/models/stories260K" --data "$source_dir/tests/data/stories_instructions.jsonl" \
  --output "$work/lora" --max-steps 5 >"$work/finetune.log" 2>&1 || { cat "$work/finetune.log" >&2; exit 1; }

PAGEDLLM_BINARY="$binary" PAGEDLLM_SOURCE_DIR="$source_dir" PAGEDLLM_LORA_DIR="$work/lora" \
  PAGEDLLM_ARTIFACT_DIR="$artifact_dir" CHROMIUM="$chromium" \
  node --test --test-concurrency=1 test/*.test.js
