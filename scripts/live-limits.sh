#!/usr/bin/env bash
# The size limit of a proof-of-stake release, on a real API server (tests/live/limits.py):
#
#   scripts/live-limits.sh            # checks the compiler's limit: the largest network it
#                                     # accepts installs, the next is refused (part of `make test`)
#   scripts/live-limits.sh --search   # measures the largest network that installs (compiles
#                                     # with --no-size-limit; about ten installs)
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
  exec scripts/cluster.sh -- "$py" "$top/tests/live/limits.py" --bin "$bin" --helm "$helm" "$@"
fi
# The largest network of pods of 100 the compiler allows: validators + cost per pod
# within the release capacity (`kuberneteth-values limits`).
limit=$("$bin" limits | awk '$1 == "release-capacity" { c = $2 } $1 == "release-pod-cost" { k = $2 }
                             END { print int(c / (100 + k)) * 100 }')
exec scripts/cluster.sh -- "$py" "$top/tests/live/limits.py" --bin "$bin" --helm "$helm" --check "$limit" "$@"
