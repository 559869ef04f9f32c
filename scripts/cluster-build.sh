#!/usr/bin/env bash
# Builds, once, every program of the single-node Kubernetes the live tests run on,
# from Go modules, and prints the folder that holds them all (bin/ of one cache
# entry per set of versions):
#
#   scripts/cluster-build.sh            # -> .cache/cluster/<versions>/bin
#
# Versions: scripts/cluster/versions.env. Each part is cached by its own version
# under .cache/cluster/parts/NAME-VERSION/ (git-ignored), built in a scratch
# folder and renamed into place, so an interrupted build never leaves a
# half-written binary that later runs trust.
#
# - Kubernetes (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#   kube-proxy, kubectl): `go install k8s.io/kubernetes/...@V` is refused because
#   its go.mod replaces its staging modules with local paths. A wrapper module
#   (scripts/cluster/kubernetes/V/go.mod, committed; written here when missing)
#   requires k8s.io/kubernetes V and points each staging module at its published
#   version (k8s.io/api v0.37.2 for v1.37.2). The version is set by ldflags, or the
#   servers report v0.0.0-master and a chart's kubeVersion constraint fails.
# - etcd: its server module has local replaces too; a one-file main calls
#   etcdmain.Main (scripts/cluster/etcd/V/).
# - CoreDNS: a main importing only the plugins the cluster's Corefile uses
#   (scripts/cluster/coredns/V/), which keeps the cloud SDKs of the full build
#   (1.5 GB of modules) out.
# - containerd (no_btrfs: pure Go), runc (cgo, seccomp: needs libseccomp-dev), the
#   CNI plugins bridge, loopback, host-local and portmap: `go install`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=cluster/versions.env
. "$top/scripts/cluster/versions.env"
command -v go >/dev/null || { echo "cluster-build.sh: go is not installed" >&2; exit 1; }

cache="$top/.cache/cluster"
parts="$cache/parts"
mkdir -p "$parts"
export GOFLAGS="-buildvcs=false"

# part NAME VERSION BUILD_FUNCTION: runs BUILD_FUNCTION DIR into a scratch folder
# once per NAME-VERSION and prints the cache entry.
part() {
  local name=$1 version=$2 build=$3 dir tmp start
  dir="$parts/$name-$version"
  if [ -f "$dir/.done" ]; then
    echo "$dir"
    return
  fi
  tmp=$(mktemp -d "$parts/.build-$name-$version.XXXXXX")
  echo "cluster-build.sh: building $name $version from Go modules (first time only)" >&2
  start=$(date +%s)
  if ! "$build" "$tmp" "$version" >&2; then
    rm -rf "$tmp"
    echo "cluster-build.sh: building $name $version failed" >&2
    return 1
  fi
  date -u +%s >"$tmp/.done"
  rm -rf "$dir"
  chmod 755 "$tmp"
  mv "$tmp" "$dir"
  echo "cluster-build.sh: built $name $version in $(( $(date +%s) - start )) s" >&2
  echo "$dir"
}

module_dir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

build_kubernetes() {
  local out=$1 version=$2 wrapper="$top/scripts/cluster/kubernetes/$2" staging upstream minor
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
  staging="v0.${version#v1.}"
  if [ ! -f "$wrapper/go.mod" ]; then
    echo "cluster-build.sh: writing the wrapper module $wrapper (commit it)"
    upstream="$(module_dir "k8s.io/kubernetes@$version")/go.mod"
    mkdir -p "$wrapper"
    (
      cd "$wrapper"
      {
        printf 'module kubernetesbuild\n\n'
        grep -E '^go [0-9.]+$' "$upstream"
        grep -E '^godebug ' "$upstream" || true
      } >go.mod
      go mod edit -require="k8s.io/kubernetes@$version"
      # Every staging module the upstream go.mod replaces with a local path, at its
      # published version.
      sed -n '/^replace (/,/^)/s/^[[:space:]]*\(k8s\.io\/[a-z0-9-]*\) => \.\/staging.*/\1/p' "$upstream" \
        | while read -r m; do go mod edit -replace="$m=$m@$staging"; done
      for c in "${cmds[@]}"; do go mod edit -tool="k8s.io/kubernetes/cmd/$c"; done
      go mod tidy
    )
  fi
  minor=${version#v1.}
  minor=${minor%%.*}
  local ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  local pkgs=()
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$wrapper" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags="$ld" -o "$out/" "${pkgs[@]}")
  "$out/kubectl" version --client | grep -q "$version"
}

build_etcd() {
  local out=$1 version=$2 wrapper="$top/scripts/cluster/etcd/$2"
  if [ ! -f "$wrapper/go.mod" ]; then
    echo "cluster-build.sh: writing the wrapper module $wrapper (commit it)"
    mkdir -p "$wrapper"
    (
      cd "$wrapper"
      cat >main.go <<'EOF'
// etcd's server, built from its Go module: etcd's own main package lives in a
// module whose go.mod replaces its sibling modules with local paths.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
      printf 'module etcdbuild\n\ngo %s\n' "$(go env GOVERSION | sed 's/^go//')" >go.mod
      go mod edit -require="go.etcd.io/etcd/server/v3@$version"
      go mod tidy
    )
  fi
  (cd "$wrapper" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags="-s -w" -o "$out/etcd" .)
  "$out/etcd" --version | grep -q "${version#v}"
}

build_coredns() {
  local out=$1 version=$2 wrapper="$top/scripts/cluster/coredns/$2"
  if [ ! -f "$wrapper/go.mod" ]; then
    echo "cluster-build.sh: writing the wrapper module $wrapper (commit it)"
    mkdir -p "$wrapper"
    (
      cd "$wrapper"
      cat >main.go <<'EOF'
// CoreDNS with only the plugins the test cluster's Corefile uses, in CoreDNS's
// own directive order (core/dnsserver/zdirectives.go).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	dnsserver.Directives = []string{"ready", "health", "errors", "cache", "kubernetes", "loop"}
}

func main() { coremain.Run() }
EOF
      printf 'module corednsbuild\n\ngo %s\n' "$(go env GOVERSION | sed 's/^go//')" >go.mod
      go mod edit -require="github.com/coredns/coredns@$version"
      go mod tidy
    )
  fi
  (cd "$wrapper" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags="-s -w" -o "$out/coredns" .)
  "$out/coredns" -plugins | grep -q kubernetes
}

build_containerd() {
  local out=$1 version=$2 m=github.com/containerd/containerd/v2/cmd
  GOBIN="$out" CGO_ENABLED=0 go install -trimpath -tags no_btrfs -ldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=$version" \
    "$m/containerd@$version" "$m/containerd-shim-runc-v2@$version" "$m/ctr@$version"
  "$out/containerd" --version | grep -q "$version"
}

build_runc() {
  local out=$1 version=$2
  [ -f /usr/include/seccomp.h ] || { echo "runc needs libseccomp's headers (Debian libseccomp-dev)"; return 1; }
  GOBIN="$out" CGO_ENABLED=1 go install -trimpath -tags seccomp -ldflags="-X main.version=${version#v}" \
    "github.com/opencontainers/runc@$version"
  "$out/runc" --version | grep -q seccomp
}

build_cni() {
  local out=$1 version=$2 m=github.com/containernetworking/plugins/plugins
  GOBIN="$out" CGO_ENABLED=0 go install -trimpath -ldflags="-s -w" \
    "$m/main/bridge@$version" "$m/main/loopback@$version" "$m/ipam/host-local@$version" "$m/meta/portmap@$version"
}

# The cluster's pause image: a static program that waits for a signal and reaps
# children (what containerd's sandbox image does), built from scripts/cluster/pause.
build_pause() {
  local out=$1
  (cd "$top/scripts/cluster/pause" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/pause" .)
}

# The ethstats stand-in the live tests run under the chart's ethstats image name
# (tests/cluster/images/ethstats: no registry here serves an ethstats server).
build_ethstats() {
  local out=$1
  (cd "$top/tests/cluster/images/ethstats" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags="-s -w" -o "$out/ethstats" .)
}

source_digest() {
  cat "$@" | sha256sum | cut -c1-12
}

dirs=(
  "$(part kubernetes "$KUBERNETES_VERSION" build_kubernetes)"
  "$(part etcd "$ETCD_VERSION" build_etcd)"
  "$(part containerd "$CONTAINERD_VERSION" build_containerd)"
  "$(part runc "$RUNC_VERSION" build_runc)"
  "$(part cni-plugins "$CNI_PLUGINS_VERSION" build_cni)"
  "$(part coredns "$COREDNS_VERSION" build_coredns)"
  "$(part pause "$(source_digest "$top"/scripts/cluster/pause/*)" build_pause)"
  "$(part ethstats "$(source_digest "$top"/tests/cluster/images/ethstats/*)" build_ethstats)"
)

# One folder of symbolic links per set of versions, so callers need one path.
key=$(printf '%s\n' "${dirs[@]}" | sha256sum | cut -c1-12)
bin="$cache/$key/bin"
if [ ! -d "$bin" ]; then
  tmp=$(mktemp -d "$cache/.link.XXXXXX")
  mkdir "$tmp/bin"
  for d in "${dirs[@]}"; do
    for f in "$d"/*; do ln -s "$f" "$tmp/bin/$(basename "$f")"; done
  done
  rm -rf "${cache:?}/$key"
  mv "$tmp" "$cache/$key"
fi
echo "$bin"
