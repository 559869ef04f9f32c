#!/usr/bin/env bash
# Runs a command against a real single-node Kubernetes that exists only for it:
#
#   scripts/cluster.sh [--image TAR]... -- COMMAND [ARGS...]
#
# Builds the cluster's programs once (scripts/cluster-build.sh), the pause and
# CoreDNS images (tests/cluster/images.py), then starts tests/cluster/cluster.py as
# PID 1 of new network, mount, PID, UTS and IPC namespaces. It brings the cluster
# up, imports every --image tar into containerd, runs COMMAND there with
# KUBECONFIG set and kubectl on PATH, and tears the cluster down when COMMAND ends;
# this script exits with COMMAND's status. The work folder (.cache/cluster-runs/)
# and any cgroup the run left are removed afterwards, whatever happened.
# Needs root, Go, iproute2, nftables, openssl, busybox, util-linux (.ci/run installs them).
# Environment: CLUSTER_KEEP=1 keeps the work folder (logs of every component).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=cluster/versions.env
. "$top/scripts/cluster/versions.env"

[ "$(id -u)" -eq 0 ] || { echo "cluster.sh: needs root (namespaces, mounts, cgroups)" >&2; exit 1; }
for tool in go ip nft openssl busybox unshare ldd; do
  command -v "$tool" >/dev/null || { echo "cluster.sh: $tool is not installed (see .ci/run)" >&2; exit 1; }
done

images=()
while [ $# -gt 0 ]; do
  case "$1" in
    --image) images+=(--image "$2"); shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--image TAR]... -- COMMAND [ARGS...]" >&2; exit 2; }

bin=$("$top/scripts/cluster-build.sh")
image_dir="$top/.cache/images"
while read -r tar; do
  images+=(--image "$tar")
done < <(python3 "$top/tests/cluster/images.py" --out "$image_dir" \
  "static=registry.k8s.io/pause:3.10.2=$bin/pause" \
  "static=registry.k8s.io/coredns/coredns:$COREDNS_VERSION=$bin/coredns")

mkdir -p "$top/.cache/cluster-runs"
work=$(mktemp -d "$top/.cache/cluster-runs/run.XXXXXX")
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  # Cgroups of this run (cluster.py removes them; this catches a killed run).
  find /sys/fs/cgroup/*/"kuberneteth-$(basename "$work")" -depth -type d -exec rmdir {} + 2>/dev/null || true
  if [ "${CLUSTER_KEEP:-0}" = 1 ]; then
    echo "cluster.sh: work folder kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
status=0
unshare --net --mount --pid --uts --ipc --fork --mount-proc --kill-child -- \
  python3 "$top/tests/cluster/cluster.py" --work "$work" --bin "$bin" "${images[@]}" -- "$@" || status=$?
exit "$status"
