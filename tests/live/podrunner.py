"""A small kubelet, StatefulSet controller, kube-proxy and cluster DNS for tests.

`helm template` output goes in; the pods of its StatefulSets and Deployments (and
the helm test Pods, on request) come out as real processes, run as a kubelet
would run them, as faithfully as one machine without a container runtime allows:

- every pod gets a network namespace with a veth on the bridge `kbr0` and an
  address of its own on 10.244.0.0/16 (a /32 routed through 10.244.0.1, so that
  pod-to-pod traffic crosses the NAT below); nothing is routed outside the
  namespaces the runner itself lives in (the driver runs under `unshare --net`);
- every container gets its own mount namespace and root (container.py): the
  image's folders read-only, the pod's volumes at their mountPaths, the
  securityContext (user, group, fsGroup, read-only root, no capabilities, no new
  privileges);
- volumes: configMap and secret (written from the rendered objects with their
  modes, through a `..data` link as kubelet's atomic writer does; secrets on
  tmpfs), emptyDir (tmpfs for `medium: Memory`), and one persistent folder per
  PersistentVolumeClaim that outlives its pod;
- Services: a ClusterIP per Service (nftables DNAT to the endpoints, as
  kube-proxy does), headless Services answer with their pods; `dnsmasq` serves
  `<svc>.<ns>.svc.cluster.local` and `<pod>.<svc>.<ns>.svc.cluster.local` at
  10.96.0.10, and each pod's resolv.conf has the cluster's search list;
- init containers in order, then the containers; startup, readiness and liveness
  probes (exec, tcpSocket, httpGet) with their periods and thresholds; restarts
  with back-off; readiness feeds Service endpoints and the StatefulSet controller;
- StatefulSets: podManagementPolicy, RollingUpdate from the highest ordinal down
  to the partition, one pod at a time, each Ready before the next.

Images are folders (see `Image`): the runner does not pull images; the test maps
each image name to a folder holding the binaries that image has.
Not modelled: seccomp, resource limits, scale-down, pod anti-affinity, node
placement.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CONTAINER_PY = os.path.join(HERE, "container.py")
DNS_IP = "10.96.0.10"
GATEWAY = "10.244.0.1"
CLUSTER_DOMAIN = "cluster.local"
BACKOFF_START, BACKOFF_MAX = 10.0, 300.0


def run(*argv: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, input=input, text=True, capture_output=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def labels_match(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def template_hash(template: dict) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


# --------------------------------------------------------------------------- images

@dataclass
class Image:
    """What a container image holds, as a folder on this machine.

    `files` maps paths inside the image to files here (e.g. /usr/local/bin/geth);
    `links` maps paths inside the image to symbolic link targets (e.g.
    /app/cmd/validator/validator -> /validator); `entrypoint` is the image's ENTRYPOINT. Every image gets busybox as /bin/sh with
    its applets, as Alpine-based images have. `host_command`, when set, replaces the
    image: the container runs that command on the host file system, in the pod's
    network namespace (for servers the test provides in place of an image).
    """
    name: str
    files: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] = field(default_factory=list)
    host_command: list[str] | None = None
    root: str = ""

    def build(self, work: str) -> None:
        if self.host_command is not None:
            return
        self.root = os.path.join(work, "images", self.name.replace("/", "_").replace(":", "_"))
        if os.path.isdir(self.root):
            shutil.rmtree(self.root)
        binaries = {"/bin/busybox": shutil.which("busybox") or "/bin/busybox", **self.files}
        for inside, outside in binaries.items():
            self._copy(outside, inside)
            for lib in _shared_libraries(outside):
                self._copy(lib, lib)
        for applet in run("busybox", "--list").stdout.split():
            link = os.path.join(self.root, "bin", applet)
            if not os.path.exists(link):
                os.symlink("busybox", link)
        if _busybox_lacks_wget_timeout():
            # Debian's busybox before 1.36.1-5 is built without `wget -T` and crashes
            # on it; Alpine's (the images') has it. The same, with busybox's timeout.
            wget = os.path.join(self.root, "bin", "wget")
            os.unlink(wget)
            with open(wget, "w") as f:
                f.write(WGET_WITH_TIMEOUT)
            os.chmod(wget, 0o755)
        for inside, target in self.links.items():
            os.makedirs(os.path.dirname(self.root + inside), exist_ok=True)
            os.symlink(target, self.root + inside)
        os.makedirs(os.path.join(self.root, "etc"), exist_ok=True)
        with open(os.path.join(self.root, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n")
        with open(os.path.join(self.root, "etc", "group"), "w") as f:
            f.write("root:x:0:root\nnogroup:x:65534:\n")
        for d in ("tmp", "run", "root", "var"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)

    def _copy(self, outside: str, inside: str) -> None:
        target = self.root + inside
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.realpath(outside), target)
        os.chmod(target, 0o755)


WGET_WITH_TIMEOUT = """#!/bin/sh
# busybox wget with -T SECONDS (see Image.build)
t=""
set -- "$@" --
while [ "$1" != -- ]; do
  case "$1" in
    -T) t=$2; shift 2 ;;
    -T*) t=${1#-T}; shift ;;
    *) set -- "$@" "$1"; shift ;;
  esac
done
shift
exec ${t:+timeout "$t"} busybox wget "$@"
"""


def _busybox_lacks_wget_timeout() -> bool:
    r = subprocess.run(["busybox", "wget", "-q", "-T", "1", "-O", "/dev/null", "http://127.0.0.1:9/"],
                       capture_output=True)
    return r.returncode < 0 or r.returncode == 139


def _shared_libraries(binary: str) -> list[str]:
    out = run("ldd", binary, check=False).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0] if parts and parts[0].startswith("/") else ""
        if path.startswith("/"):
            libs.append(path)
    return libs


# --------------------------------------------------------------------------- pods

class Container:
    """One container of a pod: its process, its restarts and its probes."""

    def __init__(self, pod: "Pod", spec: dict, init: bool):
        self.pod, self.spec, self.init = pod, spec, init
        self.name = spec["name"]
        self.proc: subprocess.Popen | None = None
        self.pid = 0
        self.started = False  # startup probe passed
        self.ready = False
        self.restarts = 0
        self.exit_code: int | None = None
        self.log_path = os.path.join(pod.dir, "logs", f"{self.name}.log")
        self.spec_path = os.path.join(pod.dir, "containers", f"{self.name}.json")

    # -- process
    def start(self) -> None:
        pod, spec = self.pod, self.spec
        image = pod.cluster.image(spec["image"])
        env = pod.resolve_env(spec)
        if image.host_command is not None:
            argv = image.host_command + list(spec.get("args") or [])
            launcher = ["nsenter", f"--net=/run/netns/{pod.netns}", "--"] + argv
            self.exit_code = None
            with open(self.log_path, "a") as log:
                self.proc = subprocess.Popen(launcher, stdout=log, stderr=subprocess.STDOUT,
                                             env=env, start_new_session=True)
            self.pid = self.proc.pid
            return
        command = spec.get("command") or image.entrypoint
        args = spec.get("args") if spec.get("args") is not None else ([] if spec.get("command") else [])
        security = pod.security(spec)
        pidfile = os.path.join(pod.dir, "containers", f"{self.name}.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        container_spec = {
            "root": os.path.join(pod.dir, "rootfs", self.name),
            "image": image.root,
            "etcFiles": pod.etc_files,
            "mounts": pod.mounts(spec),
            "argv": list(command) + list(args),
            "env": env,
            "workingDir": spec.get("workingDir"),
            "pidfile": pidfile,
            **security,
        }
        with open(self.spec_path, "w") as f:
            json.dump(container_spec, f, indent=1)
        launcher = ["nsenter", f"--net=/run/netns/{pod.netns}", "unshare", "--mount", "--fork", "--",
                    sys.executable, CONTAINER_PY, "run", self.spec_path]
        self.exit_code = None
        with open(self.log_path, "a") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} start {pod.name}/{self.name} (restart {self.restarts})\n")
            log.flush()
            self.proc = subprocess.Popen(launcher, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        # The container's main process writes its PID just before it execs; until
        # then (or if it never gets there) there is no process to signal or probe.
        self.pid = 0
        deadline = time.monotonic() + 30
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                self.pid = int(open(pidfile).read())
                break
            except (OSError, ValueError):
                time.sleep(0.02)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self) -> int:
        assert self.proc is not None
        code = self.proc.wait()
        self.exit_code = code
        return code

    def signal(self, sig: int) -> None:
        """A signal to the container's main process (what `docker kill` does)."""
        if self.running() and self.pid:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, grace: float) -> None:
        """SIGTERM, then after the grace period SIGKILL to everything it started."""
        if not self.running():
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    # -- probes
    def probe(self, probe: dict) -> bool:
        timeout = float(probe.get("timeoutSeconds", 1))
        try:
            if "exec" in probe:
                return self.exec(probe["exec"]["command"], timeout).returncode == 0
            port = self.resolve_port((probe.get("tcpSocket") or probe.get("httpGet"))["port"])
            if "tcpSocket" in probe:
                with socket.create_connection((self.pod.ip, port), timeout=timeout):
                    return True
            get = probe["httpGet"]
            url = f"http://{self.pod.ip}:{port}{get.get('path', '/')}"
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                return 200 <= resp.status < 400
        except (OSError, subprocess.TimeoutExpired, ValueError):
            return False

    def exec(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess:
        """Runs a command inside this container (what `kubectl exec` and exec probes do)."""
        image = self.pod.cluster.image(self.spec["image"])
        if image.host_command is not None:
            cmd = ["nsenter", f"--net=/run/netns/{self.pod.netns}", "--"] + list(argv)
        else:
            cmd = ["nsenter", "-t", str(self.pid), "-m", "-n", "--",
                   sys.executable, CONTAINER_PY, "exec", self.spec_path, "--"] + list(argv)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def resolve_port(self, port) -> int:
        if isinstance(port, int):
            return port
        for p in self.spec.get("ports") or []:
            if p.get("name") == port:
                return int(p["containerPort"])
        raise ValueError(f"no port named {port}")


class Pod:
    """A pod's sandbox (network namespace, /etc files, volumes) and its kubelet loop."""

    def __init__(self, cluster: "Cluster", name: str, obj_meta: dict, spec: dict, revision: str = "",
                 owner: str = "", ordinal: int = -1):
        self.cluster, self.name, self.spec = cluster, name, spec
        self.namespace = cluster.namespace
        self.labels = dict(obj_meta.get("labels") or {})
        self.annotations = dict(obj_meta.get("annotations") or {})
        self.revision, self.owner, self.ordinal = revision, owner, ordinal
        self.uid = f"{name}-{cluster.next_index()}"
        self.dir = os.path.join(cluster.work, "pods", self.uid)
        self.netns = f"pod-{self.uid}"[:60]
        self.ip = ""
        self.phase = "Pending"
        self.deleting = threading.Event()
        self.done = threading.Event()
        self.init_containers = [Container(self, c, True) for c in spec.get("initContainers") or []]
        self.containers = [Container(self, c, False) for c in spec["containers"]]
        self.tmpfs: list[str] = []
        self.etc_files: dict[str, str] = {}
        self.volumes: dict[str, str] = {}
        self.thread = threading.Thread(target=self._kubelet, name=f"kubelet-{name}", daemon=True)

    @property
    def ready(self) -> bool:
        return self.phase == "Running" and all(c.ready for c in self.containers) and not self.deleting.is_set()

    def container(self, name: str) -> Container:
        return next(c for c in self.containers + self.init_containers if c.name == name)

    def start(self) -> None:
        self.cluster.event(f"pod {self.name} created" + (f" (revision {self.revision})" if self.revision else ""))
        self.thread.start()

    def delete(self, wait: bool = True) -> None:
        if not self.deleting.is_set():
            self.cluster.event(f"pod {self.name} deleting")
            self.deleting.set()
            self.cluster.sync_network()
        if wait:
            self.done.wait()

    # -- the kubelet loop
    def _kubelet(self) -> None:
        try:
            try:
                self._sandbox()
            except (OSError, RuntimeError) as e:
                self.phase = "Failed"
                self.cluster.event(f"pod {self.name} sandbox failed: {e}")
                return
            self.cluster.sync_network()
            restart_never = self.spec.get("restartPolicy", "Always") == "Never"
            for c in self.init_containers:
                backoff = BACKOFF_START
                while not self.deleting.is_set():
                    c.start()
                    if c.wait() == 0:
                        break
                    self.cluster.event(f"pod {self.name} init container {c.name} failed ({c.exit_code})")
                    if restart_never:
                        self.phase = "Failed"
                        return
                    c.restarts += 1
                    if self.deleting.wait(backoff):
                        break
                    backoff = min(backoff * 2, BACKOFF_MAX)
            if self.deleting.is_set():
                return
            self.phase = "Running"
            supervisors = [threading.Thread(target=self._supervise, args=(c, restart_never), daemon=True)
                           for c in self.containers]
            for s in supervisors:
                s.start()
            for s in supervisors:
                s.join()
            if restart_never and not self.deleting.is_set():
                self.phase = "Succeeded" if all(c.exit_code == 0 for c in self.containers) else "Failed"
        finally:
            grace = float(self.spec.get("terminationGracePeriodSeconds", 30))
            for c in self.containers + self.init_containers:
                c.stop(grace)
            self._teardown()
            self.cluster.event(f"pod {self.name} {self.phase.lower() if self.phase in ('Succeeded', 'Failed') else 'gone'}")
            self.done.set()
            self.cluster.sync_network()

    def _supervise(self, c: Container, restart_never: bool) -> None:
        backoff = BACKOFF_START
        while not self.deleting.is_set():
            c.started = c.ready = False
            c.start()
            began = time.monotonic()
            killed_by_probe = self._probe_until_exit(c)
            if killed_by_probe or self.deleting.is_set():
                c.stop(float(self.spec.get("terminationGracePeriodSeconds", 30)))
            code = c.wait()
            c.started = c.ready = False
            self.cluster.sync_network()
            if self.deleting.is_set():
                return
            self.cluster.event(f"pod {self.name} container {c.name} exited ({code})"
                               + (f", {killed_by_probe}" if killed_by_probe else ""))
            if restart_never:
                return
            c.restarts += 1
            if time.monotonic() - began > 600:
                backoff = BACKOFF_START
            if self.deleting.wait(backoff):
                return
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _probe_until_exit(self, c: Container) -> str:
        """Runs the container's probes while it lives; returns why it was killed, if it was."""
        startup, readiness, liveness = (c.spec.get(k) for k in ("startupProbe", "readinessProbe", "livenessProbe"))
        failures = {"startup": 0, "readiness": 0, "liveness": 0}
        successes = {"readiness": 0}
        due = {"startup": time.monotonic() + float((startup or {}).get("initialDelaySeconds", 0))}
        if not startup:
            c.started = True
            self._after_start(due, readiness, liveness)
            if not readiness:
                self._set_ready(c, True)
        while c.running() and not self.deleting.is_set():
            now = time.monotonic()
            if not c.started and now >= due["startup"]:
                due["startup"] = now + float(startup.get("periodSeconds", 10))
                if c.probe(startup):
                    c.started = True
                    self._after_start(due, readiness, liveness)
                    if not readiness:
                        self._set_ready(c, True)
                else:
                    failures["startup"] += 1
                    if failures["startup"] >= int(startup.get("failureThreshold", 3)):
                        return "startup probe failed"
            if c.started and readiness and now >= due["readiness"]:
                due["readiness"] = now + float(readiness.get("periodSeconds", 10))
                if c.probe(readiness):
                    failures["readiness"] = 0
                    successes["readiness"] += 1
                    if successes["readiness"] >= int(readiness.get("successThreshold", 1)):
                        self._set_ready(c, True)
                else:
                    successes["readiness"] = 0
                    failures["readiness"] += 1
                    if failures["readiness"] >= int(readiness.get("failureThreshold", 3)):
                        self._set_ready(c, False)
            if c.started and liveness and now >= due["liveness"]:
                due["liveness"] = now + float(liveness.get("periodSeconds", 10))
                if c.probe(liveness):
                    failures["liveness"] = 0
                else:
                    failures["liveness"] += 1
                    if failures["liveness"] >= int(liveness.get("failureThreshold", 3)):
                        return "liveness probe failed"
            time.sleep(0.2)
        return ""

    @staticmethod
    def _after_start(due: dict, readiness: dict | None, liveness: dict | None) -> None:
        now = time.monotonic()
        due["readiness"] = now + float((readiness or {}).get("initialDelaySeconds", 0))
        due["liveness"] = now + float((liveness or {}).get("initialDelaySeconds", 0))

    def _set_ready(self, c: Container, ready: bool) -> None:
        if c.ready != ready:
            was = self.ready
            c.ready = ready
            self.cluster.sync_network()
            if self.ready != was:
                self.cluster.event(f"pod {self.name} {'ready' if self.ready else 'not ready'}")

    # -- sandbox
    def _sandbox(self) -> None:
        for d in ("logs", "containers", "rootfs", "etc", "volumes"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        self.ip = self.cluster.attach_pod(self)
        hostname = self.spec.get("hostname") or self.name
        sub = self.spec.get("subdomain")
        fqdn = f"{hostname}.{sub}.{self.namespace}.svc.{CLUSTER_DOMAIN}" if sub else ""
        ns = self.namespace
        files = {
            "hosts": f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                     f"{self.ip}\t{(fqdn + ' ') if fqdn else ''}{hostname}\n",
            "resolv.conf": f"search {ns}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}\n"
                           f"nameserver {DNS_IP}\noptions ndots:5\n",
            "hostname": hostname + "\n",
        }
        for name, text in files.items():
            path = os.path.join(self.dir, "etc", name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
            self.etc_files[name] = path
        fs_group = (self.spec.get("securityContext") or {}).get("fsGroup")
        for vol in self.spec.get("volumes") or []:
            self.volumes[vol["name"]] = self._volume(vol, fs_group)
        for claim in self.cluster.claims_for(self):
            self.volumes[claim] = self.cluster.persistent_dir(f"{claim}-{self.name}", fs_group)

    def _volume(self, vol: dict, fs_group: int | None) -> str:
        path = os.path.join(self.dir, "volumes", vol["name"])
        os.makedirs(path)
        if "emptyDir" in vol:
            empty = vol["emptyDir"] or {}
            if empty.get("medium") == "Memory":
                self._tmpfs(path, empty.get("sizeLimit"))
            os.chmod(path, 0o777)
            if fs_group is not None:
                os.chown(path, 0, fs_group)
                os.chmod(path, 0o2777)
            return path
        if "configMap" in vol or "secret" in vol:
            source = vol.get("configMap") or vol.get("secret")
            kind = "ConfigMap" if "configMap" in vol else "Secret"
            name = source.get("name") or source.get("secretName")
            data = self.cluster.object_data(kind, name)
            if data is None:
                if source.get("optional"):
                    data = {}
                else:
                    raise RuntimeError(f"pod {self.name}: {kind} {name} not found")
            if kind == "Secret":
                self._tmpfs(path, None)
            items = source.get("items") or [{"key": k, "path": k} for k in sorted(data)]
            stamp = os.path.join(path, "..data_1")
            os.makedirs(stamp)
            for item in items:
                mode = item.get("mode", source.get("defaultMode", 0o644))
                target = os.path.join(stamp, item["path"])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(data[item["key"]])
                os.chmod(target, mode)
                if fs_group is not None:
                    os.chown(target, 0, fs_group)
                top = item["path"].split("/")[0]
                if not os.path.lexists(os.path.join(path, top)):
                    os.symlink(os.path.join("..data", top), os.path.join(path, top))
            os.symlink("..data_1", os.path.join(path, "..data"))
            os.chmod(path, 0o1777 if kind == "Secret" else 0o755)
            os.chmod(stamp, 0o755)
            return path
        raise RuntimeError(f"pod {self.name}: volume {vol['name']} has a type this runner does not model")

    def _tmpfs(self, path: str, size: str | None) -> None:
        opts = "mode=0777" + (f",size={_bytes(size)}" if size else "")
        run("mount", "-t", "tmpfs", "-o", opts, "tmpfs", path)
        self.tmpfs.append(path)

    def _teardown(self) -> None:
        for path in reversed(self.tmpfs):
            run("umount", "-l", path, check=False)
        self.cluster.detach_pod(self)
        shutil.rmtree(os.path.join(self.dir, "rootfs"), ignore_errors=True)

    # -- container specs
    def mounts(self, spec: dict) -> list[dict]:
        out = []
        for m in spec.get("volumeMounts") or []:
            source = self.volumes[m["name"]]
            if m.get("subPath"):
                source = os.path.join(source, m["subPath"])
            out.append({"source": source, "mountPath": m["mountPath"], "readOnly": bool(m.get("readOnly"))})
        return out

    def security(self, spec: dict) -> dict:
        pod_sc = self.spec.get("securityContext") or {}
        sc = {**pod_sc, **(spec.get("securityContext") or {})}
        if sc.get("runAsNonRoot") and sc.get("runAsUser", 0) == 0:
            raise RuntimeError(f"pod {self.name}: runAsNonRoot with a root user would not start")
        uid, gid = int(sc.get("runAsUser", 0)), int(sc.get("runAsGroup", 0))
        groups = sorted({gid, *([int(pod_sc["fsGroup"])] if "fsGroup" in pod_sc else []),
                         *map(int, pod_sc.get("supplementalGroups") or [])})
        caps = sc.get("capabilities") or {}
        dropped = [c.upper() for c in caps.get("drop") or []]
        default = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
                   "NET_BIND_SERVICE", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP", "NET_RAW"]
        keep = [] if "ALL" in dropped else [c for c in default if c not in dropped]
        keep += [c.upper() for c in caps.get("add") or []]
        return {
            "uid": uid, "gid": gid, "groups": groups, "capabilities": keep,
            "readOnlyRootFilesystem": bool(sc.get("readOnlyRootFilesystem")),
            "allowPrivilegeEscalation": sc.get("allowPrivilegeEscalation", True),
        }

    def resolve_env(self, spec: dict) -> dict:
        env = {"HOSTNAME": self.name, "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        for e in spec.get("env") or []:
            if "value" in e:
                env[e["name"]] = str(e["value"])
                continue
            src = e["valueFrom"]
            if "fieldRef" in src:
                path = src["fieldRef"]["fieldPath"]
                env[e["name"]] = {"metadata.name": self.name, "metadata.namespace": self.namespace,
                                  "status.podIP": self.ip}[path]
            else:
                ref = src.get("secretKeyRef") or src.get("configMapKeyRef")
                kind = "Secret" if "secretKeyRef" in src else "ConfigMap"
                data = self.cluster.object_data(kind, ref["name"]) or {}
                env[e["name"]] = data[ref["key"]].decode()
        return env


def _bytes(size: str) -> int:
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 1000, "M": 10**6, "G": 10**9}
    for unit, mult in units.items():
        if size.endswith(unit):
            return int(float(size[: -len(unit)]) * mult)
    return int(size)


# --------------------------------------------------------------------------- controllers

class StatefulSet:
    """The StatefulSet controller: creates pods and rolls updates in Kubernetes' order."""

    def __init__(self, cluster: "Cluster", obj: dict):
        self.cluster = cluster
        self.name = obj["metadata"]["name"]
        self.pods: dict[int, Pod] = {}
        self.templates: dict[str, dict] = {}
        self.obj = obj
        self.current_revision = ""
        self.update(obj)
        self.current_revision = self.update_revision
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"sts-{self.name}", daemon=True)
        self.thread.start()

    def update(self, obj: dict) -> None:
        self.obj = obj
        self.update_revision = template_hash(obj["spec"]["template"])
        self.templates[self.update_revision] = obj["spec"]["template"]

    @property
    def spec(self) -> dict:
        return self.obj["spec"]

    def _loop(self) -> None:
        while not self.stop.is_set():
            with self.cluster.lock:
                self._reconcile()
            time.sleep(0.5)

    def _reconcile(self) -> None:
        for ordinal, pod in list(self.pods.items()):
            if pod.done.is_set():
                del self.pods[ordinal]
        replicas = int(self.spec.get("replicas", 1))
        strategy = self.spec.get("updateStrategy") or {}
        partition = int(((strategy.get("rollingUpdate") or {}).get("partition")) or 0)
        parallel = self.spec.get("podManagementPolicy") == "Parallel"
        for ordinal in range(replicas):
            if ordinal in self.pods:
                continue
            if not parallel and not all(self.pods.get(o) and self.pods[o].ready for o in range(ordinal)):
                break
            revision = self.update_revision if ordinal >= partition else self.current_revision
            self._create(ordinal, revision)
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        pods = [self.pods.get(o) for o in range(replicas)]
        if not all(p is not None and p.ready for p in pods):
            return  # one at a time: every pod Ready before the next is replaced
        outdated = [o for o in range(partition, replicas) if self.pods[o].revision != self.update_revision]
        if outdated:
            victim = self.pods[max(outdated)]
            self.cluster.event(f"statefulset {self.name}: replacing {victim.name} with revision {self.update_revision}")
            victim.delete(wait=False)
        elif all(p.revision == self.update_revision for p in pods):
            self.current_revision = self.update_revision

    def _create(self, ordinal: int, revision: str) -> None:
        template = self.templates[revision]
        name = f"{self.name}-{ordinal}"
        spec = json.loads(json.dumps(template["spec"]))
        spec.setdefault("hostname", name)
        spec.setdefault("subdomain", self.spec.get("serviceName"))
        meta = json.loads(json.dumps(template.get("metadata") or {}))
        meta.setdefault("labels", {})["statefulset.kubernetes.io/pod-name"] = name
        pod = Pod(self.cluster, name, meta, spec, revision=revision, owner=self.name, ordinal=ordinal)
        self.pods[ordinal] = pod
        self.cluster.pods.append(pod)
        pod.start()

    def rolled_out(self) -> bool:
        replicas = int(self.spec.get("replicas", 1))
        return all(o in self.pods and self.pods[o].ready and self.pods[o].revision == self.update_revision
                   for o in range(replicas))


# --------------------------------------------------------------------------- the cluster

class Cluster:
    def __init__(self, work: str, images: dict[str, Image], namespace: str = "default"):
        self.work, self.namespace = work, namespace
        self.images = images
        self.objects: dict[tuple[str, str], dict] = {}
        self.pods: list[Pod] = []
        self.statefulsets: dict[str, StatefulSet] = {}
        self.deployments: dict[str, Pod] = {}
        self.cluster_ips: dict[str, str] = {}
        self.events: list[tuple[float, str]] = []
        self.lock = threading.RLock()
        self._index = 0
        self._pod_ips = ipaddress.ip_network("10.244.1.0/24").hosts()
        self._service_ips = ipaddress.ip_network("10.96.1.0/24").hosts()
        self.t0 = time.monotonic()
        self.dnsmasq: subprocess.Popen | None = None
        os.makedirs(work, exist_ok=True)
        for image in images.values():
            image.build(work)
        self._network()

    def next_index(self) -> int:
        with self.lock:
            self._index += 1
            return self._index

    def image(self, name: str) -> Image:
        if name not in self.images:
            raise RuntimeError(f"image {name} is not available to the pod runner (known: {', '.join(self.images)})")
        return self.images[name]

    def event(self, text: str) -> None:
        self.events.append((time.monotonic() - self.t0, text))
        print(f"podrunner [{time.monotonic() - self.t0:6.1f}s] {text}", flush=True)

    # -- network
    def _network(self) -> None:
        # Named network namespaces live in /run/netns: a tmpfs of this mount
        # namespace, so none outlives the runner.
        os.makedirs("/run/netns", exist_ok=True)
        run("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run/netns")
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "add", "kbr0", "type", "bridge"],
                    ["ip", "addr", "add", f"{GATEWAY}/16", "dev", "kbr0"],
                    ["ip", "link", "set", "kbr0", "up"],
                    ["ip", "addr", "add", f"{DNS_IP}/32", "dev", "lo"],
                    ["ip", "route", "add", "10.96.0.0/16", "dev", "kbr0"]):
            run(*cmd)
        for key, value in (("net/ipv4/ip_forward", "1"), ("net/ipv4/conf/all/send_redirects", "0"),
                           ("net/ipv4/conf/kbr0/send_redirects", "0")):
            with open(f"/proc/sys/{key}", "w") as f:
                f.write(value)
        self.hosts_file = os.path.join(self.work, "dns-hosts")
        open(self.hosts_file, "w").close()
        self.dnsmasq = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-negcache",
             f"--addn-hosts={self.hosts_file}", f"--listen-address={DNS_IP}", "--bind-interfaces",
             f"--local=/{CLUSTER_DOMAIN}/", "--user=root", "--pid-file=", "--log-facility=-"],
            stdout=open(os.path.join(self.work, "dnsmasq.log"), "w"), stderr=subprocess.STDOUT)

    def attach_pod(self, pod: Pod) -> str:
        with self.lock:
            ip = str(next(self._pod_ips))
            veth = f"kv{self.next_index()}"
        pod.veth = veth
        for cmd in (["ip", "netns", "add", pod.netns],
                    ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod.netns],
                    ["ip", "link", "set", veth, "master", "kbr0", "up"],
                    ["ip", "-n", pod.netns, "link", "set", "lo", "up"],
                    ["ip", "-n", pod.netns, "addr", "add", f"{ip}/32", "dev", "eth0"],
                    ["ip", "-n", pod.netns, "link", "set", "eth0", "up"],
                    ["ip", "-n", pod.netns, "route", "add", GATEWAY, "dev", "eth0", "scope", "link"],
                    ["ip", "-n", pod.netns, "route", "add", "default", "via", GATEWAY, "dev", "eth0"]):
            run(*cmd)
        return ip

    def detach_pod(self, pod: Pod) -> None:
        run("ip", "netns", "del", pod.netns, check=False)
        run("ip", "link", "del", getattr(pod, "veth", "none"), check=False)

    def sync_network(self) -> None:
        """Endpoints → nftables DNAT rules and DNS records, as kube-proxy and CoreDNS do."""
        with self.lock:
            rules, hairpin, records = [], [], []
            pods = [p for p in self.pods if p.ip and not p.done.is_set()]
            services = [o for (k, _), o in self.objects.items() if k == "Service"]
            for svc in services:
                name = svc["metadata"]["name"]
                spec = svc["spec"]
                fqdn = f"{name}.{self.namespace}.svc.{CLUSTER_DOMAIN}"
                eps = [p for p in pods if labels_match(spec.get("selector"), p.labels) and not p.deleting.is_set()
                       and (p.ready or spec.get("publishNotReadyAddresses"))]
                if spec.get("clusterIP") == "None":
                    records += [(p.ip, fqdn) for p in eps]
                    records += [(p.ip, f"{p.spec.get('hostname')}.{fqdn}") for p in eps
                                if p.spec.get("subdomain") == name]
                    continue
                vip = self.cluster_ips[name]
                records.append((vip, fqdn))
                for port in spec.get("ports") or []:
                    proto = port.get("protocol", "TCP").lower()
                    targets = []
                    for p in eps:
                        try:
                            target = _target_port(p, port)
                        except ValueError:
                            continue
                        targets.append((p.ip, target))
                    for i, (ip, target) in enumerate(targets):
                        pick = f"numgen random mod {len(targets) - i} 0 " if i < len(targets) - 1 else ""
                        rules.append(f"ip daddr {vip} {proto} dport {port['port']} {pick}dnat to {ip}:{target}")
            for p in pods:
                hairpin.append(f"ip saddr {p.ip} ip daddr {p.ip} masquerade")
            ruleset = "\n".join([
                "table ip podrunner", "delete table ip podrunner", "table ip podrunner {",
                "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;",
                *[f"    {r}" for r in rules], "  }",
                "  chain output { type nat hook output priority -100; policy accept;",
                *[f"    {r}" for r in rules], "  }",
                "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;",
                *[f"    {r}" for r in hairpin], "  }",
                "}", ""])
            run("nft", "-f", "-", input=ruleset)
            if shutil.which("conntrack"):
                run("conntrack", "-D", "-p", "udp", check=False)  # stale UDP flows to gone endpoints
            text = "".join(f"{ip}\t{name}\n" for ip, name in sorted(set(records)))
            with open(self.hosts_file + ".new", "w") as f:
                f.write(text)
            os.replace(self.hosts_file + ".new", self.hosts_file)
            if self.dnsmasq and self.dnsmasq.poll() is None:
                self.dnsmasq.send_signal(signal.SIGHUP)

    # -- objects
    def apply(self, manifests: str, include_tests: bool = False) -> None:
        """Applies a rendering, as `helm install/upgrade/rollback` would (tests only on request)."""
        docs = [d for d in yaml.safe_load_all(manifests) if d]
        with self.lock:
            for obj in docs:
                hook = (obj["metadata"].get("annotations") or {}).get("helm.sh/hook", "")
                if "test" in hook and not include_tests:
                    continue
                kind, name = obj["kind"], obj["metadata"]["name"]
                self.objects[(kind, name)] = obj
                if kind == "Service" and obj["spec"].get("clusterIP") != "None" and name not in self.cluster_ips:
                    self.cluster_ips[name] = str(next(self._service_ips))
            for obj in docs:
                kind, name = obj["kind"], obj["metadata"]["name"]
                if kind == "StatefulSet":
                    if name in self.statefulsets:
                        self.statefulsets[name].update(obj)
                    else:
                        self.statefulsets[name] = StatefulSet(self, obj)
                elif kind == "Deployment":
                    self._deployment(obj)
        self.sync_network()

    def _deployment(self, obj: dict) -> None:
        name = obj["metadata"]["name"]
        revision = template_hash(obj["spec"]["template"])
        old = self.deployments.get(name)
        if old is not None and old.revision == revision:
            return
        if old is not None:
            old.delete(wait=True)
        template = obj["spec"]["template"]
        pod = Pod(self, f"{name}-{revision}", template.get("metadata") or {}, json.loads(json.dumps(template["spec"])),
                  revision=revision, owner=name)
        self.deployments[name] = pod
        self.pods.append(pod)
        pod.start()

    def object_data(self, kind: str, name: str) -> dict[str, bytes] | None:
        obj = self.objects.get((kind, name))
        if obj is None:
            return None
        data = {k: v.encode() for k, v in (obj.get("stringData") or {}).items()}
        if kind == "Secret":
            data.update({k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()})
        else:
            data.update({k: str(v).encode() for k, v in (obj.get("data") or {}).items()})
            data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return data

    def claims_for(self, pod: Pod) -> list[str]:
        sts = self.statefulsets.get(pod.owner)
        if sts is None:
            return []
        return [t["metadata"]["name"] for t in sts.spec.get("volumeClaimTemplates") or []]

    def persistent_dir(self, claim: str, fs_group: int | None) -> str:
        """One folder per PersistentVolumeClaim; it outlives every pod that mounts it."""
        path = os.path.join(self.work, "pvc", claim)
        os.makedirs(path, exist_ok=True)
        if fs_group is not None and os.stat(path).st_gid != fs_group:  # fsGroupChangePolicy: OnRootMismatch
            for dirpath, dirnames, filenames in os.walk(path):
                for n in [dirpath] + [os.path.join(dirpath, f) for f in filenames + dirnames]:
                    os.chown(n, -1, fs_group, follow_symlinks=False)
            os.chmod(path, 0o2775)
        return path

    def service_ip(self, name: str) -> str:
        return self.cluster_ips[name]

    def pod(self, name: str) -> Pod:
        with self.lock:
            live = [p for p in self.pods if p.name == name and not p.done.is_set()]
        if not live:
            raise KeyError(f"no pod {name}")
        return live[-1]

    def live_pods(self) -> list[Pod]:
        with self.lock:
            return [p for p in self.pods if not p.done.is_set()]

    def run_pod(self, obj: dict, timeout: float) -> tuple[str, str]:
        """Runs a bare Pod (a helm test) to completion; returns its phase and log."""
        pod = Pod(self, obj["metadata"]["name"], obj["metadata"], json.loads(json.dumps(obj["spec"])))
        with self.lock:
            self.pods.append(pod)
        pod.start()
        if not pod.done.wait(timeout):
            pod.delete(wait=True)
            pod.phase = "Failed (timeout)"
        logs = ""
        for c in pod.init_containers + pod.containers:
            if os.path.exists(c.log_path):
                logs += open(c.log_path).read()
        return pod.phase, logs

    def shutdown(self) -> None:
        for sts in self.statefulsets.values():
            sts.stop.set()
        for pod in self.live_pods():
            pod.delete(wait=False)
        for pod in list(self.pods):
            pod.done.wait(90)
        if self.dnsmasq:
            self.dnsmasq.terminate()


def _target_port(pod: Pod, port: dict) -> int:
    target = port.get("targetPort", port["port"])
    if isinstance(target, int):
        return target
    for c in pod.spec["containers"]:
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("protocol", "TCP") == port.get("protocol", "TCP"):
                return int(p["containerPort"])
    raise ValueError(f"pod {pod.name} has no port {target}")
