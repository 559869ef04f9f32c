#!/usr/bin/env python3
"""Live test of a proof-of-stake network larger than one Helm release: 10,000
validators (tests/live/large-pos-network.yaml) on a real Kubernetes, with geth and
Prysm.

Runs inside the test cluster (scripts/live-limits.sh, `make live-limits`). Compiles
the network (its genesis state and validator wallets go to `objects/`, outside the
release), applies those objects with the README's command (`kubectl apply
--server-side`), runs `helm install`, then checks:
  - the release stays small: Helm's record of it is a fraction of Kubernetes' 1 MiB
    per Secret, and holds no wallet and no genesis state;
  - every pod's init step rebuilt `genesis.ssz` from its parts, each part and the
    whole checked against the release's SHA-256, and the file the beacon node reads
    is byte for byte the compiled one (`export`'s); each beacon node serves the
    compiled genesis validators root;
  - each validator client loaded exactly its pod's keys: the public keys on its
    metrics (`validator_statuses`) are the pod's compiled validators, no more, no
    fewer.
The genesis is set well after the checks end: they need the pods started, not the
chain running, so the machine's two cores are not spent on 10,000 validators' duties.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
import urllib.request

from kube import KubeError
from live import Failure, check, common_options, log, run, wait_for
from live_pos import PosLive

# The state's parts at 256 KiB each: a 10,000-validator state takes several, so
# the test joins more than one.
MIN_PARTS = 2
# Helm's record of the release must stay well inside one Secret (1 MiB).
MAX_RELEASE_BYTES = 256 * 1024


class LargeLive(PosLive):
    def compiled_objects(self, out: str) -> tuple[str, int]:
        objects = os.path.join(out, "objects")
        check(os.path.isdir(objects), "the compiler wrote no objects/ for a network larger than a release")
        size = sum(os.path.getsize(os.path.join(objects, f)) for f in os.listdir(objects))
        return objects, size

    def release_record_bytes(self) -> int:
        secrets = self.kube.get("secret", "-l", f"owner=helm,name={self.opts.release}")["items"]
        check(len(secrets) == 1, f"{len(secrets)} Helm release records")
        return len(secrets[0]["data"]["release"])

    def check_genesis_state(self) -> None:
        with open(os.path.join(self.export, "consensus", "genesis.ssz"), "rb") as f:
            compiled = f.read()
        parts = len(self.pos["genesisState"]["parts"])
        check(parts >= MIN_PARTS, f"a {len(compiled)}-byte state in {parts} part(s)")
        for pod in self.pod_names:
            prepare = self.kube.logs(pod, "prepare")
            check(f"from {parts} parts, SHA-256 checked" in prepare,
                  f"{pod}: prepare did not say it joined {parts} checked parts:\n{prepare[-600:]}")
            pid = self.kube.container_pid(pod, "beacon")
            with open(f"/proc/{pid}/root/var/lib/kuberneteth/consensus/genesis.ssz", "rb") as f:
                got = f.read()
            check(got == compiled, f"{pod}: the beacon node's genesis.ssz ({len(got)} bytes) is not the compiled "
                                   f"one ({len(compiled)} bytes)")
            root = wait_for(f"{pod}'s Beacon API", lambda p=pod: self.beacon_genesis_root(p), 300, 3)
            check(root == self.pos["genesisValidatorsRoot"],
                  f"{pod}: genesis validators root {root}, compiled {self.pos['genesisValidatorsRoot']}")
        log(f"genesis state: {len(compiled)} bytes in {parts} parts; every pod's init step joined and checked them, "
            f"each beacon node reads the compiled genesis.ssz byte for byte and serves the compiled validators root")

    def beacon_genesis_root(self, pod: str) -> str | None:
        try:
            return self.beacon(pod, "/eth/v1/beacon/genesis")["data"]["genesis_validators_root"]
        except Failure:
            return None

    def loaded_keys(self, pod: str) -> set[str] | None:
        """The public keys on the validator client's metrics (`validator_statuses`), once
        it has them; None before."""
        port = int(self.pos["ports"]["validatorMetrics"])
        try:
            with urllib.request.urlopen(f"http://{self.pod_ip(pod)}:{port}/metrics", timeout=10) as r:
                text = r.read().decode()
        except OSError:
            self.pod_ips.pop(pod, None)
            return None
        keys = set(re.findall(r'^validator_statuses\{[^}]*pubkey="(0x[0-9a-f]{96})"', text, re.M))
        return keys or None

    def check_loaded_keys(self) -> None:
        for pod in self.validator_pods:
            want = {self.pubkeys[i] for i in self.indices[pod]}
            # The client reports every key in one pass; wait until the count is stable.
            got = wait_for(f"{pod}'s validator client to report its keys",
                           lambda p=pod, n=len(want): (k := self.loaded_keys(p)) and len(k) >= n and k, 600, 5)
            check(got == want, f"{pod}: the validator client loaded {len(got)} keys, {len(got - want)} not its own, "
                               f"{len(want - got)} of its own missing")
        log(f"validator keys: each of the {len(self.validator_pods)} validator clients loaded exactly its pod's "
            f"{len(want)} keys (validator_statuses on its metrics), {self.total_validators} in all")

    def run(self) -> None:
        version = self.opts.versions[0]
        t = time.monotonic()
        out, _ = self.compile(version)
        self.times["compile and export"] = time.monotonic() - t
        self.load(out, self.renders[version])
        objects, objects_bytes = self.compiled_objects(out)
        self.import_images()
        self.kube.create_namespace()
        self.kube.watch()
        t = time.monotonic()
        # The README's command, then the release.
        self.kube.run("kubectl", "apply", "--server-side", "-n", self.kube.namespace, "-f", objects, timeout=300)
        self.kube.helm("install", self.opts.release, self.opts.chart, *self.kube.values_args(out), timeout=600)
        self.times["apply and install"] = time.monotonic() - t
        record = self.release_record_bytes()
        check(record < MAX_RELEASE_BYTES, f"Helm's release record is {record} bytes")
        log(f"install: {objects_bytes} bytes of objects applied beside the release; Helm's release record is "
            f"{record} bytes ({len(self.pod_names)} pods, {self.total_validators} validators)")
        wait_for("every pod's beacon node and validator client to run", self.all_running, 900, 5)
        self.times["pods running"] = time.monotonic() - t
        self.check_genesis_state()
        self.check_loaded_keys()
        self.times["total"] = time.monotonic() - t

    def all_running(self) -> bool:
        pods = self.kube.pods()
        for name in self.pod_names:
            pod = pods.get(name)
            if not pod:
                return False
            for c in self.containers_of(name):
                try:
                    state = self.kube.container_status(name, c, pod).get("state", {})
                except KubeError:  # not created yet
                    return False
                if "running" not in state:
                    return False
        return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_options(ap, "large-pos-network.yaml")
    ap.add_argument("--prysm", required=True, help="the folder holding Prysm's beacon-chain and validator")
    ap.add_argument("--prysm-version", default="v7.1.2")
    ap.add_argument("--genesis-delay", type=int, default=3600,
                    help="seconds from the start of the driver to genesis (after the checks end)")
    ap.add_argument("--log-lines", type=int, default=40)
    opts = ap.parse_args()
    opts.geth = dict(g.split("=", 1) for g in opts.geth)
    opts.versions = list(opts.geth)
    if len(opts.versions) != 1:
        ap.error("give --geth for the one version to install")
    return run(LargeLive(opts), "live-large")


if __name__ == "__main__":
    sys.exit(main())
