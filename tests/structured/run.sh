#!/usr/bin/env bash
# Validity of structured outputs, checked by the references: ajv (JSON Schema 2020-12 with ajv-formats) for
# JSON, JavaScript RegExp for regexes; and the OpenAI SDK's zod helpers against `pagedllm serve`.
#   tests/structured/run.sh PAGEDLLM_BINARY STRUCTURED_SAMPLE_BINARY
# Samples: the random-logit sampler over four fixture tokenizers, and `pagedllm generate` with stories260K's
# real weights and with random (dummy) weights, every schema of schemas.json at temperature 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pagedllm="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
sampler="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
cd "$here"
[ -d node_modules/ajv ] || npm ci --no-audit --no-fund >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

for tok in smollm llama2 gpt2 phi3-mini; do
  "$sampler" "$root/tests/fixtures/tokenizers/$tok" schemas.json 3 200 7 > "$out/random-$tok.jsonl"
done
node make_prompts.js > "$out/prompts.jsonl"
for weights in safetensors dummy; do
  "$pagedllm" generate --model "$root/models/stories260K" --load-format "$weights" --seed 11 --json \
    --prompts-file "$out/prompts.jsonl" > "$out/stories-$weights.jsonl"
done
PAGEDLLM_BINARY="$pagedllm" STRUCTURED_SAMPLES_DIR="$out" node --test --test-concurrency=1 test/*.test.js
