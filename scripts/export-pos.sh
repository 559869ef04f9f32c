#!/usr/bin/env bash
# Proof of stake from an export, outside Kubernetes (tests/live/README.md): builds or
# locates geth v1.17.9 (scripts/geth.sh), Prysm v7.1.2 (scripts/prysm.sh), the
# compiler and the Python test environment, then runs tests/live/export_pos.py on
# this host: it exports tests/live/export-pos-network.yaml and starts every node's
# geth, beacon node and validator client from its folder with the README's recipe,
# node i on 127.0.0.1+i (every listener bound to that address), then stops them all.
# Needs nothing of the cluster, and no root.
# Environment: LIVE_KEEP=1 keeps the driver's work directory (export and logs);
# LIVE_GENESIS_DELAY=SECONDS sets how far ahead of the driver's start genesis is
# (default 60).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

geth=$(scripts/geth.sh v1.17.9)
prysm=$(scripts/prysm.sh v7.1.2)
bin=${KUBERNETETH_VALUES:-$(scripts/compiler.sh)}
py=$(scripts/venv.sh)

exec "$py" "$top/tests/live/export_pos.py" --bin "$bin" --geth "$geth" --prysm "$prysm" "$@"
