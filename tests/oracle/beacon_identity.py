"""Checks beacon-node identities written by tests/beacon_identity.rs with
libraries independent of the Rust code: pyrlp decodes the ENR, eth-keys derives
the public key and verifies the signature, base58 decodes the peer id.

Usage: beacon_identity.py CASES.json    exit 1 on any mismatch
"""

import base64
import json
import sys

import base58
import rlp
from eth_keys import keys
from eth_utils import keccak

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

failures = []


def check(cond, case, what):
    if not cond:
        failures.append(f"{case}: {what}")


def be_int(b):
    return int.from_bytes(b, "big")


def check_case(i, c):
    name = f"case {i}"
    priv = keys.PrivateKey(bytes.fromhex(c["secret_key"]))
    pub = priv.public_key
    compressed = pub.to_compressed_bytes()

    # Prysm's --p2p-priv-key file: bare hex of the 32-byte key.
    check(c["p2p_priv_key_file"] == c["secret_key"], name, "p2p key file is not the bare hex key")

    # libp2p peer id: base58btc(identity multihash(protobuf PublicKey{Type=2, Data})).
    protobuf = bytes([0x08, 0x02, 0x12, len(compressed)]) + compressed
    want_peer = base58.b58encode(bytes([0x00, len(protobuf)]) + protobuf).decode()
    check(c["peer_id"] == want_peer, name, f"peer id {c['peer_id']} != {want_peer}")
    check(c["peer_id"].startswith("16Uiu2"), name, "peer id prefix")
    check(c["multiaddr"] == f"/dns4/{c['host']}/tcp/{c['tcp']}/p2p/{want_peer}", name, "multiaddr")

    # ENR (EIP-778).
    text = c["enr"]
    check(text.startswith("enr:"), name, "enr: prefix")
    raw = base64.urlsafe_b64decode(text[4:] + "=" * (-len(text[4:]) % 4))
    check(len(raw) <= 300, name, "record above 300 bytes")
    check(base64.urlsafe_b64encode(raw).decode().rstrip("=") == text[4:], name, "base64 not canonical")
    items = rlp.decode(raw)
    check(rlp.encode(items) == raw, name, "RLP not canonical")
    sig, seq, kv = items[0], items[1], items[2:]
    check(len(kv) % 2 == 0, name, "odd key/value count")
    fields = {bytes(kv[j]): kv[j + 1] for j in range(0, len(kv), 2)}
    ks = [bytes(kv[j]) for j in range(0, len(kv), 2)]
    check(ks == sorted(ks) and len(set(ks)) == len(ks), name, "keys not sorted and unique")
    check(be_int(seq) == 1, name, "seq")

    # Signature: keccak256(rlp([seq, k, v, ...])) signed by the node key, 64 bytes r||s, low s.
    digest = keccak(rlp.encode([seq] + kv))
    check(len(sig) == 64, name, "signature length")
    r, s = be_int(sig[:32]), be_int(sig[32:])
    check(s <= SECP256K1_N // 2, name, "high-s signature (geth rejects it)")
    recovered = set()
    for v in (0, 1):
        try:
            recovered.add(keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest))
        except Exception:  # noqa: BLE001 - an invalid v is expected for one of the two
            pass
    check(pub in recovered, name, "signature does not verify against the node key")

    check(fields.get(b"id") == b"v4", name, "id")
    check(fields.get(b"secp256k1") == compressed, name, "secp256k1 key")
    check(keccak(pub.to_bytes()).hex() == c["node_id"], name, "node id")
    check(be_int(fields.get(b"tcp", b"")) == c["tcp"], name, "tcp")
    check(be_int(fields.get(b"udp", b"")) == c["udp"], name, "udp")
    if c["quic"] is None:
        check(b"quic" not in fields, name, "unexpected quic")
    else:
        check(be_int(fields.get(b"quic", b"")) == c["quic"], name, "quic")
    if c["ip"] is None:
        check(b"ip" not in fields, name, "unexpected ip")
    else:
        check(".".join(str(b) for b in fields.get(b"ip", b"")) == c["ip"], name, "ip")
    check(bytes(fields.get(b"eth2", b"")).hex() == c["eth2"] and len(fields[b"eth2"]) == 16, name, "eth2")
    check(fields.get(b"attnets") == bytes(8), name, "attnets")
    check(fields.get(b"syncnets") == bytes(1), name, "syncnets")
    if c["nfd"] is not None:
        check(bytes(fields.get(b"nfd", b"")).hex() == c["nfd"], name, "nfd")
    if c["cgc"] is None:
        check(b"cgc" not in fields, name, "unexpected cgc")
    else:
        check(be_int(fields.get(b"cgc", b"\xff")) == c["cgc"] and fields[b"cgc"][:1] != b"\x00", name, "cgc")
    allowed = {b"id", b"secp256k1", b"ip", b"tcp", b"udp", b"quic", b"eth2", b"attnets", b"syncnets", b"nfd", b"cgc"}
    check(set(fields) <= allowed, name, f"unexpected keys {set(fields) - allowed}")


def main():
    cases = json.load(open(sys.argv[1]))
    for i, c in enumerate(cases):
        check_case(i, c)
    for f in failures:
        print("MISMATCH", f)
    print(f"beacon identities: {len(cases)} cases, {len(failures)} mismatches")
    return 1 if failures or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
