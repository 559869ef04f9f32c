#!/usr/bin/env bash
# Checks that Prysm accepts what the compiler writes: the consensus config, and
# whole compiled networks (genesis state, p2p keys, JWT secrets, validator wallets).
#
#   scripts/check-prysm.sh              # mainnet preset
#   scripts/check-prysm.sh --minimal    # also load the minimal-preset config
#
# Prysm is the mainnet-preset build of scripts/prysm.sh; the compiler is
# KUBERNETETH_VALUES if set, else the release build of scripts/compiler.sh. Every
# check prints one OK line.
#
# 1. The configs of the `configs_for_prysm` unit test (PRYSM_CONFIG_DIR):
#    `prysmctl testnet generate-genesis` loads the mainnet one and builds a Fulu
#    state of 8 interop validators; `beacon-chain` starts from it. The minimal one
#    is loaded only: Prysm's minimal build does not compile from Go modules (see
#    scripts/prysm.sh) and a mainnet build cannot hold a minimal state, so
#    `beacon-chain` must stop at the missing genesis state and at nothing else.
#    beacon-chain's debug dump of the loaded config must show the network's name,
#    preset, chain id, validator count, genesis time and slot length.
# 2. Two networks compiled by `kuberneteth-values export`: Fulu with 0x01
#    withdrawal credentials and 12 s slots, genesis 5 minutes ahead (Prysm waits
#    for it); Electra with BLS (0x00) credentials, an Electra-only geth and 60 s
#    slots, genesis just past (Prysm joins the gossip topics at once, and slot 1
#    is a minute away, so no validator has to propose without an execution
#    client). For one validator pod of each, in a network namespace of its own
#    (loopback only, when run as root), with that pod's files mounted read-only as
#    Kubernetes mounts Secrets (and chmod a-w, which binds a non-root user only):
#    - beacon-chain, started with the compiled config, genesis.ssz, p2p-key and
#      jwt.hex, must log the compiler's genesis validators root, genesis time and
#      validator count, the pod's peer id from nodes.json, and gossip topics
#      under the fork digest of the pod's ENR; its Beacon API must return the
#      same root and time, serve back the genesis state byte for byte, with the
#      execution genesis hash of values.yaml and the validators (index, public
#      key, withdrawal credentials) of consensus/validators.json, and find every
#      member of the genesis sync committee among them;
#    - `validator accounts list` must list exactly the pod's public keys from
#      consensus/validators.json, with their indices in Prysm's state;
#    - the validator client must open the wallet and find exactly the pod's
#      validators (truncated public key and index) active.
# Every Prysm log line at level error or above fails a check unless listed in
# ALLOWED_ERRORS, and so does every warning not in ALLOWED_WARNINGS; "There were
# some issues parsing the config" passes only when every issue is a key Prysm
# v7.1.2 does not know (UNKNOWN: Gloas and feature-fork keys of consensus-specs
# v1.6.0, and AGGREGATE_DUE_BPS, which Prysm spells AGGREGRATE_DUE_BPS).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=v7.1.2
self="$top/scripts/check-prysm.sh"

fail() {
  echo "check-prysm: FAIL: $*" >&2
  exit 1
}
ok() {
  echo "check-prysm: OK: $*" >&2
}

# --- Inside the pod's namespaces ------------------------------------------------

# Runs one pod's beacon node and validator client on the compiled files and leaves
# their logs and Beacon API answers in OUT. Called by this script, in new network
# and mount namespaces when ISOLATED is 1.
run_pod() {
  local bin=$1 net=$2 node=$3 out=$4 isolated=$5 seconds=$6 fee=$7
  local dir="$net/nodes/$node" api bn vc i
  if [ "$isolated" = 1 ]; then
    ip link set lo up
    mount --make-rprivate /
    mount --bind "$dir" "$dir"
    mount -o remount,bind,ro "$dir"
  fi
  if touch "$dir/validator/wallet/probe" 2>/dev/null; then
    echo "the pod's files are writable (as root, this check needs unshare and ip)" >"$out/error"
    return
  fi
  api=$(jq -r --arg n "$node" '.[] | select(.name == $n) | .beacon.apiPort' "$net/nodes.json")
  "$bin/beacon-chain" --accept-terms-of-use --datadir "$out/beacon" \
    --chain-config-file "$net/consensus/config.yaml" \
    --genesis-state "$net/consensus/genesis.ssz" \
    --p2p-priv-key "$dir/beacon/p2p-key" --jwt-secret "$dir/jwt.hex" \
    --p2p-tcp-port "$(jq -r --arg n "$node" '.[] | select(.name == $n) | .beacon.tcpPort' "$net/nodes.json")" \
    --p2p-udp-port "$(jq -r --arg n "$node" '.[] | select(.name == $n) | .beacon.udpPort' "$net/nodes.json")" \
    --http-port "$api" --execution-endpoint http://127.0.0.1:8551 \
    --suggested-fee-recipient "$fee" \
    --no-discovery --contract-deployment-block 0 --min-sync-peers 0 \
    --log-format json >"$out/beacon.log" 2>&1 &
  bn=$!
  for i in $(seq 90); do
    curl -sf "http://127.0.0.1:$api/eth/v1/beacon/genesis" >"$out/genesis.json" && break
    kill -0 "$bn" 2>/dev/null || break
    [ "$i" -lt 90 ] || break
    sleep 1
  done
  if ! [ -s "$out/genesis.json" ]; then
    kill "$bn" 2>/dev/null || true
    wait "$bn" || true
    echo "the beacon node did not serve its Beacon API" >"$out/error"
    return
  fi
  curl -sf "http://127.0.0.1:$api/eth/v2/debug/beacon/states/genesis" >"$out/state.json" || true
  curl -s "http://127.0.0.1:$api/eth/v1/beacon/states/genesis/sync_committees" \
    >"$out/sync_committees.json" || true
  curl -sf "http://127.0.0.1:$api/eth/v1/beacon/states/genesis/validators" \
    >"$out/validators.json" || true
  curl -sf -H 'Accept: application/octet-stream' \
    "http://127.0.0.1:$api/eth/v2/debug/beacon/states/genesis" >"$out/state.ssz" || true
  "$bin/validator" accounts list --accept-terms-of-use \
    --wallet-dir "$dir/validator/wallet" \
    --wallet-password-file "$dir/validator/wallet-password" >"$out/accounts.log" 2>&1 \
    || echo "validator accounts list failed: exit $?" >>"$out/accounts.log"
  "$bin/validator" --accept-terms-of-use --datadir "$out/validator" \
    --wallet-dir "$dir/validator/wallet" \
    --wallet-password-file "$dir/validator/wallet-password" \
    --chain-config-file "$net/consensus/config.yaml" \
    --beacon-rpc-provider 127.0.0.1:4000 --suggested-fee-recipient "$fee" \
    --log-format json >"$out/validator.log" 2>&1 &
  vc=$!
  sleep "$seconds"
  kill -0 "$bn" 2>/dev/null && echo beacon >>"$out/alive"
  kill -0 "$vc" 2>/dev/null && echo validator >>"$out/alive"
  kill "$vc" "$bn" 2>/dev/null || true
  wait "$vc" "$bn" || true
}

if [ "${1:-}" = --pod ]; then
  shift
  run_pod "$@"
  exit 0
fi

presets=(mainnet)
case "${1:-}" in
  "") ;;
  --minimal) presets+=(minimal) ;;
  *) echo "usage: $0 [--minimal]" >&2; exit 2 ;;
esac
for tool in jq curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

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
# Error lines that say only that no execution client runs here.
ALLOWED_ERRORS=(
  'Could not connect to execution endpoint'
)
# Warnings about the setup of this check, not about the compiled files.
ALLOWED_WARNINGS=(
  # Any config file, by design.
  'Running on custom Ethereum network specified in a chain configuration YAML file'
  # --no-discovery, no peers.
  'No bootstrap addresses supplied'
  # Beacon node and validator client talk over loopback.
  'You are using an insecure gRPC server'
  'You are using an insecure gRPC connection'
)
# Warnings one network allows besides (set by check_network).
EXTRA_WARNINGS=()
# The values configs_for_prysm sets (see chain_config.rs).
chain_id=4242
genesis_time=1700000000
declare -A slot_seconds=([mainnet]=6 [minimal]=4)

work=$(mktemp -d)
bn_pid=""
cleanup() {
  if [ -n "$bn_pid" ]; then kill "$bn_pid" 2>/dev/null || true; fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

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
  done < <(grep 'There were some issues parsing the config' "$log" || true)
}

check_log() {
  local log=$1
  check_parse_issues "$log"
  if grep -E 'level=fatal|"level":"fatal"|Failed to prepare network schedule|Failed to decode hex string|Failed to marshal config' "$log"; then
    fail "$log: Prysm reported an error"
  fi
}

# Prints "LEVEL<TAB>MESSAGE" for every line of a Prysm log (JSON or text) at
# level warning or above, and "other<TAB>LINE" for every other line that is no
# log entry and mentions a failure; up to the shutdown this script asks for
# (requests then fail for being cancelled).
log_problems() {
  local lines
  lines=$(sed '/Got interrupt, shutting down/q' "$1")
  jq -Rr 'fromjson? | select(.level | IN("warning", "error", "fatal", "panic"))
    | [.level, .msg] | @tsv' <<<"$lines"
  grep -v '^{' <<<"$lines" | sed -n 's/^time="[^"]*" level=\(warning\|error\|fatal\|panic\) msg="\(\([^"\\]\|\\.\)*\)".*/\1\t\2/p'
  grep -v '^{' <<<"$lines" | grep -v '^time="[^"]*" level=' | grep -iE 'panic|fatal|error|fail' | sed 's/^/other\t/' || true
}

# Fails on a panic, on an error line not in ALLOWED_ERRORS and on a warning not
# in ALLOWED_WARNINGS (or EXTRA_WARNINGS), in a log of Prysm.
check_prysm_log() {
  local log=$1 level msg allowed pattern
  check_parse_issues "$log"
  while IFS=$'\t' read -r level msg; do
    [ "$msg" != "There were some issues parsing the config from a yaml file" ] || continue
    allowed=0
    if [ "$level" = warning ]; then
      for pattern in "${ALLOWED_WARNINGS[@]}" "${EXTRA_WARNINGS[@]}"; do
        [[ "$msg" != *"$pattern"* ]] || allowed=1
      done
    elif [ "$level" = error ]; then
      for pattern in "${ALLOWED_ERRORS[@]}"; do
        [[ "$msg" != *"$pattern"* ]] || allowed=1
      done
    fi
    [ "$allowed" = 1 ] || fail "$log: Prysm logged at $level: $(grep -F -m1 -- "$msg" "$log")"
  done < <(log_problems "$log")
}

# Prints the value of FIELD of the first line of a JSON log whose msg starts with MSG.
log_field() {
  jq -Rr --arg m "$2" --arg f "$3" \
    'fromjson? | select(.msg | startswith($m)) | .[$f] // empty' "$1" | head -1
}

# Prints the fork digest (8 hex digits) in the `eth2` entry of an ENR.
enr_fork_digest() {
  local b64=${1#enr:}
  b64=$(tr '_-' '/+' <<<"$b64")
  while [ $((${#b64} % 4)) -ne 0 ]; do b64+="="; done
  # "eth2" and an RLP string header of 16 bytes, then the digest.
  base64 -d <<<"$b64" | od -An -v -tx1 | tr -d ' \n' | grep -o '6574683290[0-9a-f]\{8\}' | cut -c11-
}

# --- 1. The configs of configs_for_prysm, with interop validators ----------------

check_interop_configs() {
  local preset config log dump want genesis
  (cd "$top" && PRYSM_CONFIG_DIR="$work" cargo test --release --locked --quiet --lib consensus::chain_config::tests::configs_for_prysm) >&2
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
      [ -s "$work/genesis-$preset.ssz" ] || fail "prysmctl wrote no genesis state"
      genesis=(--genesis-state "$work/genesis-$preset.ssz")
      ok "prysmctl generate-genesis loaded the $preset config"
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
    ok "beacon-chain loaded the $preset config of configs_for_prysm"
  done
}

# --- 2. Compiled networks ----------------------------------------------------------

# Compiles network NAME (file NAME.yaml in the work folder, its genesis OFFSET
# seconds from now) and checks pod NODE.
check_network() {
  local name=$1 node=$2 offset=$3
  local net="$work/$name/export" out="$work/$name/pod" fee credentials root hash genesis peer tcp count total enr digest got want line
  mkdir -p "$out"
  sed -i "s/GENESIS/$(($(date +%s) + offset))/" "$work/$name.yaml"
  "$compiler" export -c "$work/$name.yaml" -o "$net" --secrets "$work/$name/secrets.yaml" \
    2>"$work/$name/export.log" || { cat "$work/$name/export.log" >&2; fail "$name: export failed"; }
  "$compiler" compile -c "$work/$name.yaml" -o "$work/$name/values" \
    --secrets "$work/$name/secrets.yaml" 2>/dev/null || fail "$name: compile failed"
  line=$("$compiler" inspect -c "$work/$name.yaml" --secrets "$work/$name/secrets.yaml" 2>/dev/null \
    | grep '^genesis: ')
  root=$(grep -o 'validators root 0x[0-9a-f]*' <<<"$line" | awk '{print $3}')
  hash=$(grep -o 'execution block [0-9a-f]*' <<<"$line" | awk '{print $3}')
  genesis=$(grep -o 'time [0-9]*' <<<"$line" | awk '{print $2}')
  if [ -z "$root" ] || [ -z "$hash" ] || [ -z "$genesis" ]; then
    fail "$name: inspect printed no genesis line"
  fi
  grep -q "genesisValidatorsRoot: '$root'" "$work/$name/values/values.yaml" \
    || fail "$name: values.yaml and inspect disagree on the genesis validators root"
  grep -q "executionGenesisHash: '0x$hash'" "$work/$name/values/values.yaml" \
    || fail "$name: values.yaml and inspect disagree on the execution genesis hash"
  # The chart hands the network's fee recipient to both clients.
  fee=$(sed -n "s/^  feeRecipient: '\(0x[0-9a-fA-F]*\)'\$/\1/p" "$work/$name/values/values.yaml")
  [ -n "$fee" ] || fail "$name: values.yaml has no feeRecipient"
  EXTRA_WARNINGS=()
  if [ "$fee" = 0x0000000000000000000000000000000000000000 ]; then
    # The compiler's default fee recipient, which Prysm calls the burn address.
    EXTRA_WARNINGS=('Fee recipient is the burn address')
  fi
  peer=$(jq -r --arg n "$node" '.[] | select(.name == $n) | .beacon.peerId' "$net/nodes.json")
  tcp=$(jq -r --arg n "$node" '.[] | select(.name == $n) | .beacon.tcpPort' "$net/nodes.json")
  enr=$(jq -r --arg n "$node" '.[] | select(.name == $n) | .beacon.enr' "$net/nodes.json")
  count=$(jq --arg n "$node" '[.[] | select(.node == $n)] | length' "$net/consensus/validators.json")
  total=$(jq length "$net/consensus/validators.json")
  [ "$count" -gt 0 ] || fail "$name: validators.json has no validator of $node"
  digest=$(enr_fork_digest "$enr")
  [ -n "$digest" ] || fail "$name: the ENR of $node has no eth2 entry"

  # What Kubernetes mounts from a Secret is read-only.
  chmod -R a-w "$net/nodes/$node"
  if [ "${#isolate[@]}" -gt 0 ]; then
    unshare --net --mount --fork -- "$self" --pod "$bin" "$net" "$node" "$out" 1 15 "$fee"
  else
    "$self" --pod "$bin" "$net" "$node" "$out" 0 15 "$fee"
  fi
  [ ! -s "$out/error" ] || fail "$name: $(cat "$out/error")"
  grep -qx beacon "$out/alive" 2>/dev/null || { tail -20 "$out/beacon.log" >&2; fail "$name: beacon-chain exited"; }
  grep -qx validator "$out/alive" || { tail -20 "$out/validator.log" >&2; fail "$name: validator exited"; }

  # The beacon node.
  check_prysm_log "$out/beacon.log"
  got=$(log_field "$out/beacon.log" "Setting genesis validators root" genesisValidatorsRoot)
  [ "$got" = "$root" ] || fail "$name: Prysm's genesis validators root is '$got', the compiler's $root"
  got=$(log_field "$out/beacon.log" "Running node with peer id of " msg)
  [ "$got" = "Running node with peer id of $peer " ] || fail "$name: Prysm says '$got', nodes.json peer id $peer"
  jq -Rr 'fromjson? | select(.msg == "Node started p2p server") | .multiAddr' "$out/beacon.log" \
    | grep -q "/tcp/$tcp/p2p/$peer\$" || fail "$name: Prysm listens on no /tcp/$tcp/p2p/$peer"
  # Genesis time as Prysm prints it (two layouts); validator count, if the
  # genesis is still ahead (Prysm counts down to it).
  got=$(jq -Rr 'fromjson? | .genesisTime // empty' "$out/beacon.log" | sort -u)
  if [ -z "$got" ] || grep -qvxF -e "$(date -u -d "@$genesis" '+%Y-%m-%d %H:%M:%S +0000 UTC')" \
    -e "$(date -u -d "@$genesis" '+%Y-%m-%dT%H:%M:%SZ')" <<<"$got"; then
    fail "$name: Prysm's genesis time is ${got:-missing}, not the compiler's $genesis"
  fi
  got=$(jq -Rr 'fromjson? | .genesisValidators // empty' "$out/beacon.log" | sort -u)
  if [ "$genesis" -gt "$(date +%s)" ] || [ -n "$got" ]; then
    [ "$got" = "$total" ] || fail "$name: Prysm counts ${got:-no} genesis validators, the compiler $total"
  fi
  jq -e --arg r "$root" --arg t "$genesis" \
    '.data.genesis_validators_root == $r and .data.genesis_time == $t' "$out/genesis.json" >/dev/null \
    || fail "$name: the Beacon API's genesis $(cat "$out/genesis.json") is not the compiler's ($root, $genesis)"
  cmp -s "$out/state.ssz" "$net/consensus/genesis.ssz" \
    || fail "$name: the Beacon API's genesis state differs from genesis.ssz"
  got=$(jq -r '.data.latest_execution_payload_header.block_hash' "$out/state.json")
  [ "$got" = "0x$hash" ] || fail "$name: Prysm's genesis state builds on execution block $got, the compiler's genesis.json on 0x$hash"
  got=$(jq '[.data[] | {index: (.index | tonumber), pubkey: .validator.pubkey,
    withdrawalCredentials: .validator.withdrawal_credentials}]' "$out/validators.json")
  want=$(jq '[.[] | {index, pubkey, withdrawalCredentials}]' "$net/consensus/validators.json")
  [ "$got" = "$want" ] || fail "$name: the Beacon API's validators differ from validators.json"
  # Prysm maps the sync committee's public keys back to validators here.
  jq -e --argjson n "$total" '.data.validators | length == 512 and all(tonumber < $n)' \
    "$out/sync_committees.json" >/dev/null \
    || fail "$name: the Beacon API has no sync committee of the state: $(cat "$out/sync_committees.json")"
  credentials=$(jq -r '[.[] | .withdrawalCredentials[0:4]] | unique | join(",")' \
    "$net/consensus/validators.json")
  if [ "$genesis" -le "$(date +%s)" ]; then
    jq -Rr 'fromjson? | select(.msg == "Subscribed to") | .topic' "$out/beacon.log" \
      | grep -q "^/eth2/$digest/beacon_block/" \
      || fail "$name: Prysm joined no beacon_block topic of the ENR's fork digest $digest"
    digest=", gossip under the ENR's fork digest $digest"
  else
    digest=""
  fi
  ok "$name: beacon-chain started from the compiled files of $node: root $root, peer id $peer, genesis state byte-equal (on execution block 0x${hash:0:8}…), $total validators ($credentials credentials) as in validators.json$digest"

  # The wallet, offline and as the validator client sees it.
  check_prysm_log "$out/accounts.log"
  got=$(sed 's/\x1b\[[0-9;]*m//g' "$out/accounts.log" \
    | sed -n 's/^\[validating public key\] \(0x[0-9a-f]*\)$/\1/p' | sort)
  want=$(jq -r --arg n "$node" '.[] | select(.node == $n) | .pubkey' "$net/consensus/validators.json" | sort)
  [ "$got" = "$want" ] || fail "$name: validator accounts list shows other keys than validators.json: $got"
  ok "$name: validator accounts list read the $count keys of $node from its read-only wallet"

  check_prysm_log "$out/validator.log"
  [ -n "$(log_field "$out/validator.log" "Opened validator wallet" keymanagerKind)" ] \
    || fail "$name: the validator client opened no wallet"
  got=$(jq -Rr 'fromjson? | select(.msg == "Validator activated") | "\(.validatorIndex) \(.pubkey)"' \
    "$out/validator.log" | sort -n)
  want=$(jq -r --arg n "$node" '.[] | select(.node == $n) | "\(.index) \(.pubkey[0:14])"' \
    "$net/consensus/validators.json" | sort -n)
  [ "$got" = "$want" ] || fail "$name: the validator client found other validators than validators.json: $got"
  ok "$name: the validator client runs the $count validators of $node from its read-only wallet"
}

isolate=()
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
  # No route out: only loopback exists in the beacon node's network namespace.
  isolate=(unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh)
fi

bin=$("$top/scripts/prysm.sh" "$version")
compiler=${KUBERNETETH_VALUES:-$("$top/scripts/compiler.sh")}
check_interop_configs

cat >"$work/fulu.yaml" <<EOF
network:
  name: fulu
  chainId: 4343
  genesisTimestamp: GENESIS
  consensus:
    proofOfStake:
      secondsPerSlot: 12
      fork: fulu
      preset: mainnet
      withdrawal:
        address: "0x000000000000000000000000000000000000dEaD"
      feeRecipient: "0x000000000000000000000000000000000000dEaD"
geth:
  version: v1.17.10
keystore:
  kdf: light
nodes:
  - name: validator
    role: validator
    replicas: 4
    validatorsPerPod: 16
  - name: rpc
    role: rpc
    replicas: 1
EOF
check_network fulu fulu-validator-2 300

cat >"$work/electra.yaml" <<EOF
network:
  name: electra
  chainId: 4344
  genesisTimestamp: GENESIS
  consensus:
    proofOfStake:
      secondsPerSlot: 60
      fork: electra
      preset: mainnet
geth:
  version: v1.16.5
keystore:
  kdf: light
nodes:
  - name: validator
    role: validator
    replicas: 4
    validatorsPerPod: 16
  - name: rpc
    role: rpc
    replicas: 1
EOF
check_network electra electra-validator-1 -5

echo "check-prysm: OK" >&2
