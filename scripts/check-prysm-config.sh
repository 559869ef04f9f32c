#!/usr/bin/env bash
# Checks that Prysm loads the config.yaml src/consensus/chain_config.rs writes.
#
#   scripts/check-prysm-config.sh              # mainnet preset
#   scripts/check-prysm-config.sh --minimal    # also the minimal preset (load only)
#
# The configs come from the `configs_for_prysm` unit test (PRYSM_CONFIG_DIR); Prysm
# is the mainnet-preset build of scripts/prysm.sh. For the mainnet config:
# 1. `prysmctl testnet generate-genesis` loads it (params.LoadChainConfigFile) and
#    builds a Fulu genesis state of 8 interop validators; it must exit 0.
# 2. `beacon-chain` starts from that state with the config, no peers and no
#    execution client, in a network namespace of its own when run as root, for
#    a few seconds; it must still be running.
# The minimal config is checked for loading only: Prysm's minimal build does not
# compile from Go modules (see scripts/prysm.sh), and a mainnet build cannot
# hold a minimal-preset state, so `beacon-chain` loads the config and must then
# stop at the missing genesis state, and at nothing else.
# In both, beacon-chain's debug dump of the loaded config must show this network's
# name, preset, chain id, validator count, genesis time and slot length. A check
# fails on a fatal log line, on Prysm's "Failed to prepare network
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

bin=$("$top/scripts/prysm.sh" "$version")
for preset in "${presets[@]}"; do
  config="$work/$preset.yaml"
  [ -s "$config" ] || fail "the test wrote no $config"
  genesis=()
  if [ "$preset" = mainnet ]; then
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
    genesis=(--genesis-state "$work/genesis-$preset.ssz")
  fi

  log="$work/beacon-$preset.log"
  "${isolate[@]}" "$bin/beacon-chain" --accept-terms-of-use --datadir "$work/bn-$preset" \
    --chain-config-file "$config" "${genesis[@]}" \
    --no-discovery --min-sync-peers 0 --verbosity debug --log-format json \
    --execution-endpoint http://127.0.0.1:1 >"$log" 2>&1 &
  bn_pid=$!
  sleep 15
  if [ "$preset" = mainnet ]; then
    if ! kill -0 "$bn_pid" 2>/dev/null; then
      tail -20 "$log" >&2
      fail "beacon-chain exited with the $preset config"
    fi
    kill "$bn_pid"
    wait "$bn_pid" || true
    bn_pid=""
    check_log "$log"
  else
    # Load only: a mainnet-preset build cannot hold a minimal genesis state, so
    # the node must stop for exactly that reason, after loading the config.
    kill "$bn_pid" 2>/dev/null || true
    wait "$bn_pid" || true
    bn_pid=""
    grep -q '"level":"fatal".*genesis state has not been initialized' "$log" \
      || { tail -20 "$log" >&2; fail "beacon-chain did not stop at the missing genesis state"; }
    grep -v '"level":"fatal".*genesis state has not been initialized' "$log" >"$log.rest"
    check_log "$log.rest"
  fi
  dump=$(grep -o 'Config file values: [^"]*' "$log" | head -1)
  [ -n "$dump" ] || fail "$log: no debug dump of the loaded config"
  for want in "ConfigName:kuberneteth-$preset " "PresetBase:$preset " \
    "SecondsPerSlot:${slot_seconds[$preset]} " \
    "SlotDurationMilliseconds:$((slot_seconds[$preset] * 1000)) " \
    "DepositChainID:$chain_id " "DepositNetworkID:$chain_id " \
    "MinGenesisActiveValidatorCount:8 " "MinGenesisTime:$genesis_time "; do
    [[ "$dump" == *"$want"* ]] || fail "$log: the loaded config lacks $want"
  done
  echo "check-prysm-config: Prysm $version loaded the $preset config" >&2
done
echo "check-prysm-config: OK" >&2
