#!/usr/bin/env bash
# Prints the folder holding Prysm's binaries of the requested release, building them once.
#
#   scripts/prysm.sh v7.1.2             # -> .cache/prysm/v7.1.2/{beacon-chain,validator,prysmctl}
#   scripts/prysm.sh v7.1.2 --minimal   # -> .cache/prysm/v7.1.2-minimal/ (built with -tags minimal)
#
# `go install …@VERSION` refuses Prysm because its go.mod has replace directives, so a
# small wrapper module builds it. The wrapper's go.mod and go.sum live in
# scripts/prysm/VERSION/ and are committed, so every build resolves the same
# dependency versions. For a release that has no wrapper yet, this script writes one
# there (require Prysm VERSION, Prysm's own non-local replace directives, `go mod
# tidy`); commit it.
#
# The wrapper's go.sum starts as a copy of Prysm's: Prysm pins some dependencies at
# commits the public checksum database does not know (quic-go
# v0.49.1-0.20250925085836-275c172fec2b answers 404 there), and Prysm's own go.sum
# already records their hashes. `go mod tidy` then drops the lines the wrapper
# does not need; modules Prysm's go.sum lists are checked against its hashes,
# any other against the checksum database.
#
# Prysm's go.mod also replaces github.com/tyler-smith/go-bip39 with the local path
# ./third_party/go-bip39. That folder is a nested module, so Go's module zip of Prysm
# does not contain it and a wrapper cannot point at it. That folder is go-bip39
# v1.1.0 copied in when its GitHub repository vanished (Prysm #16015; the code is
# the same but for one loop written as `range`), and the module proxy still serves
# v1.1.0, the version Prysm's go.mod requires: the wrapper uses that.
#
# cgo is required (blst, herumi BLS, c-kzg); -D__BLST_PORTABLE__ keeps blst off
# CPU-specific instructions.
#
# Go is pinned (GOTOOLCHAIN, fetched through the module proxy like any module) to the
# minor release Prysm v7.1.2 declares (go.mod: go 1.25.1): its quic-go fork
# (v0.49.1-0.20250925085836-275c172fec2b) panics with "crypto/tls bug: where's my
# session ticket?" when built with Go 1.26 (quic-go #5462), as soon as a restarted
# beacon node accepts a QUIC connection from a peer. The toolchain is recorded in
# the cache entry (.toolchain); a build by another one is rebuilt.
#
# The minimal preset is a compile-time choice of Prysm (`-tags minimal`), hence a
# separate cache entry. At v7.1.2 it does not compile from Go modules: the
# generated protobuf and SSZ code committed upstream is mainnet-sized, while
# `-tags minimal` shrinks the types it uses (proto/prysm/v1alpha1/attestation.go:
# Bitvector4 where the generated field is a Bitvector64). Prysm's Bazel build
# regenerates that code for the minimal preset (//proto:network=minimal).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=${1:-}
preset=mainnet
case "$version" in
  v[0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "usage: $0 vMAJOR.MINOR.PATCH [--minimal]" >&2; exit 2 ;;
esac
case "${2:-}" in
  "") ;;
  --minimal) preset=minimal ;;
  *) echo "usage: $0 vMAJOR.MINOR.PATCH [--minimal]" >&2; exit 2 ;;
esac

name=$version
tags=""
if [ "$preset" = minimal ]; then
  name="$version-minimal"
  tags="minimal"
fi
dir="$top/.cache/prysm/$name"
commands=(beacon-chain validator prysmctl)
toolchain=${PRYSM_GOTOOLCHAIN:-go1.25.5}
built=1
for cmd in "${commands[@]}"; do
  [ -x "$dir/$cmd" ] || built=0
done
[ "$(cat "$dir/.toolchain" 2>/dev/null)" = "$toolchain" ] || built=0
if [ "$built" = 1 ]; then
  echo "$dir"
  exit 0
fi
command -v go >/dev/null || { echo "prysm.sh: go is not installed" >&2; exit 1; }

module=github.com/OffchainLabs/prysm/v7
wrapper="$top/scripts/prysm/$version"
if [ ! -f "$wrapper/go.mod" ]; then
  echo "prysm.sh: writing the wrapper module $wrapper (commit it)" >&2
  mkdir -p "$wrapper"
  source_dir=$(go mod download -json "$module@$version" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  upstream="$source_dir/go.mod"
  [ -f "$upstream" ] || { echo "prysm.sh: no go.mod for $module@$version" >&2; exit 1; }
  # Prysm's minimum Go version, so the wrapper asks no more of Go than Prysm does.
  go_version=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$upstream")
  (
    cd "$wrapper"
    printf 'module prysmbuild\n\ngo %s\n' "$go_version" >go.mod
    cp "$source_dir/go.sum" go.sum
    chmod 644 go.sum
    go mod edit -require="$module@$version"
    for cmd in "${commands[@]}"; do
      go mod edit -tool="$module/cmd/$cmd"
    done
    # Copy Prysm's replace directives whose target is a module version; a local
    # path (./third_party/…) is not part of Prysm's module zip (see above).
    go mod edit -json "$upstream" \
      | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    old, new = r["Old"], r["New"]
    if "Version" not in new:
        print("prysm.sh: skipping local replace %s => %s" % (old["Path"], new["Path"]), file=sys.stderr)
        continue
    lhs = old["Path"] + ("@" + old["Version"] if old.get("Version") else "")
    print("-replace=%s=%s@%s" % (lhs, new["Path"], new["Version"]))
' | while read -r edit; do go mod edit "$edit"; done
    go mod tidy
  )
fi

# Build into a scratch folder beside the cache entry and rename it into place, so
# an interrupted build never leaves half-written binaries that later runs trust.
mkdir -p "$top/.cache/prysm"
tmp=$(mktemp -d "$top/.cache/prysm/.build-$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "prysm.sh: building Prysm $version ($preset preset) with $toolchain from its Go module (first time only)" >&2
start=$(date +%s)
packages=()
for cmd in "${commands[@]}"; do
  packages+=("$module/cmd/$cmd")
done
if ! (
  cd "$wrapper"
  GOTOOLCHAIN="$toolchain" CGO_ENABLED=1 CGO_CFLAGS="-O2 -D__BLST_PORTABLE__" GOFLAGS="-buildvcs=false -mod=readonly" \
    go build -trimpath ${tags:+-tags="$tags"} -o "$tmp/" "${packages[@]}" >&2
); then
  if [ "$preset" = minimal ]; then
    echo "prysm.sh: the minimal preset needs Prysm's generated code regenerated (see the top of $0)" >&2
  fi
  exit 1
fi
# A smoke run: each binary starts and prints its usage (prysmctl has no --version).
for cmd in "${commands[@]}"; do
  "$tmp/$cmd" --help >/dev/null
done
echo "$toolchain" >"$tmp/.toolchain"
rm -rf "$dir"
chmod 755 "$tmp"
mv "$tmp" "$dir"
trap - EXIT
echo "prysm.sh: built Prysm $version ($preset) in $(( $(date +%s) - start )) s" >&2
echo "$dir"
