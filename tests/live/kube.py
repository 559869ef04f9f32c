"""The live tests' hands on a real cluster: Helm for the release, kubectl for the rest.

The drivers (live.py, live_pos.py) run inside the namespaces of the test cluster
(scripts/cluster.sh), on its node: they reach pod IPs and Service IPs as a client in
the cluster does, and see the node's processes, which is how a container is killed
with SIGKILL (as the kernel's OOM killer or a crash would) and how its credentials
and root file system are read. Everything else goes through the Kubernetes API:
kubectl and helm with the cluster's KUBECONFIG.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time


class KubeError(Exception):
    pass


class Kube:
    def __init__(self, helm: str, namespace: str, release: str, chart: str):
        self.helm_bin = helm
        self.namespace = namespace
        self.release = release
        self.chart = chart
        self.events: list[tuple[float, str]] = []
        self.t0 = time.monotonic()
        self._watch: threading.Thread | None = None
        self._watcher: subprocess.Popen | None = None
        self._stopping = False

    # ---- commands
    def run(self, *args: str, input: str | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
        try:
            r = subprocess.run(args, capture_output=True, text=True, input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise KubeError(f"{' '.join(args[:6])} … timed out after {timeout:.0f}s") from None
        if check and r.returncode != 0:
            raise KubeError(f"{' '.join(args[:8])} … failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-1500:]}")
        return r

    def kubectl(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.run("kubectl", "-n", self.namespace, *args, **kw)

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def helm(self, *args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(self.helm_bin, "--namespace", self.namespace, *args, timeout=timeout, check=check)

    # ---- the release
    def create_namespace(self) -> None:
        """The release's namespace, under the restricted Pod Security Standard."""
        self.run("kubectl", "create", "namespace", self.namespace)
        self.run("kubectl", "label", "namespace", self.namespace, "pod-security.kubernetes.io/enforce=restricted",
                 "pod-security.kubernetes.io/enforce-version=latest")

    def values_args(self, out: str) -> list[str]:
        return ["-f", os.path.join(out, "values.yaml"), "-f", os.path.join(out, "secrets.values.yaml")]

    def install(self, out: str, timeout: str = "15m") -> None:
        self.helm("install", self.release, self.chart, *self.values_args(out), "--wait", "--timeout", timeout)

    def upgrade(self, out: str, timeout: str = "15m") -> None:
        self.helm("upgrade", self.release, self.chart, *self.values_args(out), "--wait", "--timeout", timeout)

    def rollback(self, revision: int, timeout: str = "15m") -> None:
        self.helm("rollback", self.release, str(revision), "--wait", "--timeout", timeout)

    def history(self) -> list[dict]:
        return json.loads(self.helm("history", self.release, "-o", "json").stdout)

    def test(self, attempts: int = 3) -> str:
        """`helm test`, retried briefly: right after --wait, kube-proxy may still be
        programming new endpoints while old pods terminate."""
        for attempt in range(attempts):
            r = self.helm("test", self.release, "--logs", "--timeout", "10m", check=False)
            if r.returncode == 0:
                return r.stdout
            if attempt == attempts - 1:
                raise KubeError(f"helm test failed:\n{r.stdout}{r.stderr}")
            time.sleep(10)
        return ""

    def uninstall(self) -> None:
        self.helm("uninstall", self.release, "--wait", "--timeout", "5m")

    # ---- pods
    def pods(self) -> dict[str, dict]:
        return {p["metadata"]["name"]: p for p in self.get("pods")["items"]}

    def pod(self, name: str) -> dict:
        return self.get("pod", name)

    @staticmethod
    def is_ready(pod: dict) -> bool:
        if pod["metadata"].get("deletionTimestamp"):
            return False
        return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])

    def ready(self, name: str) -> bool:
        return self.is_ready(self.pod(name))

    def pod_ip(self, name: str) -> str:
        ip = self.pod(name)["status"].get("podIP")
        if not ip:
            raise KubeError(f"{name} has no IP yet")
        return ip

    def container_status(self, pod: str, container: str, pod_obj: dict | None = None) -> dict:
        obj = pod_obj or self.pod(pod)
        for c in (obj["status"].get("containerStatuses") or []) + (obj["status"].get("initContainerStatuses") or []):
            if c["name"] == container:
                return c
        raise KubeError(f"{pod} has no container {container}")

    def restarts(self, pod: str, container: str) -> int:
        return int(self.container_status(pod, container)["restartCount"])

    def service_ip(self, name: str) -> str:
        return self.get("service", name)["spec"]["clusterIP"]

    def exec(self, pod: str, container: str, command: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
        return self.kubectl("exec", pod, "-c", container, "--", *command, check=False, timeout=timeout)

    def logs(self, pod: str, container: str, previous: bool = False) -> str:
        args = ["logs", pod, "-c", container] + (["--previous"] if previous else [])
        r = self.kubectl(*args, check=False, timeout=60)
        return r.stdout if r.returncode == 0 else ""

    # ---- the node's view of a container
    def container_pid(self, pod: str, container: str) -> int:
        """The node's PID of the container's first process (PID 1 in its namespace)."""
        cid = self.container_status(pod, container).get("containerID", "").split("://")[-1]
        if not cid:
            raise KubeError(f"{pod}/{container} is not running")
        candidates = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cgroup") as f:
                    if cid not in f.read():
                        continue
                with open(f"/proc/{pid}/status") as f:
                    status = dict(ln.split(":\t", 1) for ln in f.read().splitlines() if ":\t" in ln)
            except OSError:
                continue
            if status.get("NSpid", "").split()[-1:] == ["1"]:
                candidates.append(int(pid))
        if len(candidates) != 1:
            raise KubeError(f"{pod}/{container} ({cid[:12]}): found processes {candidates}")
        return candidates[0]

    def process_status(self, pid: int) -> dict[str, str]:
        with open(f"/proc/{pid}/status") as f:
            return {k: v.strip() for k, v in (ln.split(":\t", 1) for ln in f.read().splitlines() if ":\t" in ln)}

    def root_read_only(self, pid: int) -> bool:
        with open(f"/proc/{pid}/mountinfo") as f:
            for line in f:
                fields = line.split()
                if fields[4] == "/":
                    return "ro" in fields[5].split(",")
        raise KubeError(f"process {pid} has no root mount")

    # ---- what a user does
    def evict(self, pod: str) -> tuple[bool, str]:
        """Asks the eviction API (what `kubectl drain` does); True when it evicts."""
        body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                           "metadata": {"name": pod, "namespace": self.namespace}})
        r = self.run("kubectl", "create", "--raw",
                     f"/api/v1/namespaces/{self.namespace}/pods/{pod}/eviction", "-f", "-",
                     input=body, check=False)
        return r.returncode == 0, (r.stderr or r.stdout).strip()

    def claim_path(self, claim: str) -> str:
        """The node folder behind a PersistentVolumeClaim (the test cluster's local volumes)."""
        pvc = self.get("pvc", claim)
        pv = json.loads(self.run("kubectl", "get", "pv", pvc["spec"]["volumeName"], "-o", "json").stdout)
        return pv["spec"]["local"]["path"]

    # ---- a record of the pods' lives, for checking rollout order
    def event(self, text: str) -> None:
        self.events.append((time.monotonic() - self.t0, text))

    def watch(self) -> None:
        """Records, in the background and in the API server's own order (a watch),
        each pod's deletion and each time a pod becomes Ready."""
        def loop():
            seen: dict[str, tuple[str, bool, bool]] = {}  # name -> (uid, deleting, ready)
            decoder = json.JSONDecoder()
            # The API server ends a watch after a while; a new one begins with every
            # pod as it is (ADDED), which `seen` absorbs.
            while not self._stopping:
                self._watcher = subprocess.Popen(
                    ["kubectl", "-n", self.namespace, "get", "pods", "--watch", "--output-watch-events", "-o", "json"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                buf = ""
                for line in self._watcher.stdout:
                    buf += line
                    try:
                        change, end = decoder.raw_decode(buf.lstrip())
                    except ValueError:
                        continue
                    buf = buf.lstrip()[end:]
                    pod = change["object"]
                    name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
                    deleting = change["type"] == "DELETED" or bool(pod["metadata"].get("deletionTimestamp"))
                    ready = self.is_ready(pod)
                    old = seen.get(name)
                    if deleting and not (old and old[0] == uid and old[1]):
                        self.event(f"pod {name} deleting")
                    if ready and not (old and old[0] == uid and old[2]):
                        self.event(f"pod {name} ready")
                    seen[name] = (uid, deleting, ready)
                self._watcher.wait()
        self._watch = threading.Thread(target=loop, daemon=True)
        self._watch.start()

    def stop_watch(self) -> None:
        self._stopping = True
        if self._watcher and self._watcher.poll() is None:
            self._watcher.terminate()
            self._watcher.wait()
        if self._watch:
            self._watch.join(5)
