#!/usr/bin/env python3
"""Starts one container process the way a container runtime would, on this machine.

Runs as root inside the pod's network namespace and a fresh mount namespace
(podrunner.py starts it with `nsenter --net=... unshare --mount --fork`):

    container.py run SPEC.json            # build the root, mount volumes, exec
    container.py exec SPEC.json -- CMD    # a probe: enter that root and exec CMD

`run` builds the container's root file system: an overlay of the image's folder
(read-only) and a tmpfs for the container's writes, the pod's hosts and
resolv.conf in /etc, /proc, a minimal /dev, and every volume at its mountPath
(read-only where the mount says so). It then applies the securityContext: a read-only root when asked, chroot,
the user, group and supplementary groups (fsGroup), no new privileges and no
capabilities — and execs the command. Its PID (the container's main process) is
written to SPEC["pidfile"] first, so probes can join its mount namespace with
nsenter and run `exec` there. Seccomp profiles are not applied.
"""
from __future__ import annotations

import ctypes
import json
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 38, 24
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def bind(source: str, target: str, read_only: bool) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def build_root(spec: dict) -> str:
    """Assembles the container's root under spec['root'] and returns it."""
    root = spec["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # The image read-only below, a tmpfs for the container's own writes above (as
    # a container runtime's overlay does); mount points for volumes are created
    # in the upper layer.
    scratch = root + ".rw"
    for d in (root, scratch):
        os.makedirs(d, exist_ok=True)
    mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    os.makedirs(os.path.join(scratch, "upper"))
    os.makedirs(os.path.join(scratch, "work"))
    mount("overlay", root, "overlay", MS_NOSUID | MS_NODEV,
          f"lowerdir={spec['image']},upperdir={scratch}/upper,workdir={scratch}/work")
    etc = os.path.join(root, "etc")
    for name, path in spec["etcFiles"].items():  # hosts, resolv.conf, hostname: shared by the pod
        bind(path, os.path.join(etc, name), read_only=False)
    os.makedirs(os.path.join(root, "proc"), exist_ok=True)
    mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV)
    dev = os.path.join(root, "dev")
    os.makedirs(dev, exist_ok=True)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=0755,size=64k")
    for name in DEVICES:
        bind(f"/dev/{name}", os.path.join(dev, name), read_only=False)
    os.makedirs(os.path.join(dev, "shm"), exist_ok=True)
    mount("tmpfs", os.path.join(dev, "shm"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    for m in spec["mounts"]:
        bind(m["source"], root + m["mountPath"], read_only=m["readOnly"])
    if spec["readOnlyRootFilesystem"]:
        mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return root


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges(spec: dict) -> None:
    """securityContext: groups, user, no_new_privs, and the capabilities a container keeps."""
    if not spec["allowPrivilegeEscalation"]:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    keep = set(spec["capabilities"])  # names like "NET_BIND_SERVICE"; empty when ALL are dropped
    last_cap = int(open("/proc/sys/kernel/cap_last_cap").read()) if os.path.exists("/proc/sys/kernel/cap_last_cap") else 40
    for cap in range(last_cap + 1):
        if CAP_NAMES.get(cap) not in keep:
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setgroups(spec["groups"])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])  # a non-root uid loses every capability here
    if spec["uid"] == 0:
        mask = 0
        for cap, name in CAP_NAMES.items():
            if name in keep:
                mask |= 1 << cap
        data = (CapData * 2)(CapData(mask & 0xFFFFFFFF, mask & 0xFFFFFFFF, 0), CapData(mask >> 32, mask >> 32, 0))
        if libc.capset(ctypes.byref(CapHeader(0x20080522, 0)), data) != 0:
            raise OSError(ctypes.get_errno(), "capset")


CAP_NAMES = {
    0: "CHOWN", 1: "DAC_OVERRIDE", 2: "DAC_READ_SEARCH", 3: "FOWNER", 4: "FSETID", 5: "KILL",
    6: "SETGID", 7: "SETUID", 8: "SETPCAP", 10: "NET_BIND_SERVICE", 12: "NET_ADMIN",
    13: "NET_RAW", 18: "SYS_CHROOT", 21: "SYS_ADMIN", 27: "MKNOD", 29: "AUDIT_WRITE", 31: "SETFCAP",
}


def exec_in_root(spec: dict, argv: list[str]) -> None:
    os.chroot(spec["root"])
    os.chdir(spec.get("workingDir") or "/")
    drop_privileges(spec)
    env = spec["env"]
    path = env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    program = argv[0]
    if "/" not in program:
        for d in path.split(":"):
            if os.access(os.path.join(d, program), os.X_OK):
                program = os.path.join(d, program)
                break
    os.execve(program, argv, env)


def main() -> None:
    mode, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    try:
        if mode == "run":
            build_root(spec)
            with open(spec["pidfile"] + ".tmp", "w") as f:  # renamed: readers never see it half-written
                f.write(str(os.getpid()))
            os.replace(spec["pidfile"] + ".tmp", spec["pidfile"])
            exec_in_root(spec, spec["argv"])
        elif mode == "exec":
            exec_in_root(spec, sys.argv[sys.argv.index("--") + 1:])
        else:
            raise SystemExit(f"container.py: unknown mode {mode}")
    except OSError as e:
        print(f"container.py: {e}", file=sys.stderr)
        sys.exit(128)


if __name__ == "__main__":
    main()
