"""Recomputes the fork digests, ENR `eth2` values and `nfd` entries that
src/consensus/fork.rs pins (src/consensus/fork_vectors.json) with the executable
consensus spec (eth-consensus-specs, Fulu, mainnet preset).

Usage: fork_digest.py VECTORS.json         check every case, exit 1 on a mismatch
       fork_digest.py VECTORS.json --print print the recomputed cases as JSON
"""

import json
import sys

from frozendict import frozendict
from eth_consensus_specs.fulu import mainnet as spec
from eth_consensus_specs.utils.ssz.ssz_typing import Bytes4, Container, Uint64 as uint64

FORKS = ["GENESIS", "ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU", "GLOAS", "HEZE"]
FAR_FUTURE = 2**64 - 1


class ENRForkID(Container):
    fork_digest: Bytes4
    next_fork_version: Bytes4
    next_fork_epoch: uint64


def version(chain_id, index):
    # The documented rule: [0x40 + fork index] + low 24 bits of the chain id.
    return bytes([0x40 + index]) + (chain_id % 2**24).to_bytes(3, "big")


def configure(case):
    last = FORKS.index(case["genesis_fork"].upper())
    overrides = {}
    for i, name in enumerate(FORKS):
        overrides[f"{name}_FORK_VERSION"] = spec.Version(version(case["chain_id"], i))
        if name != "GENESIS":
            overrides[f"{name}_FORK_EPOCH"] = spec.Epoch(0 if i <= last else FAR_FUTURE)
    overrides["MAX_BLOBS_PER_BLOCK_ELECTRA"] = uint64(case["max_blobs_per_block_electra"])
    overrides["BLOB_SCHEDULE"] = tuple(
        frozendict({"EPOCH": spec.Epoch(e), "MAX_BLOBS_PER_BLOCK": uint64(m)})
        for e, m in case["blob_schedule"]
    )
    fields = set(spec.config._fields)
    spec.config = spec.config._replace(**{k: v for k, v in overrides.items() if k in fields})


def compute(case):
    configure(case)
    gvr = spec.Root(bytes.fromhex(case["genesis_validators_root"]))
    epoch = spec.Epoch(case["epoch"])
    digest = spec.compute_fork_digest(gvr, epoch)
    scheduled = [getattr(spec.config, f"{n}_FORK_EPOCH") for n in FORKS[1:] if hasattr(spec.config, f"{n}_FORK_EPOCH")]
    scheduled += [e["EPOCH"] for e in spec.config.BLOB_SCHEDULE]
    ahead = [e for e in scheduled if e != FAR_FUTURE and e > epoch]
    if ahead:
        nxt = min(ahead)
        fork_id = ENRForkID(fork_digest=digest, next_fork_version=spec.compute_fork_version(spec.Epoch(nxt)), next_fork_epoch=nxt)
        nfd = spec.compute_fork_digest(gvr, spec.Epoch(nxt))
    else:
        fork_id = ENRForkID(fork_digest=digest, next_fork_version=spec.compute_fork_version(epoch), next_fork_epoch=FAR_FUTURE)
        nfd = b"\x00" * 4
    out = dict(case)
    out["fork_digest"] = bytes(digest).hex()
    out["enr_fork_id"] = fork_id.encode_bytes().hex()
    out["next_fork_digest"] = bytes(nfd).hex()
    return out


def main():
    cases = json.load(open(sys.argv[1]))
    results = [compute(c) for c in cases]
    if "--print" in sys.argv[2:]:
        print(json.dumps(results, indent=1))
        return 0
    bad = 0
    for want, got in zip(cases, results):
        for key in ("fork_digest", "enr_fork_id", "next_fork_digest"):
            if want.get(key) != got[key]:
                print(f"MISMATCH {want['name']} {key}: pinned {want.get(key)} spec {got[key]}")
                bad += 1
    print(f"fork digests: {len(cases)} cases, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
