#!/usr/bin/env bash
# End-to-end on a real (kind) cluster: install the default network at geth v1.13.14,
# check that blocks advance and `helm test` passes, upgrade to v1.13.15 (pods roll one at
# a time), check again, then `helm rollback` to the first release and check again.
#
# Needs: docker (or another kind provider), kind, kubectl; Helm comes from scripts/helm.sh.
#   tests/e2e-kind.sh                    # creates and deletes the kind cluster kuberneteth-e2e
#   KIND_CLUSTER=mine KEEP_CLUSTER=1 tests/e2e-kind.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

cluster=${KIND_CLUSTER:-kuberneteth-e2e}
ns=${E2E_NAMESPACE:-kuberneteth-e2e}
release=devnet
old_version=v1.13.14
new_version=v1.13.15
config=${E2E_CONFIG:-values/kuberneteth.yaml}
bin="$top/target/release/kuberneteth-values"

log() { printf '\n== %s\n' "$*"; }
die() { echo "e2e: error: $*" >&2; exit 1; }
for tool in kind kubectl; do
  command -v "$tool" > /dev/null 2>&1 || die "$tool is not installed"
done
[ -x "$bin" ] || die "$bin is missing: run make build"
helm=$("$top/scripts/helm.sh")

work=$(mktemp -d)
created=0
cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ "$created" -eq 1 ]; then
    echo "--- pods, events and logs at failure" >&2
    kubectl -n "$ns" get pods -o wide >&2 || true
    kubectl -n "$ns" get events --sort-by=.lastTimestamp >&2 | tail -n 40 || true
    for pod in $(kubectl -n "$ns" get pods -o name 2> /dev/null); do
      kubectl -n "$ns" logs "$pod" --all-containers --tail=30 >&2 || true
    done
  fi
  if [ "$created" -eq 1 ] && [ "${KEEP_CLUSTER:-0}" != 1 ]; then
    kind delete cluster --name "$cluster" || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# Both versions compiled from the same config and the same master secret: same keys, same genesis.
compile_version() { # version outdir
  sed -E "s/^([[:space:]]*version:[[:space:]]*)v[0-9]+\.[0-9]+\.[0-9]+/\1$1/" "$config" > "$work/kuberneteth-$1.yaml"
  grep -q "version: $1" "$work/kuberneteth-$1.yaml" || die "could not set geth.version $1 in $config"
  "$bin" compile -c "$work/kuberneteth-$1.yaml" --secrets "$work/k.secrets.yaml" -o "$2"
}
log "compile $config at $old_version and $new_version"
compile_version "$old_version" "$work/old"
compile_version "$new_version" "$work/new"
python=$("$top/scripts/venv.sh")
signer_pod=$("$python" -c '
import sys, yaml
v = yaml.safe_load(open(sys.argv[1]))
print(next(n["name"] for g in v["nodeGroups"] if g["role"] == "signer" for n in g["nodes"]))
' "$work/old/values.yaml")
[ -n "$signer_pod" ] || die "no signer in the compiled values"

if ! kind get clusters 2> /dev/null | grep -qx "$cluster"; then
  log "kind create cluster $cluster"
  kind create cluster --name "$cluster" --wait 180s
  created=1
fi
kubectl config use-context "kind-$cluster" > /dev/null

statefulsets() { kubectl -n "$ns" get statefulsets -l "app.kubernetes.io/instance=$release" -o name; }

block_number() { # pod
  kubectl -n "$ns" exec "$1" -c geth -- geth attach --exec 'eth.blockNumber' /data/geth.ipc | tr -d '\r'
}

assert_blocks_advance() {
  local pod="$signer_pod" first now waited=0
  first=$(block_number "$pod")
  while :; do
    now=$(block_number "$pod")
    if [ "$now" -gt "$first" ]; then echo "blocks advance on $pod: $first -> $now"; return 0; fi
    [ "$waited" -lt 180 ] || die "no new block on $pod in 180 s (head $now)"
    sleep 5; waited=$((waited + 5))
  done
}

assert_images() { # version
  local images
  images=$(kubectl -n "$ns" get pods -l "app.kubernetes.io/instance=$release,kuberneteth.io/group" \
    -o jsonpath='{range .items[*]}{.metadata.name}={.spec.containers[0].image}{"\n"}{end}')
  echo "$images"
  if echo "$images" | grep -v ":$1\$" | grep -q .; then die "not every geth pod runs $1"; fi
}

wait_rolled_out() {
  for s in $(statefulsets); do
    kubectl -n "$ns" rollout status "$s" --timeout=15m
  done
}

check() { # version
  wait_rolled_out
  assert_images "$1"
  assert_blocks_advance
  "$helm" test "$release" -n "$ns" --timeout 10m --logs
}

log "helm install $release ($old_version)"
"$helm" install "$release" chart -n "$ns" --create-namespace \
  -f "$work/old/values.yaml" -f "$work/old/secrets.values.yaml" --wait --timeout 15m
check "$old_version"

log "helm upgrade $release ($old_version -> $new_version)"
"$helm" get manifest "$release" -n "$ns" > "$work/manifest-1.yaml"
"$helm" upgrade "$release" chart -n "$ns" \
  -f "$work/new/values.yaml" -f "$work/new/secrets.values.yaml" --wait --timeout 20m
"$helm" get manifest "$release" -n "$ns" > "$work/manifest-2.yaml"
# Only image tags and version labels differ between the two releases.
if diff "$work/manifest-1.yaml" "$work/manifest-2.yaml" | grep '^[<>]' \
  | grep -v -e "image: .*client-go:" -e 'app.kubernetes.io/version:'; then
  die "the upgrade changed more than image tags and version labels"
fi
check "$new_version"

log "helm rollback $release 1"
"$helm" rollback "$release" 1 -n "$ns" --wait --timeout 20m
check "$old_version"

log "e2e passed: install $old_version, upgrade to $new_version, rollback"
