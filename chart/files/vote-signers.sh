#!/bin/sh
# vote-signers: the `vote-signers` container of every clique signer pod. It votes the
# chain's signer set toward the compiled one: each round it reads the wanted signers
# (one "ADDRESS POD" line each, from the `<network>-signers` ConfigMap, which
# `helm upgrade` updates without restarting the pod), asks this pod's geth for the
# chain's signers over its IPC socket, and has geth propose (`clique.propose`) every
# wanted address the chain lacks and every other signer out. geth puts one of its
# proposals into each block it seals; a proposal takes effect once a majority of the
# signers made it. Proposals already in effect are discarded (`clique.discard`).
# Nothing leaves the pod: no API is opened for this.
#
# Environment (no GETH_ prefix: geth reads those as its own flags): IPC_SOCKET (geth's
# IPC socket), SIGNERS_FILE (the wanted signers),
# INTERVAL_SECONDS (between rounds while votes are open; 15),
# SETTLED_INTERVAL_SECONDS (between rounds once the chain has the wanted set; 60),
# HEARTBEAT (a file touched after every round, for the liveness probe).
set -eu

: "${IPC_SOCKET:?the path of the IPC socket of geth}"
: "${SIGNERS_FILE:?the file listing the wanted signers}"
interval=${INTERVAL_SECONDS:-15}
settled_interval=${SETTLED_INTERVAL_SECONDS:-60}
heartbeat=${HEARTBEAT:-/tmp/vote-signers.alive}
errors=$(dirname "$heartbeat")/vote-signers.errors

log() {
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) vote-signers: $*"
}

# The wanted addresses as a JavaScript array of lower-case strings.
wanted_signers() {
  list=""
  while read -r address _pod; do
    case $address in
      0x[0-9a-fA-F]*) list="$list${list:+, }\"$(echo "$address" | tr 'A-F' 'a-f')\"" ;;
    esac
  done < "$SIGNERS_FILE"
  echo "[$list]"
}

# One round in geth's console: prints "settled", or what it proposed ("+0x…" in,
# "-0x…" out).
round_script() {
  cat <<JS
var want = $1;
var lower = function (a) { return a.toLowerCase(); };
var have = clique.getSigners().map(lower);
var done = [];
want.forEach(function (a) { if (have.indexOf(a) < 0) { clique.propose(a, true); done.push("+" + a); } });
have.forEach(function (a) { if (want.indexOf(a) < 0) { clique.propose(a, false); done.push("-" + a); } });
var open = clique.proposals;
Object.keys(open).forEach(function (a) {
  var l = lower(a);
  var needed = open[a] ? have.indexOf(l) < 0 && want.indexOf(l) >= 0 : have.indexOf(l) >= 0 && want.indexOf(l) < 0;
  if (!needed) { clique.discard(a); }
});
done.length ? "proposed " + done.join(" ") + " (signers now: " + have.length + ")" : "settled";
JS
}

# The container's first process: stop at once on SIGTERM (a shell ignores it by
# default as process 1, and the pod would wait out its grace period). The sleeps run
# in the background so that the trap runs while one is waited for.
sleeper=""
trap 'if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null; fi; exit 0' TERM INT

last=""
while :; do
  if [ ! -S "$IPC_SOCKET" ]; then
    result="waiting for geth's IPC socket $IPC_SOCKET"
  elif ! want=$(wanted_signers) || [ "$want" = "[]" ]; then
    result="no wanted signers in $SIGNERS_FILE; nothing proposed"
  elif answer=$(geth attach --exec "$(round_script "$want")" "$IPC_SOCKET" 2>"$errors"); then
    # `geth attach --exec` prints the last expression's value, quoted, and nothing
    # (exit 0, the error on stderr) when the script throws.
    result=$(echo "$answer" | tr -d '"')
    [ -n "$result" ] || result="no answer from geth: $(tr '\n' ' ' < "$errors")"
  else
    result="geth attach failed: $(tr '\n' ' ' < "$errors")"
  fi
  if [ "$result" != "$last" ]; then
    log "$result"
    last=$result
  fi
  touch "$heartbeat"
  case $result in
    settled) sleep "$settled_interval" & ;;
    *) sleep "$interval" & ;;
  esac
  sleeper=$!
  wait "$sleeper"
done
