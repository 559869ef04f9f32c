#!/usr/bin/env bash
# Block 0 as geth computes it: `geth init` of GENESIS into a fresh DATADIR with geth
# VERSION (built by scripts/geth.sh), then geth started offline (no discovery, no
# peers, no IPC, HTTP on a free loopback port) and block 0 read with
# eth_getBlockByNumber. Prints "<hash> <stateRoot>"; exits non-zero, with geth's
# last log lines, when init refuses the genesis or geth does not answer.
#
#   scripts/geth-block0.sh VERSION GENESIS DATADIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=$1 genesis=$2 datadir=$3
python=$("$top/scripts/venv.sh")
geth=$("$top/scripts/geth.sh" "$version")

if ! "$geth" init --datadir "$datadir" "$genesis" >"$datadir.init.log" 2>&1; then
  echo "geth $version init refused $genesis:" >&2
  tail -5 "$datadir.init.log" >&2
  exit 1
fi
free_port() {
  "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
http=$(free_port)
"$geth" --datadir "$datadir" --nodiscover --maxpeers 0 --ipcdisable \
  --port 0 --authrpc.addr 127.0.0.1 --authrpc.port "$(free_port)" \
  --http --http.addr 127.0.0.1 --http.port "$http" --http.api eth \
  >"$datadir.run.log" 2>&1 &
geth_pid=$!
trap 'kill "$geth_pid" 2>/dev/null || true; wait "$geth_pid" 2>/dev/null || true' EXIT

if ! "$python" - "$http" <<'EOF'
import json, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}"
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
                   "params": ["0x0", False]}).encode()
for _ in range(120):
    try:
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        block = json.load(urllib.request.urlopen(req, timeout=2))["result"]
        print(block["hash"], block["stateRoot"])
        sys.exit(0)
    except Exception:
        time.sleep(0.5)
sys.exit("geth did not answer eth_getBlockByNumber")
EOF
then
  tail -5 "$datadir.run.log" >&2
  exit 1
fi
