#!/usr/bin/env bash
# Proof-of-stake live test on a real Kubernetes (tests/live/README.md): builds geth
# v1.17.9 and v1.17.10 (scripts/geth.sh), Prysm v7.1.2 (scripts/prysm.sh), the
# cluster's programs (scripts/cluster-build.sh), the compiler, the Python test
# environment and Helm, then runs tests/live/live_pos.py inside a single-node
# cluster that exists only for it (scripts/cluster.sh).
# Needs root, Go, iproute2, nftables, openssl, busybox, util-linux (.ci/run installs them).
# Environment: LIVE_KEEP=1 keeps the driver's work directory, CLUSTER_KEEP=1 the
# cluster's; LIVE_GENESIS_DELAY=SECONDS sets how far ahead of the driver's start
# genesis is (default 90).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

from=v1.17.9 to=v1.17.10 prysm_version=v7.1.2
geth_from=$(scripts/geth.sh "$from")
geth_to=$(scripts/geth.sh "$to")
prysm=$(scripts/prysm.sh "$prysm_version")
cluster_bin=$(scripts/cluster-build.sh)
bin=${KUBERNETETH_VALUES:-$(scripts/compiler.sh)}
helm=$(scripts/helm.sh 4)
py=$(scripts/venv.sh)

exec scripts/cluster.sh -- "$py" "$top/tests/live/live_pos.py" --bin "$bin" --helm "$helm" \
  --ethstats "$cluster_bin/ethstats" --geth "$from=$geth_from" --geth "$to=$geth_to" \
  --prysm "$prysm" --prysm-version "$prysm_version" "$@"
