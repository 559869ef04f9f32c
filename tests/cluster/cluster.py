#!/usr/bin/env python3
"""A single-node Kubernetes inside private namespaces, for the live tests.

Run through scripts/cluster.sh, which builds the programs (scripts/cluster-build.sh)
and starts this as PID 1 of new network, mount, PID, UTS and IPC namespaces:

    scripts/cluster.sh -- COMMAND [ARGS...]

It brings a real cluster up — etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, containerd with runc and the CNI bridge, kubelet, kube-proxy
(nftables) and CoreDNS as a Deployment — imports the image tars of --images into
containerd, runs COMMAND with KUBECONFIG set (kubectl and helm on PATH), and tears
everything down when COMMAND ends, with COMMAND's exit status.

Nothing is reachable from outside and nothing is left behind:
- the node's address sits on a veth pair whose two ends are both in the private
  network namespace: there is no route out; kube-proxy's and the CNI's nftables rules live there too;
- /run, /var/lib and /var/log are private folders of the work directory
  (mount namespace), etcd's data is a tmpfs;
- the host-global sysctls kubelet would set (kernel.panic, vm.overcommit_memory, …)
  are files bind-mounted over their /proc/sys entries, holding kubelet's values, and
  kubelet runs with protectKernelDefaults (it only reads them);
- every pod cgroup lives under one cgroup root of this run (/kuberneteth-<id> in
  each cgroup v1 hierarchy), removed at the end;
- PID 1 of the namespace ending ends every process in it, containers included.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import time

NODE = "kuberneteth-node"
NODE_IP = "10.200.0.2"
SERVICE_CIDR = "10.96.0.0/16"
API_SERVICE_IP = "10.96.0.1"
DNS_IP = "10.96.0.10"
POD_CIDR = "10.244.0.0/16"
NODE_POD_CIDR = "10.244.0.0/24"
CLUSTER_DOMAIN = "cluster.local"
STORAGE_CLASS = "local"
VOLUMES = 48

# kubelet's values for the host-global sysctls it checks (pkg/kubelet/cm:
# setupKernelTunables).
KERNEL_TUNABLES = {
    "vm/overcommit_memory": "1",
    "vm/panic_on_oom": "0",
    "kernel/panic": "10",
    "kernel/panic_on_oops": "1",
    "kernel/keys/root_maxkeys": "1000000",
    "kernel/keys/root_maxbytes": "25000000",
}


def log(msg: str) -> None:
    print(f"cluster [{time.monotonic() - T0:5.1f}s] {msg}", file=sys.stderr, flush=True)


T0 = time.monotonic()


def run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r


def write(path: str, text: str, mode: int = 0o644) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


class Cluster:
    def __init__(self, work: str, bin_dir: str, images: list[str]):
        self.work = work
        self.bin = bin_dir
        self.images = images
        self.procs: dict[str, subprocess.Popen] = {}
        self.cgroup_root = f"/kuberneteth-{os.path.basename(work)}"
        self.pki = os.path.join(work, "pki")
        self.kubeconfig = os.path.join(work, "admin.kubeconfig")
        self.logs = os.path.join(work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        os.environ["PATH"] = f"{bin_dir}:{os.environ['PATH']}"

    # ---- namespaces: mounts, sysctls, network
    def isolate(self) -> None:
        run("mount", "--make-rprivate", "/")
        for target in ("/run", "/var/lib", "/var/log"):
            source = os.path.join(self.work, "root", target.strip("/").replace("/", "-"))
            os.makedirs(source, exist_ok=True)
            run("mount", "--bind", source, target)
        etcd = os.path.join(self.work, "etcd")
        os.makedirs(etcd, exist_ok=True)
        run("mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", etcd)
        tunables = os.path.join(self.work, "sysctl")
        for key, value in KERNEL_TUNABLES.items():
            path = write(os.path.join(tunables, key.replace("/", ".")), value + "\n")
            run("mount", "--bind", path, f"/proc/sys/{key}")
        run("hostname", NODE)
        # The node's address on a veth pair whose two ends stay in this network
        # namespace: a default route exists, and leads nowhere (the far end forwards
        # nothing).
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "add", "node0", "type", "veth", "peer", "name", "node0-end"],
                    ["ip", "addr", "add", f"{NODE_IP}/24", "dev", "node0"],
                    ["ip", "link", "set", "node0", "up"],
                    ["ip", "link", "set", "node0-end", "up"],
                    ["ip", "route", "add", "default", "dev", "node0"]):
            run(*cmd)
        for key, value in (("net/ipv4/ip_forward", "1"), ("net/ipv4/conf/node0-end/forwarding", "0"),
                           ("net/bridge/bridge-nf-call-iptables", "1")):
            path = f"/proc/sys/{key}"
            if os.path.exists(path):
                with open(path, "w") as f:
                    f.write(value)
        write(os.path.join(self.work, "resolv.conf"), "nameserver 127.0.0.1\n")

    def make_cgroup_root(self) -> None:
        """The run's own cgroup in every v1 hierarchy; kubelet puts every pod under it."""
        for top in glob.glob("/sys/fs/cgroup/*/"):
            if not os.path.exists(os.path.join(top, "cgroup.procs")):
                continue  # the empty `unified` folder
            path = top + self.cgroup_root.strip("/")
            os.makedirs(path, exist_ok=True)
            for knob in ("cpuset.cpus", "cpuset.mems"):  # empty in a new cpuset cgroup
                if os.path.exists(os.path.join(path, knob)):
                    with open(os.path.join(top, knob)) as f:
                        value = f.read()
                    with open(os.path.join(path, knob), "w") as f:
                        f.write(value)

    # ---- PKI, with openssl
    def cert(self, name: str, subject: str, sans: list[str] | None = None, server: bool = False) -> None:
        key, csr, crt = (os.path.join(self.pki, f"{name}.{ext}") for ext in ("key", "csr", "crt"))
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        run("openssl", "req", "-new", "-key", key, "-subj", subject, "-out", csr)
        ext = os.path.join(self.pki, f"{name}.ext")
        usage = "serverAuth" if server else "clientAuth"
        lines = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
                 f"extendedKeyUsage={usage}"]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        write(ext, "\n".join(lines) + "\n")
        run("openssl", "x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey", self.ca_key,
            "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", ext, "-out", crt)

    def make_pki(self) -> None:
        os.makedirs(self.pki, exist_ok=True)
        self.ca_key, self.ca_crt = os.path.join(self.pki, "ca.key"), os.path.join(self.pki, "ca.crt")
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.ca_key)
        run("openssl", "req", "-x509", "-new", "-key", self.ca_key, "-subj", "/CN=kuberneteth-test-ca",
            "-days", "3650", "-sha256", "-out", self.ca_crt)
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", os.path.join(self.pki, "sa.key"))
        run("openssl", "pkey", "-in", os.path.join(self.pki, "sa.key"), "-pubout",
            "-out", os.path.join(self.pki, "sa.pub"))
        self.cert("apiserver", "/CN=kube-apiserver", server=True, sans=[
            "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
            f"DNS:kubernetes.default.svc.{CLUSTER_DOMAIN}", "DNS:localhost",
            f"IP:{API_SERVICE_IP}", f"IP:{NODE_IP}", "IP:127.0.0.1"])
        self.cert("apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client")
        self.cert("admin", "/O=system:masters/CN=kubernetes-admin")
        self.cert("controller-manager", "/CN=system:kube-controller-manager")
        self.cert("scheduler", "/CN=system:kube-scheduler")
        self.cert("kubelet", f"/O=system:nodes/CN=system:node:{NODE}")
        self.cert("kube-proxy", "/CN=system:kube-proxy")
        for user in ("admin", "controller-manager", "scheduler", "kubelet", "kube-proxy"):
            self.write_kubeconfig(user)

    def write_kubeconfig(self, user: str) -> str:
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "kuberneteth",
            "clusters": [{"name": "kuberneteth", "cluster": {
                "server": f"https://{NODE_IP}:6443", "certificate-authority": self.ca_crt}}],
            "users": [{"name": user, "user": {
                "client-certificate": os.path.join(self.pki, f"{user}.crt"),
                "client-key": os.path.join(self.pki, f"{user}.key")}}],
            "contexts": [{"name": "kuberneteth", "context": {"cluster": "kuberneteth", "user": user,
                                                             "namespace": "default"}}],
        }
        return write(os.path.join(self.work, f"{user}.kubeconfig"), json.dumps(config, indent=2), 0o600)

    # ---- processes
    def start(self, name: str, *args: str) -> None:
        out = open(os.path.join(self.logs, f"{name}.log"), "w")
        self.procs[name] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)

    def alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited ({p.returncode}):\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 30) -> str:
        with open(os.path.join(self.logs, f"{name}.log"), errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def wait(self, what: str, probe, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.alive()
            try:
                if probe():
                    return
            except Exception:  # noqa: BLE001 -- a probe that is not answering yet
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.3)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return run("kubectl", "--kubeconfig", self.kubeconfig, *args, input=input, check=check)

    def start_etcd(self) -> None:
        data = os.path.join(self.work, "etcd")
        self.start("etcd", "etcd", "--name", "node", "--data-dir", os.path.join(data, "data"),
                   "--listen-client-urls", "http://127.0.0.1:2379",
                   "--advertise-client-urls", "http://127.0.0.1:2379",
                   "--listen-peer-urls", "http://127.0.0.1:2380",
                   "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                   "--initial-cluster", "node=http://127.0.0.1:2380",
                   "--listen-metrics-urls", "http://127.0.0.1:2381",
                   "--unsafe-no-fsync", "--log-level", "warn")

    def start_containerd(self) -> None:
        cni_bin = os.path.join(self.work, "cni", "bin")
        cni_conf = os.path.join(self.work, "cni", "net.d")
        os.makedirs(cni_bin, exist_ok=True)
        for plugin in ("bridge", "loopback", "host-local", "portmap"):
            os.symlink(os.path.join(self.bin, plugin), os.path.join(cni_bin, plugin))
        write(os.path.join(cni_conf, "10-kuberneteth.conflist"), json.dumps({
            "cniVersion": "1.0.0", "name": "kuberneteth",
            "plugins": [
                {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False, "hairpinMode": True,
                 "ipam": {"type": "host-local", "ranges": [[{"subnet": NODE_POD_CIDR}]],
                          "routes": [{"dst": "0.0.0.0/0"}]}},
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ]}, indent=2))
        config = f"""version = 3
root = "/var/lib/containerd"
state = "/run/containerd"

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins."io.containerd.cri.v1.runtime"]
  # Root here lacks CAP_SYS_RESOURCE: runc cannot set the negative oom_score_adj
  # the CRI asks for unless it is restricted to the caller's own.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "{os.path.join(self.bin, 'runc')}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["{cni_bin}"]
    conf_dir = "{cni_conf}"
    max_conf_num = 1

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "{SANDBOX_IMAGE}"
"""
        path = write(os.path.join(self.work, "containerd.toml"), config)
        self.start("containerd", "containerd", "--config", path, "--log-level", "warn")
        self.wait("containerd", lambda: run("ctr", "--address", "/run/containerd/containerd.sock",
                                             "version").returncode == 0, 30)

    def import_images(self) -> None:
        for tar in self.images:
            run("ctr", "--address", "/run/containerd/containerd.sock", "-n", "k8s.io", "images", "import", tar)
        log(f"imported {len(self.images)} images")

    def start_apiserver(self) -> None:
        p = self.pki
        self.start("kube-apiserver", "kube-apiserver",
                   "--etcd-servers=http://127.0.0.1:2379",
                   f"--advertise-address={NODE_IP}", "--bind-address=0.0.0.0", "--secure-port=6443",
                   f"--service-cluster-ip-range={SERVICE_CIDR}",
                   f"--tls-cert-file={p}/apiserver.crt", f"--tls-private-key-file={p}/apiserver.key",
                   f"--client-ca-file={p}/ca.crt",
                   f"--kubelet-client-certificate={p}/apiserver-kubelet-client.crt",
                   f"--kubelet-client-key={p}/apiserver-kubelet-client.key",
                   "--kubelet-preferred-address-types=InternalIP",
                   f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
                   f"--service-account-key-file={p}/sa.pub", f"--service-account-signing-key-file={p}/sa.key",
                   "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
                   "--allow-privileged=false", "--profiling=false", "--v=1")
        def ready() -> bool:
            r = run("kubectl", "--kubeconfig", self.kubeconfig, "get", "--raw", "/readyz", check=False)
            return r.returncode == 0 and r.stdout.strip() == "ok"
        self.wait("kube-apiserver /readyz", ready, 90)

    def start_controllers(self) -> None:
        p = self.pki
        self.start("kube-controller-manager", "kube-controller-manager",
                   f"--kubeconfig={self.work}/controller-manager.kubeconfig",
                   f"--authentication-kubeconfig={self.work}/controller-manager.kubeconfig",
                   f"--authorization-kubeconfig={self.work}/controller-manager.kubeconfig",
                   f"--service-account-private-key-file={p}/sa.key", f"--root-ca-file={p}/ca.crt",
                   f"--cluster-signing-cert-file={p}/ca.crt", f"--cluster-signing-key-file={p}/ca.key",
                   "--use-service-account-credentials=true", "--leader-elect=false",
                   "--bind-address=127.0.0.1", f"--service-cluster-ip-range={SERVICE_CIDR}",
                   "--profiling=false", "--v=1")
        self.start("kube-scheduler", "kube-scheduler",
                   f"--kubeconfig={self.work}/scheduler.kubeconfig",
                   f"--authentication-kubeconfig={self.work}/scheduler.kubeconfig",
                   f"--authorization-kubeconfig={self.work}/scheduler.kubeconfig",
                   "--leader-elect=false", "--bind-address=127.0.0.1", "--profiling=false", "--v=1")

    def start_kubelet(self) -> None:
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "address": NODE_IP, "port": 10250, "readOnlyPort": 0,
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                               "x509": {"clientCAFile": self.ca_crt}},
            "authorization": {"mode": "Webhook"},
            "cgroupDriver": "cgroupfs", "cgroupRoot": self.cgroup_root,
            # These machines have only cgroup v1 hierarchies; kubelet refuses them
            # unless told (default true since v1.35).
            "failCgroupV1": False,
            "failSwapOn": False,
            "protectKernelDefaults": True,
            "resolvConf": os.path.join(self.work, "resolv.conf"),
            "clusterDNS": [DNS_IP], "clusterDomain": CLUSTER_DOMAIN,
            # Imported images have no registry to come back from: never collect them.
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "200Mi", "nodefs.available": "1%",
                             "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
            "rotateCertificates": False, "serverTLSBootstrap": False,
            "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock",
            "podCIDR": NODE_POD_CIDR, "maxPods": 110,
            "syncFrequency": "10s", "fileCheckFrequency": "10s",
        }
        path = write(os.path.join(self.work, "kubelet.json"), json.dumps(config, indent=2))
        self.start("kubelet", "kubelet", f"--config={path}", f"--kubeconfig={self.work}/kubelet.kubeconfig",
                   f"--node-ip={NODE_IP}", f"--hostname-override={NODE}", "--root-dir=/var/lib/kubelet",
                   "--cert-dir=/var/lib/kubelet/pki", "--v=1")

    def start_proxy(self) -> None:
        config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
            "mode": "nftables", "clusterCIDR": POD_CIDR, "hostnameOverride": NODE,
            "clientConnection": {"kubeconfig": f"{self.work}/kube-proxy.kubeconfig"},
            # Zero: leave the host-global conntrack sysctls alone.
            "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                          "tcpCloseWaitTimeout": "0s"},
            "metricsBindAddress": "127.0.0.1:10249", "healthzBindAddress": "127.0.0.1:10256",
        }
        path = write(os.path.join(self.work, "kube-proxy.json"), json.dumps(config, indent=2))
        self.start("kube-proxy", "kube-proxy", f"--config={path}", "--v=1")

    def node_ready(self) -> bool:
        r = self.kubectl("get", "node", NODE, "-o", "json", check=False)
        if r.returncode != 0:
            return False
        conds = {c["type"]: c["status"] for c in json.loads(r.stdout)["status"].get("conditions", [])}
        return conds.get("Ready") == "True"

    def addons(self) -> None:
        volumes = os.path.join(self.work, "volumes")
        objects = [STORAGE_CLASS_YAML]
        for i in range(VOLUMES):
            folder = os.path.join(volumes, f"pv{i:03d}")
            os.makedirs(folder, exist_ok=True)
            os.chmod(folder, 0o777)
            objects.append(PV_YAML.format(name=f"local-pv{i:03d}", path=folder, node=NODE, sc=STORAGE_CLASS))
        objects.append(COREDNS_YAML.format(dns_ip=DNS_IP, domain=CLUSTER_DOMAIN, image=COREDNS_IMAGE))
        self.kubectl("apply", "-f", "-", input="\n---\n".join(objects))

    def dns_ready(self) -> bool:
        r = self.kubectl("-n", "kube-system", "get", "deployment", "coredns", "-o",
                         "jsonpath={.status.availableReplicas}", check=False)
        if r.stdout.strip() != "1":
            return False
        r = run("busybox", "nslookup", f"kubernetes.default.svc.{CLUSTER_DOMAIN}", DNS_IP, check=False)
        return r.returncode == 0 and API_SERVICE_IP in r.stdout

    def up(self) -> None:
        self.isolate()
        self.make_cgroup_root()
        self.make_pki()
        self.start_etcd()
        self.start_containerd()
        self.start_apiserver()
        log("kube-apiserver ready")
        self.start_controllers()
        self.import_images()
        self.start_kubelet()
        self.start_proxy()
        self.wait("the node to be Ready", self.node_ready, 120)
        log(f"node {NODE} Ready")
        self.addons()
        self.wait("CoreDNS to serve", self.dns_ready, 120)
        log(f"CoreDNS serves {CLUSTER_DOMAIN} at {DNS_IP}")

    # ---- teardown
    def down(self) -> None:
        # The containers first (SIGKILL through containerd), then the components;
        # whatever is left of the namespace's processes, shims included, is killed.
        ctr = ["ctr", "--address", "/run/containerd/containerd.sock", "-n", "k8s.io", "tasks"]
        for task in run(*ctr, "ls", "-q", check=False).stdout.split():
            run(*ctr, "kill", "-s", "SIGKILL", task, check=False)
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 5
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.procs.values():
            p.wait()
        time.sleep(0.5)
        self.remove_cgroups()

    def remove_cgroups(self) -> None:
        left = []
        for top in glob.glob(f"/sys/fs/cgroup/*{self.cgroup_root}"):
            for _ in range(20):
                for folder, _dirs, _files in sorted(os.walk(top, topdown=False), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(folder)
                    except OSError:
                        pass
                if not os.path.exists(top):
                    break
                time.sleep(0.5)
            if os.path.exists(top):
                left.append(top)
        if left:
            log(f"warning: cgroups left behind: {left}")


SANDBOX_IMAGE = "registry.k8s.io/pause:3.10.2"
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.14.7"

STORAGE_CLASS_YAML = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
"""

PV_YAML = """apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}
spec:
  capacity:
    storage: 100Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: {sc}
  local:
    path: {path}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - {{key: kubernetes.io/hostname, operator: In, values: [{node}]}}
"""

COREDNS_YAML = """apiVersion: v1
kind: ServiceAccount
metadata: {{name: coredns, namespace: kube-system}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: "system:coredns"}}
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: "system:coredns"}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}}
subjects: [{{kind: ServiceAccount, name: coredns, namespace: kube-system}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: coredns, namespace: kube-system}}
data:
  Corefile: |
    .:53 {{
        errors
        health :8080
        ready :8181
        kubernetes {domain} in-addr.arpa ip6.arpa {{
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }}
        cache 30
        loop
    }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {{k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {{matchLabels: {{k8s-app: kube-dns}}}}
  template:
    metadata: {{labels: {{k8s-app: kube-dns}}}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      containers:
        - name: coredns
          image: {image}
          imagePullPolicy: IfNotPresent
          args: [-conf, /etc/coredns/Corefile]
          ports:
            - {{name: dns, containerPort: 53, protocol: UDP}}
            - {{name: dns-tcp, containerPort: 53, protocol: TCP}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8181}}, periodSeconds: 2}}
          livenessProbe: {{httpGet: {{path: /health, port: 8080}}, periodSeconds: 10}}
          resources: {{requests: {{cpu: 50m, memory: 32Mi}}, limits: {{memory: 170Mi}}}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL], add: [NET_BIND_SERVICE]}}
          volumeMounts: [{{name: config, mountPath: /etc/coredns, readOnly: true}}]
      volumes:
        - name: config
          configMap: {{name: coredns}}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {{k8s-app: kube-dns}}
spec:
  clusterIP: {dns_ip}
  selector: {{k8s-app: kube-dns}}
  ports:
    - {{name: dns, port: 53, protocol: UDP}}
    - {{name: dns-tcp, port: 53, protocol: TCP}}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True, help="a private work folder (removed by the caller)")
    ap.add_argument("--bin", required=True, help="the folder scripts/cluster-build.sh printed")
    ap.add_argument("--image", action="append", default=[], help="an image tar to import (repeatable)")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    opts = ap.parse_args()
    command = opts.command[1:] if opts.command[:1] == ["--"] else opts.command
    if not command:
        ap.error("no command to run in the cluster")

    def stop(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, stop)

    cluster = Cluster(opts.work, opts.bin, opts.image)
    status = 1
    try:
        cluster.up()
        log(f"cluster up in {time.monotonic() - T0:.1f}s; running {' '.join(command)}")
        env = dict(os.environ, KUBECONFIG=cluster.kubeconfig, KUBERNETETH_CLUSTER_WORK=opts.work,
                   KUBERNETETH_CLUSTER_LOGS=cluster.logs)
        child = subprocess.Popen(command, env=env)
        while True:
            try:
                status = child.wait()
                break
            except KeyboardInterrupt:
                child.send_signal(signal.SIGTERM)
    except KeyboardInterrupt as e:
        log(f"interrupted ({e})")
    except Exception as e:  # noqa: BLE001 -- report, then tear down
        log(f"ERROR: {e}")
        for name in cluster.procs:
            print(f"\n===== {name}, last lines =====\n{cluster.tail(name)}", file=sys.stderr)
    finally:
        t = time.monotonic()
        cluster.down()
        log(f"torn down in {time.monotonic() - t:.1f}s")
    return status


if __name__ == "__main__":
    sys.exit(main())
