#!/usr/bin/env bash
# Checks the Rust genesis BeaconState against the executable consensus spec
# (eth-consensus-specs): the genesis_state test writes each case's inputs and SSZ,
# then tests/oracle/genesis_state.py rebuilds every case with the spec's own
# containers and functions and compares bytes and roots. Exits non-zero on any
# mismatch.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python=$("$top/scripts/venv.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$top" && GENESIS_STATE_ORACLE_DIR="$work" cargo test --release --locked --quiet --test genesis_state)
shopt -s nullglob
cases=("$work"/*.json)
if [ "${#cases[@]}" -eq 0 ]; then
  echo "the genesis_state test wrote no cases" >&2
  exit 1
fi
"$python" "$top/tests/oracle/genesis_state.py" "${cases[@]}"
