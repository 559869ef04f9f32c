#!/usr/bin/env bash
# Prints the path of a geth binary of the requested release, building it once.
#
#   scripts/geth.sh v1.13.15      # -> .cache/geth/v1.13.15/geth
#
# geth is built from its Go module (`go install github.com/ethereum/go-ethereum/cmd/geth@VERSION`)
# into .cache/geth/VERSION/ of the checkout (git-ignored); later runs reuse the
# binary. The Go module and build caches stay where Go keeps them (`go env
# GOMODCACHE GOCACHE`), so a second version reuses most of the first build.
#
# geth v1.13.x depends on github.com/fjl/memsize, whose //go:linkname to
# runtime.stopTheWorld Go >= 1.23 refuses to link (go-ethereum#30100);
# -ldflags=-checklinkname=0 turns that check off (the symbol still exists).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-}
case "$version" in
  v[0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "usage: $0 vMAJOR.MINOR.PATCH" >&2; exit 2 ;;
esac

dir="$top/.cache/geth/$version"
bin="$dir/geth"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "geth.sh: go is not installed" >&2; exit 1; }

ldflags=""
case "$version" in
  v1.1[0-3].*) ldflags="-checklinkname=0" ;;
esac

# Build into a scratch folder beside the cache entry and rename it into place, so
# an interrupted build never leaves a half-written binary that later runs trust.
mkdir -p "$top/.cache/geth"
tmp=$(mktemp -d "$top/.cache/geth/.build-$version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "geth.sh: building geth $version from its Go module (first time only)" >&2
start=$(date +%s)
GOBIN="$tmp" GOFLAGS="-buildvcs=false" CGO_ENABLED=1 \
  go install -trimpath ${ldflags:+-ldflags="$ldflags"} \
  "github.com/ethereum/go-ethereum/cmd/geth@$version" >&2 \
  || GOSUMDB=off GOBIN="$tmp" GOFLAGS="-buildvcs=false" CGO_ENABLED=1 \
  go install -trimpath ${ldflags:+-ldflags="$ldflags"} \
  "github.com/ethereum/go-ethereum/cmd/geth@$version" >&2
"$tmp/geth" version >/dev/null
rm -rf "$dir"
chmod 755 "$tmp"
mv "$tmp" "$dir"
trap - EXIT
echo "geth.sh: built geth $version in $(( $(date +%s) - start )) s" >&2
echo "$bin"
