#!/usr/bin/env bash
# Creates (once) the Python virtualenv the tests use, at .venv in the checkout,
# and prints the path of its python. Reinstalls when tests/requirements.txt changes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv="$top/.venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$top/tests/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$top/tests/requirements.txt" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
