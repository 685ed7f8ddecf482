#!/usr/bin/env bash
# dp_finetune.sh CASE PAGEDLLM SOURCE_DIR: data-parallel `pagedllm finetune` under real MPI ranks (mpi_run.sh) on
# stories260K, against one process. The reduction order makes DP bit-identical to one process
# (src/train/data_parallel.h), so every comparison is byte for byte (cmp), not within a tolerance.
#   equivalence: DP 2 and DP 3 (one rank idle each step) give one process's training_log.csv, adapter and final
#                eval loss; only rank 0 prints; a bad flag under DP ends every rank with the error.
#   kill_resume: SIGKILL of rank 1 after the first checkpoint ends the job with a non-zero status within seconds,
#                the checkpoint folder stays whole, and resuming it with 1 or 2 ranks ends with the adapter and log
#                of an uninterrupted run.
set -euo pipefail
case_name=$1 bin=$2 src=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
same_file() { cmp -s "$1" "$2" || fail "$3: $1 and $2 differ"; }
# One process with one thread, as each rank has (mpi_run.sh), so the two runs use the same kernels' slicing.
one_process() { PAGEDLLM_NUM_THREADS=1 "$bin" "$@" --quiet; }
ranks() { local np=$1; shift; bash "$here/mpi_run.sh" "$np" "$bin" "$@"; }

# Rank-8 QLoRA at a high learning rate decaying linearly; a global batch of 2 micro-batches of 2 examples.
model_args=(finetune --model "$src/models/stories260K" --lora-r 8 --learning-rate 2e-3 --lr-scheduler linear --batch-size 2 --gradient-accumulation-steps 2
      --max-seq-len 128 --seed 7)
args=("${model_args[@]}" --data "$src/tests/data/stories_instructions.jsonl")

equivalence() {
  local eval_args=(--eval-data "$src/tests/data/stories_instructions_eval.jsonl" --eval-steps 3 --max-steps 6)
  one_process "${args[@]}" "${eval_args[@]}" --output "$work/one" > "$work/one.out"
  for np in 2 3; do
    # Without --quiet: the progress bar (one line a step on a pipe) must come from rank 0 alone.
    ranks "$np" "${args[@]}" "${eval_args[@]}" --output "$work/dp$np" > "$work/dp$np.out" 2> "$work/dp$np.err"
    [ "$(grep -c ' step 6/6 ' "$work/dp$np.err")" = 1 ] || fail "DP $np: not rank 0 alone showed progress"
    same_file "$work/one/training_log.csv" "$work/dp$np/training_log.csv" "loss curve of DP $np"
    same_file "$work/one/adapter_model.safetensors" "$work/dp$np/adapter_model.safetensors" "adapter of DP $np"
    [ "$(grep -c '^adapter written to' "$work/dp$np.out")" = 1 ] || fail "DP $np: not rank 0 alone printed"
    grep -q "^data parallel: $np ranks, gradient all-reduce" "$work/dp$np.out" || fail "DP $np: no all-reduce line"
    grep -q "^final eval loss $(sed -n 's/^final eval loss //p' "$work/one.out")\$" "$work/dp$np.out" ||
      fail "DP $np: final eval loss differs from one process's"
  done
  # A bad flag throws on every rank; each aborts the run instead of leaving the others in a collective.
  local rc=0
  ranks 2 "${model_args[@]}" --quiet --max-steps 1 --data "$work/missing.jsonl" --output "$work/bad" > /dev/null 2> "$work/bad.err" ||
    rc=$?
  [ "$rc" != 0 ] || fail "DP 2 with missing data exited 0"
  grep -q "^pagedllm rank [01] of 2: error (not found): .*missing.jsonl" "$work/bad.err" || fail "DP 2 with missing data: no error naming the file"
  echo "equivalence: DP 2 and DP 3 bit-identical to one process"
}

# Every process below pid (children first-level, then theirs).
descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    echo "$child"
    descendants "$child"
  done
}

# The pid of MPI rank `rank` among the processes the job `launcher` started (mpi_run.sh → timeout → mpirun → ranks).
rank_pid() {
  local launcher=$1 rank=$2 pid
  for pid in $(descendants "$launcher"); do
    if tr '\0' '\n' < "/proc/$pid/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$rank"; then
      echo "$pid"
      return
    fi
  done
}

kill_resume() {
  mpirun --version 2>&1 | grep -q "Open MPI" || { echo "kill_resume needs Open MPI's mpirun (rank pids)"; exit 77; }
  local run=(--max-steps 40 --save-steps 4)
  one_process "${args[@]}" "${run[@]}" --output "$work/full" > /dev/null

  MPI_RUN_TIMEOUT=120 ranks 2 "${args[@]}" "${run[@]}" --quiet --output "$work/killed" > /dev/null 2> "$work/killed.err" &
  local launcher=$! victim="" started=$SECONDS
  # A failed check below must not leave the job running.
  trap 'kill $(descendants '"$launcher"') 2> /dev/null || true; rm -rf "$work"' EXIT
  until [ -d "$work/killed/checkpoint" ]; do
    sleep 0.1
    [ $((SECONDS - started)) -lt 60 ] || fail "no checkpoint within 60 s"
  done
  victim=$(rank_pid "$launcher" 1)
  [ -n "$victim" ] || fail "rank 1 not found among the job's processes (it ended before the kill?)"
  kill -KILL "$victim"
  local killed_at=$SECONDS rc=0
  wait "$launcher" || rc=$?
  [ "$rc" != 0 ] || fail "the job with a killed rank exited 0"
  # A hang would last until the 120 s timeout; the others are stopped as soon as mpirun sees the dead rank.
  [ $((SECONDS - killed_at)) -le 30 ] || fail "the other rank ran on for $((SECONDS - killed_at)) s after the kill"
  [ ! -e "$work/killed/adapter_model.safetensors" ] || fail "the killed run finished before the kill; lengthen it"
  for f in training_state.safetensors adapter_model.safetensors adapter_config.json; do
    [ -s "$work/killed/checkpoint/$f" ] || fail "checkpoint/$f missing after the kill"
  done

  for np in 1 2; do
    cp -r "$work/killed" "$work/resumed$np"
    if [ "$np" = 1 ]; then
      one_process "${args[@]}" "${run[@]}" --resume --output "$work/resumed$np" > /dev/null
    else
      ranks "$np" "${args[@]}" "${run[@]}" --quiet --resume --output "$work/resumed$np" > /dev/null
    fi
    same_file "$work/full/adapter_model.safetensors" "$work/resumed$np/adapter_model.safetensors" \
      "adapter resumed with $np rank(s)"
    same_file "$work/full/training_log.csv" "$work/resumed$np/training_log.csv" "log resumed with $np rank(s)"
  done
  echo "kill_resume: rank 1 killed after step $(tail -1 "$work/killed/training_log.csv" | cut -d, -f1), exit status" \
    "$rc; resumed with 1 and 2 ranks"
}

case "$case_name" in
  equivalence) equivalence ;;
  kill_resume) kill_resume ;;
  *) fail "unknown case $case_name (equivalence, kill_resume)" ;;
esac
