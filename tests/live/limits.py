#!/usr/bin/env python3
"""The largest proof-of-stake network one Helm release holds (`largeObjects: release`),
measured on the real API server.

Runs inside the test cluster (scripts/live-limits.sh, `make live-limits`). For a
validator count N it compiles a network of one validator group (pods of --per-pod, 100 by default
validators) and an rpc node, and runs `helm install` (no --wait) into a namespace
whose ResourceQuota admits no pod: the API server stores every object and Helm its
release record, and nothing runs. A binary search over N finds the largest network
that installs and prints it with the API server's refusal of the next one.

  --check N   only install the network of N validators (expect success) and of
              N + one pod (expect the compiler to refuse it): what `make test` runs
              with the compiler's limit, so the limit is proven to install and to be
              enforced.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHART = os.path.join(os.path.dirname(os.path.dirname(HERE)), "chart")
PER_POD = 100
NETWORK = """network:
  name: stake
  chainId: 32382
  genesisTimestamp: 1798761600
  consensus:
    proofOfStake:
      secondsPerSlot: 12
      largeObjects: release
geth: {{ version: v1.17.10 }}
nodes:
  - {{ name: validator, role: validator, replicas: {pods}, validatorsPerPod: {per_pod} }}
  - {{ name: rpc, role: rpc, replicas: 1, rpc: {{ http: true }} }}
keystore: {{ kdf: light }}
"""


def sh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True)


class Limits:
    def __init__(self, opts):
        self.opts = opts
        self.work = tempfile.mkdtemp(prefix="kuberneteth-limits-")
        self.secrets = os.path.join(self.work, "secrets.yaml")
        ns = opts.namespace
        for args in (("create", "namespace", ns),
                     ("-n", ns, "create", "quota", "no-pods", "--hard=pods=0")):
            r = sh("kubectl", *args)
            if r.returncode != 0:
                sys.exit(f"limits: kubectl {' '.join(args)}: {r.stderr}")

    def compile(self, validators: int) -> tuple[bool, str, str]:
        out = os.path.join(self.work, f"out-{validators}")
        network = os.path.join(self.work, f"network-{validators}.yaml")
        per_pod = self.opts.per_pod
        with open(network, "w") as f:
            f.write(NETWORK.format(pods=validators // per_pod, per_pod=per_pod))
        # Searching measures past the compiler's own limit; checking enforces it.
        beyond = ["--no-size-limit"] if not self.opts.check else []
        r = sh(self.opts.bin, "compile", "-c", network, "-o", out, "--secrets", self.secrets, *beyond)
        return r.returncode == 0, out, r.stdout + r.stderr

    def install(self, validators: int, out: str) -> tuple[bool, str]:
        release = f"stake-{validators}"
        r = sh(self.opts.helm, "install", release, CHART, "-n", self.opts.namespace,
               "-f", os.path.join(out, "values.yaml"), "-f", os.path.join(out, "secrets.values.yaml"))
        if r.returncode == 0:
            sh(self.opts.helm, "uninstall", release, "-n", self.opts.namespace)
        return r.returncode == 0, (r.stderr or r.stdout).strip()

    def try_install(self, validators: int) -> tuple[bool, str]:
        ok, out, msg = self.compile(validators)
        if not ok:
            sys.exit(f"limits: compile of {validators} validators failed:\n{msg}")
        return self.install(validators, out)

    def search(self) -> int:
        lo, hi = self.opts.per_pod, self.opts.max
        ok, msg = self.try_install(lo)
        if not ok:
            sys.exit(f"limits: even {lo} validators do not install: {msg}")
        refusal = ""
        while hi - lo > self.opts.per_pod:
            mid = (lo + hi) // 2 // self.opts.per_pod * self.opts.per_pod
            ok, msg = self.try_install(mid)
            print(f"limits: {mid} validators: {'installed' if ok else 'refused: ' + msg.splitlines()[-1][:300]}",
                  flush=True)
            if ok:
                lo = mid
            else:
                hi, refusal = mid, msg
        print(f"limits: the largest network that installs has {lo} validators ({lo // self.opts.per_pod} pods of {self.opts.per_pod});"
              f" {hi} are refused: {refusal.splitlines()[-1][:400] if refusal else '(not tried)'}")
        return lo

    def check(self, limit: int) -> None:
        ok, msg = self.try_install(limit)
        if not ok:
            sys.exit(f"limits: FAILED: the compiler accepts {limit} validators, but the API server refused them: {msg}")
        print(f"limits: {limit} validators, the most the compiler accepts, install")
        ok, _, msg = self.compile(limit + self.opts.per_pod)
        if ok or "validators" not in msg:
            sys.exit(f"limits: FAILED: the compiler accepted {limit + self.opts.per_pod} validators:\n{msg}")
        print(f"limits: {limit + self.opts.per_pod} validators are refused by the compiler: "
              f"{[ln for ln in msg.splitlines() if 'error' in ln][:1]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--helm", required=True)
    ap.add_argument("--namespace", default="limits")
    ap.add_argument("--max", type=int, default=12000, help="the upper end of the search")
    ap.add_argument("--check", type=int, help="check this limit instead of searching")
    ap.add_argument("--per-pod", type=int, default=PER_POD, help="validators per pod (the search's step)")
    opts = ap.parse_args()
    limits = Limits(opts)
    try:
        if opts.check:
            limits.check(opts.check)
        else:
            limits.search()
    finally:
        shutil.rmtree(limits.work, ignore_errors=True)  # compiled keys included
    return 0


if __name__ == "__main__":
    sys.exit(main())
