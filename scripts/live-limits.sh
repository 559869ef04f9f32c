#!/usr/bin/env bash
# The size limit of a proof-of-stake release, on a real API server (tests/live/limits.py):
#
#   scripts/live-limits.sh            # checks the compiler's limit: the largest network it
#                                     # accepts installs, the next is refused (part of `make test`)
#   scripts/live-limits.sh --search   # measures the largest network that installs, with a
#                                     # compiler built without the limit (slow: ~10 installs)
#
# Runs in a single-node cluster that exists only for it (scripts/cluster.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bin=${KUBERNETETH_VALUES:-$(scripts/compiler.sh)}
helm=$(scripts/helm.sh 4)
py=$(scripts/venv.sh)
if [ "${1:-}" = --search ]; then
  shift
  exec scripts/cluster.sh -- env KUBERNETETH_NO_SIZE_LIMIT=1 "$py" "$top/tests/live/limits.py" \
    --bin "$bin" --helm "$helm" "$@"
fi
limit=$("$bin" limits --max-validators)
exec scripts/cluster.sh -- "$py" "$top/tests/live/limits.py" --bin "$bin" --helm "$helm" --check "$limit" "$@"
