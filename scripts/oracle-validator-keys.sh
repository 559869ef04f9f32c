#!/usr/bin/env bash
# Writes validator keys, EIP-2335 keystores and a Prysm wallet (tests/validator_keys.rs)
# and checks them with independent implementations (ethstaker-deposit, py_ecc).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python=$("$top/scripts/venv.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
VALIDATOR_KEYS_ORACLE_DIR="$work" cargo test --release --locked --quiet --manifest-path "$top/Cargo.toml" \
  --test validator_keys writes_keys_for_the_oracle
"$python" "$top/tests/oracle/validator_keys.py" "$work"
