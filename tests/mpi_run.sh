#!/usr/bin/env bash
# mpi_run.sh NP COMMAND...: runs COMMAND as NP MPI ranks on this machine over loopback TCP, as the tests need it:
# more ranks than cores allowed, no binding (ranks share the cores), root allowed (CI runs as root), and a
# timeout so that a hung collective fails the test instead of the suite. Open MPI's flags; MPICH's mpiexec
# takes -n and needs none of the others.
set -euo pipefail
np=$1; shift
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One thread per rank unless the caller says otherwise: ranks share the cores.
export PAGEDLLM_NUM_THREADS=${PAGEDLLM_NUM_THREADS:-1}
if mpirun --version 2>&1 | grep -q "Open MPI"; then
  exec timeout --kill-after=10 "${MPI_RUN_TIMEOUT:-300}" \
    mpirun --oversubscribe --bind-to none --mca btl self,tcp --mca btl_tcp_if_include lo -np "$np" "$@"
fi
exec timeout --kill-after=10 "${MPI_RUN_TIMEOUT:-300}" mpiexec -n "$np" "$@"
