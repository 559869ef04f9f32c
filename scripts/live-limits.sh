#!/usr/bin/env bash
# The size limits of a proof-of-stake release, on a real API server:
#
#   scripts/live-limits.sh            # (part of `make test`) tests/live/limits.py: the largest
#                                     # network the compiler keeps in one release
#                                     # (`largeObjects: release`) installs, and one pod more is
#                                     # refused; then tests/live/large_pos.py: a network of 10,000
#                                     # validators, its genesis state and wallets applied beside a
#                                     # small release, runs its pods with geth and Prysm
#   scripts/live-limits.sh --search   # measures the largest network one release holds (compiles
#                                     # with --no-size-limit; about ten installs)
#
# Runs in a single-node cluster that exists only for it (scripts/cluster.sh).
# Needs root, Go, iproute2, nftables, openssl, busybox, util-linux (.ci/run installs them).
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
geth_version=v1.17.10 prysm_version=v7.1.2
geth=$(scripts/geth.sh "$geth_version")
prysm=$(scripts/prysm.sh "$prysm_version")
cluster_bin=$(scripts/cluster-build.sh)
# The largest network of pods of 100 the compiler keeps in one release: validators +
# cost per pod within the release capacity (`kuberneteth-values limits`).
limit=$("$bin" limits | awk '$1 == "release-capacity" { c = $2 } $1 == "release-pod-cost" { k = $2 }
                             END { print int(c / (100 + k)) * 100 }')
# Both drivers in one cluster, one after the other (arguments, not expansions, in the script).
# shellcheck disable=SC2016
exec scripts/cluster.sh -- bash -c '
  "$1" "$2/tests/live/limits.py" --bin "$3" --helm "$4" --check "$5" &&
  "$1" "$2/tests/live/large_pos.py" --bin "$3" --helm "$4" --ethstats "$6" --geth "$7" --prysm "$8" --prysm-version "$9"' \
  live-limits "$py" "$top" "$bin" "$helm" "$limit" "$cluster_bin/ethstats" "$geth_version=$geth" "$prysm" "$prysm_version"
