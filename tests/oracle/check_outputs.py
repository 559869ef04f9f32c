"""Independent oracle: checks the compiler's keys, addresses, enodes, keystores and
genesis with the Python Ethereum libraries (eth-keys, eth-keyfile, eth-account), its
chain id, network id and geth TOML against the network file, and every derived secret
against HKDF-SHA256 written here from hashlib/hmac.

Usage: check_outputs.py EXPORT_DIR VALUES_DIR NETWORK_FILE SECRETS_FILE
"""
import hashlib
import hmac
import json
import sys
import tomllib
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


# --- The documented derivation: HKDF-SHA256 (RFC 5869), salt "kuberneteth/derive/v1",
# the master secret as input key material, the label as info.
HKDF_SALT = b"kuberneteth/derive/v1"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def hkdf_sha256(ikm, salt, info, length):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


# RFC 5869 test case 1, so the oracle's HKDF is itself known to be right.
assert hkdf_sha256(b"\x0b" * 22, bytes(range(13)), bytes(range(0xF0, 0xFA)), 42).hex() == (
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


class Derive:
    def __init__(self, master):
        self.master = master

    def bytes(self, label, length):
        return hkdf_sha256(self.master, HKDF_SALT, label.encode(), length)

    def key(self, label):
        attempt = 0
        while True:
            k = self.bytes(label if attempt == 0 else f"{label}#{attempt}", 32)
            if 0 < int.from_bytes(k, "big") < SECP256K1_N:
                return k.hex()
            attempt += 1

    def token(self, label):
        return self.bytes(label, 16).hex()

    def nonces_match(self, keystore, label):
        """The keystore's salt and IV are derived from the key's label."""
        c = keystore["crypto"]
        return (c["kdfparams"]["salt"] == self.bytes(f"{label}/keystore-salt", 32).hex()
                and c["cipherparams"]["iv"] == self.bytes(f"{label}/keystore-iv", 16).hex())


def check_network(network, public, genesis, export_dir, nodes):
    """Chain id, network id, ports and peers: the network file against every output."""
    net = network["network"]
    chain_id = net["chainId"]
    network_id = net.get("networkId", chain_id)
    expect(genesis["config"]["chainId"] == chain_id, f"genesis chainId {genesis['config']['chainId']} is not {chain_id}")
    expect(public["network"]["chainId"] == chain_id, "values network.chainId")
    expect(public["network"]["networkId"] == network_id, "values network.networkId")
    groups = {g["name"]: g for g in network["nodes"]}
    stable = [n["enode"] for g in public["nodeGroups"] if g["role"] in ("signer", "bootnode") for n in g["nodes"]]
    for g in public["nodeGroups"]:
        p2p = groups[g["name"]].get("p2pPort", 30303)
        expect(g["ports"]["p2p"] == p2p, f"{g['name']}: values p2p port {g['ports']['p2p']}, network file {p2p}")
        toml = tomllib.loads(g["config"])
        expect(toml["Eth"]["NetworkId"] == network_id, f"{g['name']}: TOML NetworkId {toml['Eth']['NetworkId']}")
        expect(toml["Node"]["P2P"]["ListenAddr"] == f":{p2p}", f"{g['name']}: TOML ListenAddr")
        expect(toml["Node"]["P2P"]["StaticNodes"] == stable, f"{g['name']}: TOML StaticNodes")
        rpc = groups[g["name"]].get("rpc") or {}
        ingress = rpc.get("ingress") or {}
        if ingress.get("enabled"):
            expect(ingress["host"] in toml["Node"]["HTTPVirtualHosts"], f"{g['name']}: ingress host not a virtual host")
    for n in nodes:
        toml = tomllib.loads((export_dir / n["dir"] / "config.toml").read_text())
        expect(toml["Eth"]["NetworkId"] == network_id, f"{n['name']}: exported TOML NetworkId")
        # Outside Kubernetes each node binds every listener to its own address.
        expect(toml["Node"]["P2P"]["ListenAddr"] == f"{n['ip']}:{n['p2pPort']}", f"{n['name']}: exported TOML ListenAddr")
        expect(toml["Node"]["AuthAddr"] == n["ip"], f"{n['name']}: exported TOML AuthAddr")


def main(export_dir: Path, values_dir: Path, network_file: Path, secrets_file: Path) -> int:
    nodes = json.loads((export_dir / "nodes.json").read_text())
    accounts = json.loads((export_dir / "accounts.json").read_text())
    genesis = json.loads((export_dir / "genesis.json").read_text())
    public = yaml.safe_load((values_dir / "values.yaml").read_text())
    private = yaml.safe_load((values_dir / "secrets.values.yaml").read_text())["secrets"]
    network = yaml.safe_load(network_file.read_text())
    derive = Derive(bytes.fromhex(yaml.safe_load(secrets_file.read_text())["masterSecret"]))
    brought_nodekeys = {g["name"] for g in network["nodes"] if g.get("nodeKeyFiles")}

    check_network(network, public, genesis, export_dir, nodes)
    expect(private["keystorePassword"] == derive.token("keystore-password"), "keystore password is not HKDF(keystore-password)")
    expect(private["ethstatsSecret"] == derive.token("ethstats-secret"), "ethstats secret is not HKDF(ethstats-secret)")

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
        if n["group"] not in brought_nodekeys:
            expect(key_hex == derive.key(f"nodekey/{n['group']}/{n['ordinal']}"), f"{n['name']}: node key is not HKDF(nodekey/...)")
        v = by_name[n["name"]]
        expect(v["nodeId"] == n["nodeId"], f"{n['name']}: values nodeId")
        p2p = next(g["ports"]["p2p"] for g in public["nodeGroups"] if g["name"] == n["group"])
        expect(v["enode"] == f"enode://{pk.to_bytes().hex()}@{n['name']}:{p2p}", f"{n['name']}: values enode {v['enode']}")
        if n["signerAddress"]:
            signer_count += 1
            ks_files = list((d / "keystore").iterdir())
            expect(len(ks_files) == 1, f"{n['name']}: one keystore file")
            password = (d / "password").read_text().encode()
            keystore = json.loads(ks_files[0].read_text())
            secret = decode_keyfile_json(keystore, password)
            label = f"signer/{n['group']}/{n['ordinal']}"
            expect(secret.hex() == derive.key(label), f"{n['name']}: signer key is not HKDF({label})")
            expect(derive.nonces_match(keystore, label), f"{n['name']}: keystore salt/iv are not HKDF({label}/keystore-*)")
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
            key = Account.decrypt(ks, pw)
            acct = Account.from_key(key)
            expect(acct.address == a["address"], f"account {a['name']}: keystore opens to {acct.address}")
            if not any(c.get("name") == a["name"] and c.get("keystore") for c in network.get("accounts", [])):
                label = f"account/{a['name']}"
                expect(bytes(key).hex() == derive.key(label), f"account {a['name']}: key is not HKDF({label})")
                expect(pw == derive.token(f"account-password/{a['name']}"), f"account {a['name']}: password is not HKDF(account-password/...)")
                expect(derive.nonces_match(ks, label), f"account {a['name']}: keystore salt/iv")

    checked = len(nodes) + len(accounts)
    if failures:
        for f in failures:
            print(f"oracle: FAIL: {f}", file=sys.stderr)
        return 1
    print(f"oracle: {len(nodes)} nodes ({signer_count} signers) and {len(accounts)} accounts agree with eth-keys/eth-keyfile/eth-account ({checked} identities); "
          "chain id, network id, TOML and every derived secret agree with the network file and HKDF")
    return 0


if __name__ == "__main__":
    sys.exit(main(*map(Path, sys.argv[1:5])))
