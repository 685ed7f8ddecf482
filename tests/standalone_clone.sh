#!/usr/bin/env bash
# A fresh clone stands alone: it is cloned into an empty temporary folder (so nothing sits beside it), no tracked
# file points outside the repository, and the README's first command, run from the clone with the already-built
# program in place of install-deps + build, starts a server that answers /health.
#   tests/standalone_clone.sh SOURCE_DIR PAGEDLLM_BINARY
# The clone holds the committed tree (HEAD), as CI and a new user see it.
set -euo pipefail
source_dir="$(cd "${1:?usage: standalone_clone.sh SOURCE_DIR PAGEDLLM_BINARY}" && pwd)"
binary="$(cd "$(dirname "${2:?usage: standalone_clone.sh SOURCE_DIR PAGEDLLM_BINARY}")" && pwd)/$(basename "$2")"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "standalone_clone: $*" >&2; exit 1; }

git clone --quiet "$source_dir" "$work/pagedllm"
cd "$work/pagedllm"

# The folder that used to hold the models beside the checkout, spelt in two pieces so this file does not match.
outside="../"'shared'
if git grep -n -F "$outside"; then fail "the lines above point outside the repository"; fi

# The README's first command: its first line that runs `build/pagedllm`, after `scripts/build.sh &&`.
first="$(grep -m1 'build/pagedllm serve' README.md)" || fail "README.md has no 'build/pagedllm serve' command"
serve_args="${first#*build/pagedllm serve }"
[ "$serve_args" != "$first" ] || fail "cannot find the serve arguments in: $first"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
read -r -a args <<<"$serve_args"
for ((i = 0; i < ${#args[@]}; ++i)); do
  [ "${args[$i]}" = --port ] && args[$((i + 1))]="$port"
  if [ "${args[$i]}" = --model ] || [ "${args[$i]}" = --chat-template ]; then
    [ -e "${args[$((i + 1))]}" ] || fail "the README's first command names ${args[$((i + 1))]}, which the clone lacks"
  fi
done
"$binary" serve "${args[@]}" --host 127.0.0.1 &
server_pid=$!
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || fail "the README's first command exited before it was healthy"
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || fail "no /health answer after 60 s"
echo "standalone_clone: clone has no outside paths; README's first command serves /health on port $port"
