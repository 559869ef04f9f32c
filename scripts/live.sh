#!/usr/bin/env bash
# Live test of a clique network on a real Kubernetes (tests/live/README.md): builds
# geth v1.13.14 and v1.13.15 (scripts/geth.sh), the cluster's programs
# (scripts/cluster-build.sh), the compiler, the Python test environment and Helm,
# then runs tests/live/live.py inside a single-node cluster that exists only for
# it (scripts/cluster.sh): nothing it starts is reachable from outside, and
# everything ends with it.
# Needs root, Go, iproute2, nftables, openssl, busybox, util-linux (.ci/run installs them).
# Environment: LIVE_KEEP=1 keeps the driver's work directory, CLUSTER_KEEP=1 the cluster's.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

from=v1.13.14 to=v1.13.15
geth_from=$(scripts/geth.sh "$from")
geth_to=$(scripts/geth.sh "$to")
cluster_bin=$(scripts/cluster-build.sh)
bin=${KUBERNETETH_VALUES:-$(scripts/compiler.sh)}
helm=$(scripts/helm.sh 4)
py=$(scripts/venv.sh)

exec scripts/cluster.sh -- "$py" "$top/tests/live/live.py" --bin "$bin" --helm "$helm" \
  --ethstats "$cluster_bin/ethstats" --geth "$from=$geth_from" --geth "$to=$geth_to" "$@"
