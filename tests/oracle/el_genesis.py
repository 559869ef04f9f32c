"""Independent genesis state root and block hash of a geth genesis.json.

Re-derives what geth's `Genesis.ToBlock()` computes, with the `trie` and `rlp`
packages (not the Rust code under test), from the JSON text alone.

    el_genesis.py FILE.json [FILE.json ...]

prints `<state root> <block hash> <file>` per file. When `<case>.root` and
`<case>.hash` lie next to `<case>.json` (the Rust values), they must match;
`--expect-hash HASH` checks a single file against a known hash. Exits 1 on any
mismatch.
"""

import hashlib
import json
import sys
from pathlib import Path

import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie

EMPTY_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
EMPTY_OMMERS = keccak(rlp.encode([]))
INITIAL_BASE_FEE = 1_000_000_000
GENESIS_GAS_LIMIT = 4_712_388


def number(value, default=0):
    """geth's HexOrDecimal: a JSON number, a decimal string or a 0x hex string."""
    if value is None:
        return default
    if isinstance(value, int):
        return value
    text = value.strip()
    if text.lower().startswith("0x"):
        return int(text, 16) if len(text) > 2 else 0
    return int(text) if text else 0


def hexbytes(value):
    text = (value or "").lower()
    text = text[2:] if text.startswith("0x") else text
    return bytes.fromhex(text)


def word(value):
    """A storage key or value: up to 32 bytes, left-padded."""
    raw = hexbytes(value)
    return raw.rjust(32, b"\0")


def field(obj, name):
    """Go's encoding/json matches keys case-insensitively (mixHash / mixhash)."""
    for key, value in obj.items():
        if key.lower() == name.lower():
            return value
    return None


def state_root(alloc):
    accounts = HexaryTrie(db={})
    for address, account in alloc.items():
        storage = HexaryTrie(db={})
        for slot, value in (account.get("storage") or {}).items():
            as_int = int.from_bytes(word(value), "big")
            if as_int:
                storage[keccak(word(slot))] = rlp.encode(as_int)
        code = hexbytes(account.get("code"))
        leaf = rlp.encode([
            number(account.get("nonce")),
            number(account.get("balance")),
            storage.root_hash,
            keccak(code),
        ])
        accounts[keccak(hexbytes(address).rjust(20, b"\0"))] = leaf
    return accounts.root_hash


def active(config, key, timestamp):
    value = config.get(key)
    return value is not None and number(value) <= timestamp


def block_hash(genesis, root):
    config = genesis["config"]
    timestamp = number(field(genesis, "timestamp"))
    gas_limit = number(field(genesis, "gasLimit")) or GENESIS_GAS_LIMIT
    difficulty = field(genesis, "difficulty")
    header = [
        hexbytes(field(genesis, "parentHash")).rjust(32, b"\0"),
        EMPTY_OMMERS,
        hexbytes(field(genesis, "coinbase")).rjust(20, b"\0"),
        root,
        EMPTY_ROOT,
        EMPTY_ROOT,
        b"\0" * 256,
        number(difficulty),
        number(field(genesis, "number")),
        gas_limit,
        number(field(genesis, "gasUsed")),
        timestamp,
        hexbytes(field(genesis, "extraData")),
        hexbytes(field(genesis, "mixHash")).rjust(32, b"\0"),
        number(field(genesis, "nonce")).to_bytes(8, "big"),
    ]
    if number(config.get("londonBlock"), default=1) == 0:
        header.append(number(field(genesis, "baseFeePerGas"), INITIAL_BASE_FEE))
    if active(config, "shanghaiTime", timestamp):
        header.append(EMPTY_ROOT)
    if active(config, "cancunTime", timestamp):
        header.append(number(field(genesis, "blobGasUsed")))
        header.append(number(field(genesis, "excessBlobGas")))
        header.append(b"\0" * 32)
    if active(config, "pragueTime", timestamp):
        header.append(hashlib.sha256(b"").digest())
    return keccak(rlp.encode(header))


def main(argv):
    expect = None
    if argv[:1] == ["--expect-hash"]:
        expect, argv = argv[1].lower(), argv[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    for name in argv:
        path = Path(name)
        genesis = json.loads(path.read_text())
        root = state_root(genesis["alloc"])
        hashed = block_hash(genesis, root)
        got = {"root": "0x" + root.hex(), "hash": "0x" + hashed.hex()}
        print(f"{got['root']} {got['hash']} {path}")
        wanted = {}
        for kind in ("root", "hash"):
            side = path.with_suffix("." + kind)
            if side.exists():
                wanted[kind] = side.read_text().strip().lower()
        if expect is not None:
            wanted["hash"] = expect
        for kind, value in wanted.items():
            if value != got[kind]:
                print(f"MISMATCH {path} {kind}: python {got[kind]}, expected {value}", file=sys.stderr)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
