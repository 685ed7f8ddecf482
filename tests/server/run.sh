#!/usr/bin/env bash
# Runs the Node test suite against a real `pagedllm serve` on 127.0.0.1.
#   tests/server/run.sh PAGEDLLM_BINARY MODEL_DIR [extra serve flags...]
# MODEL_DIR is normally models/stories260K (the tests compare with its goldens). Installs the pinned
# `openai` package when node_modules is missing, starts the server on a free port, waits for /health, runs
# `node --test`, then stops the server with SIGTERM and checks that it exited 0.
# PAGEDLLM_SERVE_LAUNCHER (e.g. "bash tests/mpi_run.sh 2") starts the server under that command; SIGTERM then goes
# to the pagedllm processes themselves, since mpirun answers it by killing the job. PAGEDLLM_SERVER_TESTS names the
# test files to run (default: all of test/*.test.js).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 PAGEDLLM_BINARY MODEL_DIR [extra serve flags...]" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
model_dir="$(cd "$2" && pwd)"
shift 2
fixtures="$(cd "$here/../fixtures" && pwd)"

cd "$here"
[ -d node_modules/openai ] || npm ci --no-audit --no-fund >/dev/null

port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
serve_args=(--chat-template "$fixtures/chat_templates/tinyllama-chat.jinja" --max-request-body 1048576 "$@")
read -r -a launcher <<< "${PAGEDLLM_SERVE_LAUNCHER:-}"
"${launcher[@]}" "$binary" serve --model "$model_dir" --host 127.0.0.1 --port "$port" "${serve_args[@]}" &
server_pid=$!
# The pagedllm processes among the launcher's descendants (the launcher itself without one).
pagedllm_pids() {
  if [ ${#launcher[@]} -eq 0 ]; then echo "$server_pid"; return; fi
  local queue=("$server_pid") pid child
  while [ ${#queue[@]} -gt 0 ]; do
    pid=${queue[0]}; queue=("${queue[@]:1}")
    for child in $(pgrep -P "$pid" || true); do
      queue+=("$child")
      [ "$(readlink "/proc/$child/exe" 2>/dev/null)" = "$binary" ] && echo "$child"
    done
  done
}
stop_server() { kill -TERM $(pagedllm_pids) 2>/dev/null || true; }
trap stop_server EXIT

for _ in $(seq 1 1200); do
  if curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "pagedllm serve exited before becoming healthy" >&2; exit 1; fi
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "pagedllm serve not healthy after 120 s" >&2; exit 1; }

status=0
PAGEDLLM_BASE_URL="http://127.0.0.1:$port" PAGEDLLM_BINARY="$binary" \
  PAGEDLLM_MODEL_DIR="$model_dir" PAGEDLLM_SERVE_ARGS="${serve_args[*]}" \
  node --test --test-concurrency=1 ${PAGEDLLM_SERVER_TESTS:-test/*.test.js} || status=$?

trap - EXIT
kill -TERM $(pagedllm_pids)
server_status=0
wait "$server_pid" || server_status=$?
if [ "$server_status" -ne 0 ]; then
  echo "pagedllm serve exited with $server_status after SIGTERM (expected 0)" >&2
  status=1
fi
exit "$status"
