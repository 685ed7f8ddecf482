#!/usr/bin/env bash
# add_lora.sh PAGEDLLM_BINARY ADD_LORA_PROGRAM: trains a small adapter over stories260K's fp32 base in one process,
# then runs ADD_LORA_PROGRAM (add_lora_main.cc) as 2 MPI ranks against it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
adapter="$(mktemp -d)/adapter"
trap 'rm -rf "$(dirname "$adapter")"' EXIT
"$1" finetune --model "$here/../../models/stories260K" --data "$here/../data/stories_instructions.jsonl" \
  --output "$adapter" --quantization none --lora-r 4 --learning-rate 1e-2 --max-steps 3 --batch-size 4 --quiet
bash "$here/../mpi_run.sh" 2 "$2" "$adapter"
