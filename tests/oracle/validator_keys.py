"""Checks validator keys, EIP-2335 keystores and the Prysm wallet written by
tests/validator_keys.rs against independent implementations: ethstaker-deposit
(EIP-2333/2334 derivation, EIP-2335 decryption) and py_ecc (BLS public keys).

Usage: validator_keys.py DIR   (DIR holds validators.json and the files it names)
Exits non-zero on any mismatch.
"""

import base64
import hashlib
import json
import sys
from pathlib import Path

from ethstaker_deposit.key_handling.key_derivation.mnemonic import get_seed
from ethstaker_deposit.key_handling.key_derivation.path import path_to_nodes
from ethstaker_deposit.key_handling.key_derivation.tree import derive_child_SK, derive_master_SK
from Crypto.Protocol.KDF import scrypt as pycryptodome_scrypt
from ethstaker_deposit.key_handling import keystore as ethstaker_keystore
from ethstaker_deposit.key_handling.keystore import Keystore, KeystoreCrypto
from py_ecc.bls import G2ProofOfPossession as bls

# ethstaker-deposit refuses scrypt below n*r*p = 2^20 (its "not secure" floor), which
# the light keystores (n=4096 r=8 p=6) are under. For those only, call the same
# pycryptodome scrypt without the floor; standard keystores take the unpatched path.
_floored_scrypt = ethstaker_keystore.scrypt


def _scrypt(*, password, salt, n, r, p, dklen):
    if n * r * p >= 2**20:
        return _floored_scrypt(password=password, salt=salt, n=n, r=r, p=p, dklen=dklen)
    return pycryptodome_scrypt(password=password, salt=salt, key_len=dklen, N=n, r=r, p=p)


ethstaker_keystore.scrypt = _scrypt

failures = []


def check(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")


def seed_of(source):
    if "seed" in source:
        return bytes.fromhex(source["seed"])
    return get_seed(mnemonic=source["mnemonic"], password=source["passphrase"])


def derive(seed, path):
    sk = derive_master_SK(seed)
    for node in path_to_nodes(path):
        sk = derive_child_SK(parent_SK=sk, index=node)
    return sk


def main(out):
    summary = json.loads((out / "validators.json").read_text())
    address = bytes.fromhex(summary["address"])
    for v in summary["validators"]:
        label = f"{v['keystore']}"
        seed = seed_of(v["source"])
        i = v["index"]
        check(f"{label} path", v["path"], f"m/12381/3600/{i}/0/0")
        check(f"{label} withdrawal path", v["withdrawal_path"], f"m/12381/3600/{i}/0")
        sk = derive(seed, v["path"])
        wsk = derive(seed, v["withdrawal_path"])
        pubkey = bls.SkToPk(sk).hex()
        wpubkey = bls.SkToPk(wsk).hex()
        check(f"{label} pubkey", v["pubkey"], pubkey)
        check(f"{label} withdrawal pubkey", v["withdrawal_pubkey"], wpubkey)
        creds = v["credentials"]
        check(f"{label} 0x00", creds["0x00"], "0x00" + hashlib.sha256(bytes.fromhex(wpubkey)).hexdigest()[2:])
        check(f"{label} 0x01", creds["0x01"], "0x01" + "00" * 11 + address.hex())
        check(f"{label} 0x02", creds["0x02"], "0x02" + "00" * 11 + address.hex())

        ks = Keystore.from_file(str(out / v["keystore"]))
        password = (out / (v["keystore"] + ".password")).read_text(encoding="utf-8")
        check(f"{label} kdf", ks.crypto.kdf.function, "pbkdf2" if v["kdf"] == "pbkdf2" else "scrypt")
        if v["kdf"] == "standard":
            check(f"{label} scrypt params", {k: ks.crypto.kdf.params[k] for k in "nrp"}, {"n": 262144, "r": 8, "p": 1})
        check(f"{label} decrypted secret", ks.decrypt(password), sk.to_bytes(32, "big"))
        check(f"{label} keystore pubkey", ks.pubkey, pubkey)
        check(f"{label} keystore path", ks.path, v["path"])
        try:
            ks.decrypt(password + "x")
            failures.append(f"{label}: a wrong password decrypted")
        except ValueError:
            pass

    # Prysm's wallet: its crypto section is an EIP-2335 one, so ethstaker-deposit's
    # decryption opens it; the plaintext is Prysm's accountStore JSON.
    w = summary["prysm_wallet"]
    wallet_file = out / w["dir"] / "direct" / "accounts" / "all-accounts.keystore.json"
    raw = json.loads(wallet_file.read_text())
    check("wallet name", raw.get("name"), "keystore")
    check("wallet version", raw.get("version"), 4)
    # Built directly: the file has no pubkey/path, which Keystore.from_json's schema requires.
    wallet = Keystore(crypto=KeystoreCrypto.from_json(raw["crypto"]), path="", uuid=raw["uuid"], version=4)
    password = (out / w["password_file"]).read_text(encoding="utf-8").rstrip("\r\n")
    store = json.loads(wallet.decrypt(password))
    check("wallet keys", sorted(store), ["private_keys", "public_keys"])
    pubs = [base64.b64decode(p).hex() for p in store["public_keys"]]
    check("wallet public keys", pubs, w["pubkeys"])
    for n, (sk_b64, pk) in enumerate(zip(store["private_keys"], w["pubkeys"])):
        sk = int.from_bytes(base64.b64decode(sk_b64), "big")
        check(f"wallet key {n}", bls.SkToPk(sk).hex(), pk)

    checked = len(summary["validators"])
    if failures:
        print("\n".join(failures), file=sys.stderr)
        print(f"validator keys: {len(failures)} mismatches", file=sys.stderr)
        sys.exit(1)
    print(f"validator keys: {checked} validators, {checked} keystores and a {len(pubs)}-key Prysm wallet agree")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
