#!/usr/bin/env bash
# Creates (once) a virtualenv with the pinned checkov at .cache/checkov-venv (apart
# from the tests' .venv: checkov pins its own versions of shared packages) and prints
# the path of its `checkov`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=3.3.30
venv="$top/.cache/checkov-venv"
if [ "$("$venv/bin/checkov" --version 2>/dev/null)" != "$version" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$version" >&2
fi
echo "$venv/bin/checkov"
