#!/usr/bin/env bash
# Recomputes the fork digests, ENR eth2 values and nfd entries pinned in
# src/consensus/fork_vectors.json with the executable consensus spec; exits
# non-zero on any mismatch. The Rust unit tests check the same file.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
python=$("$top/scripts/venv.sh")
"$python" "$top/tests/oracle/fork_digest.py" "$top/src/consensus/fork_vectors.json"
