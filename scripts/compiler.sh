#!/usr/bin/env bash
# Prints the path of the release build of kuberneteth-values, building it first when
# the sources are newer. Honours CARGO_TARGET_DIR, as cargo does.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$top/target}
case "$target" in /*) ;; *) target="$top/$target" ;; esac
bin="$target/release/kuberneteth-values"
if [ ! -x "$bin" ] || [ -n "$(find "$top/src" "$top/Cargo.toml" "$top/Cargo.lock" -newer "$bin" -print -quit 2>/dev/null)" ]; then
  (cd "$top" && ${CARGO:-cargo} build --release --locked >&2)
fi
echo "$bin"
