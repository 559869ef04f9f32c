#!/usr/bin/env bash
# Live-network test: runs the compiled network with a real Ethereum client
# (@ethereumjs/client, pinned in tests/live/package-lock.json, patched from
# tests/live/patches/) as one process per node on 127.0.0.x, and checks it.
# Needs node >= 18 with npm, Python 3, cargo; network access only to the npm
# registry and PyPI on the first run.
# Environment: LIVE_KEEP=1 keeps the work directory; LIVE_NPM_FLAGS adds npm flags.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
live="$top/tests/live"
cd "$top"

command -v node >/dev/null || { echo "live: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "live: npm is not installed" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  { echo "live: node $(node --version) is too old; the client needs node >= 18" >&2; exit 1; }

# 1. The pinned client, installed only when the lockfile or a patch changed.
stamp="$live/node_modules/.kuberneteth-live.sha256"
want=$(cat "$live/package-lock.json" "$live"/patches/*.patch | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "live: installing the pinned client (npm ci) and applying tests/live/patches/" >&2
  rm -rf "$live/node_modules"
  # --ignore-scripts: nothing runs at install; the patches are applied just below,
  # and classic-level loads its bundled prebuilt binary at run time.
  (cd "$live" && npm ci --ignore-scripts --no-audit --no-fund ${LIVE_NPM_FLAGS:-} >&2)
  (cd "$live" && node node_modules/patch-package/index.js --error-on-fail >&2)
  echo "$want" > "$stamp"
fi

# 2. The compiler.
if [ ! -x "$top/target/release/kuberneteth-values" ] || [ -n "$(find "$top/src" "$top/Cargo.toml" "$top/Cargo.lock" -newer "$top/target/release/kuberneteth-values" -print -quit 2>/dev/null)" ]; then
  ${CARGO:-cargo} build --release --locked >&2
fi

# 3. The driver.
py=$("$top/scripts/venv.sh")
exec "$py" "$live/live.py" --bin "$top/target/release/kuberneteth-values" "$@"
