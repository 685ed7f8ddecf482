#!/usr/bin/env bash
# kill_worker.sh PAGEDLLM_BINARY MODEL_DIR: a tensor-parallel server (2 ranks) whose worker dies by SIGKILL must
# end as a whole, with a non-zero status, within seconds: rank 0 must not wait forever in a collective for a peer
# that is gone. (Open MPI's mpirun notices the dead rank and ends the others.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
model_dir="$(cd "$2" && pwd)"
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

# A hang fails through mpi_run.sh's timeout (60 s, well past the 15 s allowed below) instead of blocking the suite.
MPI_RUN_TIMEOUT=60 bash "$here/../mpi_run.sh" 2 "$binary" serve --model "$model_dir" --host 127.0.0.1 --port "$port" \
  --num-kv-blocks 64 -tp 2 &
job=$!

for _ in $(seq 1 600); do
  if curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/v1/completions" -H 'Content-Type: application/json' \
  -d '{"prompt": "Once upon a time", "max_tokens": 8, "temperature": 0}' >/dev/null

# Rank 1: the pagedllm process among the job's descendants whose environment says so.
worker=""
queue=("$job")
while [ ${#queue[@]} -gt 0 ] && [ -z "$worker" ]; do
  pid=${queue[0]}; queue=("${queue[@]:1}")
  for child in $(pgrep -P "$pid" || true); do
    queue+=("$child")
    if [ "$(readlink "/proc/$child/exe" 2>/dev/null)" = "$binary" ] &&
       tr '\0' '\n' < "/proc/$child/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then
      worker=$child
    fi
  done
done
if [ -z "$worker" ]; then echo "no rank 1 process found under job $job" >&2; kill -TERM "$job"; exit 1; fi

start=$(date +%s)
kill -KILL "$worker"
status=0
wait "$job" || status=$?
elapsed=$(( $(date +%s) - start ))
echo "job ended with status $status ${elapsed} s after rank 1 was killed"
if [ "$status" -eq 0 ]; then echo "expected a non-zero status" >&2; exit 1; fi
if [ "$elapsed" -gt 15 ]; then echo "the job took ${elapsed} s to end (limit 15 s)" >&2; exit 1; fi
