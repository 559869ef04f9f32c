#!/usr/bin/env python3
"""Container images for the test cluster, built from local binaries, no registry.

Each image is a docker-archive tar (one layer, a config, a manifest naming the
image) that `ctr images import` makes available to the kubelet under exactly the
name the chart renders, so `imagePullPolicy: IfNotPresent` finds it. Each is laid
out like its official image, no more:

- geth (`ethereum/client-go:VERSION`): Alpine-like — a shell and busybox applets in
  /bin, `geth` at /usr/local/bin/geth, entrypoint `geth`;
- Prysm (`gcr.io/offchainlabs/prysm/{beacon-chain,validator}:VERSION`): distroless —
  no shell, the C libraries the binary links, /etc/passwd with `nonroot`, entrypoint
  /app/cmd/beacon-chain/beacon-chain or /app/cmd/validator/validator;
- static programs (the pause sandbox, CoreDNS, the ethstats stand-in): the binary
  alone, plus /etc/passwd;
- kubectl (`registry.k8s.io/kubectl:VERSION`): distroless — /bin/kubectl, its
  entrypoint, no shell.

    images.py --out DIR KIND=NAME:TAG=PATH ...   # prints one tar path per image

KIND is geth, prysm, static or kubectl. Tars are cached in DIR by a digest of their inputs.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASSWD = (b"root:x:0:0:root:/root:/sbin/nologin\n"
          b"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
          b"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
GROUP = b"root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
# What the Alpine image of geth offers a shell script: busybox's applets.
BUSYBOX = "/bin/busybox"


def shared_libraries(binary: str) -> list[str]:
    """The dynamic loader and libraries `binary` links, as ldd resolves them here."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0 or "not a dynamic executable" in r.stdout + r.stderr:
        return []
    libs = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if "=>" in parts:
            target = parts[parts.index("=>") + 1]
            if target.startswith("/"):
                libs.append(target)
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


class Layer:
    """The files of one image layer: path -> (mode, bytes or host path, or a link)."""

    def __init__(self):
        self.entries: dict[str, tuple] = {}

    def dir(self, path: str, mode: int = 0o755) -> None:
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            self.entries.setdefault("/".join(parts[:i]), ("dir", mode))

    def file(self, path: str, source: str | bytes, mode: int = 0o755) -> None:
        self.dir(os.path.dirname(path))
        self.entries[path.strip("/")] = ("file", mode, source)

    def link(self, path: str, target: str) -> None:
        self.dir(os.path.dirname(path))
        self.entries[path.strip("/")] = ("link", target)

    def host_file(self, path: str) -> None:
        """A host file at the same path, with the real file behind a symbolic link."""
        self.file(path, os.path.realpath(path), 0o755)

    def tar(self) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for name in sorted(self.entries):
                entry = self.entries[name]
                info = tarfile.TarInfo(name)
                info.mtime = 0
                if entry[0] == "dir":
                    info.type, info.mode = tarfile.DIRTYPE, entry[1]
                    t.addfile(info)
                elif entry[0] == "link":
                    info.type, info.linkname, info.mode = tarfile.SYMTYPE, entry[1], 0o777
                    t.addfile(info)
                else:
                    data = entry[2] if isinstance(entry[2], bytes) else open(entry[2], "rb").read()
                    info.size, info.mode = len(data), entry[1]
                    t.addfile(info, io.BytesIO(data))
        return buf.getvalue()


def base(layer: Layer) -> None:
    layer.file("/etc/passwd", PASSWD, 0o644)
    layer.file("/etc/group", GROUP, 0o644)
    layer.dir("/tmp", 0o1777)


def with_libraries(layer: Layer, binary: str) -> None:
    for lib in shared_libraries(binary):
        layer.file(lib, os.path.realpath(lib), 0o755)


def geth_image(binary: str) -> tuple[Layer, dict]:
    layer = Layer()
    base(layer)
    layer.file("/usr/local/bin/geth", binary)
    with_libraries(layer, binary)
    host_busybox = shutil.which("busybox")
    if not host_busybox:
        sys.exit("images.py: busybox is not installed (Debian busybox; see .ci/run)")
    layer.file(BUSYBOX, os.path.realpath(host_busybox))
    with_libraries(layer, host_busybox)
    applets = subprocess.run([host_busybox, "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "bin/busybox":
            layer.link("/" + applet, BUSYBOX)
    return layer, {"Entrypoint": ["geth"], "Env": [PATH_ENV]}


def prysm_image(binary: str, entrypoint: str) -> tuple[Layer, dict]:
    layer = Layer()
    base(layer)
    layer.dir("/home/nonroot")
    layer.file(entrypoint, binary)
    with_libraries(layer, binary)
    return layer, {"Entrypoint": [entrypoint], "Env": [PATH_ENV]}


def static_image(binary: str, entrypoint: str) -> tuple[Layer, dict]:
    layer = Layer()
    base(layer)
    check = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if "not a dynamic executable" not in check.stdout + check.stderr:
        sys.exit(f"images.py: {binary} is not static; its image would lack its libraries")
    layer.file(entrypoint, binary)
    return layer, {"Entrypoint": [entrypoint], "Env": [PATH_ENV]}


def archive(name: str, layer: Layer, config: dict, out: str) -> str:
    data = layer.tar()
    diff_id = hashlib.sha256(data).hexdigest()
    image_config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": config, "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "tests/cluster/images.py"}],
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(image_config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [name], "Layers": [f"{diff_id}/layer.tar"]}]).encode()
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w") as t:
        for path, blob in ((f"{diff_id}/layer.tar", data), (config_name, image_config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(path)
            info.size = len(blob)
            t.addfile(info, io.BytesIO(blob))
    os.replace(tmp, out)
    return out


def inputs_digest(*parts: str) -> str:
    h = hashlib.sha256()
    h.update(open(__file__, "rb").read())
    for p in parts:
        h.update(p.encode())
        if os.path.isfile(p):
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:16]


def build(spec: str, out_dir: str) -> str:
    try:
        kind, rest = spec.split("=", 1)
        name, source = rest.rsplit("=", 1)
    except ValueError:
        sys.exit(f"images.py: expected KIND=NAME:TAG=PATH, got {spec!r}")
    digest = inputs_digest(kind, name, source)
    out = os.path.join(out_dir, f"{name.replace('/', '_').replace(':', '_')}-{digest}.tar")
    if os.path.exists(out):
        return out
    if kind == "geth":
        layer, config = geth_image(source)
    elif kind == "prysm":
        entry = {"beacon-chain": "/app/cmd/beacon-chain/beacon-chain",
                 "validator": "/app/cmd/validator/validator"}[os.path.basename(source)]
        layer, config = prysm_image(source, entry)
    elif kind == "static":
        layer, config = static_image(source, "/" + os.path.basename(source))
    elif kind == "kubectl":
        layer, config = static_image(source, "/bin/kubectl")
    else:
        sys.exit(f"images.py: unknown image kind {kind!r}")
    return archive(name, layer, config, out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("specs", nargs="+")
    opts = ap.parse_args()
    os.makedirs(opts.out, exist_ok=True)
    for spec in opts.specs:
        print(build(spec, opts.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
