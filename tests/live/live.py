#!/usr/bin/env python3
"""Live test of a clique network: the chart installed with Helm on a real Kubernetes.

Runs inside the test cluster (scripts/cluster.sh: kube-apiserver, controllers,
scheduler, kubelet, kube-proxy, containerd, CoreDNS). Compiles tests/live/network.yaml
twice (the same network and secrets, geth v1.13.14 and v1.13.15), builds the images
the renderings name (geth like the official image, the ethstats stand-in) and imports
them into the node's containerd, then `helm install --wait` into a namespace that
enforces the restricted Pod Security Standard. Then it checks, in this order:
  0. hardening: every container non-root, no capabilities, no new privileges,
     seccomp, read-only root (read from the node's /proc);
  1. identity: every geth's enode is the compiled one; all share the compiled genesis;
  2. mesh: every node peers with every other (through the chart's Service names);
  3. sealing: every block sealed by a genesis signer, in-turn difficulty right; one head;
  4. a transaction signed with the compiled account keystore and password, sent to the
     rpc Service as a wallet would, is mined with status 1 and every node sees the new
     balances; a contract deployed the same way has its code on every node and answers;
     the Service answers under its in-cluster names and refuses a foreign Host;
  5. no geth logs a mainnet start-up or a warning caused by our configuration;
  6. ethstats: the ethstats Service's server sees every node under its pod name with
     the compiled secret, and their block reports;
  7. metrics: each node's metrics port serves Prometheus text whose head advances;
  8. `helm test` passes;
  9. `helm upgrade --wait` to v1.13.15: pods replaced one at a time, highest ordinal
     first, each Ready before the next; the chain never stops for more than two
     periods; every node then runs v1.13.15;
 10. `helm rollback --wait` to revision 1 rolls back the same way; `helm history`
     shows the three revisions;
 11. `helm upgrade` adding an rpc replica: the new pod syncs to the head and is a ready
     endpoint of the rpc Service only once Ready; an upgrade back removes it, its
     volume stays;
 12. eviction: the eviction API evicts as many signers as the network can spare
     and refuses the next (the PodDisruptionBudget);
 13. `kubectl delete pod` of a signer, and SIGKILL to a signer's geth: the
     StatefulSet controller and the kubelet bring them back on their volumes, same
     enode, rejoining and following the head; sealing and logs checked again;
 14. power cut: SIGKILL to every container of every pod at once; every pod comes
     back and sealing resumes by itself within MAX_RESUME_PERIODS periods;
 15. `helm uninstall` removes every object of the release; the volume claims stay;
 16. export: the README's recipe for running outside Kubernetes works: every exported
     node, started from its folder on this one host, peers with the others and seals;
     and `geth init` (the chart's init step) on a used datadir accepts the compiled
     genesis and refuses another one.
Run it through scripts/live.sh (`make live`): it builds what is needed and runs this
driver in the cluster.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import eth_keyfile
import rlp
import yaml
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cluster"))
import images  # noqa: E402  (tests/cluster/images.py)
from kube import Kube, KubeError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = time.monotonic()
# The contract the test deploys: its runtime code returns the 32-byte word 42.
RUNTIME = bytes.fromhex("602a60005260206000f3")
INIT = bytes.fromhex("69") + RUNTIME + bytes.fromhex("600052600a6016f3")
# The longest a clique chain of three signers may wait for a block during a rollout:
# while a signer restarts, the other two may both seal its turn out of turn, keep
# their own blocks (clique prefers local blocks at equal difficulty) and wait for the
# third, which starts syncing 10 s after it has fewer than 5 peers (README: "What the
# live test taught about rollouts"); a real pod's stop and readiness add a few seconds.
MAX_ROLLOUT_GAP_PERIODS = 2
RESTART_SLACK = 5
# After every container was killed at once, the first new block, counted from the
# moment every pod is Ready again: the signers find each other and seal in turn.
MAX_RESUME_PERIODS = 12
# From `helm upgrade` to the chain's signer set being the compiled one: the upgrade
# (new pods start; every stable pod's peer list changes, so each restarts in turn),
# the kubelet's update of the signers ConfigMap in the running pods (about a minute),
# then a majority's votes, one vote per block.
MAX_VOTE_SECONDS = 900
# Warnings geth v1.13 logs on any private network, whatever the configuration, and
# why; every other WARN (or ERROR, CRIT, Fatal) line fails check 5.
EXPECTED_WARNINGS = {
    # geth 1.13 builds a snapshot on first start; any new node logs this once.
    "Failed to load snapshot": "a new node has no snapshot yet",
    # geth 1.13 always registers the engine API and warns that it is on
    # (catalyst.Register in cmd/geth/config.go); no flag turns it off.
    "Engine API enabled": "always on in geth 1.13",
    "Engine API started but chain not configured for merge yet": "always on in geth 1.13",
    # Clique: a signer that sealed one of the last N/2+1 blocks waits its turn.
    "signed recently, must wait for others": "clique turn-taking",
    # A node that starts while its peers are at block 0 discards their first blocks
    # until its sync has begun.
    "Syncing, discarded propagated block": "start-up race, as on any network",
    # The ethstats Service has no ready endpoint until its pod is ready; geth
    # retries. The test's server may answer a latency ping late on a loaded
    # machine; check 6 asserts that every node's reports arrive.
    "Stats server unreachable": "ethstats pod not ready yet",
    'err="ping timed out"': "late ethstats pong",
    "Stats server pinger seems to have died": "late ethstats pong",
    # A geth that stops (a rolling update) closes its ethstats connection under
    # its own reader.
    "use of closed network connection": "geth stopping",
    # Check 11 kills a signer with SIGKILL; the restarted geth notices.
    "Unclean shutdown detected": "the crash check's SIGKILL",
    # Check 16: a signer added to a running network tries to seal before the
    # others have voted it in.
    'err="unauthorized signer"': "a new signer not voted in yet",
}


def log(msg: str) -> None:
    print(f"live [{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


class Failure(Exception):
    pass


class Fatal(Failure):
    """A failure no amount of waiting mends."""


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failure(msg)


def wait_for(what: str, probe, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    reason = "never checked"
    while True:
        try:
            value = probe()
            if value:
                return value
            reason = "condition not met"
        except Fatal:
            raise
        except (Failure, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
            reason = str(e)
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:.0f}s waiting for {what}: {reason}")
        time.sleep(interval)


# --------------------------------------------------------------------------- clique

def header_fields(b: dict, strip_seal: bool) -> list:
    h = lambda k: bytes.fromhex(b[k][2:])  # noqa: E731
    n = lambda k: int(b[k], 16)  # noqa: E731
    extra = h("extraData")[:-65] if strip_seal else h("extraData")
    fields = [h("parentHash"), h("sha3Uncles"), h("miner"), h("stateRoot"), h("transactionsRoot"),
              h("receiptsRoot"), h("logsBloom"), n("difficulty"), n("number"), n("gasLimit"),
              n("gasUsed"), n("timestamp"), extra, h("mixHash"), h("nonce")]
    if b.get("baseFeePerGas") is not None:
        fields.append(n("baseFeePerGas"))
    return fields


def seal_signer(b: dict) -> str:
    """The address that sealed a clique block: ecrecover of keccak(RLP(header without the seal))."""
    full = keccak(rlp.encode(header_fields(b, strip_seal=False)))
    check("0x" + full.hex() == b["hash"].lower(), f"block {int(b['number'], 16)}: header does not hash to {b['hash']}")
    seal = bytes.fromhex(b["extraData"][2:])[-65:]
    sighash = keccak(rlp.encode(header_fields(b, strip_seal=True)))
    return keys.Signature(seal).recover_public_key_from_msg_hash(sighash).to_checksum_address()


def genesis_signers(genesis: dict) -> list[str]:
    body = bytes.fromhex(genesis["extraData"][2:])[32:-65]
    return [to_checksum_address(body[i:i + 20]) for i in range(0, len(body), 20)]


# --------------------------------------------------------------------------- the test

class Live:
    def __init__(self, opts):
        self.opts = opts
        self.work = tempfile.mkdtemp(prefix="kuberneteth-live-")
        os.chmod(self.work, 0o755)
        self.times: dict[str, float] = {}
        self.kube = Kube(opts.helm, opts.namespace, opts.release, opts.chart)
        self.outs: dict[str, str] = {}
        self.renders: dict[str, str] = {}
        self.service_ips: dict[str, str] = {}

    # ---- compile and render
    def network_file(self, version: str, label: str | None = None, edit=None) -> str:
        with open(self.opts.network) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^(geth:\s*\{\s*version:\s*)v[0-9.]+", rf"\g<1>{version}", text)
        check(n == 1, f"{self.opts.network}: no `geth: {{ version: ... }}` line to set the version in")
        if edit:
            text = edit(text)
        path = os.path.join(self.work, f"network-{label or version}.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def compile(self, version: str, label: str | None = None, edit=None, over: str | None = None) -> tuple[str, str]:
        """Compiles the network for one geth version (and an edit of the file) and
        renders it; returns (out dir, rendering). `over`: the label of an earlier
        compile whose values this one is compiled over, as an operator recompiles
        into the same folder (the compile's genesis guard reads them)."""
        label = label or version
        out = os.path.join(self.work, f"out-{label}")
        if over:
            shutil.copytree(self.outs[over], out)
        secrets = os.path.join(self.work, "kuberneteth.secrets.yaml")
        network = self.network_file(version, label, edit)
        run = lambda *a: subprocess.run(a, capture_output=True, text=True)  # noqa: E731
        r = run(self.opts.bin, "compile", "-c", network, "-o", out, "--secrets", secrets)
        check(r.returncode == 0, f"compile of {label} failed:\n{r.stdout}{r.stderr}")
        self.compile_output = r.stdout + r.stderr
        r = run(self.opts.helm, "template", self.opts.release, self.opts.chart, "--namespace", self.opts.namespace,
                "-f", os.path.join(out, "values.yaml"), "-f", os.path.join(out, "secrets.values.yaml"))
        check(r.returncode == 0, f"helm template of {label} failed:\n{r.stderr}")
        rendering = r.stdout
        if not hasattr(self, "accounts"):
            export = os.path.join(self.work, "export")
            r = run(self.opts.bin, "export", "-c", network, "-o", export, "--secrets", secrets)
            check(r.returncode == 0, f"export failed:\n{r.stdout}{r.stderr}")
            with open(os.path.join(export, "accounts.json")) as f:
                self.accounts = [dict(a, dir=export) for a in json.load(f)]
            self.export = export
        self.outs[label], self.renders[label] = out, rendering
        return out, rendering

    def load(self, out: str, rendering: str) -> None:
        with open(os.path.join(out, "values.yaml")) as f:
            self.values = yaml.safe_load(f)
        self.genesis = json.loads(self.values["genesis"]["json"])
        self.chain_id = int(self.genesis["config"]["chainId"])
        self.period = int(self.genesis["config"]["clique"]["period"])
        self.signers = genesis_signers(self.genesis)
        self.load_pods(rendering)
        check(len(self.signers) >= 3 and len(self.pod_names) > len(self.signers),
              "the live network needs at least 3 signers and a non-signing node")

    def load_pods(self, rendering: str) -> None:
        """The StatefulSets and pods of a rendering, and the rpc Service."""
        self.nodes = {n["name"]: dict(n, group=g) for g in self.values["nodeGroups"] for n in g["nodes"]}
        self.docs = [d for d in yaml.safe_load_all(rendering) if d]
        self.statefulsets = [d["metadata"]["name"] for d in self.docs if d["kind"] == "StatefulSet"]
        self.pod_names = [f"{s['metadata']['name']}-{i}" for s in self.docs if s["kind"] == "StatefulSet"
                          for i in range(int(s["spec"]["replicas"]))]
        rpc_group = next(g for g in self.values["nodeGroups"] if g["rpc"]["http"])
        self.rpc_group = rpc_group["name"]
        self.rpc_service = f"{self.values['network']['name']}-{rpc_group['name']}-rpc"
        self.rpc_port = int(rpc_group["ports"]["http"])
        check(any(d["kind"] == "Service" and d["metadata"]["name"] == self.rpc_service for d in self.docs),
              f"the rendering has no Service {self.rpc_service}")

    def containers_of(self, pod: str, init: bool = False) -> list[str]:
        sts = next(d for d in self.docs if d["kind"] == "StatefulSet" and pod.startswith(d["metadata"]["name"] + "-"))
        spec = sts["spec"]["template"]["spec"]
        return [c["name"] for c in (spec.get("initContainers") or [] if init else []) + spec["containers"]]

    # ---- images: built like the official ones and imported into the node's containerd
    def image_specs(self) -> dict[str, str]:
        """image name -> images.py spec, for every image the renderings name."""
        specs = {}
        for rendering in self.renders.values():
            for d in yaml.safe_load_all(rendering):
                spec = ((d or {}).get("spec") or {})
                pod = (spec.get("template") or {}).get("spec") or (spec if d and d["kind"] == "Pod" else {})
                for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
                    name = c["image"]
                    m = re.search(r"client-go:(v\d+\.\d+\.\d+)$", name)
                    if m:
                        check(m.group(1) in self.opts.geth, f"no geth built for image {name}")
                        specs[name] = f"geth={name}={self.opts.geth[m.group(1)]}"
                    elif d["kind"] == "Deployment" and "ethstats" in d["metadata"]["name"]:
                        specs[name] = f"static={name}={self.opts.ethstats}"
                    elif name.startswith("registry.k8s.io/kubectl:"):
                        # The cluster's own kubectl (scripts/cluster-build.sh), static.
                        specs[name] = f"kubectl={name}={shutil.which('kubectl')}"
        return specs

    def import_images(self) -> None:
        t = time.monotonic()
        cache = os.path.join(os.path.dirname(os.path.dirname(HERE)), ".cache", "images")
        os.makedirs(cache, exist_ok=True)
        specs = self.image_specs()
        for name, spec in sorted(specs.items()):
            tar = images.build(spec, cache)
            r = subprocess.run(["ctr", "-n", "k8s.io", "images", "import", tar], capture_output=True, text=True)
            check(r.returncode == 0, f"importing {name} into containerd failed: {r.stderr}")
        log(f"built and imported {len(specs)} images in {time.monotonic() - t:.0f}s: {', '.join(sorted(specs))}")

    # ---- access, as kubectl exec and an in-cluster wallet would
    def attach(self, pod: str, expr: str, timeout: float = 20) -> str:
        r = self.kube.exec(pod, "geth", ["geth", "attach", "--exec", expr, "/data/geth.ipc"], timeout)
        if r.returncode != 0:
            raise Failure(f"{pod}: geth attach failed ({r.returncode}): {r.stderr.strip()[-300:]}")
        return r.stdout.strip()

    def attach_json(self, pod: str, expr: str):
        out = self.attach(pod, f"JSON.stringify({expr})")
        try:
            return json.loads(json.loads(out)) if out.startswith('"') else json.loads(out)
        except ValueError:
            raise Failure(f"{pod}: `{expr}` printed {out[:300]!r}")

    def service_ip(self, name: str) -> str:
        if name not in self.service_ips:
            self.service_ips[name] = self.kube.service_ip(name)
        return self.service_ips[name]

    def rpc(self, method: str, params=None, host: str | None = None, timeout: float = 5, ip: str | None = None):
        """JSON-RPC to the rpc Service's ClusterIP (or a pod's IP), with the Host header
        a client in the cluster sends."""
        ip = ip or self.service_ip(self.rpc_service)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
        req = urllib.request.Request(f"http://{ip}:{self.rpc_port}", body, {
            "Content-Type": "application/json", "Host": f"{host or self.rpc_service}:{self.rpc_port}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                answer = json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise Failure(f"{method} via {host or self.rpc_service}: HTTP {e.code} {e.read()[:200]!r}")
        except (urllib.error.URLError, OSError) as e:
            raise Failure(f"{method} via {self.rpc_service} ({ip}): {e}")
        if answer.get("error"):
            raise Failure(f"{method}: {answer['error']}")
        return answer["result"]

    def head(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def port_of(self, pod: str, container: str, port: str) -> int:
        spec = self.kube.pod(pod)["spec"]["containers"]
        c = next(c for c in spec if c["name"] == container)
        return int(next(p["containerPort"] for p in c.get("ports") or [] if p["name"] == port))

    # ---- the checks
    def start(self) -> None:
        self.kube.create_namespace()
        self.kube.watch()
        t = time.monotonic()
        self.kube.install(self.outs[self.opts.versions[0]])
        self.times["pods ready"] = time.monotonic() - t
        wait_for("every pod to be Ready", self.all_ready, 60, 1)
        log(f"install: helm install --wait into namespace {self.kube.namespace} (Pod Security `restricted` enforced): "
            f"all {len(self.pod_names)} pods Ready after {self.times['pods ready']:.0f}s")

    def all_ready(self) -> bool:
        pods = self.kube.pods()
        for name in self.pod_names:
            check(name in pods, f"no pod {name}")
            check(self.kube.is_ready(pods[name]), f"{name} is not Ready")
        return True

    def check_identity(self) -> None:
        genesis_hash = None
        for name in self.pod_names:
            info = self.attach_json(name, "admin.nodeInfo")
            want = self.nodes[name]["enode"]
            check(info["enode"].split("@")[0] == want.split("@")[0],
                  f"{name}: geth's enode {info['enode']} is not the compiled {want}")
            check(int(info["ports"]["listener"]) == int(want.rsplit(":", 1)[1].split("?")[0]),
                  f"{name}: geth listens on {info['ports']['listener']}, the compiled enode says {want}")
            block0 = self.attach_json(name, "eth.getBlock(0).hash")
            genesis_hash = genesis_hash or block0
            check(block0 == genesis_hash, f"{name}: genesis {block0}, others {genesis_hash}")
            check(info["protocols"]["eth"]["network"] == int(self.values["network"]["networkId"]),
                  f"{name}: network id {info['protocols']['eth']['network']}")
        self.genesis_hash = genesis_hash
        log(f"identity: every enode is the compiled one; genesis {genesis_hash} on all {len(self.pod_names)}")

    def peers(self, name: str) -> set[str]:
        return {p["enode"].split("@")[0].removeprefix("enode://") for p in self.attach_json(name, "admin.peers")}

    def check_mesh(self) -> None:
        t = time.monotonic()
        for name in self.pod_names:
            self.check_mesh_of(name, 180)
        self.times["mesh"] = time.monotonic() - t + self.times["pods ready"]
        log(f"mesh: every node peers with every other ({self.times['mesh']:.0f}s from install)")

    def check_mesh_of(self, name: str, timeout: float = 120) -> None:
        def ok():
            have = {keccak(bytes.fromhex(p)).hex() for p in self.peers(name)}
            missing = [o for o in self.pod_names if o != name and self.nodes[o]["nodeId"] not in have]
            check(not missing, f"{name} is not connected to {missing}")
            return True
        wait_for(f"{name} to be connected to every node", ok, timeout, 2)

    def check_seals(self) -> None:
        head = wait_for("the chain to pass block 3", lambda: self.head() >= 3 and self.head(), 20 * self.period)
        if "first block" not in self.times:  # sealed this long after helm install began
            block1 = int(self.rpc("eth_getBlockByNumber", ["0x1", False])["timestamp"], 16)
            self.times["first block"] = block1 - self.t_start_wall
        n = len(self.signers)
        for num in range(1, head + 1):
            b = self.rpc("eth_getBlockByNumber", [hex(num), False])
            signer = seal_signer(b)
            check(signer in self.signers, f"block {num} sealed by {signer}, not a genesis signer")
            in_turn = self.signers[num % n] == signer
            check(int(b["difficulty"], 16) == (2 if in_turn else 1),
                  f"block {num} by {signer}: difficulty {b['difficulty']}, in turn {in_turn}")
        ref = self.rpc("eth_getBlockByNumber", [hex(head), False])["hash"]
        for name in self.pod_names:
            got = wait_for(f"{name} to reach block {head}",
                           lambda: self.attach_json(name, f"eth.getBlock({head})"), 6 * self.period, 1)
            check(got["hash"] == ref, f"{name} has block {head} = {got['hash']}, the rpc Service {ref}")
        log(f"sealing: blocks 1..{head} sealed by genesis signers with in-turn difficulty; one head on all nodes")

    def account_key(self) -> tuple[str, bytes]:
        acct = self.accounts[0]
        with open(os.path.join(acct["dir"], acct["password"]), "rb") as f:
            password = f.read().rstrip(b"\r\n")
        key = eth_keyfile.decode_keyfile_json(eth_keyfile.load_keyfile(os.path.join(acct["dir"], acct["keystore"])),
                                              password)
        sender = Account.from_key(key).address
        check(sender.lower() == acct["address"].lower(), f"keystore holds {sender}, not {acct['address']}")
        return sender, key

    def send(self, key: bytes, tx: dict) -> dict:
        latest = self.rpc("eth_getBlockByNumber", ["latest", False])
        tip = 10**9
        tx = {"type": 2, "chainId": self.chain_id, "nonce": int(self.rpc("eth_getTransactionCount",
                                                                        [Account.from_key(key).address, "pending"]), 16),
              "maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * int(latest["baseFeePerGas"], 16) + tip, **tx}
        signed = Account.sign_transaction(tx, key)
        txhash = self.rpc("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
        receipt = wait_for(f"transaction {txhash} to be mined",
                           lambda: self.rpc("eth_getTransactionReceipt", [txhash]), 12 * self.period + 30)
        check(int(receipt["status"], 16) == 1, f"transaction {txhash}: status {receipt['status']}")
        return receipt

    def check_transaction(self) -> None:
        sender, key = self.account_key()
        recipient = to_checksum_address(keccak(b"kuberneteth live recipient")[-20:])
        funded = int(self.rpc("eth_getBalance", [sender, "latest"]), 16)
        check(funded > 0, f"{sender} has no genesis balance")
        t = time.monotonic()
        receipt = self.send(key, {"to": recipient, "value": 10**18, "gas": 21000})
        self.times["tx mined"] = time.monotonic() - self.t_start
        mined = int(receipt["blockNumber"], 16)
        # At the head, not at `mined`: clique's out-of-turn blocks can reorg the
        # transaction into a later block after the receipt was read.
        for name in self.pod_names:
            wait_for(f"{name} to see the recipient's balance",
                     lambda: self.attach_json(name, f"eth.getBalance('{recipient}', 'latest').toString(10)") == str(10**18),
                     6 * self.period)
        log(f"wallet: transfer from the compiled keystore's {sender} mined in block {mined} with status 1 "
            f"after {time.monotonic() - t:.1f}s; every node sees the balances")
        receipt = self.send(key, {"data": INIT, "gas": 100000})
        address = receipt["contractAddress"]
        for name in self.pod_names:
            wait_for(f"{name} to have the contract code",
                     lambda: self.attach_json(name, f"eth.getCode('{address}')") == "0x" + RUNTIME.hex(),
                     6 * self.period)
        answer = self.rpc("eth_call", [{"to": address, "data": "0x"}, "latest"])
        check(int(answer, 16) == 42, f"the contract answered {answer}")
        log(f"wallet: contract deployed at {address}: code on every node, eth_call answers 42")

    def check_vhosts(self) -> None:
        ns = self.kube.namespace
        for host in (self.rpc_service, f"{self.rpc_service}.{ns}", f"{self.rpc_service}.{ns}.svc",
                     f"{self.rpc_service}.{ns}.svc.cluster.local"):
            check(int(self.rpc("eth_chainId", host=host), 16) == self.chain_id, f"eth_chainId via {host}")
        try:
            self.rpc("eth_chainId", host="evil.example")
            raise Failure("geth answered a request for host evil.example")
        except Failure as e:
            check("403" in str(e), f"a foreign Host header: {e}")
        log("wallet: the rpc Service answers under each of its in-cluster names, and refuses a foreign Host")

    def container_logs(self, containers=("geth",)) -> dict[str, str]:
        """pod/container -> its log (the previous run's, then the current one), as
        `kubectl logs` shows them, for every pod of the network and container named."""
        out = {}
        for pod in self.pod_names:
            for c in self.containers_of(pod, init=True):
                if c in containers or (c not in ("beacon", "validator", "geth") and "geth" in containers):
                    out[f"{pod}/{c}"] = self.kube.logs(pod, c, previous=True) + self.kube.logs(pod, c)
        return out

    def check_logs(self) -> None:
        for where, text in self.container_logs().items():
            check("Ethereum mainnet" not in text, f"{where}: geth took the mainnet start-up path")
            warns = [ln for ln in text.splitlines() if ln.startswith(("WARN", "ERROR", "CRIT", "Fatal"))]
            unexpected = [w for w in warns if not any(k in w for k in EXPECTED_WARNINGS)]
            check(not unexpected, f"{where}: geth warned:\n  " + "\n  ".join(unexpected[:10]))
        log("logs: no mainnet start-up path, no warning from our configuration")

    def check_ethstats(self) -> None:
        svc = next(d for d in self.docs if d["kind"] == "Service" and d["metadata"]["name"].endswith("-ethstats"))
        url = f"http://{self.service_ip(svc['metadata']['name'])}:{svc['spec']['ports'][0]['port']}/nodes"

        def seen():
            with urllib.request.urlopen(url, timeout=5) as resp:
                nodes = json.loads(resp.read())
            for name in self.pod_names:
                n = nodes.get(name)
                if not n or not n["hello"] or len(n["blocks"]) < 2:
                    raise Failure(f"ethstats has not seen {name} report blocks: {n}")
                check(not n["rejected"], f"ethstats rejected {name}'s secret")
            return nodes
        nodes = wait_for("ethstats to see every node report blocks", seen, 8 * self.period + 60, 2)
        log(f"ethstats: {sorted(nodes)} reported with the compiled secret, last blocks "
            f"{ {k: v['blocks'][-1] for k, v in sorted(nodes.items())} }")

    def check_metrics(self) -> None:
        def head_metric(name: str) -> int:
            url = f"http://{self.kube.pod_ip(name)}:{self.port_of(name, 'geth', 'metrics')}/debug/metrics/prometheus"
            with urllib.request.urlopen(url, timeout=5) as r:
                text = r.read().decode()
            m = re.search(r"^chain_head_block (\d+)", text, re.M)
            check(m is not None, f"{name}: no chain_head_block in the metrics")
            return int(m.group(1))
        first = {n: head_metric(n) for n in self.pod_names}
        for name in self.pod_names:
            wait_for(f"{name}'s chain_head_block to advance", lambda: head_metric(name) > first[name],
                     4 * self.period + 10)
        log(f"metrics: chain_head_block advances on every node (from {first})")

    def check_helm_test(self) -> None:
        out = self.kube.test()
        oks = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("ok:")]
        check("Phase:          Succeeded" in out or "Succeeded" in out, f"helm test did not succeed:\n{out}")
        log(f"helm test passed: {'; '.join(oks) or out.strip().splitlines()[-1]}")

    def rollout(self, version: str, timeout: float, context=lambda: "", rollback_to: int | None = None) -> float:
        """`helm upgrade --wait` to the compiled `version` (or `helm rollback --wait`),
        then checks from the pods' record that each StatefulSet replaced its pods
        highest ordinal first, each Ready before the next, and that every geth runs
        `version`. Returns the seconds it took; `context()` adds to a failure."""
        first_event = len(self.kube.events)
        t = time.monotonic()
        try:
            if rollback_to is None:
                self.kube.upgrade(self.outs[version], timeout=f"{int(timeout)}s")
            else:
                self.kube.rollback(rollback_to, timeout=f"{int(timeout)}s")
        except KubeError as e:
            raise Failure(f"{e}\n{context()}") from None
        duration = time.monotonic() - t
        time.sleep(1)  # the watch stream catches up
        events = [e for _, e in self.kube.events[first_event:]]
        for sts in self.statefulsets:
            mine = lambda e: e.split()[1].rsplit("-", 1)[0] == sts  # noqa: E731
            replaced = [e.split()[1] for e in events if e.endswith(" deleting") and mine(e)]
            replicas = sum(1 for p in self.pod_names if p.rsplit("-", 1)[0] == sts)
            check(replaced == [f"{sts}-{i}" for i in reversed(range(replicas))],
                  f"{sts}: pods replaced in the order {replaced}")
            for victim, nxt in zip(replaced, replaced[1:]):
                gone = events.index(f"pod {victim} deleting")
                ready_at = next((i for i, e in enumerate(events) if i > gone and e == f"pod {victim} ready"), None)
                next_at = events.index(f"pod {nxt} deleting")
                check(ready_at is not None and ready_at < next_at,
                      f"{sts}: {nxt} was replaced before the new {victim} was Ready")
        # Across the coordinated groups (signers, validators, bootnodes) together: one
        # pod down at a time, group by group in values order (the rollout Job).
        coordinated = [f"{self.values['network']['name']}-{g['name']}-{i}"
                       for g in self.values["nodeGroups"] if g["updateStrategy"]["coordinated"]
                       for i in reversed(range(int(g["replicas"])))]
        down: set[str] = set()
        order = []
        for e in events:
            kind, pod, what = e.split()
            if pod not in coordinated:
                continue
            if what == "deleting":
                check(not down, f"{pod} was taken down while {sorted(down)} were not Ready again: "
                                f"the rollout took {len(down) + 1} producers down at once")
                down.add(pod)
                order.append(pod)
            elif what == "ready":
                down.discard(pod)
        check(order == coordinated, f"coordinated pods replaced in the order {order}, expected {coordinated}")
        for name in self.pod_names:
            got = self.attach_json(name, "web3.version.node")
            check(f"/{version}" in got, f"{name} runs {got}, not {version}")
        return duration

    def roll(self, version: str, label: str, rollback_to: int | None = None) -> None:
        """Rolls to another release (rollout) and checks the chain's liveness meanwhile."""
        first_block = self.head()
        duration = self.rollout(version, 900, rollback_to=rollback_to)
        # Liveness from the chain itself: the gaps between the timestamps of the
        # blocks from the rollout's start to the first block sealed after its end.
        ended = time.time()
        last_block = wait_for("a block after the rollout", lambda: (n := self.head()) > first_block and int(
            self.rpc("eth_getBlockByNumber", [hex(n), False])["timestamp"], 16) >= ended and n, 6 * self.period)
        stamps = [int(self.rpc("eth_getBlockByNumber", [hex(n), False])["timestamp"], 16)
                  for n in range(first_block, last_block + 1)]
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        largest = max(gaps)
        self.times[f"{label} duration"] = duration
        self.times[f"{label} largest gap"] = largest
        check(largest <= MAX_ROLLOUT_GAP_PERIODS * self.period + RESTART_SLACK,
              f"the chain stopped for {largest}s during the {label}: gaps {gaps}")
        log(f"{label}: every pod replaced highest ordinal first, each Ready before the next, "
            f"one producer at a time across groups; "
            f"now {version} everywhere after {duration:.0f}s; blocks {first_block}..{last_block}, "
            f"largest gap {largest:.1f}s")

    def check_history(self, want: list[tuple[str, str]]) -> None:
        """`helm history`: the revisions' statuses and descriptions, oldest first."""
        got = [(h["status"], h["description"]) for h in self.kube.history()]
        check(len(got) == len(want) and all(s == ws and wd in d for (s, d), (ws, wd) in zip(got, want)),
              f"helm history {got}, expected {want}")
        log(f"helm history: {len(got)} revisions: {', '.join(f'{i + 1} {s} ({d})' for i, (s, d) in enumerate(got))}")

    def group_pods(self, group: str) -> list[str]:
        return [p for p in self.pod_names if self.nodes[p]["group"]["name"] == group]

    def check_scale_rpc(self, version: str) -> None:
        """`helm upgrade` adding an rpc replica: the new pod syncs to the head, and the
        rpc Service lists it as a ready endpoint only once the pod is Ready. Then the
        release shrinks back (another upgrade), leaving the removed pod's volume."""
        before = list(self.pod_names)
        replicas = len(self.group_pods(self.rpc_group))
        label = f"{version}-rpc{replicas + 1}"
        pattern = rf"(?m)^(\s*- \{{ name: {self.rpc_group},.*replicas: ){replicas}\b"
        out, rendering = self.compile(version, label, lambda text: re.subn(pattern, rf"\g<1>{replicas + 1}", text)[0])
        new_pod = f"{self.rpc_service.removesuffix('-rpc')}-{replicas}"
        check(new_pod in rendering, f"the edited network has no pod {new_pod}")
        violations, seen_ready = [], []
        stop = threading.Event()

        def watch_endpoints():
            while not stop.is_set():
                try:
                    slices = self.kube.get("endpointslices", "-l", f"kubernetes.io/service-name={self.rpc_service}")
                    ready_ips = {a for s in slices["items"] for ep in s.get("endpoints") or []
                                 if (ep.get("conditions") or {}).get("ready") for a in ep["addresses"]
                                 if (ep.get("targetRef") or {}).get("name") == new_pod}
                    if ready_ips:
                        pod = self.kube.pod(new_pod)
                        if not self.kube.is_ready(pod):
                            violations.append(f"endpoint {ready_ips} ready while {new_pod} is not")
                        seen_ready.append(time.monotonic())
                except (KubeError, ValueError):
                    pass
                time.sleep(0.5)
        watcher = threading.Thread(target=watch_endpoints, daemon=True)
        watcher.start()
        t = time.monotonic()
        self.kube.upgrade(out)
        duration = time.monotonic() - t
        wait_for(f"{new_pod} among the rpc Service's ready endpoints", lambda: seen_ready, 30, 1)
        stop.set()
        watcher.join(5)
        check(not violations, f"the rpc Service sent to {new_pod} before it was Ready: {violations[:3]}")
        head = self.head()
        got = int(self.rpc("eth_blockNumber", ip=self.kube.pod_ip(new_pod)), 16)
        check(got >= head - 1, f"{new_pod} is at block {got}, the network at {head}")
        log(f"scale: helm upgrade to {replicas + 1} rpc replicas took {duration:.0f}s; {new_pod} synced to block "
            f"{got} (head {head}) and became a ready endpoint of {self.rpc_service} only once Ready")
        self.kube.upgrade(self.outs[version])
        wait_for(f"{new_pod} to be gone", lambda: new_pod not in self.kube.pods(), 120, 2)
        claims = [c["metadata"]["name"] for c in self.kube.get("pvc")["items"]]
        check(any(c.endswith(new_pod) for c in claims), f"the volume of the removed {new_pod} is gone: {claims}")
        self.pod_names = before
        log(f"scale: helm upgrade back to {replicas} rpc replica(s) removed {new_pod}; its volume stays")

    def check_eviction(self, group: str, can_spare: int) -> None:
        """The eviction API (kubectl drain) against the group's PodDisruptionBudget:
        `can_spare` evictions in a row are allowed, the next one is refused."""
        pods = list(reversed(self.group_pods(group)))
        evicted = []
        for pod in pods[:can_spare]:
            ok, msg = self.kube.evict(pod)
            check(ok, f"the eviction of {pod} was refused, though the network can spare it: {msg}")
            evicted.append(pod)
        refused = pods[can_spare]
        ok, msg = self.kube.evict(refused)
        check(not ok and "disruption budget" in msg,
              f"evicting {refused} after {evicted} was not refused by the PodDisruptionBudget: {ok} {msg}")
        for pod in evicted:
            wait_for(f"{pod} to come back Ready", lambda: self.kube.ready(pod), 300, 2)
        log(f"eviction: the eviction API evicted {evicted or 'nothing'} and refused {refused} "
            f"({msg.splitlines()[-1][:120]}); the evicted pods came back Ready")

    def check_delete_pod(self, victim: str) -> None:
        """`kubectl delete pod`: the StatefulSet controller makes it again on its volume."""
        uid = self.kube.pod(victim)["metadata"]["uid"]
        claims = [v["persistentVolumeClaim"]["claimName"] for v in self.kube.pod(victim)["spec"]["volumes"]
                  if v.get("persistentVolumeClaim")]
        paths = [self.kube.claim_path(c) for c in claims]
        t = time.monotonic()
        self.kube.kubectl("delete", "pod", victim, "--wait=false")
        wait_for(f"a new {victim} to be Ready", lambda: (p := self.kube.pod(victim))["metadata"]["uid"] != uid
                 and self.kube.is_ready(p), 300, 2)
        check([self.kube.claim_path(c) for c in claims] == paths, f"{victim} came back on other volumes")
        self.rejoined(victim, "delete (the StatefulSet controller made it again)", time.monotonic() - t)

    def rejoined(self, victim: str, how: str, seconds: float) -> None:
        self.check_mesh_of(victim)
        head = self.head()
        wait_for(f"{victim} to follow the head", lambda: int(self.attach(victim, "eth.blockNumber")) >= head,
                 6 * self.period)
        check(self.attach_json(victim, "admin.nodeInfo.enode").split("@")[0] == self.nodes[victim]["enode"].split("@")[0],
              f"{victim}: another identity after the restart")
        log(f"{how}: {victim} Ready again after {seconds:.0f}s on its volume, same enode, rejoined, follows the head")

    def check_crash(self) -> None:
        victim = next(p for p in self.pod_names if self.nodes[p]["signerAddress"] not in ("", "-", None))
        pid = self.kube.container_pid(victim, "geth")
        before = self.head()
        restarts = self.kube.restarts(victim, "geth")
        log(f"crash: SIGKILL to {victim}'s geth (node pid {pid}) at head {before}")
        t = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        wait_for(f"{victim}'s geth to restart", lambda: self.kube.restarts(victim, "geth") > restarts
                 and self.kube.ready(victim), 240, 1)
        self.rejoined(victim, "crash (the kubelet restarted the container)", time.monotonic() - t)

    def kill_every_container(self) -> dict[tuple[str, str], int]:
        """SIGKILL to every container of every node pod at once: a power cut, as far as
        a one-node cluster can tell. Returns each container's restart count before."""
        targets = [(p, c) for p in self.pod_names for c in self.containers_of(p)]
        restarts = {t: self.kube.restarts(*t) for t in targets}
        pids = [self.kube.container_pid(*t) for t in targets]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return restarts

    def all_restarted(self, restarts: dict[tuple[str, str], int]) -> bool:
        return all(self.kube.restarts(*t) > n for t, n in restarts.items()) and all(map(self.kube.ready, self.pod_names))

    def check_power_cut(self) -> None:
        """Every container of the release killed at once: sealing resumes by itself."""
        before = self.head()
        t = time.monotonic()
        restarts = self.kill_every_container()
        log(f"power cut: SIGKILL to all {len(restarts)} containers of the {len(self.pod_names)} pods at head {before}")
        wait_for("every container to restart and every pod to be Ready", lambda: self.all_restarted(restarts), 600, 2)
        ready = time.monotonic() - t
        signer = self.group_pods(next(g["name"] for g in self.values["nodeGroups"] if g["role"] == "signer"))[0]
        head = wait_for("a block sealed after the power cut",
                        lambda: (n := int(self.attach(signer, "eth.blockNumber"))) > before and n,
                        MAX_RESUME_PERIODS * self.period, 2)
        resumed = time.monotonic() - t
        self.times["power cut to all Ready"] = ready
        self.times["power cut to a new block"] = resumed
        log(f"power cut: every pod Ready {ready:.0f}s after it, block {head} sealed {resumed:.0f}s after it "
            f"(bound: {MAX_RESUME_PERIODS} periods after Ready)")

    def chain_signers(self, pod: str) -> list[str]:
        return sorted(to_checksum_address(a) for a in self.attach_json(pod, "clique.getSigners()"))

    def sealers(self, first: int, last: int) -> dict[int, str]:
        return {n: seal_signer(self.rpc("eth_getBlockByNumber", [hex(n), False])) for n in range(first, last + 1)}

    def vote(self, version: str, label: str, edit, over: str) -> tuple[str, float, float]:
        """Compiles an edit of the signer groups over the earlier values, upgrades, and
        waits for the chain's signer set to be the compiled one. Returns the compile's
        vote line and the seconds `helm upgrade --wait` took and until the set was right."""
        out, rendering = self.compile(version, label, edit, over=over)
        votes = [ln for ln in self.compile_output.splitlines() if ln.startswith("signer votes:")]
        check(len(votes) == 1, f"the compile of {label} did not say what the signers vote:\n{self.compile_output}")
        with open(os.path.join(out, "values.yaml")) as f:
            self.values = yaml.safe_load(f)
        self.load_pods(rendering)
        wanted = sorted(s["address"] for s in self.values["clique"]["signers"])
        t = time.monotonic()
        self.kube.upgrade(out)
        upgraded = time.monotonic() - t
        voter = self.group_pods(next(g["name"] for g in self.values["nodeGroups"] if g["role"] == "signer"))[0]
        wait_for(f"the chain's signers to be {wanted}", lambda: self.chain_signers(voter) == wanted,
                 MAX_VOTE_SECONDS, 3)
        return votes[0], upgraded, time.monotonic() - t

    def check_signer_votes(self, version: str) -> None:
        """Signers in and out by vote (README, "Adding and removing signers"): a new
        signer group of two pods (`genesisReplicas: 0`) is voted in by the running
        signers, each new signer then seals in turn; then one of them is removed and
        voted out, and seals nothing after. Blocks keep coming throughout."""
        group = "late"
        first = self.head()
        line = f"  - {{ name: {group}, role: signer, replicas: 2, genesisReplicas: 0 }}\n"
        added = lambda text: re.sub(r"(?m)^(  - \{ name: rpc,)", line + r"\1", text)  # noqa: E731
        said, upgraded, voted_in = self.vote(version, "votes-in", added, over=version)
        new = {p: self.nodes[p]["signerAddress"] for p in self.group_pods(group)}
        check(len(new) == 2 and all(new.values()), f"the compile made no signer pods for `{group}`: {new}")
        check(all(a in said for a in new.values()), f"the compile's vote line names not both {new}: {said}")
        # Each new signer seals once it is in: with five signers, each seals one
        # block in every three at least (clique lets none seal twice in three).
        in_at = self.head()
        sealed = wait_for("each new signer to seal a block",
                          lambda: (s := self.sealers(in_at + 1, self.head())) and set(new.values()) <= set(s.values()) and s,
                          20 * self.period, 2)
        log(f"votes: helm upgrade adding `{group}` (2 signer pods, genesisReplicas 0) took {upgraded:.0f}s; "
            f"the chain's signer set had both {voted_in:.0f}s after the upgrade began ({said[:200]}); "
            f"blocks {min(sealed)}..{max(sealed)} sealed by {sorted(set(sealed.values()))}")
        gone_pod = self.group_pods(group)[-1]
        gone = new[gone_pod]
        removed = lambda text: added(text).replace(f"name: {group}, role: signer, replicas: 2", f"name: {group}, role: signer, replicas: 1")  # noqa: E731
        said, upgraded, voted_out = self.vote(version, "votes-out", removed, over="votes-in")
        check(gone in said and "out:" in said, f"the compile's vote line does not name {gone} out: {said}")
        out_at = self.head()
        wait_for(f"{4 * self.period}s of blocks after the vote", lambda: self.head() >= out_at + 4, 20 * self.period, 2)
        after = self.sealers(out_at + 1, self.head())
        check(gone not in after.values(), f"{gone} ({gone_pod}) sealed blocks after it was voted out: {after}")
        last = self.head()
        stamps = [int(self.rpc("eth_getBlockByNumber", [hex(n), False])["timestamp"], 16) for n in range(first, last + 1)]
        largest = max(b - a for a, b in zip(stamps, stamps[1:]))
        check(largest <= MAX_ROLLOUT_GAP_PERIODS * self.period + RESTART_SLACK,
              f"the chain stopped for {largest}s while signers were voted in and out")
        self.times["votes: two signers in"] = voted_in
        self.times["votes: one signer out"] = voted_out
        self.times["votes: largest gap"] = largest
        log(f"votes: removing {gone_pod} took {upgraded:.0f}s to upgrade; voted out {voted_out:.0f}s after the "
            f"upgrade began; blocks {min(after)}..{max(after)} sealed by "
            f"{sorted(set(after.values()))}, none by {gone}; blocks {first}..{last}: largest gap {largest}s")

    def check_hardening(self) -> None:
        count = 0
        for pod in self.pod_names:
            for c in self.containers_of(pod):
                status = self.kube.process_status(self.kube.container_pid(pod, c))
                uids = status["Uid"].split()
                check(all(u != "0" for u in uids), f"{pod}/{c}: runs as uid {uids}")
                for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                    check(int(status[cap], 16) == 0, f"{pod}/{c}: {cap} {status[cap]}")
                check(status.get("NoNewPrivs") == "1", f"{pod}/{c}: new privileges allowed")
                check(status.get("Seccomp") == "2", f"{pod}/{c}: no seccomp filter (Seccomp {status.get('Seccomp')})")
                check(self.kube.root_read_only(self.kube.container_pid(pod, c)), f"{pod}/{c}: the root file system is writable")
                count += 1
        log(f"hardening: {count} containers run non-root, no capabilities, no new privileges, seccomp, read-only root")

    def check_uninstall(self) -> None:
        """`helm uninstall` removes every object the chart made; the volumes stay."""
        claims = sorted(c["metadata"]["name"] for c in self.kube.get("pvc")["items"])
        self.kube.uninstall()
        # Pods go with their StatefulSets and ReplicaSets (the garbage collector).
        wait_for("the pods to be gone", lambda: not self.kube.pods(), 180, 2)
        instance = f"app.kubernetes.io/instance={self.kube.release}"
        left = self.kube.kubectl("get", "all,configmap,secret,pdb,networkpolicy,serviceaccount,role,rolebinding",
                                 "-l", instance, "-o", "name").stdout.split()
        check(not left, f"helm uninstall left {left}")
        releases = self.kube.kubectl("get", "secret", "-l", "owner=helm", "-o", "name").stdout.split()
        check(not releases, f"helm uninstall left its release records {releases}")
        after = sorted(c["metadata"]["name"] for c in self.kube.get("pvc")["items"])
        check(after == claims and claims, f"volume claims before {claims}, after uninstall {after}")
        log(f"uninstall: helm uninstall removed every object of the release; the {len(after)} volume claims stay")

    # ---- run
    def run(self) -> None:
        v0, v1 = self.opts.versions
        for v in (v0, v1):
            self.compile(v)
        self.load(self.outs[v0], self.renders[v0])
        self.import_images()
        self.t_start, self.t_start_wall = time.monotonic(), time.time()
        self.start()
        self.check_hardening()
        self.check_identity()
        self.check_mesh()
        self.check_seals()
        self.check_vhosts()
        self.check_transaction()
        self.check_ethstats()
        self.check_metrics()
        self.check_helm_test()
        self.check_logs()
        self.roll(v1, "upgrade")
        self.roll(v0, "rollback", rollback_to=1)
        self.check_history([("superseded", "Install complete"), ("superseded", "Upgrade complete"),
                            ("deployed", "Rollback to 1")])
        self.check_scale_rpc(v0)
        # The first signer group may lose what the clique can spare (a majority of all
        # signers stays), no more than its own pods.
        signer_groups = [g["name"] for g in self.values["nodeGroups"] if g["role"] == "signer"]
        signers = signer_groups[0]
        total = sum(len(self.group_pods(g)) for g in signer_groups)
        self.check_eviction(signers, min(total - (total // 2 + 1), len(self.group_pods(signers))))
        self.check_delete_pod(self.group_pods(signers)[0])
        self.check_crash()
        self.check_power_cut()
        self.check_seals()
        self.check_signer_votes(v0)
        self.check_logs()
        self.check_uninstall()
        self.kube.stop_watch()
        self.check_export()

    def check_export(self) -> None:
        """The README's outside-Kubernetes recipe: every exported node started from its
        folder with `geth init` and `geth $(cat geth.args)`, side by side on this host."""
        geth = self.opts.geth[self.opts.versions[0]]
        with open(os.path.join(self.export, "nodes.json")) as f:
            nodes = json.load(f)
        procs = []
        try:
            for n in nodes:
                folder = os.path.join(self.export, n["dir"])
                script = f'"{geth}" init --datadir data ../../genesis.json && exec "{geth}" $(cat geth.args)'
                log_file = open(os.path.join(folder, "geth.log"), "w")
                procs.append((n, subprocess.Popen(["sh", "-c", script], cwd=folder, stdout=log_file,
                                                  stderr=subprocess.STDOUT, start_new_session=True)))

            def running():
                for n, p in procs:
                    if p.poll() is not None:
                        tail = open(os.path.join(self.export, n["dir"], "geth.log")).read()[-1500:]
                        raise Fatal(f"exported {n['name']} exited ({p.returncode}):\n{tail}")
                    ipc = os.path.join(self.export, n["dir"], "data", "geth.ipc")
                    got = subprocess.run([geth, "attach", "--exec", "[admin.peers.length, eth.blockNumber].join(' ')",
                                          ipc], capture_output=True, text=True, timeout=10).stdout.strip().strip('"').split()
                    if len(got) != 2 or int(got[0]) != len(nodes) - 1 or int(got[1]) < 2:
                        raise Failure(f"exported {n['name']}: peers and head {got}")
                return True
            wait_for("the exported network to mesh and seal", running, 120, 2)
        finally:
            for _, p in procs:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            for _, p in procs:
                p.wait()
        log(f"export: {len(nodes)} exported nodes run side by side from their folders "
            f"({', '.join(n['ip'] for n in nodes)}), peer with each other and seal")
        # The chart's init step runs `geth init` on every start: on a datadir that has
        # run the chain it must accept the same genesis and refuse another one.
        data = os.path.join(self.export, nodes[0]["dir"], "data")
        genesis = os.path.join(self.export, "genesis.json")
        again = subprocess.run([geth, "init", "--datadir", data, genesis], capture_output=True, text=True)
        check(again.returncode == 0, f"geth init of the same genesis on a used datadir failed:\n{again.stderr[-800:]}")
        with open(genesis) as f:
            other = json.load(f)
        other["timestamp"] = hex(int(other["timestamp"], 16) + 1)
        other_path = os.path.join(self.work, "other-genesis.json")
        with open(other_path, "w") as f:
            json.dump(other, f)
        refused = subprocess.run([geth, "init", "--datadir", data, other_path], capture_output=True, text=True)
        check(refused.returncode != 0 and "incompatible genesis" in refused.stderr + refused.stdout,
              f"geth init of another genesis on a used datadir: exit {refused.returncode}\n{refused.stderr[-800:]}")
        log("init: `geth init` on a used datadir accepts the compiled genesis and refuses another one")

    def teardown(self) -> None:
        """What `run` does after the checks, whatever happened: stop watching pods."""
        self.kube.stop_watch()

    def dump_logs(self, lines: int) -> None:
        try:
            pods = self.kube.pods()
        except KubeError:
            return
        for name, pod in sorted(pods.items()):
            spec = pod["spec"]
            for c in (spec.get("initContainers") or []) + spec["containers"]:
                text = self.kube.logs(name, c["name"])
                print(f"\n===== {name}/{c['name']}, last {lines} lines =====", file=sys.stderr)
                print("\n".join(text.splitlines()[-lines:]), file=sys.stderr)
        r = self.kube.kubectl("get", "events", "--sort-by=.lastTimestamp", check=False)
        print("\n===== events =====\n" + "\n".join(r.stdout.splitlines()[-40:]), file=sys.stderr)


def common_options(ap: argparse.ArgumentParser, network: str) -> None:
    """The options both drivers take."""
    ap.add_argument("--bin", required=True, help="the kuberneteth-values binary")
    ap.add_argument("--helm", required=True)
    ap.add_argument("--chart", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "chart"))
    ap.add_argument("--release", default="live")
    ap.add_argument("--namespace", default="live", help="created for the test, Pod Security `restricted`")
    ap.add_argument("--network", default=os.path.join(HERE, network))
    ap.add_argument("--geth", action="append", default=[], help="VERSION=PATH of a built geth (two: install, upgrade)")
    ap.add_argument("--ethstats", required=True, help="the ethstats stand-in, a static binary (its image)")
    ap.add_argument("--keep", action="store_true", default=os.environ.get("LIVE_KEEP") == "1")


def parse(ap: argparse.ArgumentParser):
    opts = ap.parse_args()
    opts.geth = dict(g.split("=", 1) for g in opts.geth)
    opts.versions = list(opts.geth)
    if len(opts.versions) != 2:
        ap.error("give --geth for the version to install and the version to upgrade to")
    return opts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_options(ap, "network.yaml")
    ap.add_argument("--log-lines", type=int, default=80)
    return run(Live(parse(ap)))


def run(live, name: str = "live") -> int:
    """Runs a driver (`Live`, or another with `run`, `teardown`, `dump_logs`, `opts`,
    `work` and `times`): signals stop it cleanly, logs on failure, times on success."""
    def stop(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, stop)
    ok, verdict = False, ""
    try:
        live.run()
        ok = True
    except Failure as e:
        verdict = f"{name}: FAILED: {e}"
    except KeyboardInterrupt as e:
        verdict = f"{name}: interrupted ({e})"
    except Exception as e:  # the driver's own error: still show logs
        import traceback
        traceback.print_exc()
        verdict = f"{name}: ERROR: {e}"
    finally:
        if verdict:
            print(f"\n{verdict}", file=sys.stderr)
        live.teardown()
        if not ok:
            live.dump_logs(live.opts.log_lines)
            # Again after the logs, so that the end of the output (all a CI summary
            # may keep) says which check failed and why.
            print(f"\n{verdict}\n{name}: times so far: " + ", ".join(
                f"{k} {v:.1f}" for k, v in live.times.items()), file=sys.stderr)
        if ok and not live.opts.keep:
            shutil.rmtree(live.work, ignore_errors=True)
        else:
            print(f"{name}: work directory kept: {live.work}", file=sys.stderr)
    if ok:
        print(f"{name}: times: " + ", ".join(f"{k} {v:.1f}" + ("" if "slots" in k else "s") for k, v in live.times.items()))
        print(f"{name}: OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
