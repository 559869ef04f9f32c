#!/usr/bin/env bash
# Checks what the compiler writes for proof-of-stake networks against independent
# implementations (tests/oracle/check_pos_outputs.py) and geth.
#
#   scripts/oracle-pos.sh                       # every tests/oracle/networks/*.yaml
#   scripts/oracle-pos.sh NETWORK.yaml ...      # just these
#   KUBERNETETH_VALUES=path/to/binary scripts/oracle-pos.sh
#
# Without KUBERNETETH_VALUES it builds the release binary into CARGO_TARGET_DIR
# (default target/). A target dir shared between checkouts can hold another
# checkout's release/kuberneteth-values that cargo still takes as fresh: point
# KUBERNETETH_VALUES at a binary of this checkout there.
#
# For each network: `compile` and `export` with one shared --secrets file (created
# by the first compile); `geth init` of the exported genesis.json with geth v1.17.10
# and the network's own geth version, then geth started offline and block 0 read
# over loopback RPC; then the Python oracle checks genesis.ssz, the EL genesis hash,
# validator keys and wallets, beacon identities, config.yaml and the geth config.
# Prints one summary line per network; exits non-zero on any mismatch.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$SECONDS

if [ -n "${KUBERNETETH_VALUES:-}" ]; then
  bin=$KUBERNETETH_VALUES
else
  # Release: the debug build takes minutes over the validator keys' scrypt.
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$top/target}
  cargo build --release --locked --quiet
  bin=$CARGO_TARGET_DIR/release/kuberneteth-values
fi

if [ "$#" -gt 0 ]; then
  networks=("$@")
else
  networks=("$top"/tests/oracle/networks/*.yaml)
fi

python=$(scripts/venv.sh)
work=$(mktemp -d "${TMPDIR:-/tmp}/pos-oracle.XXXXXX")
trap 'rm -rf "$work"' EXIT
secrets=$work/secrets.yaml

fail=0
for network in "${networks[@]}"; do
  name=$(basename "$network" .yaml)
  out=$work/$name
  mkdir -p "$out"
  if ! "$bin" compile -c "$network" -o "$out/values" --secrets "$secrets" >"$out/compile.log" 2>&1 \
    || ! "$bin" export -c "$network" -o "$out/export" --secrets "$secrets" >"$out/export.log" 2>&1; then
    echo "pos oracle: $name: MISMATCH the compiler failed:" >&2
    cat "$out/compile.log" "$out/export.log" 2>/dev/null >&2 || true
    fail=1
    continue
  fi

  own=$("$python" -c 'import sys, yaml; print((yaml.safe_load(open(sys.argv[1])).get("geth") or {}).get("version", ""))' "$network")
  versions=$(printf '%s\n' v1.17.10 "$own" | grep . | sort -u)
  geth_args=()
  for v in $versions; do
    if got=$(scripts/geth-block0.sh "$v" "$out/export/genesis.json" "$out/geth-$v"); then
      read -r hash root <<<"$got"
      geth_args+=(--geth "$v" "$hash" "$root")
    else
      echo "pos oracle: $name: MISMATCH geth $v gave no block 0" >&2
      fail=1
    fi
  done

  if ! "$python" tests/oracle/check_pos_outputs.py "$network" "$out/values" "$out/export" "$secrets" "${geth_args[@]}"; then
    fail=1
  fi
done

echo "pos oracle: ${#networks[@]} networks in $((SECONDS - start)) s"
if [ "$fail" -ne 0 ]; then
  echo "pos oracle: MISMATCH" >&2
  exit 1
fi
echo "pos oracle: all match"
