#!/bin/bash
# Compares pagedllm's chat-template rendering with Python jinja2 (configured as transformers does) on the cases
# generate_cases.py writes. usage: run.sh [BUILD_DIR] [CONVERSATIONS_PER_TEMPLATE]   (defaults: build, 80)
# The comparison itself is the gtest ChatTemplateConformance in src/tokenizer/chat_template_conformance_test.cc;
# it generates the cases into a temporary folder, renders them with ChatTemplate and prints the mismatch count.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
if [ -n "${2:-}" ]; then export PAGEDLLM_CHAT_TEMPLATE_CONVERSATIONS="$2"; fi
exec "$build/src/tokenizer/tokenizer_tests" --gtest_filter='ChatTemplateConformance.*'
