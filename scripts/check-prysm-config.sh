#!/usr/bin/env bash
# Checks that Prysm loads the config.yaml src/consensus/chain_config.rs writes.
#
#   scripts/check-prysm-config.sh              # mainnet preset (mainnet build)
#   scripts/check-prysm-config.sh --minimal    # also the minimal preset (minimal build)
#
# The configs come from the `configs_for_prysm` unit test (PRYSM_CONFIG_DIR). For each:
# 1. `prysmctl testnet generate-genesis` loads it (params.LoadChainConfigFile) and
#    builds a Fulu genesis state of 8 interop validators; it must exit 0.
# 2. `beacon-chain` starts from that state with the config, no peers and no
#    execution client, in a network namespace of its own when run as root, for
#    a few seconds; it must still be running, and its debug dump of the loaded
#    config must show this network's name, chain id and slot length.
# Either fails on a fatal log line, on Prysm's "Failed to prepare network
# schedule" or "Failed to decode hex string", and on "There were some issues
# parsing the config from a yaml file" unless every issue is a key Prysm v7.1.2
# does not know (UNKNOWN below: Gloas and feature-fork keys of consensus-specs
# v1.6.0, and AGGREGATE_DUE_BPS, which Prysm spells AGGREGRATE_DUE_BPS).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=v7.1.2
presets=(mainnet)
case "${1:-}" in
  "") ;;
  --minimal) presets+=(minimal) ;;
  *) echo "usage: $0 [--minimal]" >&2; exit 2 ;;
esac

UNKNOWN=(
  AGGREGATE_DUE_BPS
  AGGREGATE_DUE_BPS_GLOAS
  ATTESTATION_DUE_BPS_GLOAS
  CONTRIBUTION_DUE_BPS_GLOAS
  EIP7441_FORK_EPOCH
  EIP7441_FORK_VERSION
  EIP7805_FORK_EPOCH
  EIP7805_FORK_VERSION
  EIP7928_FORK_EPOCH
  EIP7928_FORK_VERSION
  EPOCHS_PER_SHUFFLING_PHASE
  GLOAS_FORK_EPOCH
  GLOAS_FORK_VERSION
  INCLUSION_LIST_SUBMISSION_DUE_BPS
  MAX_BYTES_PER_INCLUSION_LIST
  MAX_REQUEST_INCLUSION_LIST
  MAX_REQUEST_PAYLOADS
  PAYLOAD_ATTESTATION_DUE_BPS
  PROPOSER_INCLUSION_LIST_CUTOFF_BPS
  PROPOSER_SELECTION_GAP
  SYNC_MESSAGE_DUE_BPS_GLOAS
  VIEW_FREEZE_CUTOFF_BPS
)
# The values configs_for_prysm sets (see chain_config.rs).
chain_id=4242
genesis_time=1700000000
declare -A slot_seconds=([mainnet]=6 [minimal]=4)

work=$(mktemp -d)
bn_pid=""
cleanup() {
  if [ -n "$bn_pid" ]; then kill "$bn_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "check-prysm-config: FAIL: $*" >&2
  exit 1
}

# Fails unless every "issues parsing the config" line lists only UNKNOWN keys.
check_parse_issues() {
  local log=$1 line fields field lines
  while IFS= read -r line; do
    fields=$(grep -o 'field [A-Za-z0-9_]* not found in type params.BeaconChainConfig' <<<"$line" \
      | awk '{print $2}' || true)
    lines=$(grep -o 'line [0-9]*: ' <<<"$line" | wc -l)
    if [ "$lines" -ne "$(grep -c . <<<"$fields")" ]; then
      fail "$log: Prysm could not parse a value: $line"
    fi
    for field in $fields; do
      [[ " ${UNKNOWN[*]} " == *" $field "* ]] || fail "$log: unexpected unknown key $field"
    done
    echo "check-prysm-config: keys Prysm $version ignores: $(tr '\n' ' ' <<<"$fields")" >&2
  done < <(grep 'There were some issues parsing the config' "$log" || true)
}

check_log() {
  local log=$1
  check_parse_issues "$log"
  if grep -E 'level=fatal|"level":"fatal"|Failed to prepare network schedule|Failed to decode hex string|Failed to marshal config' "$log"; then
    fail "$log: Prysm reported an error"
  fi
}

(cd "$top" && PRYSM_CONFIG_DIR="$work" cargo test --quiet --lib consensus::chain_config::tests::configs_for_prysm)

isolate=()
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
  # No route out: only loopback exists in the beacon node's network namespace.
  isolate=(unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh)
fi

for preset in "${presets[@]}"; do
  build=("$version")
  [ "$preset" = minimal ] && build+=(--minimal)
  bin=$("$top/scripts/prysm.sh" "${build[@]}")
  config="$work/$preset.yaml"
  [ -s "$config" ] || fail "the test wrote no $config"

  log="$work/genesis-$preset.log"
  if ! "$bin/prysmctl" testnet generate-genesis --chain-config-file "$config" \
    --num-validators 8 --genesis-time "$genesis_time" --fork fulu \
    --output-ssz "$work/genesis-$preset.ssz" >"$log" 2>&1; then
    cat "$log" >&2
    fail "prysmctl generate-genesis refused the $preset config"
  fi
  check_log "$log"
  grep -E 'Specified a chain config file|issues parsing|Command completed' "$log" >&2 || true
  [ -s "$work/genesis-$preset.ssz" ] || fail "prysmctl wrote no genesis state"

  log="$work/beacon-$preset.log"
  minimal_flag=()
  [ "$preset" = minimal ] && minimal_flag=(--minimal-config)
  "${isolate[@]}" "$bin/beacon-chain" --accept-terms-of-use --datadir "$work/bn-$preset" \
    --chain-config-file "$config" "${minimal_flag[@]}" \
    --genesis-state "$work/genesis-$preset.ssz" \
    --no-discovery --min-sync-peers 0 --verbosity debug --log-format json \
    --execution-endpoint http://127.0.0.1:1 >"$log" 2>&1 &
  bn_pid=$!
  sleep 15
  if ! kill -0 "$bn_pid" 2>/dev/null; then
    tail -20 "$log" >&2
    fail "beacon-chain exited with the $preset config"
  fi
  kill "$bn_pid"
  wait "$bn_pid" || true
  bn_pid=""
  check_log "$log"
  dump=$(grep -o 'Config file values: [^"]*' "$log" | head -1)
  [ -n "$dump" ] || fail "$log: no debug dump of the loaded config"
  for want in "ConfigName:kuberneteth-$preset " "PresetBase:$preset " \
    "SecondsPerSlot:${slot_seconds[$preset]} " \
    "SlotDurationMilliseconds:$((slot_seconds[$preset] * 1000)) " \
    "DepositChainID:$chain_id " "DepositNetworkID:$chain_id " \
    "MinGenesisActiveValidatorCount:8 " "MinGenesisTime:$genesis_time "; do
    [[ "$dump" == *"$want"* ]] || fail "$log: the loaded config lacks $want"
  done
  echo "check-prysm-config: Prysm $version ($preset) loaded the config" >&2
done
echo "check-prysm-config: OK" >&2
