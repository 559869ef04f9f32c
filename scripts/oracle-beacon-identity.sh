#!/usr/bin/env bash
# Checks beacon-node identities (libp2p peer id, multiaddr, ENR and its fields)
# written by tests/beacon_identity.rs against independent Python libraries
# (pyrlp, eth-keys, base58); exits non-zero on any mismatch.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python=$("$top/scripts/venv.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$top" && BEACON_IDENTITY_ORACLE_DIR="$work" cargo test --release --locked --quiet --test beacon_identity)
"$python" "$top/tests/oracle/beacon_identity.py" "$work/cases.json"
