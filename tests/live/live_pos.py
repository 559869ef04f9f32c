#!/usr/bin/env python3
"""Live test of a proof-of-stake network: the chart installed with Helm on a real
Kubernetes, running geth and Prysm.

Runs inside the test cluster (scripts/cluster.sh). Compiles tests/live/pos-network.yaml
twice (the same network, secrets and genesis time, two geth v1.17 releases), builds
the images the renderings name (geth like the official image, Prysm's beacon node
and validator client distroless like theirs, the ethstats stand-in) and imports them
into the node's containerd, then `helm install --wait` into a namespace that
enforces the restricted Pod Security Standard. The genesis time is set to a moment
shortly after the pods start. Then, in order:
 10. hardening: every container non-root, no capabilities, no new privileges,
     seccomp, read-only root (read from the node's /proc);
  1. identity: every geth's enode and every beacon node's peer id and record (ENR:
     key, ports, fork id; no QUIC) are the compiled ones; every beacon node listens
     on all attestation and sync subnets, has the compiled genesis time and
     validators root, and peers only with the network's own pods; the validator
     pods' beacon nodes see each other;
  2. blocks: blocks come from the compiled validators, of every validator pod; the
     execution head advances and every geth has the same blocks; justified and
     finalized epochs advance until epoch 2 is finalized;
  3. a transaction signed with the compiled account keystore and password, sent to
     the rpc Service, is mined with status 1;
 14. validators join by deposit: a validator group of one pod (`genesisReplicas: 0`)
     added with `helm upgrade --wait` (compiled over the installed values: the
     genesis is unchanged; blocks keep coming); `kuberneteth-values deposit` sends
     its validators' deposits from the compiled account through the rpc Service, and
     sent again sends nothing;
 16. validators leave by exit, first part: the network compiled over check 14's
     values without the `staker` group's pod (`replicas: 0`, `genesisReplicas: 1`)
     lists that pod's 16 validators as exits (the genesis unchanged); `helm upgrade`
     to it before any exit is sent fails in its pre-upgrade hook (the exits Job finds
     validators with no exit under way) and removes nothing; `kuberneteth-values
     exit --no-wait` sends their signed voluntary exits to a staying beacon node, and
     run again sends nothing. The checks after this one run while the exits go
     through the chain (a third of the stake leaving, four validators an epoch);
  8. `helm test` passes;
  6. metrics: the beacon node (8080) and validator client (8081) serve Prometheus
     text whose counters advance; every container has a liveness probe, and the
     validator client's (`/healthz` on 8081) answers on the pod's IP;
  4. `helm upgrade --wait` to the second geth, then `helm rollback --wait` back: pods
     replaced one at a time across both validator groups (the rollout Job), highest
     ordinal first, each Ready before the next; blocks keep coming (no gap over MAX_GAP_SLOTS slots) and finality advances
     after each; every geth then runs the release; `helm history` shows the revisions;
  9. eviction: the eviction API refuses to evict any validator pod (each holds a
     third of the stake: the PodDisruptionBudget keeps more than two thirds up) and
     evicts the rpc pod, which no budget covers;
  5. crash: every container of a validator pod killed with SIGKILL is restarted by
     the kubelet on its volume; the validator client opens its slashing-protection
     database there again and signs attestations for all its validators, the chain
     includes some, and nothing is slashed;
  7. logs: no Prysm process panics or logs a fatal line; until the upgrade, none logs
     an error outside EXPECTED_PRYSM_ERRORS (and check-prysm.sh's allowed errors and
     unknown config keys);
 12. outage: two of the three validator pods (one of each group: with the staker
     pod's validators exiting or exited since check 16, more than half of the active
     stake, and finality stops) deleted at once; with no one acting, every pod is Ready again, a block
     follows within MAX_RESUME_SLOTS and a later epoch is finalized within
     MAX_FINALITY_EPOCHS;
 13. power cut: every container of every pod SIGKILLed at once; the same bounds;
 15. the joined validators (check 14) become active (EIP-6110 deposit requests, the
     churn limit, the activation delay: within MAX_ACTIVATION_EPOCHS of the deposits),
     then all attest in an epoch, one of them proposes a block, and finality advances;
 17. validators leave by exit, second part: the staker pod's validators have exited
     (status `exited_unslashed`, within MAX_EXIT_EPOCHS of the exits); `helm
     upgrade` then passes its exits Job (a pre-upgrade hook asking a staying beacon
     node) and removes the pod; blocks keep coming and finality advances;
 11. `helm uninstall` removes every object of the release; the volume claims stay.
Run it through scripts/live-pos.sh (`make live-pos`), which builds what is needed and
runs this driver in the cluster.
"""
from __future__ import annotations

import argparse
import base64
import calendar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import rlp
import yaml

from kube import KubeError
from live import HERE, Failure, Live, check, common_options, log, parse, run, wait_for

# The largest gap between two blocks allowed during the rolling upgrade, in slots.
# While one of the three validator pods restarts, a third of the proposers are away:
# k empty slots in a row then happen with probability 3^-k per slot, under 1 in 10^4
# for 9 (a rollout lasts well under 100 slots); a restarting pod also competes for the
# machine's CPU with the others. More than this is an outage, not bad luck.
MAX_GAP_SLOTS = 10
# After an outage (checks 12, 13), counted from the moment every pod is Ready again:
# the first block, and a finalized epoch later than before the outage (justifying two
# epochs in a row takes two to three epochs once validators attest again).
MAX_RESUME_SLOTS = 20
MAX_FINALITY_EPOCHS = 6
# Check 14 adds this validator group (one pod of JOIN_VALIDATORS, genesisReplicas 0).
JOIN_GROUP = "joiner"
JOIN_VALIDATORS = 4
# From the deposits to active validators: the deposit requests wait for their block
# to be finalized (2-3 epochs), the validators then become eligible, wait for that
# epoch to be finalized (2-3 epochs) and the churn (4 validators of 32 ether fit one
# epoch's), and activate 5 epochs later (MAX_SEED_LOOKAHEAD + 1): about 11 epochs,
# more when the outages of checks 12 and 13 hold finality back.
MAX_ACTIVATION_EPOCHS = 30
# A block by one of the joined validators: with 4 of 52 validators (of 36 once the
# staker pod's have exited), an epoch of 32 slots has none of theirs with
# probability (48/52)^32 < 8%; 6 epochs < 3e-7.
MAX_JOINED_PROPOSAL_EPOCHS = 6
# Check 16 removes this validator group's one pod; its validators leave by exit.
LEAVE_GROUP = "staker"
# From the exits sent to exited: each exit is in a block within an epoch; its exit
# epoch is then 5 epochs on (MAX_SEED_LOOKAHEAD + 1), one epoch later for every
# further 128 ether (the exit churn here: 4 validators of 32 ether), so 16
# validators are exited about 9 epochs after their exits were sent.
MAX_EXIT_EPOCHS = 14
CHECK_PRYSM = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "check-prysm.sh")
# Error lines Prysm logs while the network runs undisturbed (from the start to the
# upgrade), with the reason; any other error line then, and a panic or fatal line at
# any time, fails check 7. (check-prysm.sh's ALLOWED_ERRORS and UNKNOWN config keys
# are read from that script.) Errors while pods restart (checks 4 and 5) are counted.
EXPECTED_PRYSM_ERRORS = {
    # The validator client starts beside its beacon node and asks before the beacon
    # node's gRPC server is up.
    "Failed to get health of node": "the beacon node is still starting",
    # Every beacon node gets a --peer for each validator pod, its own included (one
    # argument list per group); Prysm refuses to dial itself and says so.
    "dial to self attempted": "the group's peer list includes the pod itself",
    # Pods start in parallel: a static peer's Service has no listener yet.
    "failed to reconnect to peer": "a static peer still starting",
    # A block that arrives at the very start of slot 0 (genesis).
    "could not check if block arrived early": "a block at genesis",
}


def enr_fields(text: str) -> dict[str, bytes]:
    """The key/value pairs of an EIP-778 record (`enr:` + base64url of its RLP)."""
    body = text.removeprefix("enr:")
    items = rlp.decode(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    pairs = items[2:]
    return {bytes(pairs[i]).decode(): bytes(pairs[i + 1]) for i in range(0, len(pairs), 2)}


class PosLive(Live):
    def __init__(self, opts):
        super().__init__(opts)
        # One genesis time for both compiles: an upgrade may not change the genesis.
        self.genesis_time = int(time.time()) + opts.genesis_delay
        self.pod_ips: dict[str, str] = {}

    # ---- compile and render
    def network_file(self, version: str, label: str | None = None, edit=None) -> str:
        path = super().network_file(version, label, edit)
        with open(path) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^(\s*genesisTimestamp:\s*)\d+", rf"\g<1>{self.genesis_time}", text)
        check(n == 1, f"{self.opts.network}: no `genesisTimestamp:` line to set the genesis time in")
        with open(path, "w") as f:
            f.write(text)
        return path

    def load(self, out: str, rendering: str) -> None:
        with open(os.path.join(out, "values.yaml")) as f:
            self.values = yaml.safe_load(f)
        self.pos = self.values["proofOfStake"]
        check(int(self.pos["genesisTime"]) == self.genesis_time,
              f"compiled genesis time {self.pos['genesisTime']}, the driver asked for {self.genesis_time}")
        self.genesis = json.loads(self.values["genesis"]["json"])
        self.chain_id = int(self.genesis["config"]["chainId"])
        self.period = self.slot = int(self.pos["secondsPerSlot"])
        self.slots_per_epoch = int(self.pos["slotsPerEpoch"])
        self.load_pods(rendering)
        # The genesis validator pods; check 14 adds joining ones (self.joining_pods).
        self.validator_pods = [p for p in self.pod_names if self.nodes[p]["group"]["role"] == "validator"]
        self.joining_pods: list[str] = []
        self.join_keys: list[str] = []
        self.leave_keys: list[str] = []
        self.refused_job_pods: list[str] = []
        with open(os.path.join(self.export, "consensus", "validators.json")) as f:
            self.indices, self.pubkeys = {}, {}
            for v in json.load(f):
                self.indices.setdefault(v["node"], []).append(int(v["index"]))
                self.pubkeys[int(v["index"])] = v["pubkey"]
        self.total_validators = sum(len(v) for v in self.indices.values())
        for p in self.validator_pods:
            check(len(self.indices.get(p, [])) == int(self.nodes[p]["beacon"]["validators"]),
                  f"{p}: {len(self.indices.get(p, []))} validators exported, values say {self.nodes[p]['beacon']['validators']}")
        check(len(self.validator_pods) >= 3 and len(self.pod_names) > len(self.validator_pods),
              "the PoS live network needs at least 3 validator pods and a non-validator pod")
        for name in self.pod_names:
            got = self.containers_of(name)
            want = ["geth", "beacon"] + (["validator"] if name in self.validator_pods else [])
            check(sorted(got) == sorted(want), f"{name}: the rendering has containers {got}, not {want}")

    def image_specs(self) -> dict[str, str]:
        specs = super().image_specs()
        for rendering in self.renders.values():
            for d in yaml.safe_load_all(rendering):
                pod = (((d or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
                for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
                    m = re.search(r"/prysm/(beacon-chain|validator):(v[0-9.]+)$", c["image"])
                    if m:
                        cmd, version = m.groups()
                        check(version == self.opts.prysm_version, f"image {c['image']}: Prysm {self.opts.prysm_version} is built")
                        specs[c["image"]] = f"prysm={c['image']}={os.path.join(self.opts.prysm, cmd)}"
        return specs

    # ---- access
    def beacon(self, pod: str, path: str, body=None, timeout: float = 5):
        """The pod's Beacon API (port 3500), as a client in the cluster reaches it."""
        port = int(self.pos["ports"]["api"])
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://{self.pod_ip(pod)}:{port}{path}", data, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise Failure(f"{pod}: {path}: HTTP {e.code} {e.read()[:200]!r}")
        except (urllib.error.URLError, OSError) as e:
            self.pod_ips.pop(pod, None)  # a restarted pod has another address
            raise Failure(f"{pod}: {path}: {e}")

    def head_slot(self, pod: str | None = None) -> int:
        return int(self.beacon(pod or self.pod_names[-1], "/eth/v1/beacon/headers/head")["data"]["header"]["message"]["slot"])

    def finality(self, pod: str | None = None) -> tuple[int, int]:
        d = self.beacon(pod or self.pod_names[-1], "/eth/v1/beacon/states/head/finality_checkpoints")["data"]
        return int(d["current_justified"]["epoch"]), int(d["finalized"]["epoch"])

    def blocks(self, first: int, last: int, pod: str | None = None) -> dict[int, int]:
        """slot -> proposer index of every block in [first, last] (empty slots answer 404)."""
        out = {}
        for s in range(first, last + 1):
            try:
                h = self.beacon(pod or self.pod_names[-1], f"/eth/v1/beacon/headers/{s}")
            except Failure as e:
                if "HTTP 404" in str(e):
                    continue
                raise
            out[s] = int(h["data"]["header"]["message"]["proposer_index"])
        return out

    def beacon_status(self) -> dict:
        out = {}
        for name in self.pod_names:
            try:
                out[name] = (self.head_slot(name), self.finality(name)[1],
                             self.beacon(name, "/eth/v1/node/peer_count")["data"]["connected"])
            except (Failure, KeyError) as e:
                out[name] = str(e)[:120]
        return out

    def pod_ip(self, pod: str) -> str:
        if pod not in self.pod_ips:
            self.pod_ips[pod] = self.kube.pod_ip(pod)
        return self.pod_ips[pod]

    def own_service_ip(self, pod: str) -> str | None:
        """The ClusterIP of the pod's own Service (validator and bootnode pods have one)."""
        try:
            return self.service_ip(pod)
        except KubeError:
            return None

    def since_genesis(self) -> float:
        return time.time() - self.genesis_time

    # ---- the checks
    def start(self) -> None:
        log(f"helm install; genesis in {-self.since_genesis():.0f}s")
        super().start()
        self.times["genesis to pods ready"] = self.since_genesis()
        log(f"all {len(self.pod_names)} pods Ready {self.since_genesis():.0f}s after genesis "
            "(the beacon nodes are Ready from genesis on)")

    def check_identity(self) -> None:
        root = self.pos["genesisValidatorsRoot"]
        for name in self.pod_names:
            info = self.attach_json(name, "admin.nodeInfo")
            want = self.nodes[name]["enode"]
            check(info["enode"].split("@")[0] == want.split("@")[0],
                  f"{name}: geth's enode {info['enode']} is not the compiled {want}")
            compiled = self.nodes[name]["beacon"]
            ident = self.beacon(name, "/eth/v1/node/identity")["data"]
            check(ident["peer_id"] == compiled["peerId"],
                  f"{name}: the beacon node's peer id {ident['peer_id']} is not the compiled {compiled['peerId']}")
            # Its record: the compiled one, with the pod's IP (not known in advance).
            record, want = enr_fields(ident["enr"]), enr_fields(compiled["enr"])
            for key in ("secp256k1", "tcp", "udp", "eth2"):
                check(record.get(key) == want.get(key),
                      f"{name}: ENR {key} {record.get(key)!r}, compiled {want.get(key)!r} ({ident['enr']})")
            check("quic" not in record, f"{name}: ENR has a QUIC port, the beacon node should be TCP only")
            check(record.get("ip") == bytes(map(int, self.pod_ip(name).split("."))),
                  f"{name}: ENR ip {record.get('ip')!r}, pod IP {self.pod_ip(name)}")
            # --subscribe-all-subnets took effect: its metadata claims every attestation
            # subnet (sync committee subnets are joined alike, but Prysm's metadata
            # names only those of its own validators' duties).
            meta = ident["metadata"]
            check(meta["attnets"] == "0x" + "ff" * 8, f"{name}: the beacon node is not on every attestation subnet: {meta}")
            g = self.beacon(name, "/eth/v1/beacon/genesis")["data"]
            check(g["genesis_validators_root"] == root, f"{name}: genesis validators root {g['genesis_validators_root']}, compiled {root}")
            check(int(g["genesis_time"]) == self.genesis_time, f"{name}: genesis time {g['genesis_time']}, compiled {self.genesis_time}")
        log(f"1. identity: every enode, beacon peer id and record is the compiled one, on every "
            f"attestation subnet; genesis time {self.genesis_time} "
            f"and validators root {root[:18]}… on all {len(self.pod_names)} beacon nodes")

        def meshed():
            for name in self.pod_names:
                peers = self.beacon(name, "/eth/v1/node/peers?state=connected")["data"]
                seen = {p["peer_id"]: p["last_seen_p2p_address"] for p in peers}
                strangers = set(seen) - {self.nodes[o]["beacon"]["peerId"] for o in self.pod_names}
                check(not strangers, f"{name}'s beacon node has peers outside the network: {strangers}")
                others = [o for o in self.pod_names if o != name and self.nodes[o]["beacon"]["peerId"] in seen]
                missing = [o for o in self.validator_pods if o != name and o not in others]
                check(others and (name not in self.validator_pods or not missing),
                      f"{name}'s beacon node is not connected to {missing or 'any other pod'} (peers {seen})")
                for o in others:  # the peer with that id is that pod (its address or its Service's)
                    addr = seen[self.nodes[o]["beacon"]["peerId"]]
                    ips = {self.pod_ip(o), self.own_service_ip(o)}
                    check(any(f"/ip4/{ip}/" in addr for ip in ips if ip),
                          f"{name}: peer {o} ({self.nodes[o]['beacon']['peerId']}) is at {addr}, not at {ips}")
            return True
        wait_for("the beacon nodes to peer", meshed, 120, 2)
        counts = {n: len(self.beacon(n, "/eth/v1/node/peers?state=connected")["data"]) for n in self.pod_names}
        log(f"1. beacon peers: the validator pods' beacon nodes see each other, under the compiled peer ids at "
            f"their pods' addresses; connected peers {counts}")

    def check_blocks(self) -> None:
        wait_for("genesis", lambda: self.since_genesis() >= 0, self.opts.genesis_delay + 600, 1)
        head = wait_for("the first beacon block", lambda: self.head_slot() > 0 and self.head_slot(), 40 * self.slot, 1)
        first = min(self.blocks(1, head))  # the chain's own record: the slot of its first block
        self.times["genesis to first block"] = first * self.slot
        log(f"2. first block at slot {first}, {first * self.slot}s after genesis")
        state_head = self.head_slot()
        wait_for("the head slot to advance", lambda: self.head_slot() >= state_head + 3, 20 * self.slot, 1)
        # Execution: the head advances on every geth, and all have the same blocks.
        el = {n: int(self.attach(n, "eth.blockNumber")) for n in self.pod_names}
        target = max(el.values()) + 2
        ref = None
        for name in self.pod_names:
            wait_for(f"{name}'s geth to reach block {target}", lambda: int(self.attach(name, "eth.blockNumber")) >= target,
                     20 * self.slot, 1)
            got = self.attach_json(name, f"eth.getBlock({target}).hash")
            ref = ref or got
            check(got == ref, f"{name}: block {target} is {got}, others have {ref}")
        log(f"2. execution heads {el} advance; block {target} = {ref[:18]}… on every geth")
        # Finality: justified and finalized epochs advance until epoch 2 is final.
        t = time.monotonic()
        seen = []

        def final():
            j, f = self.finality()
            if not seen or seen[-1] != (j, f):
                seen.append((j, f))
                log(f"2. justified epoch {j}, finalized epoch {f} (slot {self.head_slot()}, {self.since_genesis():.0f}s after genesis)")
            return f >= 2
        wait_for("finalized epoch 2", final, 8 * self.slots_per_epoch * self.slot, 2)
        self.times["genesis to finalized epoch 2"] = self.since_genesis()
        check(len(seen) > 2, f"finality jumped straight to {seen[-1]}")
        # Every beacon node, each within an epoch of the first (a busy node may import
        # the epoch's first block a few slots late, and finality moves only then).
        for name in self.pod_names:
            wait_for(f"{name}'s beacon node to finalize epoch 2", lambda: self.finality(name)[1] >= 2,
                     self.slots_per_epoch * self.slot, 2)
        # The proposers: compiled validators, from every validator pod.
        head = self.head_slot()
        proposers = self.blocks(1, head)
        owner = {i: p for p, ids in self.indices.items() for i in ids}
        bad = {s: i for s, i in proposers.items() if i >= self.total_validators}
        check(not bad, f"blocks proposed by validators outside the compiled {self.total_validators}: {bad}")
        by_pod = {p: sum(1 for i in proposers.values() if owner[i] == p) for p in self.validator_pods}
        check(all(by_pod.values()), f"a validator pod proposed no block in slots 1..{head}: {by_pod}")
        # Fees go to the network's feeRecipient (not its withdrawal address): the
        # coinbase of every execution block since genesis.
        with open(self.opts.network) as f:
            fee_recipient = yaml.safe_load(f)["network"]["consensus"]["proofOfStake"]["feeRecipient"].lower()
        number = int(self.rpc("eth_blockNumber"), 16)
        coinbases = {self.rpc("eth_getBlockByNumber", [hex(n), False])["miner"].lower() for n in range(1, number + 1)}
        check(coinbases == {fee_recipient}, f"blocks 1..{number} pay fees to {coinbases}, not {fee_recipient}")
        log(f"2. finalized epoch 2 after {self.times['genesis to finalized epoch 2']:.0f}s from genesis "
            f"({time.monotonic() - t:.0f}s of waiting); {len(proposers)} blocks in {head} slots, proposers "
            f"all compiled validators, blocks per pod {by_pod}; blocks 1..{number} pay fees to {fee_recipient}")

    def check_transaction(self) -> None:
        sender, key = self.account_key()
        recipient = "0x" + "42" * 20
        check(int(self.rpc("eth_getBalance", [sender, "latest"]), 16) > 0, f"{sender} has no genesis balance")
        t = time.monotonic()
        receipt = self.send(key, {"to": recipient, "value": 10**18, "gas": 21000})
        mined = int(receipt["blockNumber"], 16)
        for name in self.pod_names:
            wait_for(f"{name} to see the recipient's balance",
                     lambda: self.attach_json(name, f"eth.getBalance('{recipient}', {mined}).toString(10)") == str(10**18),
                     10 * self.slot)
        log(f"3. transfer from the compiled keystore's {sender} via {self.rpc_service} mined in block {mined} "
            f"with status 1 after {time.monotonic() - t:.1f}s; every geth sees the balance")

    def check_upgrade(self, version: str, rollback_to: int | None = None) -> None:
        label = "rollback" if rollback_to else "upgrade"
        first_slot = self.head_slot()
        self.disturbed_from = min(self.disturbed_from, int(time.time()))
        duration = self.rollout(version, 1200, lambda: "beacon nodes (head slot, finalized epoch, connected peers): "
                                                      f"{self.beacon_status()}", rollback_to=rollback_to)
        self.pod_ips.clear()
        self.times[f"{label} duration"] = duration
        # Liveness from the beacon chain: the slots between the blocks of the rollout.
        last_slot = wait_for(f"a block after the {label}", lambda: self.head_slot() > first_slot and self.head_slot(),
                             MAX_GAP_SLOTS * self.slot)
        now_slot = int(self.since_genesis() // self.slot)
        slots = sorted(self.blocks(first_slot, last_slot)) + [now_slot]
        gaps = [b - a for a, b in zip(slots, slots[1:])]
        largest = max(gaps)
        self.times[f"{label} largest gap (slots)"] = largest
        check(largest <= MAX_GAP_SLOTS, f"no block for {largest} slots during the {label} (bound {MAX_GAP_SLOTS}); "
                                        f"block slots {slots}")
        _, finalized = self.finality()
        wait_for(f"finality to advance after the {label}", lambda: self.finality()[1] > finalized,
                 4 * self.slots_per_epoch * self.slot, 2)
        how = f"helm rollback --wait to revision {rollback_to}" if rollback_to else "helm upgrade --wait"
        log(f"4. {label} ({how}): every pod replaced highest ordinal first, each Ready before the next; {version} "
            f"everywhere after {duration:.0f}s; slots {first_slot}..{now_slot}: {len(slots) - 1} blocks, largest gap "
            f"{largest} slots; finalized epoch {finalized} -> {self.finality()[1]}")

    def check_crash(self) -> None:
        victim = self.validator_pods[1]
        db = os.path.join(self.kube.claim_path(f"data-{victim}"), "validator", "validator.db")
        check(os.path.exists(db), f"{victim}: no slashing-protection database validator/validator.db on its volume ({db})")
        before = os.stat(db)
        containers = self.containers_of(victim)
        restarts = {c: self.kube.restarts(victim, c) for c in containers}
        pids = {c: self.kube.container_pid(victim, c) for c in containers}
        self.disturbed_from = min(self.disturbed_from, int(time.time()))
        log(f"5. crash: SIGKILL to every container of {victim} ({', '.join(f'{c} {p}' for c, p in pids.items())})")
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)
        t = time.monotonic()
        self.pod_ips.pop(victim, None)
        # geth syncs again (it lost the state it held in memory); should its sync stall,
        # its liveness probe restarts it after three minutes without progress.
        wait_for(f"{victim}'s containers to restart", lambda: all(self.kube.restarts(victim, c) > restarts[c]
                                                                  for c in containers) and self.kube.ready(victim), 600, 1)
        self.times["crash to Ready"] = time.monotonic() - t
        events = self.kube.kubectl("get", "events", "--field-selector", f"involvedObject.name={victim}",
                                   "-o", "jsonpath={range .items[*]}{.message}{'\\n'}{end}").stdout
        stalls = [e for e in events.splitlines() if "failed liveness probe" in e]
        if stalls:
            log(f"5. crash: geth's sync stalled after the restart and its liveness probe restarted it: {stalls}")
        vlog = self.kube.logs(victim, "validator")
        opened = [ln for ln in vlog.splitlines() if "Checking DB" in ln and "/data/validator" in ln]
        check(opened, f"{victim}: the restarted validator client did not log `Checking DB` at /data/validator:\n{vlog[-1500:]}")
        after = os.stat(db)
        check(after.st_ino == before.st_ino and after.st_size >= before.st_size,
              f"{victim}: the slashing-protection database was replaced (inode {before.st_ino} -> {after.st_ino}, "
              f"size {before.st_size} -> {after.st_size})")
        # Its validators attest again, in the first epoch that starts once its beacon
        # node has caught up with the chain (Ready comes first: a beacon node that
        # lost its last blocks to the SIGKILL syncs them again, which on a busy
        # machine took over an epoch, and votes cast meanwhile may not count): the
        # validator client signs an attestation for each of them (it logs their
        # public keys, shortened), and the chain includes some; their attestations
        # may be included until the end of the next epoch, while the Beacon API
        # still answers liveness for it (the previous epoch). Not all need be
        # included: the pod's peers may still be reconnecting to it.
        wait_for(f"{victim}'s beacon node to catch up",
                 lambda: self.beacon(victim, "/eth/v1/node/syncing")["data"]["is_syncing"] is False,
                 10 * self.slots_per_epoch * self.slot, 2)
        self.times["crash to synced"] = time.monotonic() - t
        epoch = int(self.since_genesis() // self.slot) // self.slots_per_epoch + 1
        epoch_seconds = self.slots_per_epoch * self.slot
        wait_for(f"the end of epoch {epoch + 1}", lambda: self.since_genesis() >= (epoch + 2) * epoch_seconds - 2 * self.slot,
                 4 * epoch_seconds, 2)
        ids = self.indices[victim]
        vlog = self.kube.logs(victim, "validator")
        first, last = epoch * self.slots_per_epoch, (epoch + 1) * self.slots_per_epoch - 1
        signed = set()
        for m in re.finditer(r'msg="Submitted new attestations".*?pubkeys=\[([^\]]*)\].*? slot=(\d+)', vlog):
            if first <= int(m.group(2)) <= last:
                signed.update(m.group(1).split())
        keys = {i: k for i, k in self.pubkeys.items() if i in ids}
        unsigned = [i for i, k in keys.items() if k[:14] not in signed]
        check(not unsigned, f"{victim}: the validator client signed no attestation in epoch {epoch} for {unsigned}")
        live = self.beacon(self.pod_names[-1], f"/eth/v1/validator/liveness/{epoch}", [str(i) for i in ids])["data"]
        included = [int(v["index"]) for v in live if v["is_live"]]
        check(included, f"{victim}: none of its validators {ids} has an attestation of epoch {epoch} on chain")
        # Attester slashings are served by v2 since Electra.
        for pool in ("v2/beacon/pool/attester_slashings", "v1/beacon/pool/proposer_slashings"):
            got = self.beacon(self.pod_names[-1], f"/eth/{pool}")["data"]
            check(not got, f"the beacon pool has {pool}: {json.dumps(got)[:500]}")
        vals = self.beacon(self.pod_names[-1], "/eth/v1/beacon/states/head/validators")["data"]
        slashed = [v["index"] for v in vals if v["validator"]["slashed"]]
        # The joining validators are in the registry once their deposits are processed.
        check(len(vals) in (self.total_validators, self.total_validators + len(self.join_keys)) and not slashed,
              f"slashed validators {slashed} (of {len(vals)})")
        log(f"5. crash: {victim} Ready again {self.times['crash to Ready']:.0f}s after the SIGKILL and its beacon node "
            f"synced after {self.times['crash to synced']:.0f}s; its validator "
            f"client opened the slashing-protection database on its volume ({opened[-1].strip()[:160]}); it "
            f"signed attestations for all {len(ids)} validators in epoch {epoch}, {len(included)} of them on chain; "
            f"no slashing in the pools or the state")

    def check_metrics(self) -> None:
        def metric(pod: str, port: int, name: str) -> float:
            with urllib.request.urlopen(f"http://{self.pod_ip(pod)}:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
            values = [float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)]
            check(values, f"{pod}:{port}: no {name} in the metrics")
            return sum(values)
        checks = [(p, int(self.pos["ports"]["beaconMetrics"]), "beacon_head_slot") for p in self.pod_names]
        checks += [(p, int(self.pos["ports"]["validatorMetrics"]), "validator_successful_attestations")
                   for p in self.validator_pods]
        first = {c: metric(*c) for c in checks}
        for c in checks:
            wait_for(f"{c[0]}:{c[1]} {c[2]} to advance", lambda: metric(*c) > first[c], 3 * self.slots_per_epoch * self.slot, 2)
        log("6. metrics: beacon_head_slot (8080) and validator_successful_attestations (8081) advance on every pod")
        # Every long-running container has a liveness probe, and the validator
        # client's answers where the kubelet asks: its /healthz on the pod's IP.
        for pod in self.pod_names:
            for c in self.kube.pod(pod)["spec"]["containers"]:
                check("livenessProbe" in c, f"{pod}/{c['name']}: no liveness probe")
        port = int(self.pos["ports"]["validatorMetrics"])
        for pod in self.validator_pods:
            with urllib.request.urlopen(f"http://{self.pod_ip(pod)}:{port}/healthz", timeout=5) as r:
                check(r.status == 200, f"{pod}: the validator client's /healthz answers {r.status}")
            restarts = {s["name"]: s["restartCount"] for s in self.kube.pod(pod)["status"]["containerStatuses"]}
            check(restarts.get("validator") == 0, f"{pod}: the validator client restarted: {restarts}")
        log("6. probes: every container has a liveness probe; each validator client's /healthz answers 200 "
            "on its pod's IP and none was restarted")

    def check_logs(self) -> None:
        text = open(CHECK_PRYSM).read()

        def bash_array(name: str) -> list[str]:
            body = re.search(rf"(?ms)^{name}=\((.*?)^\)", text)
            check(body is not None, f"{CHECK_PRYSM} has no {name}=( ... ) list")
            return [ln.strip().strip("'") for ln in body.group(1).splitlines() if ln.strip() and not ln.strip().startswith("#")]
        unknown = set(bash_array("UNKNOWN"))
        allowed = bash_array("ALLOWED_ERRORS") + list(EXPECTED_PRYSM_ERRORS)
        calm, restarts = {}, {}
        for where, text in self.container_logs(("beacon", "validator")).items():
            lines = text.splitlines()
            for i, line in enumerate(lines):
                check(not line.startswith(("panic:", "fatal error:")) and "level=fatal" not in line,
                      f"{where}: {line}\n" + "\n".join(lines[i + 1:i + 8]))
                if "level=error" not in line:
                    continue
                if "There were some issues parsing the config" in line:
                    # The error's own lines follow: one per key Prysm does not know.
                    keys = []
                    for more in lines[i + 1:]:
                        m = re.match(r"\s+line \d+: field (\w+) not found in type params.BeaconChainConfig", more)
                        if not m:
                            break
                        keys.append(m.group(1))
                    check(keys and set(keys) <= unknown,
                          f"{where}: Prysm could not parse the compiled config.yaml: {line} {keys}")
                    continue
                msg = re.search(r'msg="([^"]*)"', line)
                msg = msg.group(1) if msg else line
                stamp = re.match(r'time="([^"]+)"', line)
                when = calendar.timegm(time.strptime(stamp.group(1).split(".")[0], "%Y-%m-%d %H:%M:%S")) if stamp else 0
                if when < self.disturbed_from:
                    check(any(a in line for a in allowed), f"{where}: Prysm logged an error: {line[:600]}")
                    calm[msg] = calm.get(msg, 0) + 1
                else:
                    restarts[msg] = restarts.get(msg, 0) + 1
        log(f"7. logs: no panic or fatal line from Prysm; undisturbed, only the expected errors {calm}")
        log(f"7. errors while pods restarted (checks 4, 5, 9, 12, 13): {restarts}")

    def check_rollouts(self, v0: str, v1: str) -> None:
        # `kubectl delete pod` of one pod runs in the clique test (live.py), the same
        # StatefulSet machinery; here check 12 deletes two validator pods at once.
        # After check 14 the installed revision 2 has the joining group, and so has
        # the second geth's compile: the rollback goes back to revision 2.
        # Check 16's upgrade failed in its hook: a revision that stays failed.
        joined = bool(self.joining_pods)
        self.check_upgrade(v1)
        self.check_upgrade(v0, rollback_to=2 if joined else 1)
        self.check_history([("superseded", "Install complete")]
                           + ([("superseded", "Upgrade complete")] if joined else [])
                           + ([("failed", "pre-upgrade hooks failed")] if self.leave_keys else [])
                           + [("superseded", "Upgrade complete"), ("deployed", f"Rollback to {2 if joined else 1}")])

    def check_outage(self, label: str, take_down) -> None:
        """Checks 12 and 13: `take_down()` stops pods at once; with no one acting, every
        pod comes back Ready, then the chain makes a block (a slot after all are Ready)
        within MAX_RESUME_SLOTS and finalizes a later epoch within MAX_FINALITY_EPOCHS.
        Measured from the moment the pods went down."""
        _, finalized = self.finality()
        before = self.head_slot()
        self.disturbed_from = min(self.disturbed_from, int(time.time()))
        t = time.monotonic()
        back = take_down()
        self.pod_ips.clear()
        wait_for(f"every pod back and Ready after the {label}", back, 600, 2)
        ready = time.monotonic() - t
        ready_slot = int(self.since_genesis() // self.slot)
        first = wait_for(f"a block after the {label}", lambda: (s := self.head_slot()) >= ready_slot and s,
                         MAX_RESUME_SLOTS * self.slot, 2)
        block = time.monotonic() - t
        wait_for(f"finality to advance after the {label}", lambda: self.finality()[1] > finalized,
                 MAX_FINALITY_EPOCHS * self.slots_per_epoch * self.slot, 2)
        final = time.monotonic() - t
        self.times[f"{label}: all Ready"] = ready
        self.times[f"{label}: first block"] = block
        self.times[f"{label}: finality"] = final
        log(f"{label}: head slot {before}, finalized epoch {finalized} before; every pod Ready after {ready:.0f}s, "
            f"a block at slot {first} after {block:.0f}s, finalized epoch {self.finality()[1]} after {final:.0f}s")

    def add_joining_group(self, text: str) -> str:
        """The network file with check 14's joining validator group before the rpc group."""
        line = (f"  - {{ name: {JOIN_GROUP}, role: validator, replicas: 1, genesisReplicas: 0, "
                f"validatorsPerPod: {JOIN_VALIDATORS} }}\n")
        text, n = re.subn(r"(?m)^(  - \{ name: rpc,)", line + r"\1", text)
        check(n == 1, f"{self.opts.network}: no `  - {{ name: rpc, ...` line to add the joining group before")
        return text

    def deposit(self) -> str:
        """`kuberneteth-values deposit` of the joining network, from the compiled
        account, through the rpc Service's ClusterIP; its output."""
        r = subprocess.run([self.opts.bin, "deposit", "-c", os.path.join(self.work, "network-join.yaml"),
                            "--secrets", os.path.join(self.work, "kuberneteth.secrets.yaml"),
                            "--rpc", f"http://{self.service_ip(self.rpc_service)}:{self.rpc_port}",
                            "--from", self.accounts[0]["name"]], capture_output=True, text=True)
        check(r.returncode == 0, f"kuberneteth-values deposit failed ({r.returncode}):\n{r.stderr}")
        return r.stderr

    def check_join(self) -> None:
        """14. A validator group of one pod joins by deposit."""
        out = self.outs["join"]
        said = [ln for ln in self.join_compile_output.splitlines() if ln.startswith("deposits:")]
        check(len(said) == 1 and f"{JOIN_VALIDATORS} validators of" in said[0],
              f"the compile did not say what joins by deposit:\n{self.join_compile_output}")
        with open(os.path.join(out, "values.yaml")) as f:
            values = yaml.safe_load(f)
        check(values["genesis"]["json"] == self.values["genesis"]["json"]
              and values["proofOfStake"]["genesisState"] == self.pos["genesisState"],
              "adding a joining validator group changed the genesis")
        with open(os.path.join(out, f"deposit_data-{values['network']['name']}.json")) as f:
            deposit_data = json.load(f)
        check(len(deposit_data) == JOIN_VALIDATORS, f"deposit_data has {len(deposit_data)} deposits")
        first_slot = self.head_slot()
        self.disturbed_from = min(self.disturbed_from, int(time.time()))
        t = time.monotonic()
        try:
            self.kube.upgrade(out, timeout="1200s")
        except KubeError as e:
            raise Failure(f"{e}\nbeacon nodes: {self.beacon_status()}") from None
        upgraded = time.monotonic() - t
        self.values, self.pos = values, values["proofOfStake"]
        self.load_pods(self.renders["join"])
        self.pod_ips.clear()
        self.joining_pods = self.group_pods(JOIN_GROUP)
        check(len(self.joining_pods) == 1 and self.all_ready(), f"the joining pods {self.joining_pods} are not all Ready")
        last_slot = wait_for("a block after the upgrade", lambda: self.head_slot() > first_slot and self.head_slot(),
                             MAX_GAP_SLOTS * self.slot)
        slots = sorted(self.blocks(first_slot, last_slot)) + [int(self.since_genesis() // self.slot)]
        largest = max(b - a for a, b in zip(slots, slots[1:]))
        check(largest <= MAX_GAP_SLOTS, f"no block for {largest} slots while the joining group was added; slots {slots}")
        t = time.monotonic()
        sent = self.deposit()
        self.deposited_at = time.time()
        check(f"0 on chain already, {JOIN_VALIDATORS} to send" in sent and f"sent {JOIN_VALIDATORS} deposits" in sent,
              f"the deposit command did not send the {JOIN_VALIDATORS} deposits:\n{sent}")
        again = self.deposit()
        check(f"{JOIN_VALIDATORS} on chain already, 0 to send" in again, f"the second deposit run:\n{again}")
        self.join_keys = ["0x" + d["pubkey"] for d in deposit_data]
        self.times["join: helm upgrade"] = upgraded
        self.times["join: deposits sent"] = time.monotonic() - t
        log(f"14. join: helm upgrade adding `{JOIN_GROUP}` ({JOIN_VALIDATORS} validators, genesisReplicas 0) took "
            f"{upgraded:.0f}s, genesis unchanged, largest gap {largest} slots; the deposit command sent "
            f"{JOIN_VALIDATORS} deposits in {self.times['join: deposits sent']:.0f}s "
            f"({[ln for ln in sent.splitlines() if ln.startswith('deposited')][0][:160]}…); run again, it sent nothing")

    def check_joined(self) -> None:
        """15. The joined validators become active, attest and propose; finality holds.
        The chain records when: each validator's eligibility and activation epochs."""
        check(self.join_keys, "check 15 needs check 14 (the deposits)")
        pod = self.pod_names[-1]
        epoch_seconds = self.slots_per_epoch * self.slot

        def validators() -> list[dict]:
            return self.beacon(pod, "/eth/v1/beacon/states/head/validators?id=" + ",".join(self.join_keys))["data"]

        def active():
            got = validators()
            return len(got) == JOIN_VALIDATORS and all(v["status"] == "active_ongoing" for v in got) and got
        remaining = self.deposited_at + MAX_ACTIVATION_EPOCHS * epoch_seconds - time.time()
        got = wait_for(f"the {JOIN_VALIDATORS} joined validators to be active", active, max(remaining, 60), 5)
        indices = sorted(int(v["index"]) for v in got)
        check(min(indices) >= self.total_validators, f"the joined validators got genesis indices {indices}")
        eligible = max(int(v["validator"]["activation_eligibility_epoch"]) for v in got)
        activation = max(int(v["validator"]["activation_epoch"]) for v in got)
        deposit_epoch = int((self.deposited_at - self.genesis_time) // epoch_seconds)
        activated = self.genesis_time + activation * epoch_seconds - self.deposited_at
        # Attestations: all of them in an epoch after activation, the previous one
        # when that is (the Beacon API answers liveness for it), else the next.
        epoch = max(activation, int(self.since_genesis() // epoch_seconds) - 1)
        if epoch > int(self.since_genesis() // epoch_seconds) - 1:
            wait_for(f"the end of epoch {epoch}", lambda: self.since_genesis() >= (epoch + 1) * epoch_seconds + 2 * self.slot,
                     4 * epoch_seconds, 2)
        live = self.beacon(pod, f"/eth/v1/validator/liveness/{epoch}", [str(i) for i in indices])["data"]
        missing = [int(v["index"]) for v in live if not v["is_live"]]
        check(not missing, f"joined validators {missing} have no attestation of epoch {epoch} on chain")
        # Blocks they proposed since activation (waiting for one if none yet).
        start = activation * self.slots_per_epoch
        blocks = wait_for("a block proposed by a joined validator",
                          lambda: {s: i for s, i in self.blocks(start, self.head_slot()).items() if i in indices},
                          MAX_JOINED_PROPOSAL_EPOCHS * epoch_seconds, 5)
        # Finality with them active: an epoch after their activation finalized.
        wait_for(f"an epoch after activation epoch {activation} to be finalized",
                 lambda: self.finality()[1] > activation, 4 * epoch_seconds, 2)
        self.times["join: deposits to active"] = activated
        log(f"15. joined: the {JOIN_VALIDATORS} validators (indices {indices}), deposited in epoch {deposit_epoch}, "
            f"eligible from epoch {eligible}, active from epoch {activation}: {activated:.0f}s "
            f"({activated / epoch_seconds:.1f} epochs) after the deposits; all attested in epoch {epoch}; "
            f"{len(blocks)} block(s) proposed by them since (slots {sorted(blocks)[:8]}); finalized epoch "
            f"{self.finality()[1]}")

    def remove_leaving_group(self, text: str) -> str:
        """The network file without the pod of check 16's leaving group (a genesis pod)."""
        text, n = re.subn(rf"(?m)^(  - \{{ name: {LEAVE_GROUP}, role: validator, )replicas: 1,",
                          r"\g<1>replicas: 0, genesisReplicas: 1,", text)
        check(n == 1, f"{self.opts.network}: no `  - {{ name: {LEAVE_GROUP}, role: validator, replicas: 1, ...` line")
        return text

    def exit_validators(self, *options: str) -> str:
        """`kuberneteth-values exit` of the leaving network, to a staying pod's beacon
        node (its pod IP, as a client in the cluster reaches it); its output."""
        port = int(self.pos["ports"]["api"])
        r = subprocess.run([self.opts.bin, "exit", "-c", os.path.join(self.work, "network-leave.yaml"),
                            "-o", self.outs["leave"], "--secrets", os.path.join(self.work, "kuberneteth.secrets.yaml"),
                            "--beacon-api", f"http://{self.pod_ip(self.validator_pods[0])}:{port}", *options],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"kuberneteth-values exit failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r.stdout + r.stderr

    def exits_job_log(self) -> str:
        name = f"{self.values['network']['name']}-exits"
        r = self.kube.kubectl("logs", f"job/{name}", check=False, timeout=60)
        return r.stdout + r.stderr

    def check_exit(self) -> None:
        """16. The staker group's pod leaves: first its validators' exits."""
        check(self.joining_pods, "check 16 compiles over check 14's values: run check 14 before it")
        leaving = self.group_pods(LEAVE_GROUP)
        check(len(leaving) == 1, f"the {LEAVE_GROUP} group has pods {leaving}, not one")
        pod = leaving[0]
        keys = [self.pubkeys[i] for i in self.indices[pod]]
        said = [ln for ln in self.leave_compile_output.splitlines() if ln.startswith("exits:")]
        check(len(said) == 1 and f"the {len(keys)} validators of {pod} leave" in said[0],
              f"the compile did not say who exits:\n{self.leave_compile_output}")
        with open(os.path.join(self.outs["leave"], "values.yaml")) as f:
            values = yaml.safe_load(f)
        check(values["genesis"]["json"] == self.values["genesis"]["json"]
              and values["proofOfStake"]["genesisState"] == self.pos["genesisState"],
              "removing a validator pod changed the genesis")
        exits = values["proofOfStake"]["exits"]
        check([(e["node"], [k.lower() for k in e["pubkeys"]]) for e in exits] == [(pod, [k.lower() for k in keys])],
              f"the values list the exits {[(e['node'], len(e['pubkeys'])) for e in exits]}, not {pod}'s {len(keys)}")
        check(values["proofOfStake"]["exitsBeaconNode"] not in leaving, "the exits Job asks the leaving pod")
        # Before any exit is sent: the upgrade's exits Job refuses, and nothing goes.
        uid = self.kube.pod(pod)["metadata"]["uid"]
        t = time.monotonic()
        try:
            self.kube.upgrade(self.outs["leave"], timeout="600s")
            raise Failure(f"helm upgrade removing {pod} passed before its validators' exits were sent")
        except KubeError as e:
            refused = str(e)
        refused_after = time.monotonic() - t
        job_log = self.exits_job_log()
        check("pre-upgrade hooks failed" in refused and "nothing was removed" in refused,
              f"helm upgrade failed otherwise than in its hook, or without the hook's log:\n{refused}")
        check("have no exit under way" in job_log and "kuberneteth-values exit" in job_log,
              f"the exits Job's log does not say what to run:\n{job_log}")
        check(self.kube.pod(pod)["metadata"]["uid"] == uid and self.kube.ready(pod),
              f"{pod} was touched by the refused upgrade")
        self.refused_job_pods = self.kube.kubectl("get", "pods", "-l", f"job-name={values['network']['name']}-exits",
                                                  "-o", "name").stdout.split()
        # The exits, sent once.
        t = time.monotonic()
        sent = self.exit_validators("--no-wait")
        self.exits_sent_at = time.time()
        check(f"{len(keys)} exits sent, 0 under way" in sent, f"the exit command did not send {len(keys)} exits:\n{sent}")
        again = self.exit_validators("--no-wait")
        check(f"0 exits sent, {len(keys)} under way or done before" in again, f"the second exit run:\n{again}")
        self.leave_keys = keys
        self.times["exit: refused upgrade"] = refused_after
        self.times["exit: exits sent"] = time.monotonic() - t
        epoch = int((self.exits_sent_at - self.genesis_time) // (self.slots_per_epoch * self.slot))
        log(f"16. exit: the compile lists {pod}'s {len(keys)} validators as exits, genesis unchanged; helm upgrade "
            f"before the exits failed in its exits Job after {refused_after:.0f}s and removed nothing "
            f"({[ln for ln in job_log.splitlines() if 'no exit under way' in ln][0][:140]}…); the exit command sent "
            f"{len(keys)} exits in epoch {epoch} in {self.times['exit: exits sent']:.0f}s; run again, it sent nothing")

    def check_exited(self) -> None:
        """17. The leaving pod's validators have exited; the upgrade removes the pod."""
        check(self.leave_keys, "check 17 needs check 16 (the exits)")
        staying = self.validator_pods[0]
        leaving = self.group_pods(LEAVE_GROUP)
        epoch_seconds = self.slots_per_epoch * self.slot

        def exited():
            got = self.beacon(staying, "/eth/v1/beacon/states/head/validators?id=" + ",".join(self.leave_keys))["data"]
            return (len(got) == len(self.leave_keys)
                    and all(v["status"].startswith(("exited_", "withdrawal_")) for v in got) and got)
        remaining = self.exits_sent_at + MAX_EXIT_EPOCHS * epoch_seconds - time.time()
        got = wait_for(f"the {len(self.leave_keys)} validators of {leaving} to have exited", exited,
                       max(remaining, 60), 5)
        check(not any(v["validator"]["slashed"] for v in got), "an exited validator was slashed")
        exit_epochs = sorted({int(v["validator"]["exit_epoch"]) for v in got})
        sent_epoch = int((self.exits_sent_at - self.genesis_time) // epoch_seconds)
        exited_after = self.genesis_time + exit_epochs[-1] * epoch_seconds - self.exits_sent_at
        # The upgrade: its exits Job finds them exited, then the pod goes.
        _, finalized = self.finality()
        first_slot = self.head_slot()
        first_event = len(self.kube.events)
        t = time.monotonic()
        try:
            self.kube.upgrade(self.outs["leave"], timeout="600s")
        except KubeError as e:
            raise Failure(f"{e}\nthe exits Job: {self.exits_job_log()}") from None
        upgraded = time.monotonic() - t
        time.sleep(1)  # the watch stream catches up
        job = f"{self.values['network']['name']}-exits"
        created = [e for _, e in self.kube.events[first_event:] if e.startswith(f"pod {job}-")
                   and "pod/" + e.split()[1] not in self.refused_job_pods]
        check(created, f"no pod of the exits Job {job} ran during the upgrade")
        with open(os.path.join(self.outs["leave"], "values.yaml")) as f:
            self.values = yaml.safe_load(f)
        self.pos = self.values["proofOfStake"]
        self.load_pods(self.renders["leave"])
        self.pod_ips.clear()
        pods = self.kube.pods()
        check(not any(p in pods for p in leaving), f"{leaving} still there after the upgrade")
        check(self.all_ready() and not self.group_pods(LEAVE_GROUP), "the upgrade left pods not Ready")
        check(not self.kube.kubectl("get", "job", job, check=False).stdout,
              f"the exits Job {job} passed but stays")
        last_slot = wait_for("a block after the upgrade", lambda: self.head_slot() > first_slot and self.head_slot(),
                             MAX_GAP_SLOTS * self.slot)
        slots = sorted(self.blocks(first_slot, last_slot)) + [int(self.since_genesis() // self.slot)]
        largest = max(b - a for a, b in zip(slots, slots[1:]))
        check(largest <= MAX_GAP_SLOTS, f"no block for {largest} slots while {leaving} went; slots {slots}")
        wait_for("finality to advance after the pod went", lambda: self.finality()[1] > finalized,
                 4 * epoch_seconds, 2)
        self.times["exit: sent to exited"] = exited_after
        self.times["exit: helm upgrade"] = upgraded
        log(f"17. exited: the {len(self.leave_keys)} validators of {', '.join(leaving)}, exits sent in epoch "
            f"{sent_epoch}, exited at epochs {exit_epochs}: {exited_after:.0f}s ({exited_after / epoch_seconds:.1f} "
            f"epochs) after the exits; helm upgrade (its exits Job passed) removed the pod in {upgraded:.0f}s, "
            f"largest gap {largest} slots; finalized epoch {finalized} -> {self.finality()[1]}")

    def check_stake_outage(self) -> None:
        """12. Two of the three validator pods (two thirds of the stake), one of each
        group, deleted at once, as an unsafe rollout would."""
        victims = [self.validator_pods[1], self.validator_pods[2]]
        uids = {p: self.kube.pod(p)["metadata"]["uid"] for p in victims}

        def take_down():
            self.kube.kubectl("delete", "pod", *victims, "--wait=false")
            return lambda: all((p := self.kube.pod(v))["metadata"]["uid"] != uids[v] and self.kube.is_ready(p)
                               for v in victims)
        self.check_outage(f"12. outage of {' and '.join(victims)}", take_down)

    def check_power_cut(self) -> None:
        """13. Every container of every pod of the release SIGKILLed at once."""
        def take_down():
            restarts = self.kill_every_container()
            return lambda: self.all_restarted(restarts)
        self.check_outage("13. power cut", take_down)

    def check_evictions(self) -> None:
        """No validator pod can be spared here (each holds a third of the stake):
        the eviction API refuses each; the rpc pod, under no budget, is evicted."""
        for pod in self.validator_pods:
            ok, msg = self.kube.evict(pod)
            check(not ok and "disruption budget" in msg, f"evicting {pod} was not refused by its budget: {ok} {msg}")
        rpc_pod = self.group_pods(self.rpc_group)[0]
        ok, msg = self.kube.evict(rpc_pod)
        check(ok, f"evicting {rpc_pod} was refused: {msg}")
        self.pod_ips.pop(rpc_pod, None)
        wait_for(f"{rpc_pod} to come back Ready", lambda: self.kube.ready(rpc_pod), 300, 2)
        log(f"9. eviction: refused for each validator pod (a third of the stake each), done for {rpc_pod}, "
            "which came back Ready")

    # ---- run
    def run(self) -> None:
        v0, v1 = self.opts.versions
        self.compile(v0)
        if 14 in self.opts.checks:
            # Compiled over the installed values, as an operator recompiles (the genesis
            # guard reads them); the second geth's compile keeps the joining group.
            self.compile(v0, "join", self.add_joining_group, over=v0)
            self.join_compile_output = self.compile_output
            self.compile(v1, v1, self.add_joining_group, over="join")
            if 16 in self.opts.checks:
                # Over the joining network's values too: revision 2 is installed when
                # the staker pod goes (check 17, after the rollback to it).
                self.compile(v0, "leave", lambda text: self.remove_leaving_group(self.add_joining_group(text)),
                             over="join")
                self.leave_compile_output = self.compile_output
        else:
            check(16 not in self.opts.checks, "check 16 compiles over check 14's values: name check 14 too")
            self.compile(v1)
        self.load(self.outs[v0], self.renders[v0])
        check(int(yaml.safe_load(open(os.path.join(self.outs[v1], "values.yaml")))["proofOfStake"]
                  ["genesisTime"]) == self.genesis_time, "the second compile has another genesis time")
        self.import_images()
        self.t_start, self.t_start_wall = time.monotonic(), time.time()
        self.start()
        self.disturbed_from = float("inf")  # when the first pod restarts (checks 4, 5, 9)
        checks = {10: self.check_hardening, 1: self.check_identity, 2: self.check_blocks,
                  3: self.check_transaction, 14: self.check_join, 16: self.check_exit, 8: self.check_helm_test,
                  6: self.check_metrics, 4: lambda: self.check_rollouts(v0, v1), 9: self.check_evictions,
                  5: self.check_crash, 12: self.check_stake_outage, 13: self.check_power_cut, 15: self.check_joined,
                  7: self.check_logs, 17: self.check_exited, 11: self.check_uninstall}
        for n, run_check in checks.items():
            for _ in range(self.opts.checks.count(n)):  # a check named twice runs twice
                run_check()
        self.times["total"] = time.monotonic() - self.t_start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_options(ap, "pos-network.yaml")
    ap.add_argument("--prysm", required=True, help="the folder holding Prysm's beacon-chain and validator")
    ap.add_argument("--prysm-version", default="v7.1.2")
    ap.add_argument("--genesis-delay", type=int, default=int(os.environ.get("LIVE_GENESIS_DELAY", "90")),
                    help="seconds from the start of the driver to genesis (time to compile and start the pods)")
    ap.add_argument("--checks", default="1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", help="the checks to run, in the driver's order (e.g. 1,5,7 for a quick run; 13,13 runs check 13 twice)")
    ap.add_argument("--log-lines", type=int, default=60)
    opts = parse(ap)
    opts.checks = [int(c) for c in opts.checks.split(",")]
    return run(PosLive(opts))

if __name__ == "__main__":
    sys.exit(main())
