#!/usr/bin/env bash
# The chart suite, on the pinned Helm v3.21.4 and Helm v4.3.2, both built from Helm's Go
# modules by scripts/helm.sh into .cache/helm/ (a helm on PATH is never used):
#   - helm lint --strict of the chart alone and with every example's values;
#   - helm template of every example, each object checked by kubernetes-validate --strict
#     for Kubernetes 1.29 (the oldest supported) and 1.37 (the live tests' cluster runs
#     v1.37.2); CRD kinds ServiceMonitor, PrometheusRule skipped;
#   - cargo test --test chart (assertions on the rendered objects, golden rendering);
#   - checkov (pinned, scripts/checkov.sh) on every compiled example rendered into a namespace, with
#     chart/.checkov.yaml: no finding (the opinions the chart answers otherwise are skipped
#     there, or on the one object they concern by an annotation, each with its reason);
#   - tests/e2e-kind.sh checked with bash -n; it, the scripts and the chart's own scripts
#     (chart/files/*.sh, which pods run) checked with shellcheck when installed.
#   - proof of stake: values without the beacon keys or the validator wallets are refused
#     with the chart's `required` message naming what is missing; the objects a
#     `largeObjects: separate` network keeps beside its release (objects/) are validated
#     with its rendering (kubernetes-validate).
# Examples: every values/*.yaml and tests/chart/networks/*.yaml (test networks: a single
# node; moved ports and a network id unlike the chain id; proof-of-stake shapes) compiled
# by kuberneteth-values, clique and proof of stake alike, plus the hand-made pairs in
# tests/chart/fixtures/ (what the examples do not cover).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

k8s_versions=(1.29.0 1.37.0)
crd_kinds="ServiceMonitor PrometheusRule"
bin="${CARGO_TARGET_DIR:-$top/target}/release/kuberneteth-values"
python=$("$top/scripts/venv.sh")
validate="$(dirname "$python")/kubernetes-validate"
checkov=$("$top/scripts/checkov.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# --- examples: name|values|secrets (pos: the proof-of-stake ones, also checked for refusals)
examples=()
pos=()
compiler_ready() {
  [ -x "$bin" ] || return 1
  local help
  help=$("$bin" compile --help 2>/dev/null) || return 1
  case "$help" in *sage*--secrets*|*--secrets*sage*) return 0 ;; *) return 1 ;; esac
}
if compiler_ready; then
  for cfg in values/*.yaml tests/chart/networks/*.yaml; do
    case "$cfg" in *.secrets.yaml) continue ;; esac
    stem=$(basename "$cfg" .yaml)
    case "$cfg" in tests/*) stem="network:$stem" ;; esac
    dir="$work/compiled/${stem//:/_}"
    mkdir -p "$dir"
    if "$bin" compile -c "$cfg" --secrets "$dir/k.secrets.yaml" -o "$dir/out" > "$dir/compile.log" 2>&1; then
      ok "compile $cfg"
      examples+=("$stem|$dir/out/values.yaml|$dir/out/secrets.values.yaml")
      if grep -q '^ *proofOfStake:' "$cfg"; then
        pos+=("$stem|$dir/out/values.yaml|$dir/out/secrets.values.yaml")
      fi
    else
      bad "compile $cfg"; sed 's/^/  /' "$dir/compile.log"
    fi
  done
  [ "${#pos[@]}" -gt 0 ] || bad "no proof-of-stake example among values/ and tests/chart/networks/"
else
  bad "$bin has no 'compile --secrets' command (run make build)"
fi
for v in tests/chart/fixtures/*.values.yaml; do
  stem=$(basename "$v" .values.yaml)
  examples+=("fixture:$stem|$v|tests/chart/fixtures/$stem.secrets.fixture.yaml")
done

# Keeps the objects kubernetes-validate knows (drops CRD kinds); fails on an empty rendering.
filter_py='
import sys, yaml
skip = set(sys.argv[1].split())
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
if not docs:
    sys.exit("empty rendering")
kept = [d for d in docs if d.get("kind") not in skip]
yaml.safe_dump_all(kept, sys.stdout, sort_keys=False)
print(f"{len(kept)} objects ({len(docs) - len(kept)} CRD objects skipped)", file=sys.stderr)
'

for major in 3 4; do
  helm=$("$top/scripts/helm.sh" "$major")
  hv=$("$helm" version --template '{{.Version}}')
  echo "== Helm $hv ($helm)"
  if "$helm" lint --strict chart > "$work/lint.log" 2>&1; then
    ok "[$hv] helm lint --strict chart (defaults)"
  else
    bad "[$hv] helm lint --strict chart (defaults)"; sed 's/^/  /' "$work/lint.log"
  fi
  # Proof of stake: a secrets file without the beacon keys (or the validator wallets)
  # must fail with the chart's message naming the missing key, not render pods that
  # cannot start.
  for ex in "${pos[@]}"; do
    IFS='|' read -r name values secrets <<< "$ex"
    for missing in beacon validatorWallets; do
      # With largeObjects: separate the wallets are not in the secrets values at all.
      grep -q "^  $missing:" "$secrets" || continue
      partial="$work/partial-${name//[:\/]/_}-$missing.yaml"
      "$python" -c '
import sys, yaml
s = yaml.safe_load(open(sys.argv[1]))
del s["secrets"][sys.argv[2]]
yaml.safe_dump(s, open(sys.argv[3], "w"))
' "$secrets" "$missing" "$partial"
      if "$helm" template devnet chart -f "$values" -f "$partial" > /dev/null 2> "$work/template.log"; then
        bad "[$hv] helm template $name rendered without secrets.$missing"
      elif grep -q "secrets\.$missing has no .* for .*: pass the compiler's secrets.values.yaml" "$work/template.log"; then
        ok "[$hv] helm template $name without secrets.$missing refused: $(grep -o "secrets\.$missing has no [^:]*" "$work/template.log" | head -1)"
      else
        bad "[$hv] helm template $name without secrets.$missing failed for another reason"; sed 's/^/  /' "$work/template.log"
      fi
    done
  done
  for ex in "${examples[@]}"; do
    IFS='|' read -r name values secrets <<< "$ex"
    if "$helm" lint --strict chart -f "$values" -f "$secrets" > "$work/lint.log" 2>&1; then
      ok "[$hv] helm lint --strict $name"
    else
      bad "[$hv] helm lint --strict $name"; sed 's/^/  /' "$work/lint.log"
    fi
    out="$work/rendered-$major-${name//[:\/]/_}.yaml"
    if ! "$helm" template devnet chart --namespace default -f "$values" -f "$secrets" > "$out" 2> "$work/template.log"; then
      bad "[$hv] helm template $name"; sed 's/^/  /' "$work/template.log"
      continue
    fi
    ok "[$hv] helm template $name"
    # largeObjects: separate: the objects applied beside the release are checked with it.
    objects="$(dirname "$values")/objects"
    if [ -d "$objects" ]; then
      for f in "$objects"/*.yaml; do printf -- '---\n' >> "$out"; cat "$f" >> "$out"; done
    fi
    if ! "$python" -c "$filter_py" "$crd_kinds" < "$out" > "$out.core" 2> "$work/filter.log"; then
      bad "[$hv] parse rendering of $name"; sed 's/^/  /' "$work/filter.log"
      continue
    fi
    for k in "${k8s_versions[@]}"; do
      if "$validate" --strict --quiet -k "$k" "$out.core" > "$work/validate.log" 2>&1; then
        ok "[$hv] kubernetes-validate --strict -k $k $name: $(cat "$work/filter.log")"
      else
        bad "[$hv] kubernetes-validate --strict -k $k $name"; sed 's/^/  /' "$work/validate.log"
      fi
    done
    # The scanner reads one rendering (Helm 4's) of each compiled example (the hand-made
    # fixtures leave out what the compiler always writes); in a namespace, as installed.
    if [ "$major" = 4 ] && [ "${name#fixture:}" = "$name" ]; then
      scan="$work/scan-${name//[:\/]/_}.yaml"
      if ! "$helm" template devnet chart --namespace devnet -f "$values" -f "$secrets" > "$scan" 2> "$work/template.log"; then
        bad "[$hv] helm template --namespace devnet $name"; sed 's/^/  /' "$work/template.log"
      elif "$checkov" --config-file chart/.checkov.yaml -f "$scan" > "$work/checkov.log" 2>&1; then
        ok "[$hv] checkov $name: $(grep -o 'Passed checks: .*' "$work/checkov.log")"
      else
        bad "[$hv] checkov $name"; sed 's/^/  /' "$work/checkov.log"
      fi
    fi
  done
  echo "== cargo test --test chart with Helm $hv"
  if KUBERNETETH_HELM="$helm" cargo test --release --locked --test chart; then
    ok "[$hv] cargo test --test chart"
  else
    bad "[$hv] cargo test --test chart"
  fi
done

echo "== tests/e2e-kind.sh"
if bash -n tests/e2e-kind.sh; then ok "bash -n tests/e2e-kind.sh"; else bad "bash -n tests/e2e-kind.sh"; fi
if command -v shellcheck > /dev/null 2>&1; then
  for s in tests/e2e-kind.sh scripts/helm.sh scripts/chart-test.sh scripts/cluster.sh scripts/cluster-build.sh \
           scripts/live.sh scripts/live-pos.sh scripts/live-limits.sh scripts/checkov.sh chart/files/*.sh; do
    if shellcheck -x "$s"; then ok "shellcheck $s"; else bad "shellcheck $s"; fi
  done
else
  echo "NOTE: shellcheck not installed (apt-get install shellcheck); skipped"
fi

echo
echo "chart-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
