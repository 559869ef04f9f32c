#!/usr/bin/env bash
# Prints the path of a pinned Helm binary of the requested major version, building it once.
#
#   scripts/helm.sh        # Helm 4 (v4.3.2)   -> .cache/helm/v4.3.2/helm
#   scripts/helm.sh 4      # Helm 4 (v4.3.2)
#   scripts/helm.sh 3      # Helm 3 (v3.21.4)  -> .cache/helm/v3.21.4/helm
#
# A `helm` on PATH is never used: the tests run the pinned releases. Helm is built
# from its Go module (`go install helm.sh/helm/vN/cmd/helm@VERSION`; Helm's go.mod
# has no replace directives, so no wrapper module is needed) into .cache/helm/VERSION/
# of the checkout (git-ignored); later runs reuse the binary. The Go module and build
# caches stay where Go keeps them (`go env GOMODCACHE GOCACHE`).
#
# The build is static (CGO_ENABLED=0) and stamped like Helm's own Makefile does for a
# release: -X helm.sh/helm/vN/internal/version.version=VERSION (without it, `helm
# version` says only "v3.21" or "v4.3"), and for Helm 3 the Kubernetes version its
# client-go module stands for (client-go v0.36.x -> 1.36), which Helm 3 uses as the
# default .Capabilities.KubeVersion of `helm template` and in `helm lint`'s
# deprecation check (-X helm.sh/helm/v3/pkg/chartutil.k8sVersion{Major,Minor} and
# helm.sh/helm/v3/pkg/lint/rules.k8sVersion{Major,Minor}; left alone they say 1.20).
# Helm 4 reads that from the binary's build info by itself. After the build,
# `helm version --template '{{.Version}}'` must print exactly VERSION.
#
# Helm v3.22.0 is on the module proxy but is not an approved release; v3.21.4 is pinned.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
want=${1:-4}

case "$want" in
  3) version=v3.21.4 ;;
  4) version=v4.3.2 ;;
  *) echo "usage: $0 [3|4]" >&2; exit 2 ;;
esac
module="helm.sh/helm/v$want"

dir="$top/.cache/helm/$version"
bin="$dir/helm"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "helm.sh: go is not installed" >&2; exit 1; }

ldflags="-s -w -X $module/internal/version.version=$version"
if [ "$want" = 3 ]; then
  # As Helm 3's Makefile: Kubernetes 1.N for k8s.io/client-go v0.N.x (from Helm's go.mod).
  gomod=$(go mod download -json "$module@$version" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -f "$gomod" ] || { echo "helm.sh: no go.mod for $module@$version" >&2; exit 1; }
  client_go=$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v\([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p' "$gomod")
  read -r cg_major cg_minor <<<"$client_go" || true
  case "${cg_major:-}.${cg_minor:-}" in
    [0-9]*.[0-9]*) ;;
    *) echo "helm.sh: cannot read the k8s.io/client-go version from $gomod" >&2; exit 1 ;;
  esac
  k8s_major=$((cg_major + 1))
  for pkg in pkg/chartutil pkg/lint/rules; do
    ldflags="$ldflags -X $module/$pkg.k8sVersionMajor=$k8s_major -X $module/$pkg.k8sVersionMinor=$cg_minor"
  done
fi

# Build into a scratch folder beside the cache entry and rename it into place, so
# an interrupted build never leaves a half-written binary that later runs trust.
mkdir -p "$top/.cache/helm"
tmp=$(mktemp -d "$top/.cache/helm/.build-$version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "helm.sh: building Helm $version from its Go module (first time only)" >&2
start=$(date +%s)
GOBIN="$tmp" GOFLAGS="-buildvcs=false" CGO_ENABLED=0 \
  go install -trimpath -ldflags="$ldflags" "$module/cmd/helm@$version" >&2
got=$("$tmp/helm" version --template '{{.Version}}') || got="(helm version failed)"
if [ "$got" != "$version" ]; then
  echo "helm.sh: the Helm built from $module@$version reports version '$got', expected '$version'" >&2
  exit 1
fi
rm -rf "$dir"
chmod 755 "$tmp"
mv "$tmp" "$dir"
trap - EXIT
echo "helm.sh: built Helm $version in $(( $(date +%s) - start )) s" >&2
echo "$bin"
