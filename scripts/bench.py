"""`make bench`: wall time and peak memory of the compiler (and of helm template)
on a 200-node network, and of proof-of-stake networks of 1,000, 10,000 and 100,000
validators (keys, wallets, genesis state; the two larger ones with their genesis state
and wallets in objects/ beside the release). Targets: compile < 300 ms, helm template
< 3 s, 1,000 validators < 2 s, 100,000 validators < 60 s and < 2 GiB."""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("CARGO_TARGET_DIR") or TOP / "target") / "release/kuberneteth-values"


def network(signers: int, others: int, kdf: str) -> str:
    groups = [f"  - {{name: signer, role: signer, replicas: {signers}}}"]
    if others:
        groups.append("  - {name: boot, role: bootnode, replicas: 2}")
        rest = others - 2
        groups.append(f"  - {{name: rpc, role: rpc, replicas: {rest // 2}, rpc: {{http: true, ws: true}}}}")
        groups.append(f"  - {{name: full, role: full, replicas: {rest - rest // 2}}}")
    return (
        "network: {name: bench, chainId: 990099, consensus: {clique: {period: 5}}}\n"
        "nodes:\n" + "\n".join(groups) + "\n"
        "accounts: [{name: deployer, balance: 1000 ether}]\n"
        f"keystore: {{kdf: {kdf}}}\n"
    )


def stake_network(pods: int, per_pod: int, kdf: str) -> str:
    return (
        "network: {name: bench, chainId: 990099, genesisTimestamp: 1798761600,\n"
        "  consensus: {proofOfStake: {withdrawal: {address: '0x000000000000000000000000000000000000dEaD'}}}}\n"
        "geth: {version: v1.17.10}\n"
        f"nodes:\n  - {{name: val, role: validator, replicas: {pods}, validatorsPerPod: {per_pod}}}\n"
        "  - {name: rpc, role: rpc}\n"
        f"keystore: {{kdf: {kdf}}}\n"
    )


def measure(cmd, runs=5, **kw):
    """Best wall time (s) and peak RSS (MiB) over `runs` runs."""
    best, peak = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err = proc.stderr.read().decode()
        proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: {' '.join(map(str, cmd))} failed:\n{err}")
        best, peak = min(best, elapsed), max(peak, usage.ru_maxrss / 1024)
    return best, peak


def compile_cmd(d: Path, name: str, text: str, out: str, *extra: str):
    (d / f"{name}.yaml").write_text(text)
    return [str(BIN), "compile", "-c", str(d / f"{name}.yaml"), "-o", str(d / out),
            "--secrets", str(d / "k.secrets.yaml"), "--allow-genesis-change", *extra]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t, m = measure(compile_cmd(d, "n200", network(5, 195, "light"), "v200"))
        print(f"compile, 200 nodes (5 signers, light KDF): {t * 1000:.0f} ms wall, {m:.0f} MiB peak  (target < 300 ms)")
        base, _ = measure(compile_cmd(d, "one-light", network(1, 0, "light"), "o1"), runs=3)
        one, m1 = measure(compile_cmd(d, "one-std", network(1, 0, "standard"), "o2"), runs=3)
        print(f"one standard-KDF keystore (scrypt n=2^18 r=8 p=1): {(one - base) * 1000:.0f} ms, {m1:.0f} MiB peak")
        many, m8 = measure(compile_cmd(d, "eight-std", network(8, 0, "standard"), "o3"), runs=1)
        cores = os.cpu_count() or 1
        print(f"9 standard-KDF keystores (8 signers + 1 account) in parallel on {cores} cores: {(many - base) * 1000:.0f} ms "
              f"({(many - base) / max(one - base, 1e-9):.1f}x one), {m8:.0f} MiB peak")
        helm = subprocess.run([str(TOP / "scripts/helm.sh"), "4"], capture_output=True, text=True)
        if helm.returncode != 0:
            sys.exit(f"bench: cannot get helm:\n{helm.stderr}")
        t, m = measure([helm.stdout.strip(), "template", "bench", str(TOP / "chart"),
                        "-f", str(d / "v200/values.yaml"), "-f", str(d / "v200/secrets.values.yaml")], runs=3)
        print(f"helm template, 200 nodes: {t:.2f} s wall, {m:.0f} MiB peak  (target < 3 s)")
        # 10,000 and 100,000 validators are more than one Helm release holds: their
        # genesis state and wallets go to objects/ (`largeObjects: auto`).
        for validators, pods, runs, target in [(1000, 10, 3, "  (target < 2 s)"), (10000, 20, 1, ""),
                                               (100000, 40, 1, "  (target < 60 s and < 2 GiB)")]:
            out = d / f"p{validators}"
            t, m = measure(compile_cmd(d, f"pos{validators}", stake_network(pods, validators // pods, "light"),
                                       f"p{validators}"), runs=runs)
            size = ((out / "values.yaml").stat().st_size + (out / "secrets.values.yaml").stat().st_size) / 1024
            files = list((out / "objects").glob("*.yaml"))
            objects = (f"objects/ {sum(f.stat().st_size for f in files) / 1024 / 1024:.1f} MiB" if files
                       else "genesis state and wallets in the release")
            print(f"compile, proof of stake, {validators} validators in {pods} pods (mainnet preset, light KDF): "
                  f"{t:.2f} s wall, {m:.0f} MiB peak; values {size:.0f} KiB, {objects}{target}")
        base, _ = measure(compile_cmd(d, "pos-light", stake_network(1, 1, "light"), "pl"), runs=3)
        one, m1 = measure(compile_cmd(d, "pos-std", stake_network(1, 1, "standard"), "ps"), runs=3)
        print(f"one standard-KDF validator wallet (EIP-2335 scrypt n=2^18 r=8 p=1): {(one - base) * 1000:.0f} ms, {m1:.0f} MiB peak")


if __name__ == "__main__":
    main()
