#!/usr/bin/env bash
# Decode throughput of the TinyLlama-1.1B dummy model in every weight format, single-stream and with 64 requests,
# each with its bound from the roofline measured in the same run. Usage:
#   bench/decode_formats.sh [BIN] [MODEL] [NUM_PROMPTS] [INPUT_LEN] [OUTPUT_LEN]
# (defaults: build/pagedllm, models/tinyllama-1.1b-dummy, 1, 16, 64). Prints one block per format.
set -euo pipefail
bin=${1:-build/pagedllm}
model=${2:-models/tinyllama-1.1b-dummy}
prompts=${3:-1}
input_len=${4:-16}
output_len=${5:-64}
formats=("--dtype float32" "--dtype bfloat16" "--quantization q8_0" "--quantization int8"
         "--quantization nf4 --no-double-quant" "--quantization nf4 --double-quant")
for f in "${formats[@]}"; do
  echo "== $f (prompts $prompts, input $input_len, output $output_len)"
  # shellcheck disable=SC2086
  "$bin" bench throughput --model "$model" --load-format dummy --num-prompts "$prompts" --input-len "$input_len" \
    --output-len "$output_len" $f 2>&1 | grep -E "^(model|Throughput|mean|memory|single|all|decode)" || true
done
