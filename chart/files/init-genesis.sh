#!/bin/sh
# init-genesis: the first init step of every node pod (the `init-genesis` container,
# templates/_containers.tpl), in the geth image. `geth init` on every start: it writes
# the genesis into an empty (or half-initialised) datadir, accepts the same genesis
# again, and fails with "incompatible genesis" when the stored chain is another one, so
# a pod never runs a chain other than the compiled one.
#
# Arguments: the flags every `geth init` takes (the group's --state.scheme and
# --db.engine flags from its geth args).
# Environment (no GETH_ prefix: geth reads those as its own flags):
# NEW_DATABASE_ARGS (flags a new database is created with, one a line; values:
# newDatabaseArgs; empty or unset: none).
set -eu

if [ -d /data/geth/chaindata ]; then
  echo "init-genesis: checking that /data holds the compiled genesis"
else
  echo "init-genesis: empty datadir; writing the genesis block"
  # Flags a new database is created with (values: newDatabaseArgs).
  if [ -n "${NEW_DATABASE_ARGS:-}" ]; then
    while IFS= read -r arg; do
      set -- "$@" "$arg"
    done <<EOF
$NEW_DATABASE_ARGS
EOF
  fi
fi
exec geth init --datadir /data "$@" /etc/kuberneteth/genesis/genesis.json
