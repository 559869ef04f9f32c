#!/usr/bin/env bash
# Live test: real geth, built from its Go module, runs the pods the chart renders
# (tests/live/README.md). Builds geth v1.13.14 and v1.13.15 once into .cache/geth/
# (scripts/geth.sh), the compiler, the Python test environment and Helm, then runs
# the driver as root inside private network, mount and PID namespaces: nothing it
# starts is reachable from outside, and everything dies with it.
# Needs root, Go, iproute2, nftables, dnsmasq, busybox, util-linux (.ci/run installs them).
# Environment: LIVE_KEEP=1 keeps the work directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

[ "$(id -u)" -eq 0 ] || { echo "live: the pod runner needs root (namespaces, mounts, setuid)" >&2; exit 1; }
for tool in go ip nft dnsmasq busybox unshare nsenter; do
  command -v "$tool" >/dev/null || { echo "live: $tool is not installed (see .ci/run)" >&2; exit 1; }
done

from=v1.13.14 to=v1.13.15
geth_from=$(scripts/geth.sh "$from")
geth_to=$(scripts/geth.sh "$to")
bin=$(scripts/compiler.sh)
helm=$(scripts/helm.sh 4)
py=$(scripts/venv.sh)

exec unshare --net --mount --pid --fork --mount-proc --kill-child -- \
  "$py" "$top/tests/live/live.py" --bin "$bin" --helm "$helm" \
  --geth "$from=$geth_from" --geth "$to=$geth_to" "$@"
