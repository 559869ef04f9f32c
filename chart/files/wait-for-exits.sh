#!/bin/sh
# wait-for-exits: the `<network>-exits` Job, a pre-upgrade hook of a proof-of-stake
# network whose values list exits (validator pods that leave). Helm runs it before it
# changes any object, so the pods go only once their validators have exited: each
# round it asks a staying pod's beacon node (Beacon API) the status of every leaving
# validator, and succeeds once each is exited (`exited_*`, `withdrawal_*`) or unknown
# to the chain (never deposited). A validator still active without an exit under way
# means `kuberneteth-values exit` was not run: it fails then, and the upgrade with it,
# having removed nothing.
#
# Environment: BEACON_API (the Beacon API's base URL), EXITS (one "POD PUBKEY" line
# per validator), EXIT_COMMAND (what to run, for the message), TIMEOUT_SECONDS (how
# long to wait for exits under way; 3600), INTERVAL_SECONDS (between rounds; 12),
# GRACE_SECONDS (how long an active validator may show no exit, as a sent exit waits
# for a block; 60).
set -eu

: "${BEACON_API:?the base URL of the Beacon API of a beacon node}"
: "${EXITS:?the leaving validators, one \"POD PUBKEY\" line each}"
timeout=${TIMEOUT_SECONDS:-3600}
interval=${INTERVAL_SECONDS:-12}
grace=${GRACE_SECONDS:-60}
hint=${EXIT_COMMAND:-kuberneteth-values exit -c FILE -o DIR --beacon-api URL}
errors=${TMPDIR:-/tmp}/wait-for-exits.errors

log() {
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) wait-for-exits: $*"
}

# The status of validator $1: its Beacon API status, "unknown" (404), or
# "unreachable".
status_of() {
  if answer=$(wget -q -O - "$BEACON_API/eth/v1/beacon/states/head/validators/$1" 2>"$errors"); then
    echo "$answer" | sed -n 's/.*"status":"\([a-z_]*\)".*/\1/p'
  elif grep -q 404 "$errors"; then
    echo unknown
  else
    echo unreachable
  fi
}

start=$(date +%s)
last=""
while :; do
  now=$(date +%s)
  waiting=0
  summary=""
  not_sent=""
  while read -r pod pubkey; do
    [ -n "$pubkey" ] || continue
    status=$(status_of "$pubkey")
    case $status in
      exited_* | withdrawal_* | unknown) ;;
      active_exiting | active_slashed) waiting=$((waiting + 1)) ;;
      active_ongoing | pending_*)
        waiting=$((waiting + 1))
        not_sent="$not_sent $pubkey ($pod, $status)"
        ;;
      *) waiting=$((waiting + 1)) ;;
    esac
    summary="$summary $pod:${status:-no answer}"
  done <<LIST
$EXITS
LIST
  if [ "$summary" != "$last" ]; then
    log "statuses:$summary"
    last=$summary
  fi
  if [ "$waiting" -eq 0 ]; then
    log "every leaving validator has exited; the upgrade goes on and removes their pods"
    exit 0
  fi
  if [ -n "$not_sent" ] && [ $((now - start)) -ge "$grace" ]; then
    log "these validators have no exit under way:$not_sent"
    log "run $hint (it sends their exits and waits until they have exited), then helm upgrade again; nothing was removed"
    exit 1
  fi
  if [ $((now - start)) -ge "$timeout" ]; then
    log "not every leaving validator has exited after ${timeout}s; their exits are under way (each waits its turn in the churn limit): run helm upgrade again later; nothing was removed"
    exit 1
  fi
  sleep "$interval"
done
