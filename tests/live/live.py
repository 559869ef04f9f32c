#!/usr/bin/env python3
"""Live test: real geth runs the pods the chart renders.

Compiles tests/live/network.yaml twice (the same network and secrets, geth v1.13.14
and v1.13.15), renders each with `helm template`, and runs the first rendering with
the pod runner (podrunner.py): every StatefulSet pod with its init steps, volumes,
securityContext, probes and Services, geth built from its Go module in place of
the image. Then it checks, in this order:
  1. identity: every geth's enode is the compiled one; all share the compiled genesis;
  2. mesh: every node peers with every other (through the chart's Service names);
  3. sealing: every block sealed by a genesis signer, in-turn difficulty right; one head;
  4. a transaction signed with the compiled account keystore and password, sent to the
     rpc Service as a wallet would, is mined with status 1 and every node sees the new
     balances; a contract deployed the same way has its code on every node and answers;
  5. no geth logs a mainnet start-up or a warning caused by our configuration;
  6. ethstats: the ethstats Service's server sees every node under its pod name with
     the compiled secret, and their block reports;
  7. metrics: each node's metrics port serves Prometheus text whose head advances;
  8. `helm test`: the rendered test Pod passes;
  9. rolling upgrade to v1.13.15: pods replaced one at a time, highest ordinal first,
     each Ready before the next; the chain never stops for more than two periods;
     every node then runs v1.13.15;
 10. rollback: the previous rendering rolls back the same way; the chain continues;
 11. crash: a signer's geth killed with SIGKILL restarts on its volume and rejoins;
 12. hardening: every process non-root, read-only root, no capabilities;
 13. export: the README's recipe for running outside Kubernetes works: every exported
     node, started from its folder on this one host, peers with the others and seals;
     and `geth init` (the chart's init step) on a used datadir accepts the compiled
     genesis and refuses another one.
Run it through scripts/live.sh (`make live`): it builds what is needed and runs this
driver inside private network, mount and PID namespaces.
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
import time
import urllib.error
import urllib.request

import eth_keyfile
import rlp
import yaml
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

import podrunner

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = time.monotonic()
# The contract the test deploys: its runtime code returns the 32-byte word 42.
RUNTIME = bytes.fromhex("602a60005260206000f3")
INIT = bytes.fromhex("69") + RUNTIME + bytes.fromhex("600052600a6016f3")
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
        self.cluster: podrunner.Cluster | None = None

    # ---- compile and render
    def network_file(self, version: str) -> str:
        with open(self.opts.network) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^(geth:\s*\{\s*version:\s*)v[0-9.]+", rf"\g<1>{version}", text)
        check(n == 1, f"{self.opts.network}: no `geth: {{ version: ... }}` line to set the version in")
        path = os.path.join(self.work, f"network-{version}.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def compile(self, version: str) -> tuple[str, str]:
        """Compiles the network for one geth version and renders it; returns (out dir, rendering)."""
        out = os.path.join(self.work, f"out-{version}")
        secrets = os.path.join(self.work, "kuberneteth.secrets.yaml")
        network = self.network_file(version)
        run = lambda *a: subprocess.run(a, capture_output=True, text=True)  # noqa: E731
        r = run(self.opts.bin, "compile", "-c", network, "-o", out, "--secrets", secrets)
        check(r.returncode == 0, f"compile at {version} failed:\n{r.stdout}{r.stderr}")
        r = run(self.opts.helm, "template", self.opts.release, self.opts.chart,
                "-f", os.path.join(out, "values.yaml"), "-f", os.path.join(out, "secrets.values.yaml"))
        check(r.returncode == 0, f"helm template at {version} failed:\n{r.stderr}")
        rendering = r.stdout
        if not hasattr(self, "accounts"):
            export = os.path.join(self.work, "export")
            r = run(self.opts.bin, "export", "-c", network, "-o", export, "--secrets", secrets)
            check(r.returncode == 0, f"export failed:\n{r.stdout}{r.stderr}")
            with open(os.path.join(export, "accounts.json")) as f:
                self.accounts = [dict(a, dir=export) for a in json.load(f)]
            self.export = export
        return out, rendering

    def load(self, out: str, rendering: str) -> None:
        with open(os.path.join(out, "values.yaml")) as f:
            self.values = yaml.safe_load(f)
        self.genesis = json.loads(self.values["genesis"]["json"])
        self.chain_id = int(self.genesis["config"]["chainId"])
        self.period = int(self.genesis["config"]["clique"]["period"])
        self.signers = genesis_signers(self.genesis)
        self.nodes = {n["name"]: dict(n, group=g) for g in self.values["nodeGroups"] for n in g["nodes"]}
        self.docs = [d for d in yaml.safe_load_all(rendering) if d]
        self.statefulsets = [d["metadata"]["name"] for d in self.docs if d["kind"] == "StatefulSet"]
        self.pod_names = [f"{s['metadata']['name']}-{i}" for s in self.docs if s["kind"] == "StatefulSet"
                          for i in range(int(s["spec"]["replicas"]))]
        check(len(self.signers) >= 3 and len(self.pod_names) > len(self.signers),
              "the live network needs at least 3 signers and a non-signing node")
        rpc_group = next(g for g in self.values["nodeGroups"] if g["rpc"]["http"])
        self.rpc_service = f"{self.values['network']['name']}-{rpc_group['name']}-rpc"
        self.rpc_port = int(rpc_group["ports"]["http"])
        check(any(d["kind"] == "Service" and d["metadata"]["name"] == self.rpc_service for d in self.docs),
              f"the rendering has no Service {self.rpc_service}")

    def images(self) -> dict[str, podrunner.Image]:
        images = {}
        for d in self.docs + [d for r in self.renders.values() for d in yaml.safe_load_all(r) if d]:
            spec = (d.get("spec") or {})
            pod = (spec.get("template") or {}).get("spec") or (spec if d["kind"] == "Pod" else {})
            for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
                name = c["image"]
                m = re.search(r"client-go:(v\d+\.\d+\.\d+)$", name)
                if m:
                    check(m.group(1) in self.opts.geth, f"no geth built for image {name}")
                    images[name] = podrunner.Image(name, {"/usr/local/bin/geth": self.opts.geth[m.group(1)]},
                                                   entrypoint=["geth"])
                elif d["kind"] == "Deployment" and "ethstats" in d["metadata"]["name"]:
                    images[name] = podrunner.Image(name, host_command=[sys.executable,
                                                                       os.path.join(HERE, "ethstats_server.py")])
        return images

    # ---- access, as kubectl exec and an in-cluster wallet would
    def attach(self, pod: str, expr: str, timeout: float = 20) -> str:
        c = self.cluster.pod(pod).container("geth")
        r = c.exec(["geth", "attach", "--exec", expr, "/data/geth.ipc"], timeout)
        if r.returncode != 0:
            raise Failure(f"{pod}: geth attach failed ({r.returncode}): {r.stderr.strip()[-300:]}")
        return r.stdout.strip()

    def attach_json(self, pod: str, expr: str):
        out = self.attach(pod, f"JSON.stringify({expr})")
        try:
            return json.loads(json.loads(out)) if out.startswith('"') else json.loads(out)
        except ValueError:
            raise Failure(f"{pod}: `{expr}` printed {out[:300]!r}")

    def rpc(self, method: str, params=None, host: str | None = None, timeout: float = 5):
        """JSON-RPC to the rpc Service's ClusterIP, with the Host header a client in the cluster sends."""
        ip = self.cluster.service_ip(self.rpc_service)
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

    # ---- the checks
    def start(self) -> None:
        t = time.monotonic()
        self.cluster.apply(self.renders[self.opts.versions[0]])
        wait_for("every pod to be Ready", self.all_ready, 600, 1)
        self.times["pods ready"] = time.monotonic() - t
        log(f"all {len(self.pod_names)} geth pods Ready after {self.times['pods ready']:.0f}s")

    def all_ready(self) -> bool:
        for name in self.pod_names:
            pod = self.cluster.pod(name)
            for c in pod.init_containers + pod.containers:
                if c.restarts >= 2:
                    tail = "".join(open(c.log_path, errors="replace").readlines()[-15:])
                    raise Fatal(f"{name}/{c.name} keeps failing ({c.restarts} restarts):\n{tail}")
            if not pod.ready:
                raise Failure(f"{name} is not Ready")
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
        log(f"1. identity: every enode is the compiled one; genesis {genesis_hash} on all {len(self.pod_names)}")

    def peers(self, name: str) -> set[str]:
        return {p["enode"].split("@")[0].removeprefix("enode://") for p in self.attach_json(name, "admin.peers")}

    def check_mesh(self) -> None:
        t = time.monotonic()

        def meshed():
            for name in self.pod_names:
                want = {self.nodes[o]["nodeId"] for o in self.pod_names if o != name}
                have = {keccak(bytes.fromhex(p)).hex() for p in self.peers(name)}
                missing = {o for o in self.pod_names if o != name and self.nodes[o]["nodeId"] not in have}
                if missing:
                    raise Failure(f"{name} is not connected to {sorted(missing)}")
                del want
            return True
        wait_for("a full mesh", meshed, 180, 2)
        self.times["mesh"] = time.monotonic() - t + self.times["pods ready"]
        log(f"2. mesh: every node peers with every other ({self.times['mesh']:.0f}s from start)")

    def check_seals(self) -> None:
        head = wait_for("the chain to pass block 3", lambda: self.head() >= 3 and self.head(), 20 * self.period)
        if "first block" not in self.times:  # sealed this long after the pods were applied
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
        log(f"3. sealing: blocks 1..{head} sealed by genesis signers with in-turn difficulty; one head on all nodes")

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
        for name in self.pod_names:
            wait_for(f"{name} to see the recipient's balance",
                     lambda: self.attach_json(name, f"eth.getBalance('{recipient}', {mined}).toString(10)") == str(10**18),
                     6 * self.period)
        log(f"4. transfer from the compiled keystore's {sender} mined in block {mined} with status 1 "
            f"after {time.monotonic() - t:.1f}s; every node sees the balances")
        receipt = self.send(key, {"data": INIT, "gas": 100000})
        address = receipt["contractAddress"]
        for name in self.pod_names:
            wait_for(f"{name} to have the contract code",
                     lambda: self.attach_json(name, f"eth.getCode('{address}')") == "0x" + RUNTIME.hex(),
                     6 * self.period)
        answer = self.rpc("eth_call", [{"to": address, "data": "0x"}, "latest"])
        check(int(answer, 16) == 42, f"the contract answered {answer}")
        log(f"4. contract deployed at {address}: code on every node, eth_call answers 42")

    def check_vhosts(self) -> None:
        ns = self.cluster.namespace
        for host in (self.rpc_service, f"{self.rpc_service}.{ns}", f"{self.rpc_service}.{ns}.svc",
                     f"{self.rpc_service}.{ns}.svc.cluster.local"):
            check(int(self.rpc("eth_chainId", host=host), 16) == self.chain_id, f"eth_chainId via {host}")
        try:
            self.rpc("eth_chainId", host="evil.example")
            raise Failure("geth answered a request for host evil.example")
        except Failure as e:
            check("403" in str(e), f"a foreign Host header: {e}")
        log("4. the rpc Service answers under each of its in-cluster names, and refuses a foreign Host")

    def geth_logs(self) -> dict[str, str]:
        out = {}
        for pod in self.cluster.pods:
            if pod.owner in self.statefulsets:
                for c in pod.containers + pod.init_containers:
                    if os.path.exists(c.log_path):
                        out.setdefault(f"{pod.name}/{c.name}", "")
                        out[f"{pod.name}/{c.name}"] += open(c.log_path, errors="replace").read()
        return out

    def check_logs(self) -> None:
        for where, text in self.geth_logs().items():
            check("Ethereum mainnet" not in text, f"{where}: geth took the mainnet start-up path")
            warns = [ln for ln in text.splitlines() if ln.startswith(("WARN", "ERROR", "CRIT", "Fatal"))]
            unexpected = [w for w in warns if not any(k in w for k in EXPECTED_WARNINGS)]
            check(not unexpected, f"{where}: geth warned:\n  " + "\n  ".join(unexpected[:10]))
        log("5. logs: no mainnet start-up path, no warning from our configuration")

    def check_ethstats(self) -> None:
        svc = next(d for d in self.docs if d["kind"] == "Service" and d["metadata"]["name"].endswith("-ethstats"))
        url = f"http://{self.cluster.service_ip(svc['metadata']['name'])}:{svc['spec']['ports'][0]['port']}/nodes"

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
        log(f"6. ethstats: {sorted(nodes)} reported with the compiled secret, last blocks "
            f"{ {k: v['blocks'][-1] for k, v in sorted(nodes.items())} }")

    def check_metrics(self) -> None:
        def head_metric(name: str) -> int:
            pod = self.cluster.pod(name)
            port = pod.container("geth").resolve_port("metrics")
            with urllib.request.urlopen(f"http://{pod.ip}:{port}/debug/metrics/prometheus", timeout=5) as r:
                text = r.read().decode()
            m = re.search(r"^chain_head_block (\d+)", text, re.M)
            check(m is not None, f"{name}: no chain_head_block in the metrics")
            return int(m.group(1))
        first = {n: head_metric(n) for n in self.pod_names}
        for name in self.pod_names:
            wait_for(f"{name}'s chain_head_block to advance", lambda: head_metric(name) > first[name],
                     4 * self.period + 10)
        log(f"7. metrics: chain_head_block advances on every node (from {first})")

    def check_helm_test(self) -> None:
        tests = [d for d in yaml.safe_load_all(self.renders[self.current]) if d and d["kind"] == "Pod"]
        check(tests, "the rendering has no helm test Pod")
        for obj in tests:
            phase, logs = self.cluster.run_pod(obj, 300)
            check(phase == "Succeeded", f"helm test {obj['metadata']['name']}: {phase}\n{logs}")
        log(f"8. helm test: {', '.join(t['metadata']['name'] for t in tests)} passed")

    def rollout(self, version: str, timeout: float, context=lambda: "") -> float:
        """Applies the rendering for `version`, waits until every StatefulSet has rolled
        out, and checks Kubernetes' rolling order: pods replaced highest ordinal first,
        each Ready before the next; then every geth runs `version`. Returns the seconds
        it took; `context()` adds to the error if it times out."""
        first_event = len(self.cluster.events)
        t = time.monotonic()
        self.cluster.apply(self.renders[version])
        self.current = version
        try:
            wait_for(f"the rollout to {version}", lambda: all(self.cluster.statefulsets[s].rolled_out()
                                                              for s in self.statefulsets), timeout, 1)
        except Failure as e:
            raise Failure(f"{e}\n{context()}") from None
        duration = time.monotonic() - t
        events = [e for _, e in self.cluster.events[first_event:]]
        for sts in self.statefulsets:
            replaced = [e.split(": replacing ")[1].split()[0] for e in events
                        if e.startswith(f"statefulset {sts}: replacing ")]
            replicas = sum(1 for p in self.pod_names if p.rsplit("-", 1)[0] == sts)
            check(replaced == [f"{sts}-{i}" for i in reversed(range(replicas))],
                  f"{sts}: pods replaced in the order {replaced}")
            for victim, nxt in zip(replaced, replaced[1:]):
                ready_at = next((i for i, e in enumerate(events) if e == f"pod {victim} ready"), None)
                next_at = next(i for i, e in enumerate(events) if e.startswith(f"statefulset {sts}: replacing {nxt} "))
                check(ready_at is not None and ready_at < next_at,
                      f"{sts}: {nxt} was replaced before the new {victim} was Ready")
        for name in self.pod_names:
            got = self.attach_json(name, "web3.version.node")
            check(f"/{version}" in got, f"{name} runs {got}, not {version}")
        return duration

    def roll(self, version: str, label: str) -> None:
        """Rolls to another rendering (rollout) and checks the chain's liveness meanwhile."""
        first_block = self.head()
        duration = self.rollout(version, 900)
        # Liveness from the chain itself: the gaps between the timestamps of the
        # blocks sealed during the rollout, and since the last one.
        last_block = wait_for("a block after the rollout", lambda: self.head() > first_block and self.head(),
                              4 * self.period)
        stamps = [int(self.rpc("eth_getBlockByNumber", [hex(n), False])["timestamp"], 16)
                  for n in range(first_block, last_block + 1)]
        gaps = [b - a for a, b in zip(stamps, stamps[1:])] + [time.time() - stamps[-1]]
        largest = max(gaps)
        self.times[f"{label} duration"] = duration
        self.times[f"{label} largest gap"] = largest
        check(largest <= 2 * self.period,
              f"the chain stopped for {largest:.1f}s during the {label}, more than two periods: gaps {gaps}")
        log(f"{label}: every pod replaced highest ordinal first, each Ready before the next; "
            f"now {version} everywhere after {duration:.0f}s; blocks {first_block}..{last_block}, "
            f"largest gap {largest:.1f}s")

    def check_crash(self) -> None:
        victim = next(p for p in self.pod_names if self.nodes[p]["signerAddress"] not in ("", "-", None))
        pod = self.cluster.pod(victim)
        c = pod.container("geth")
        before = self.head()
        restarts = c.restarts
        log(f"11. crash: SIGKILL to {victim}'s geth (pid {c.pid}) at head {before}")
        c.signal(9)
        wait_for(f"{victim}'s geth to restart", lambda: c.restarts > restarts and pod.ready, 240, 1)
        self.check_mesh_of(victim)
        head = self.head()
        wait_for(f"{victim} to follow the head", lambda: int(self.attach(victim, "eth.blockNumber")) >= head,
                 6 * self.period)
        check(self.attach_json(victim, "admin.nodeInfo.enode").split("@")[0] == self.nodes[victim]["enode"].split("@")[0],
              f"{victim}: another identity after the restart")
        log(f"11. crash: {victim} restarted on its volume (restarts {c.restarts}), rejoined and follows the head")

    def check_mesh_of(self, name: str) -> None:
        def ok():
            have = {keccak(bytes.fromhex(p)).hex() for p in self.peers(name)}
            missing = [o for o in self.pod_names if o != name and self.nodes[o]["nodeId"] not in have]
            check(not missing, f"{name} is not connected to {missing}")
            return True
        wait_for(f"{name} to be connected to every node", ok, 120, 2)

    def check_hardening(self) -> None:
        count = 0
        for pod in self.cluster.live_pods():
            if pod.owner not in self.statefulsets:
                continue
            for c in pod.containers:
                status = dict(line.split(":\t", 1) for line in open(f"/proc/{c.pid}/status").read().splitlines()
                              if ":\t" in line)
                uids = status["Uid"].split()
                check(all(u != "0" for u in uids), f"{pod.name}/{c.name}: runs as uid {uids}")
                for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                    check(int(status[cap], 16) == 0, f"{pod.name}/{c.name}: {cap} {status[cap]}")
                check(status.get("NoNewPrivs", "0").strip() == "1", f"{pod.name}/{c.name}: new privileges allowed")
                r = c.exec(["/bin/sh", "-c", "touch /kuberneteth-probe 2>&1; echo $?"], 10)
                check(r.stdout.strip().endswith("1") and "Read-only" in r.stdout,
                      f"{pod.name}/{c.name}: the root file system is writable ({r.stdout.strip()})")
                count += 1
        log(f"12. hardening: {count} geth processes run as uid 10001, no capabilities, no new privileges, read-only root")

    # ---- run
    def run(self) -> None:
        versions = self.opts.versions
        self.renders = {}
        outs = {}
        for v in versions:
            outs[v], self.renders[v] = self.compile(v)
        self.load(outs[versions[0]], self.renders[versions[0]])
        self.current = versions[0]
        self.cluster = podrunner.Cluster(os.path.join(self.work, "cluster"), self.images())
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
        self.roll(versions[1], "9. upgrade")
        self.roll(versions[0], "10. rollback")
        self.check_crash()
        self.check_seals()
        self.check_logs()
        self.cluster.shutdown()
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
        log(f"13. export: {len(nodes)} exported nodes run side by side from their folders "
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
        log("13. init: `geth init` on a used datadir accepts the compiled genesis and refuses another one")

    def dump_logs(self, lines: int) -> None:
        if not self.cluster:
            return
        for pod in self.cluster.pods:
            for c in pod.init_containers + pod.containers:
                if os.path.exists(c.log_path):
                    print(f"\n===== {pod.name}/{c.name}, last {lines} lines =====", file=sys.stderr)
                    print("".join(open(c.log_path, errors="replace").readlines()[-lines:]), file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the kuberneteth-values binary")
    ap.add_argument("--helm", required=True)
    ap.add_argument("--chart", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "chart"))
    ap.add_argument("--release", default="live")
    ap.add_argument("--network", default=os.path.join(HERE, "network.yaml"))
    ap.add_argument("--geth", action="append", default=[], help="VERSION=PATH of a built geth (at least two)")
    ap.add_argument("--keep", action="store_true", default=os.environ.get("LIVE_KEEP") == "1")
    ap.add_argument("--log-lines", type=int, default=80)
    opts = ap.parse_args()
    opts.geth = dict(g.split("=", 1) for g in opts.geth)
    opts.versions = list(opts.geth)
    if len(opts.versions) != 2:
        ap.error("give --geth for the version to install and the version to upgrade to")
    # The driver is PID 1 of its PID namespace, which ignores signals it does not
    # handle: turn them into a clean stop (its exit then kills every pod process).
    def stop(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, stop)
    live = Live(opts)
    ok = False
    try:
        live.run()
        ok = True
    except Failure as e:
        print(f"\nlive: FAILED: {e}", file=sys.stderr)
    except KeyboardInterrupt as e:
        print(f"\nlive: interrupted ({e})", file=sys.stderr)
    except Exception as e:  # the driver's own error: still clean up and show logs
        import traceback
        traceback.print_exc()
        print(f"\nlive: ERROR: {e}", file=sys.stderr)
    finally:
        if not ok:
            live.dump_logs(opts.log_lines)
        if live.cluster:
            live.cluster.shutdown()
        if ok and not opts.keep:
            shutil.rmtree(live.work, ignore_errors=True)
        else:
            print(f"live: work directory kept: {live.work}", file=sys.stderr)
    if ok:
        print("live: times: " + ", ".join(f"{k} {v:.1f}s" for k, v in live.times.items()))
        print("live: OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
