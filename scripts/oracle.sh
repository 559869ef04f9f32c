#!/usr/bin/env bash
# Checks compiled outputs against independent Python implementations
# (eth-keys, eth-keyfile, eth-account, HKDF from hashlib/hmac): every address, enode,
# keystore and derived secret, and the chain id, network id and TOML against the network file.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python=$("$top/scripts/venv.sh")
bin="${CARGO_TARGET_DIR:-$top/target}/release/kuberneteth-values"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The large example with light keystores (fast), then the default network with
# standard-strength keystores (what users get).
sed 's/kdf: standard/kdf: light/' "$top/values/production.yaml" > "$work/net.yaml"
"$bin" compile -c "$work/net.yaml" -o "$work/values" --secrets "$work/k.secrets.yaml" 2>/dev/null
"$bin" export -c "$work/net.yaml" -o "$work/export" --secrets "$work/k.secrets.yaml" --ip-range 10.1.0.1 2>/dev/null
"$python" "$top/tests/oracle/check_outputs.py" "$work/export" "$work/values" "$work/net.yaml" "$work/k.secrets.yaml"

cp "$top/values/kuberneteth.yaml" "$work/default.yaml"
"$bin" compile -c "$work/default.yaml" -o "$work/dvalues" --secrets "$work/d.secrets.yaml" 2>/dev/null
"$bin" export -c "$work/default.yaml" -o "$work/dexport" --secrets "$work/d.secrets.yaml" 2>/dev/null
"$python" "$top/tests/oracle/check_outputs.py" "$work/dexport" "$work/dvalues" "$work/default.yaml" "$work/d.secrets.yaml"

# Every port moved and a network id unlike the chain id (light keystores).
cp "$top/tests/chart/networks/odd-ports.yaml" "$work/odd.yaml"
"$bin" compile -c "$work/odd.yaml" -o "$work/ovalues" --secrets "$work/o.secrets.yaml" 2>/dev/null
"$bin" export -c "$work/odd.yaml" -o "$work/oexport" --secrets "$work/o.secrets.yaml" 2>/dev/null
"$python" "$top/tests/oracle/check_outputs.py" "$work/oexport" "$work/ovalues" "$work/odd.yaml" "$work/o.secrets.yaml"
