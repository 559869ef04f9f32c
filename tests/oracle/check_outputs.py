"""Independent oracle: checks the compiler's keys, addresses, enodes, keystores and
genesis with the Python Ethereum libraries (eth-keys, eth-keyfile, eth-account).

Usage: check_outputs.py EXPORT_DIR VALUES_DIR
"""
import json
import sys
from pathlib import Path

import yaml
from eth_account import Account
from eth_keyfile import decode_keyfile_json
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def main(export_dir: Path, values_dir: Path) -> int:
    nodes = json.loads((export_dir / "nodes.json").read_text())
    accounts = json.loads((export_dir / "accounts.json").read_text())
    genesis = json.loads((export_dir / "genesis.json").read_text())
    public = yaml.safe_load((values_dir / "values.yaml").read_text())
    private = yaml.safe_load((values_dir / "secrets.values.yaml").read_text())["secrets"]

    extra = bytes.fromhex(genesis["extraData"][2:])
    expect(len(extra) >= 97 and (len(extra) - 97) % 20 == 0, "extraData length")
    sealers = [extra[32 + 20 * i: 52 + 20 * i] for i in range((len(extra) - 97) // 20)]
    expect(sealers == sorted(sealers), "extraData signers are not sorted")
    expect(extra[:32] == b"\0" * 32 and extra[-65:] == b"\0" * 65, "extraData vanity/seal not zero")
    sealer_addrs = {to_checksum_address(s) for s in sealers}

    signer_count = 0
    by_name = {n["name"]: n for g in public["nodeGroups"] for n in g["nodes"]}
    for n in nodes:
        d = export_dir / n["dir"]
        key_hex = (d / "nodekey").read_text().strip()
        expect(key_hex == private["nodeKeys"][n["name"]], f"{n['name']}: exported nodekey differs from secrets.values.yaml")
        pk = keys.PrivateKey(bytes.fromhex(key_hex)).public_key
        expect(pk.to_bytes().hex() == n["publicKey"], f"{n['name']}: public key")
        expect(keccak(pk.to_bytes()).hex().removeprefix("0x") == n["nodeId"], f"{n['name']}: node id")
        expect(n["enode"] == f"enode://{pk.to_bytes().hex()}@{n['host']}:{n['p2pPort']}", f"{n['name']}: enode URL")
        v = by_name[n["name"]]
        expect(v["nodeId"] == n["nodeId"], f"{n['name']}: values nodeId")
        expect(v["enode"].split("@")[0] == n["enode"].split("@")[0], f"{n['name']}: values enode id")
        if n["signerAddress"]:
            signer_count += 1
            ks_files = list((d / "keystore").iterdir())
            expect(len(ks_files) == 1, f"{n['name']}: one keystore file")
            password = (d / "password").read_text().encode()
            secret = decode_keyfile_json(json.loads(ks_files[0].read_text()), password)
            addr = Account.from_key(secret).address
            expect(addr == n["signerAddress"], f"{n['name']}: keystore opens to {addr}, not {n['signerAddress']}")
            expect(addr in sealer_addrs, f"{n['name']}: signer {addr} not in genesis extraData")
            expect(ks_files[0].name.endswith("--" + addr[2:].lower()), f"{n['name']}: keystore file name")
            # The chart's copy (secrets.values.yaml) is the same keystore.
            chart_ks = private["signerKeystores"][n["name"]]
            expect(json.loads(chart_ks["json"]) == json.loads(ks_files[0].read_text()), f"{n['name']}: chart keystore differs")
            expect(password.decode() == private["keystorePassword"], f"{n['name']}: password")
            expect(to_checksum_address(addr) == v["signerAddress"], f"{n['name']}: EIP-55 form")
    expect(signer_count == len(sealers), f"{signer_count} signers exported, {len(sealers)} in extraData")

    alloc = {k.lower(): int(v["balance"], 16) for k, v in genesis["alloc"].items()}
    for a in accounts:
        expect(alloc.get(a["address"].lower()) == int(a["balanceWei"]), f"account {a['address']}: genesis balance")
        expect(to_checksum_address(a["address"]) == a["address"], f"account {a['address']}: EIP-55")
        if a["keystore"]:
            ks = json.loads((export_dir / a["keystore"]).read_text())
            pw = (export_dir / a["password"]).read_text()
            acct = Account.from_key(Account.decrypt(ks, pw))
            expect(acct.address == a["address"], f"account {a['name']}: keystore opens to {acct.address}")

    checked = len(nodes) + len(accounts)
    if failures:
        for f in failures:
            print(f"oracle: FAIL: {f}", file=sys.stderr)
        return 1
    print(f"oracle: {len(nodes)} nodes ({signer_count} signers) and {len(accounts)} accounts agree with eth-keys/eth-keyfile/eth-account ({checked} identities)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
