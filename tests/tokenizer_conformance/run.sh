#!/usr/bin/env bash
# Conformance of pagedllm's tokenizer with Hugging Face tokenizers (npm tokenizers@0.23.2) on generated inputs.
#   tests/tokenizer_conformance/run.sh PAGEDLLM_BINARY [COUNT]
# For every tokenizer in tests/fixtures/tokenizers/: COUNT (default 2000) generated strings plus its strings.jsonl are
# encoded with and without special tokens and the reference ids decoded (with and without skip_special_tokens) by
# both `PAGEDLLM_BINARY tokenize/detokenize` and the npm package; any difference is a mismatch.
# Needs node and npm; installs the pinned package from package-lock.json on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(realpath "${1:?usage: run.sh PAGEDLLM_BINARY [COUNT]}")
count=${2:-2000}
fixtures=$(cd "$here/../fixtures" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ! -d "$here/node_modules/tokenizers" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi

# Every tokenizer the repository ships must be found and checked: a run that finds fewer fails instead of passing
# over nothing.
required=(deepseek-coder falcon gpt-neox-20b gpt2 llama2 phi3-mini smollm starcoder stories260K)
num_passed=0
num_failed=0
for name in "${required[@]}"; do
  if [ ! -f "$fixtures/tokenizers/$name/tokenizer.json" ]; then
    echo "tokenizer conformance: $fixtures/tokenizers/$name/tokenizer.json is missing" >&2
    num_failed=$((num_failed + 1))
  fi
done
for dir in "$fixtures"/tokenizers/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  [ -f "$dir/tokenizer.json" ] || continue
  w="$work/$name"
  mkdir -p "$w"
  seed=$(printf '%s' "$name" | cksum | cut -d' ' -f1)
  node "$here/generate_strings.js" "$dir/tokenizer.json" "$count" "$seed" > "$w/strings.jsonl"
  [ -f "$fixtures/tokenizers/strings.jsonl" ] && cat "$fixtures/tokenizers/strings.jsonl" >> "$w/strings.jsonl"
  node "$here/reference.js" "$dir/tokenizer.json" < "$w/strings.jsonl" > "$w/reference.jsonl"
  node -e '
    const fs = require("fs");
    const refs = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
    fs.writeFileSync(process.argv[2], refs.map((r) => JSON.stringify({ ids: r.ids_no_special })).join("\n") + "\n");
    fs.writeFileSync(process.argv[3], refs.map((r) => JSON.stringify({ ids: r.ids_add_special })).join("\n") + "\n");
  ' "$w/reference.jsonl" "$w/ids_no.jsonl" "$w/ids_add.jsonl"
  "$binary" tokenize --tokenizer "$dir" < "$w/strings.jsonl" > "$w/ours_add.jsonl"
  "$binary" tokenize --tokenizer "$dir" --no-special-tokens < "$w/strings.jsonl" > "$w/ours_no.jsonl"
  "$binary" detokenize --tokenizer "$dir" < "$w/ids_no.jsonl" > "$w/decode_no.jsonl"
  "$binary" detokenize --tokenizer "$dir" < "$w/ids_add.jsonl" > "$w/decode_add.jsonl"
  "$binary" detokenize --tokenizer "$dir" --skip-special-tokens < "$w/ids_add.jsonl" > "$w/decode_add_skip.jsonl"
  if node "$here/compare.js" "$name" "$w/strings.jsonl" "$w/reference.jsonl" "$w/ours_add.jsonl" \
      "$w/ours_no.jsonl" "$w/decode_no.jsonl" "$w/decode_add.jsonl" "$w/decode_add_skip.jsonl"; then
    num_passed=$((num_passed + 1))
  else
    num_failed=$((num_failed + 1))
  fi
done
echo "tokenizer conformance: $num_passed passed, $num_failed failed (${#required[@]} required)"
[ "$num_failed" -eq 0 ] && [ "$num_passed" -ge "${#required[@]}" ]
