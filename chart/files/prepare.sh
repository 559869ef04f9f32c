#!/bin/sh
# prepare: the second init step of every node pod (the `prepare` container,
# templates/_containers.tpl), in the geth image. It resolves the peer Service names in
# the group's geth TOML to their (stable) ClusterIPs and writes the final TOML, and
# puts this pod's node key (for a signer its keystore and password; for proof of stake
# its JWT and beacon P2P key, and in validator pods its validator wallet) into the
# in-memory emptyDir /run/kuberneteth. For proof of stake it also unpacks the genesis
# state into /var/lib/kuberneteth/consensus. The only step the key Secrets are
# mounted into.
#
# Environment (no GETH_ prefix: geth reads those as its own flags):
# POD_NAME (this pod: its line in the node list, the prefix of its keys),
# PEER_HOSTS (the Service names in the TOML to resolve, space-separated),
# RESOLVE_TIMEOUT_SECONDS (how long to wait for each to resolve),
# CONSENSUS (`clique` or `proofOfStake`: the latter puts the JWT, the beacon P2P key and
# the genesis state in place),
# SIGNER_KEYSTORES (a group with signers: the folder holding `<pod>.keystore`; unset
# otherwise),
# UNLOCK_SIGNER (`true`: the pod must have a signer address, geth unlocks it),
# VALIDATOR_CLIENT (`true`: put this pod's validator wallet in place).
set -eu
run=/run/kuberneteth
conf=/etc/kuberneteth/config
keys=/etc/kuberneteth/keys
log() { echo "prepare: $*" >&2; }
fail() { log "error: $*"; exit 1; }
case "${CONSENSUS:-}" in
  clique | proofOfStake) ;;
  *) fail "CONSENSUS is '${CONSENSUS:-}', not clique or proofOfStake" ;;
esac

# This pod's line in the node list: name signerAddress keystoreFile.
line=$(awk -v n="$POD_NAME" '$1 == n { print $2, $3 }' "$conf/nodes")
[ -n "$line" ] || fail "$POD_NAME is not in the node list of this group"

# Resolve each peer Service name to its ClusterIP (stable for the Service's life).
search=$(awk '$1 == "search" { $1 = ""; print }' /etc/resolv.conf)
lookup() {
  nslookup "$1" 2>/dev/null | awk '
    /^Name:/ { found = 1; next }
    found { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) { print $i; exit } }'
}
resolve() {
  waited=0
  while :; do
    for d in $search; do
      ip=$(lookup "$1.$d" || true)
      [ -z "$ip" ] || { echo "$ip"; return 0; }
    done
    ip=$(lookup "$1" || true)
    [ -z "$ip" ] || { echo "$ip"; return 0; }
    if [ "$waited" -ge "$RESOLVE_TIMEOUT_SECONDS" ]; then
      log "error: peer Service $1 did not resolve within ${RESOLVE_TIMEOUT_SECONDS}s (search domains: $search)"
      return 1
    fi
    [ $((waited % 30)) -ne 0 ] || log "waiting for peer Service $1 to resolve"
    sleep 2
    waited=$((waited + 2))
  done
}
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

umask 077
: > "$run/config.sed"
for host in $PEER_HOSTS; do
  ip=$(resolve "$host") || fail "cannot resolve peer $host"
  log "$host -> $ip"
  echo "s|@$host:|@$ip:|g" >> "$run/config.sed"
done
secret=""
if [ -r /etc/kuberneteth/ethstats/secret ]; then secret=$(cat /etc/kuberneteth/ethstats/secret); fi
echo "s|__NODE_NAME__|$(esc "$POD_NAME")|g" >> "$run/config.sed"
echo "s|__ETHSTATS_SECRET__|$(esc "$secret")|g" >> "$run/config.sed"
sed -f "$run/config.sed" "$conf/config.toml" > "$run/config.toml"
rm -f "$run/config.sed"
log "wrote $run/config.toml"

[ -r "$keys/$POD_NAME.nodekey" ] || fail "no node key for $POD_NAME in the Secret"
cp "$keys/$POD_NAME.nodekey" "$run/nodekey"

if [ -n "${SIGNER_KEYSTORES:-}" ]; then
  # The node list's line, split into its two fields.
  # shellcheck disable=SC2086
  set -- $line
  address=$1 keystore_file=$2
  if [ "$address" != "-" ]; then
    keystore=$SIGNER_KEYSTORES/$POD_NAME.keystore
    [ -r "$keystore" ] || fail "no keystore for signer $POD_NAME"
    mkdir -p "$run/keystore"
    cp "$keystore" "$run/keystore/$keystore_file"
    cp "$keys/password" "$run/password"
    echo "$address" > "$run/signer-address"
    log "signer $address"
  fi
fi
if [ "${UNLOCK_SIGNER:-}" = true ]; then
  [ -s "$run/signer-address" ] || fail "$POD_NAME has no signer address"
fi

if [ "$CONSENSUS" = proofOfStake ]; then
  # Proof of stake: the engine-API secret geth and the beacon node share, the
  # beacon node's P2P key, and the genesis state (unpacked through a temporary
  # file, so a beacon node never reads half a state).
  for f in jwt-secret beacon-p2p-key; do
    [ -r "$keys/$POD_NAME.$f" ] || fail "no $f for $POD_NAME in the Secret"
  done
  cp "$keys/$POD_NAME.jwt-secret" "$run/jwt.hex"
  cp "$keys/$POD_NAME.beacon-p2p-key" "$run/beacon-p2p-key"
  consensus=/etc/kuberneteth/consensus
  state=/var/lib/kuberneteth/consensus
  : > "$state/genesis.ssz.gz.tmp"
  parts=0
  while read -r index config_map sum; do
    case "$index" in "#"*) continue ;; esac
    part="$consensus/genesis-state/$index"
    [ -r "$part" ] || fail "genesis state part $index (ConfigMap $config_map) is missing"
    [ "$(sha256sum < "$part" | cut -d' ' -f1)" = "$sum" ] ||
      fail "genesis state part $index (ConfigMap $config_map) is not the compiled one: apply the objects/ of the compile these values come from"
    cat "$part" >> "$state/genesis.ssz.gz.tmp"
    parts=$((parts + 1))
  done < "$consensus/genesis-state-parts"
  gunzip -c "$state/genesis.ssz.gz.tmp" > "$state/genesis.ssz.tmp"
  rm -f "$state/genesis.ssz.gz.tmp"
  [ "$(sha256sum < "$state/genesis.ssz.tmp" | cut -d' ' -f1)" = "$(cat "$consensus/genesis-state-sha256")" ] ||
    fail "the genesis state rebuilt from $parts parts does not match its SHA-256"
  mv "$state/genesis.ssz.tmp" "$state/genesis.ssz"
  log "beacon node key, JWT and genesis state ($(wc -c < "$state/genesis.ssz") bytes from $parts parts, SHA-256 checked) in place"
fi

if [ "${VALIDATOR_CLIENT:-}" = true ]; then
  # The validator client's wallet: this pod's keystores, each key in exactly
  # one pod. Its slashing-protection database is on the volume (/data/validator).
  found=0
  while read -r node key path sum; do
    [ "$node" = "$POD_NAME" ] || continue
    [ -r "$keys/$POD_NAME.$key" ] || fail "no $key for $POD_NAME in its validator keys Secret"
    [ "$(sha256sum < "$keys/$POD_NAME.$key" | cut -d' ' -f1)" = "$sum" ] ||
      fail "$path of $POD_NAME's wallet is not the compiled one: apply the objects/ of the compile these values come from"
    mkdir -p "$(dirname "$run/validator-wallet/$path")"
    cp "$keys/$POD_NAME.$key" "$run/validator-wallet/$path"
    found=$((found + 1))
  done < "$conf/wallet-files"
  [ "$found" -gt 0 ] || fail "$POD_NAME has no validator wallet"
  cp "$keys/$POD_NAME.wallet-password" "$run/validator-wallet-password"
  log "validator wallet ($found files)"
fi
