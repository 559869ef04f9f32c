#!/usr/bin/env python3
"""Proof of stake from an export: the README's outside-Kubernetes recipe, run for real.

No Kubernetes: exports tests/live/export-pos-network.yaml (2 validator nodes of 8
validators and an rpc node, mainnet preset, Fulu, 2 s slots) with a secrets file of
its own, the genesis time set to a moment shortly after the driver starts, and starts
every node as the README says, from the node's folder, side by side on this host
(node i on 127.0.0.1+i), with geth v1.17.9 and Prysm v7.1.2 on PATH:

    geth init $(cat geth-init.args) && geth $(cat geth.args)
    beacon-chain $(cat beacon.args)
    validator $(cat validator.args)        # validator nodes

Then it checks, each wait bounded:
  1. every beacon node is connected to every other one (their static --peer lists),
     and has the compiled genesis time and genesis validators root;
  2. blocks: after genesis the beacon chain makes blocks, proposed by compiled
     validators of every validator node; every geth follows (its engine API driven
     by its own beacon node) and blocks pay fees to the network's fee recipient;
  3. an epoch is justified (`/eth/v1/beacon/states/head/finality_checkpoints` on
     each node's address and Beacon API port);
  4. every listening socket of every process (TCP, UDP; read from /proc) is on its
     node's own address;
  5. no process exited, and no Prysm process logged a panic or a fatal line.
Every process group is stopped at the end, whatever happened; the measured times are
printed. Run it through scripts/export-pos.sh (`make live-export-pos`).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from live import HERE, Failure, Fatal, check, log, run, wait_for

# From genesis: the first block, and blocks from every validator node (each holds half
# of the proposers, so k slots without one of its blocks is a 2^-k chance), in slots.
MAX_FIRST_BLOCK_SLOTS = 30
MAX_EVERY_PROPOSER_SLOTS = 64
# From genesis, the first justified epoch: epoch 1 can be justified once epoch 2 ends
# (slot 96); the bound leaves three epochs more for a loaded machine.
MAX_JUSTIFIED_EPOCHS = 6
# How long a process may take to stop after SIGTERM before it gets SIGKILL.
STOP_GRACE = 30


class Node:
    def __init__(self, export: str, entry: dict):
        self.name = entry["name"]
        self.ip = entry["ip"]
        self.role = entry["role"]
        self.folder = os.path.join(export, entry["dir"])
        self.beacon = entry["beacon"]
        self.http_port = entry.get("httpPort")


class ExportPos:
    def __init__(self, opts):
        self.opts = opts
        self.work = tempfile.mkdtemp(prefix="kuberneteth-export-pos-")
        self.times: dict[str, float] = {}
        self.procs: list[tuple[Node, str, subprocess.Popen]] = []
        self.genesis_time = int(time.time()) + opts.genesis_delay

    # ---- export
    def export(self) -> None:
        with open(self.opts.network) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^(\s*genesisTimestamp:\s*)\d+", rf"\g<1>{self.genesis_time}", text)
        check(n == 1, f"{self.opts.network}: no `genesisTimestamp:` line to set the genesis time in")
        want = re.search(r"(?m)^geth:\s*\{\s*version:\s*v([0-9.]+)", text)
        check(want is not None, f"{self.opts.network}: no `geth: {{ version: ... }}` line")
        got = subprocess.run([self.opts.geth, "version"], capture_output=True, text=True).stdout
        check(f"Version: {want.group(1)}" in got, f"{self.opts.geth} is not geth v{want.group(1)}:\n{got}")
        network = os.path.join(self.work, "network.yaml")
        with open(network, "w") as f:
            f.write(text)
        self.fee_recipient = re.search(r'(?m)^\s*feeRecipient:\s*"?(0x[0-9a-fA-F]{40})', text).group(1).lower()
        self.export_dir = os.path.join(self.work, "export")
        # A secrets file of its own, in the work directory: never another test's.
        secrets = os.path.join(self.work, "kuberneteth.secrets.yaml")
        t = time.monotonic()
        r = subprocess.run([self.opts.bin, "export", "-c", network, "-o", self.export_dir, "--secrets", secrets],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"export failed:\n{r.stdout}{r.stderr}")
        self.times["export"] = time.monotonic() - t
        with open(os.path.join(self.export_dir, "nodes.json")) as f:
            self.nodes = [Node(self.export_dir, n) for n in json.load(f)]
        with open(os.path.join(self.export_dir, "consensus", "validators.json")) as f:
            self.owner = {int(v["index"]): v["node"] for v in json.load(f)}
        self.validator_nodes = [n for n in self.nodes if n.role == "validator"]
        check(len(self.validator_nodes) >= 2 and len(self.nodes) > len(self.validator_nodes),
              "the export test needs at least 2 validator nodes and a node without validators")
        self.slot = int(re.search(r"(?m)^SECONDS_PER_SLOT:\s*(\d+)", self.config()).group(1))
        self.slots_per_epoch = 32  # the mainnet preset (Prysm here is built for it)
        log(f"exported {len(self.nodes)} nodes ({len(self.owner)} validators) in {self.times['export']:.1f}s "
            f"to {self.export_dir}; genesis in {self.genesis_time - time.time():.0f}s")

    def config(self) -> str:
        with open(os.path.join(self.export_dir, "consensus", "config.yaml")) as f:
            return f.read()

    # ---- processes: the README's recipe, from each node's folder
    def start(self) -> None:
        env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(self.opts.geth), self.opts.prysm,
                                                     os.environ.get("PATH", "")]))
        for n in self.nodes:
            commands = {"geth": "geth init $(cat geth-init.args) && exec geth $(cat geth.args)",
                        "beacon": "exec beacon-chain $(cat beacon.args)"}
            if os.path.exists(os.path.join(n.folder, "validator.args")):
                commands["validator"] = "exec validator $(cat validator.args)"
            check((n.role == "validator") == ("validator" in commands), f"{n.name}: validator.args on a {n.role} node")
            for what, script in commands.items():
                out = open(os.path.join(n.folder, f"{what}.log"), "w")
                p = subprocess.Popen(["sh", "-c", script], cwd=n.folder, env=env, stdout=out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
                out.close()
                self.procs.append((n, what, p))
        self.t_started = time.monotonic()
        log(f"started {len(self.procs)} processes: " + ", ".join(f"{n.name}/{w} ({p.pid})" for n, w, p in self.procs))

    def log_tail(self, n: Node, what: str, chars: int = 2000) -> str:
        try:
            with open(os.path.join(n.folder, f"{what}.log"), errors="replace") as f:
                return f.read()[-chars:]
        except OSError as e:
            return str(e)

    def running(self) -> None:
        """Fatal when any process has exited: nothing should stop while the network runs."""
        for n, what, p in self.procs:
            if p.poll() is not None:
                raise Fatal(f"{n.name}/{what} exited ({p.returncode}):\n{self.log_tail(n, what)}")

    def stop(self) -> None:
        """Every process group gets SIGTERM, then SIGKILL after STOP_GRACE seconds."""
        if all(p.returncode is not None for _, _, p in self.procs):
            return  # stopped already (or never started)
        t = time.monotonic()
        for _, _, p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE
        for n, what, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{n.name}/{what} still running {STOP_GRACE}s after SIGTERM: SIGKILL")
            try:
                os.killpg(p.pid, signal.SIGKILL)  # whatever is left of its group
            except ProcessLookupError:
                pass
            p.wait()
        self.times["stop"] = time.monotonic() - t
        log(f"stopped all {len(self.procs)} process groups in {self.times['stop']:.1f}s")

    # ---- access
    def beacon_api(self, n: Node, path: str, timeout: float = 5):
        """The node's Beacon API, on its own address."""
        url = f"http://{n.ip}:{n.beacon['apiPort']}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise Failure(f"{n.name}: {path}: HTTP {e.code} {e.read()[:200]!r}")
        except (urllib.error.URLError, OSError) as e:
            raise Failure(f"{n.name}: {path}: {e}")

    def rpc(self, n: Node, method: str, params=None):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
        req = urllib.request.Request(f"http://{n.ip}:{n.http_port}", body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                reply = json.loads(resp.read())
        except (urllib.error.URLError, OSError) as e:
            raise Failure(f"{n.name}: {method}: {e}")
        check("error" not in reply, f"{n.name}: {method}: {reply.get('error')}")
        return reply["result"]

    def geth_head(self, n: Node) -> int:
        ipc = os.path.join(n.folder, "data", "geth.ipc")
        r = subprocess.run([self.opts.geth, "attach", "--exec", "eth.blockNumber", ipc],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, f"{n.name}: geth attach: {r.stderr.strip()[-300:]}")
        return int(r.stdout.strip())

    def head_slot(self, n: Node) -> int:
        return int(self.beacon_api(n, "/eth/v1/beacon/headers/head")["data"]["header"]["message"]["slot"])

    def finality(self, n: Node) -> tuple[int, int]:
        d = self.beacon_api(n, "/eth/v1/beacon/states/head/finality_checkpoints")["data"]
        return int(d["current_justified"]["epoch"]), int(d["finalized"]["epoch"])

    def since_genesis(self) -> float:
        return time.time() - self.genesis_time

    def watched(self, probe):
        """probe, failing at once when a process has exited."""
        def run():
            self.running()
            return probe()
        return run

    # ---- the checks
    def check_peers(self) -> None:
        ids = {n.beacon["peerId"]: n for n in self.nodes}
        root = None

        def meshed():
            for n in self.nodes:
                peers = self.beacon_api(n, "/eth/v1/node/peers?state=connected")["data"]
                seen = {p["peer_id"]: p["last_seen_p2p_address"] for p in peers}
                strangers = set(seen) - set(ids)
                check(not strangers, f"{n.name}'s beacon node has peers outside the network: {strangers}")
                missing = [o.name for o in self.nodes if o is not n and o.beacon["peerId"] not in seen]
                check(not missing, f"{n.name}'s beacon node is not connected to {missing} (peers {seen})")
            return True
        wait_for("every beacon node to connect to every other", self.watched(meshed), self.opts.genesis_delay + 120, 2)
        self.times["start to beacon mesh"] = time.monotonic() - self.t_started
        for n in self.nodes:
            ident = self.beacon_api(n, "/eth/v1/node/identity")["data"]
            check(ident["peer_id"] == n.beacon["peerId"], f"{n.name}: peer id {ident['peer_id']}, compiled {n.beacon['peerId']}")
            g = self.beacon_api(n, "/eth/v1/beacon/genesis")["data"]
            check(int(g["genesis_time"]) == self.genesis_time, f"{n.name}: genesis time {g['genesis_time']}")
            root = root or g["genesis_validators_root"]
            check(g["genesis_validators_root"] == root, f"{n.name}: genesis validators root {g['genesis_validators_root']}, others {root}")
        log(f"1. every beacon node, under its compiled peer id, is connected to the {len(self.nodes) - 1} others "
            f"{self.times['start to beacon mesh']:.0f}s after the start; genesis time {self.genesis_time}, "
            f"validators root {root[:18]}… on all")

    def check_blocks(self) -> None:
        observer = self.nodes[-1]
        wait_for("genesis", self.watched(lambda: self.since_genesis() >= 0), self.opts.genesis_delay + 300, 1)
        first = wait_for("the first block", self.watched(lambda: self.head_slot(observer) > 0 and self.head_slot(observer)),
                         MAX_FIRST_BLOCK_SLOTS * self.slot, 1)
        self.times["genesis to first block"] = self.since_genesis()
        log(f"2. first block at slot {first}, seen {self.since_genesis():.0f}s after genesis")
        proposers: dict[int, int] = {}
        scanned = [0]  # the slots up to here are known (a block or none)

        def every_node_proposed():
            head = self.head_slot(observer)
            for s in range(scanned[0] + 1, head + 1):
                try:
                    h = self.beacon_api(observer, f"/eth/v1/beacon/headers/{s}")
                    proposers[s] = int(h["data"]["header"]["message"]["proposer_index"])
                except Failure as e:
                    if "HTTP 404" not in str(e):
                        raise
                scanned[0] = s
            bad = {s: i for s, i in proposers.items() if i not in self.owner}
            check(not bad, f"blocks by validators outside the compiled {len(self.owner)}: {bad}")
            by_node = {n.name: sorted(s for s, i in proposers.items() if self.owner[i] == n.name)
                       for n in self.validator_nodes}
            return all(by_node.values()) and by_node
        by_node = wait_for("blocks proposed by validators of every validator node", self.watched(every_node_proposed),
                           MAX_EVERY_PROPOSER_SLOTS * self.slot, 2)
        self.times["genesis to blocks from every validator node"] = self.since_genesis()
        log(f"2. {len(proposers)} blocks in slots 1..{scanned[0]}, all by compiled validators; block slots per node "
            + ", ".join(f"{k}: {v[:8]}{'…' if len(v) > 8 else ''}" for k, v in by_node.items()))
        # Execution: every geth follows, and blocks pay the fee recipient.
        heads = {n.name: wait_for(f"{n.name}'s geth to import blocks", self.watched(lambda: self.geth_head(n)),
                                  10 * self.slot, 1) for n in self.nodes}
        rpc_node = next(n for n in self.nodes if n.http_port)
        number = int(self.rpc(rpc_node, "eth_blockNumber"), 16)
        miners = {self.rpc(rpc_node, "eth_getBlockByNumber", [hex(b), False])["miner"].lower() for b in range(1, number + 1)}
        check(miners == {self.fee_recipient}, f"blocks 1..{number} pay fees to {miners}, not {self.fee_recipient}")
        log(f"2. execution heads {heads}; blocks 1..{number} pay fees to {self.fee_recipient} "
            f"(eth_getBlockByNumber on {rpc_node.name}'s HTTP at {rpc_node.ip}:{rpc_node.http_port})")

    def check_justified(self) -> None:
        seen = []

        def justified():
            j, f = self.finality(self.nodes[-1])
            if not seen or seen[-1] != (j, f):
                seen.append((j, f))
                log(f"3. justified epoch {j}, finalized epoch {f} ({self.since_genesis():.0f}s after genesis)")
            return j >= 1
        deadline = MAX_JUSTIFIED_EPOCHS * self.slots_per_epoch * self.slot - self.since_genesis()
        wait_for("a justified epoch", self.watched(justified), max(deadline, 10), 2)
        self.times["genesis to justified epoch"] = self.since_genesis()
        epochs = {}
        for n in self.nodes:
            epochs[n.name] = wait_for(f"{n.name}'s beacon node to justify an epoch",
                                      self.watched(lambda: self.finality(n)[0] >= 1 and self.finality(n)[0]),
                                      self.slots_per_epoch * self.slot, 2)
        log(f"3. epoch {seen[-1][0]} justified {self.times['genesis to justified epoch']:.0f}s after genesis "
            f"(slot {self.head_slot(self.nodes[-1])}); justified epochs per beacon node {epochs}")

    def listeners(self, pid: int) -> list[str]:
        """The listening TCP and bound UDP sockets of a process: `tcp IP:PORT`, from /proc."""
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        out = []
        for proto, listening in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
            with open(f"/proc/net/{proto}") as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[9] not in inodes or fields[3] != listening:
                        continue
                    addr, port = fields[1].split(":")
                    raw = bytes.fromhex(addr)
                    if len(raw) == 4:
                        ip = ".".join(str(b) for b in reversed(raw))
                    else:  # four little-endian 32-bit words
                        ip = ":".join(raw[i:i + 4][::-1].hex() for i in range(0, 16, 4))
                    out.append(f"{proto} {ip}:{int(port, 16)}")
        return sorted(out)

    def check_listeners(self) -> None:
        summary = {}
        for n, what, p in self.procs:
            got = self.listeners(p.pid)
            check(got, f"{n.name}/{what} (pid {p.pid}) listens on nothing")
            elsewhere = [a for a in got if a.split()[1].rsplit(":", 1)[0] != n.ip]
            check(not elsewhere, f"{n.name}/{what} listens beside its address {n.ip}: {elsewhere}")
            summary[f"{n.name}/{what}"] = " ".join(sorted(a.split()[0] + ":" + a.rsplit(":", 1)[1] for a in got))
        log(f"4. every listener on its node's address; ports {summary}")

    def check_logs(self) -> None:
        self.running()
        for n, what, _ in self.procs:
            if what == "geth":
                continue
            with open(os.path.join(n.folder, f"{what}.log"), errors="replace") as f:
                for line in f:
                    check(not line.startswith(("panic:", "fatal error:")) and "level=fatal" not in line,
                          f"{n.name}/{what}: {line.strip()[:600]}")
        log("5. every process still running; no panic or fatal line from Prysm")

    def teardown(self) -> None:
        """What `run` does after the checks, whatever happened: stop every process
        (again, should the run have been interrupted while stopping)."""
        self.stop()

    def dump_logs(self, lines: int) -> None:
        for n, what, _ in self.procs:
            print(f"\n===== {n.name}/{what}, last {lines} lines =====", file=sys.stderr)
            print("\n".join(self.log_tail(n, what, 200_000).splitlines()[-lines:]), file=sys.stderr)

    def run(self) -> None:
        t = time.monotonic()
        self.export()
        try:
            self.start()
            self.check_peers()
            self.check_blocks()
            self.check_justified()
            self.check_listeners()
            self.check_logs()
        finally:
            self.stop()
        self.times["total"] = time.monotonic() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the kuberneteth-values binary")
    ap.add_argument("--geth", required=True, help="geth v1.17.9")
    ap.add_argument("--prysm", required=True, help="the folder holding Prysm's beacon-chain and validator")
    ap.add_argument("--network", default=os.path.join(HERE, "export-pos-network.yaml"))
    ap.add_argument("--genesis-delay", type=int, default=int(os.environ.get("LIVE_GENESIS_DELAY", "60")),
                    help="seconds from the start of the driver to genesis (time to export and start every process)")
    ap.add_argument("--keep", action="store_true", default=os.environ.get("LIVE_KEEP") == "1")
    ap.add_argument("--log-lines", type=int, default=40)
    opts = ap.parse_args()
    # The processes run in their nodes' folders.
    opts.bin, opts.geth, opts.prysm = (os.path.abspath(p) for p in (opts.bin, opts.geth, opts.prysm))
    for cmd in ("beacon-chain", "validator"):
        if not os.access(os.path.join(opts.prysm, cmd), os.X_OK):
            ap.error(f"no {cmd} in {opts.prysm}")
    return run(ExportPos(opts), "export-pos")


if __name__ == "__main__":
    sys.exit(main())
