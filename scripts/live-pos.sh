#!/usr/bin/env bash
# Proof-of-stake live test: real geth and Prysm, built from their Go modules, run the
# pods the chart renders for tests/live/pos-network.yaml (tests/live/README.md).
# Builds geth v1.17.9 and v1.17.10 once into .cache/geth/ (scripts/geth.sh), Prysm
# v7.1.2 into .cache/prysm/ (scripts/prysm.sh), the compiler, the Python test
# environment and Helm, then runs the driver as root inside private network, mount
# and PID namespaces: nothing it starts is reachable from outside, and everything
# dies with it.
# Needs root, Go, iproute2, nftables, dnsmasq, busybox, util-linux (.ci/run installs them).
# Environment: LIVE_KEEP=1 keeps the work directory; LIVE_GENESIS_DELAY=SECONDS sets
# how far ahead of the driver's start genesis is (default 90).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

[ "$(id -u)" -eq 0 ] || { echo "live-pos: the pod runner needs root (namespaces, mounts, setuid)" >&2; exit 1; }
for tool in go ip nft dnsmasq busybox unshare nsenter; do
  command -v "$tool" >/dev/null || { echo "live-pos: $tool is not installed (see .ci/run)" >&2; exit 1; }
done

from=v1.17.9 to=v1.17.10 prysm_version=v7.1.2
geth_from=$(scripts/geth.sh "$from")
geth_to=$(scripts/geth.sh "$to")
prysm=$(scripts/prysm.sh "$prysm_version")
bin=${KUBERNETETH_VALUES:-$(scripts/compiler.sh)}
helm=$(scripts/helm.sh 4)
py=$(scripts/venv.sh)

exec unshare --net --mount --pid --fork --mount-proc --kill-child -- \
  "$py" "$top/tests/live/live_pos.py" --bin "$bin" --helm "$helm" \
  --geth "$from=$geth_from" --geth "$to=$geth_to" --prysm "$prysm" --prysm-version "$prysm_version" "$@"
