#!/usr/bin/env bash
# Checks the Rust proof-of-stake execution genesis against geth and Python.
#
#   scripts/oracle-el-genesis.sh                 # geth v1.17.10 and v1.16.9
#   GETH_VERSIONS=v1.17.10 scripts/oracle-el-genesis.sh
#
# 1. Re-reads the system-contract bytecode from geth's source (Go module cache,
#    `go mod download`, no build) for every version and compares it with the Rust
#    constants (tests/el_genesis.rs bytecode_equals_geth_source).
# 2. Dumps the genesis cases (tests/el_genesis.rs dump_oracle_cases): <case>.json
#    plus the Rust state root (<case>.root) and block hash (<case>.hash).
# 3. Recomputes root and hash from the JSON with PyPI trie + rlp
#    (tests/oracle/el_genesis.py), also for the fixtures tests/fixtures/*.json
#    (hoodi's published genesis, whose hash geth pins, and the Osaka vector),
#    whose expected hashes lie beside them in <name>.hash.
# 4. For each geth version (built once by scripts/geth.sh): `geth init` on a fresh
#    datadir, then starts geth offline (no discovery, no peers, loopback HTTP) and
#    reads block 0's hash and stateRoot with eth_getBlockByNumber. The fixtures go
#    to v1.17.10 only: the Osaka vector has no blobSchedule.osaka entry, which
#    v1.16.9 requires.
# Exits non-zero on any mismatch.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
versions=${GETH_VERSIONS:-v1.17.10 v1.16.9}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$top/target}

work=$(mktemp -d "${TMPDIR:-/tmp}/el-genesis-oracle.XXXXXX")
trap 'rm -rf "$work"' EXIT

python=$(scripts/venv.sh)
fail=0

echo "== bytecode in geth's source"
source_dirs=""
for v in $versions; do
  dir=$(go mod download -json "github.com/ethereum/go-ethereum@$v" \
    | "$python" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  source_dirs="$source_dirs:$dir"
done
GETH_SOURCE_DIRS="$source_dirs" cargo test --release --locked -q --test el_genesis bytecode_equals_geth_source \
  -- --nocapture 2>&1 | grep -E 'bytecode equals|differs|panicked|test result' || fail=1

echo "== Rust cases"
EL_GENESIS_ORACLE_DIR="$work/cases" cargo test --release --locked -q --test el_genesis dump_oracle_cases >/dev/null
cases=("$work"/cases/*.json)
[ -e "${cases[0]}" ] || { echo "no cases were dumped" >&2; exit 1; }

echo "== Python (trie + rlp)"
fixtures=("$top"/tests/fixtures/*.json)
"$python" tests/oracle/el_genesis.py "${cases[@]}" "${fixtures[@]}" || fail=1

for v in $versions; do
  genesis_files=("${cases[@]}")
  if [ "$v" = v1.17.10 ]; then genesis_files+=("${fixtures[@]}"); fi
  for json in "${genesis_files[@]}"; do
    name=$(basename "$json" .json)
    if got=$(scripts/geth-block0.sh "$v" "$json" "$work/$v-$name"); then
      read -r hash root <<<"$got"
      want_hash=$(cat "${json%.json}.hash")
      # Fixtures come with a known hash only; their root is the Python one above.
      want_root=$(cat "${json%.json}.root" 2>/dev/null || echo "$root")
      if [ "$hash" = "$want_hash" ] && [ "$root" = "$want_root" ]; then
        echo "geth $v $name: hash $hash root $root (as expected)"
      else
        echo "MISMATCH geth $v $name: geth hash $hash root $root, Rust hash $want_hash root $want_root" >&2
        fail=1
      fi
    else
      echo "MISMATCH geth $v $name: geth gave no block 0" >&2
      fail=1
    fi
  done
done

if [ "$fail" -ne 0 ]; then
  echo "el-genesis oracle: MISMATCH" >&2
  exit 1
fi
echo "el-genesis oracle: all match"
