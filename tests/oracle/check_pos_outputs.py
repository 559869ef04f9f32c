"""Independent oracle over the compiler's proof-of-stake outputs: `compile` (values.yaml,
secrets.values.yaml) and `export` (genesis.json, nodes.json, consensus/, nodes/) of one
network, checked against the network file, the master secret and independent
implementations, reusing the other oracles of this folder:

1. genesis.ssz is byte-equal to the BeaconState the executable spec builds
   (genesis_state.build_state) from validators.json, the network file's balance,
   the execution header of genesis.json (el_genesis) and config.yaml's fork
   versions; values.yaml's genesis-state parts (each with its SHA-256) gunzip to
   the same bytes, whose SHA-256 the values carry, and its
   genesisValidatorsRoot is the spec's.
2. The execution genesis hash: el_genesis (trie + rlp) on genesis.json equals
   proofOfStake.executionGenesisHash, and so does geth's block 0 (`--geth`).
3. Validator keys: derived with ethstaker-deposit (EIP-2333/2334) from the BIP-39
   mnemonic (mnemonicFile) or from each pod's HKDF seed (check_outputs.Derive);
   pubkeys and withdrawal credentials; each validator in exactly one pod; each
   pod's Prysm wallet (export and secrets) decrypts with its password to exactly
   its validators' keys (py_ecc public keys of the private keys).
4. Beacon identities: p2p-key = HKDF(beacon-nodekey/...), peer id, ENR
   (beacon_identity.check_case) with the eth2 field from the spec's fork digest
   (fork_digest.compute for Fulu, the Electra spec for Electra); jwt.hex =
   HKDF(jwt/...) = secrets.beacon[node].jwtSecret.
5. config.yaml: every key of the spec config, the network's values, fork epochs,
   BLOB_SCHEDULE against genesis.json's blob schedule.
6. geth: config.toml has JWTSecret and AuthPort; no --mine/--unlock flag.
7. Joining validators (pods at or above their group's genesisReplicas): not in the
   genesis state, listed after the genesis ones in validators.json without an
   index; deposit_data-<network>.json holds exactly their deposits, each checked
   with ethstaker-deposit's SSZ containers and domain and py_ecc's signature
   verification, and by its validate_deposit where the credentials are 0x01/0x02.

Usage: check_pos_outputs.py NETWORK_FILE VALUES_DIR EXPORT_DIR SECRETS_FILE
           [--geth VERSION HASH STATE_ROOT ...]
Prints one summary line; exits 1 on any mismatch (each one printed).
"""

import base64
import gzip
import hashlib
import importlib
import json
import re
import sys
import tomllib
import uuid
from decimal import Decimal
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import beacon_identity  # noqa: E402
import el_genesis  # noqa: E402
import fork_digest  # noqa: E402
import genesis_state  # noqa: E402
import validator_keys  # noqa: E402  (also lifts ethstaker-deposit's scrypt floor for light keystores)
from check_outputs import Derive  # noqa: E402
from eth_keys import keys as eth_keys  # noqa: E402
from eth_utils import keccak  # noqa: E402
from ethstaker_deposit.key_handling.key_derivation.path import path_to_nodes  # noqa: E402
from ethstaker_deposit.key_handling.key_derivation.tree import derive_child_SK, derive_master_SK  # noqa: E402
from ethstaker_deposit.key_handling.keystore import Keystore, KeystoreCrypto  # noqa: E402
from ethstaker_deposit.settings import BaseChainSetting  # noqa: E402
from ethstaker_deposit.utils.ssz import (  # noqa: E402
    DepositData, DepositMessage, compute_deposit_domain, compute_signing_root)
from ethstaker_deposit.utils.validation import validate_deposit  # noqa: E402
from py_ecc.bls import G2ProofOfPossession as bls  # noqa: E402

FAR_FUTURE = 2**64 - 1
FORKS = fork_digest.FORKS  # GENESIS, ALTAIR, ..., FULU, GLOAS, HEZE
WALLET_FILE = "direct/accounts/all-accounts.keystore.json"
# The validator wallets' light setting (not geth's p=6: one wallet per pod is written
# on every compile and read at every validator client start).
LIGHT_SCRYPT = {"n": 4096, "r": 8, "p": 1}
STANDARD_SCRYPT = {"n": 262144, "r": 8, "p": 1}
DEFAULT_DEPOSIT_CONTRACT = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
# Keys of config.yaml the network sets; every other key keeps the spec's value.
NETWORK_KEYS = {
    "PRESET_BASE", "CONFIG_NAME", "TERMINAL_TOTAL_DIFFICULTY", "MIN_GENESIS_ACTIVE_VALIDATOR_COUNT",
    "MIN_GENESIS_TIME", "GENESIS_DELAY", "SLOT_DURATION_MS", "SECONDS_PER_SLOT", "ETH1_FOLLOW_DISTANCE",
    "DEPOSIT_CHAIN_ID", "DEPOSIT_NETWORK_ID", "DEPOSIT_CONTRACT_ADDRESS", "BLOB_SCHEDULE",
    "GENESIS_FORK_VERSION",
} | {f"{f}_FORK_VERSION" for f in FORKS} | {f"{f}_FORK_EPOCH" for f in FORKS}

failures = []
notes = []


def expect(cond, what):
    if not cond:
        failures.append(what)
    return cond


def unhex(text):
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def gwei_of(balance):
    """The network file's balance: wei as an integer, or `N wei|gwei|ether`."""
    if isinstance(balance, int):
        wei = balance
    else:
        amount, unit = str(balance).split()
        wei = Decimal(amount) * {"wei": 1, "gwei": 10**9, "ether": 10**18}[unit]
    assert wei == int(wei) and int(wei) % 10**9 == 0, balance
    return int(wei) // 10**9


def read_config(path):
    """config.yaml with every scalar kept as text (PyYAML would read 0x... as ints)."""
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)


class Outputs:
    def __init__(self, network_file, values_dir, export_dir, secrets_file):
        self.network_file = network_file
        self.network = yaml.safe_load(network_file.read_text())
        self.pos = self.network["network"]["consensus"]["proofOfStake"]
        self.fork = self.pos.get("fork", "fulu")
        self.preset = self.pos.get("preset", "mainnet")
        self.values_dir = values_dir
        self.public = yaml.safe_load((values_dir / "values.yaml").read_text())
        self.private = yaml.safe_load((values_dir / "secrets.values.yaml").read_text())["secrets"]
        self.export = export_dir
        self.nodes = json.loads((export_dir / "nodes.json").read_text())
        self.genesis = json.loads((export_dir / "genesis.json").read_text())
        self.validators = json.loads((export_dir / "consensus" / "validators.json").read_text())
        self.config = read_config(export_dir / "consensus" / "config.yaml")
        self.ssz = (export_dir / "consensus" / "genesis.ssz").read_bytes()
        self.derive = Derive(bytes.fromhex(yaml.safe_load(secrets_file.read_text())["masterSecret"]))
        self.spec = genesis_state.load_spec(self.fork, self.preset)
        self.values_nodes = {n["name"]: n for g in self.public["nodeGroups"] for n in g["nodes"]}

    def pods(self):
        """Validator pods in file order, from the network file alone: (node name,
        group, ordinal, first registry index or None for a pod that joins by
        deposit, count)."""
        name = self.network["network"]["name"]
        out, first = [], 0
        for g in self.network["nodes"]:
            if g["role"] != "validator":
                continue
            for o in range(g.get("replicas", 1)):
                genesis = o < g.get("genesisReplicas", g.get("replicas", 1))
                out.append((f"{name}-{g['name']}-{o}", g["name"], o, first if genesis else None, g["validatorsPerPod"]))
                first += g["validatorsPerPod"] if genesis else 0
        return out

    def genesis_validators(self):
        return [v for v in self.validators if v["index"] is not None]


# --- 1 and 2: the execution genesis and the genesis BeaconState -------------------


def execution_block(genesis):
    """The genesis block's payload header fields, with root and hash from el_genesis."""
    f = lambda name: el_genesis.field(genesis, name)  # noqa: E731
    root = el_genesis.state_root(genesis["alloc"])
    block_hash = el_genesis.block_hash(genesis, root)
    return {
        "parent_hash": "0x" + el_genesis.hexbytes(f("parentHash")).rjust(32, b"\0").hex(),
        "fee_recipient": "0x" + el_genesis.hexbytes(f("coinbase")).rjust(20, b"\0").hex(),
        "state_root": "0x" + root.hex(),
        "receipts_root": "0x" + el_genesis.EMPTY_ROOT.hex(),
        "logs_bloom": "0x" + "00" * 256,
        "prev_randao": "0x" + el_genesis.hexbytes(f("mixHash")).rjust(32, b"\0").hex(),
        "block_number": el_genesis.number(f("number")),
        "gas_limit": el_genesis.number(f("gasLimit")) or el_genesis.GENESIS_GAS_LIMIT,
        "gas_used": el_genesis.number(f("gasUsed")),
        "timestamp": el_genesis.number(f("timestamp")),
        "extra_data": "0x" + el_genesis.hexbytes(f("extraData")).hex(),
        "base_fee_per_gas": el_genesis.number(f("baseFeePerGas"), el_genesis.INITIAL_BASE_FEE),
        "block_hash": "0x" + block_hash.hex(),
        "blob_gas_used": el_genesis.number(f("blobGasUsed")),
        "excess_blob_gas": el_genesis.number(f("excessBlobGas")),
    }


def check_genesis(o, geth_blocks):
    net = o.network["network"]
    block = execution_block(o.genesis)
    pos_values = o.public["proofOfStake"]
    expect(block["block_hash"] == pos_values["executionGenesisHash"],
           f"EL genesis hash: el_genesis {block['block_hash']}, values {pos_values['executionGenesisHash']}")
    for version, hash_, root in geth_blocks:
        expect(hash_ == block["block_hash"], f"geth {version} block 0 hash {hash_}, el_genesis {block['block_hash']}")
        expect(root == block["state_root"], f"geth {version} block 0 state root {root}, el_genesis {block['state_root']}")
    expect(block["timestamp"] == net["genesisTimestamp"], f"genesis.json timestamp {block['timestamp']} is not genesisTimestamp")
    expect(o.genesis["config"]["chainId"] == net["chainId"], "genesis.json chainId")
    values_genesis = json.loads(o.public["genesis"]["json"])
    expect(values_genesis == o.genesis, "values.yaml genesis.json differs from the exported genesis.json")
    # The EL fork active at genesis is the CL's genesis fork: Prague for Electra, Osaka for Fulu.
    cfg = o.genesis["config"]
    ts = net["genesisTimestamp"]
    active = lambda k: k in cfg and cfg[k] <= ts  # noqa: E731
    if o.fork == "electra":
        expect(active("pragueTime") and not active("osakaTime"), "genesis.json: Electra needs Prague active and Osaka not")
    else:
        expect(active("osakaTime"), "genesis.json: Fulu needs Osaka active at genesis")

    genesis_fork = o.fork.upper()
    previous = FORKS[FORKS.index(genesis_fork) - 1]
    balance = gwei_of(o.pos.get("validatorBalance", "32 ether"))
    desc = {
        "fork": o.fork,
        "preset": o.preset,
        "genesis_time": net["genesisTimestamp"],
        "previous_fork_version": o.config[f"{previous}_FORK_VERSION"],
        "current_fork_version": o.config[f"{genesis_fork}_FORK_VERSION"],
        "validators": [{"pubkey": v["pubkey"], "withdrawal_credentials": v["withdrawalCredentials"], "balance": balance}
                       for v in o.genesis_validators()],
        "execution_block": block,
    }
    state = genesis_state.build_state(o.spec, desc)
    want = state.encode_bytes()
    if not expect(want == o.ssz, f"genesis.ssz differs from the spec's state (spec {len(want)} bytes, export {len(o.ssz)})"):
        failures.extend(genesis_state.field_differences(o.spec, state, o.ssz))
    # The state's parts, in order (the chart's ConfigMaps with largeObjects: release),
    # each with its SHA-256, and the whole's SHA-256: what each pod's init step checks.
    state_values = pos_values["genesisState"]
    gz = b""
    for i, part in enumerate(state_values["parts"]):
        data = base64.b64decode(part["data"])
        expect(hashlib.sha256(data).hexdigest() == part["sha256"], f"genesisState.parts[{i}].sha256")
        expect(part["configMap"] == f"{net['name']}-genesis-state-{i}", f"genesisState.parts[{i}].configMap")
        gz += data
    expect(gzip.decompress(gz) == o.ssz, "values genesisState parts do not gunzip to the exported genesis.ssz")
    expect(state_values["sha256"] == hashlib.sha256(o.ssz).hexdigest(), "genesisState.sha256 is not the exported genesis.ssz's")
    gvr = "0x" + bytes(state.genesis_validators_root).hex()
    expect(pos_values["genesisValidatorsRoot"] == gvr, f"genesisValidatorsRoot {pos_values['genesisValidatorsRoot']}, spec {gvr}")
    expect(pos_values["genesisTime"] == net["genesisTimestamp"], "values genesisTime")
    expect(len(state.validators) == sum(p[4] for p in o.pods() if p[3] is not None), "validator count of the state")
    return state, block


# --- 7: deposits of the joining validators ---------------------------------------

def check_deposits(o):
    """deposit_data-<network>.json: one deposit per joining validator, in file order,
    signed under the network's deposit domain (its genesis fork version)."""
    path = o.values_dir / f"deposit_data-{o.network['network']['name']}.json"
    if not o.joining:
        expect(not path.exists(), f"{path.name} written, but no validator joins")
        return 0
    if not expect(path.exists(), f"{path.name} missing: {len(o.joining)} validators join"):
        return 0
    entries = json.loads(path.read_text())
    expect([("0x" + e["pubkey"], "0x" + e["withdrawal_credentials"]) for e in entries] == o.joining,
           f"{path.name}: pubkeys and credentials are not the joining validators' in file order")
    fork_version = bytes.fromhex(o.config["GENESIS_FORK_VERSION"][2:])
    setting = BaseChainSetting(NETWORK_NAME=o.config["CONFIG_NAME"].strip("'\""), GENESIS_FORK_VERSION=fork_version,
                               EXIT_FORK_VERSION=bytes.fromhex(o.config["CAPELLA_FORK_VERSION"][2:]))
    balance = gwei_of(o.pos.get("validatorBalance", "32 ether"))
    domain = compute_deposit_domain(fork_version)
    for e in entries:
        label = f"{path.name}: {e['pubkey'][:12]}…"
        expect(e["amount"] == balance, f"{label}: amount {e['amount']}, want {balance}")
        expect(e["fork_version"] == fork_version.hex(), f"{label}: fork_version {e['fork_version']}")
        expect(e["network_name"] == setting.NETWORK_NAME, f"{label}: network_name {e['network_name']}")
        pubkey, creds = bytes.fromhex(e["pubkey"]), bytes.fromhex(e["withdrawal_credentials"])
        message = DepositMessage(pubkey=pubkey, withdrawal_credentials=creds, amount=e["amount"])
        expect(message.hash_tree_root.hex() == e["deposit_message_root"], f"{label}: deposit_message_root")
        signature = bytes.fromhex(e["signature"])
        expect(bls.Verify(pubkey, compute_signing_root(message, domain), signature), f"{label}: signature does not verify")
        data = DepositData(pubkey=pubkey, withdrawal_credentials=creds, amount=e["amount"], signature=signature)
        expect(data.hash_tree_root.hex() == e["deposit_data_root"], f"{label}: deposit_data_root")
        if creds[:1] in (b"\x01", b"\x02"):
            expect(validate_deposit(e, setting), f"{label}: ethstaker-deposit's validate_deposit refuses it")
    return len(entries)


# --- 3: validator keys and wallets ------------------------------------------------

_nodes = {}
_pubkeys = {}


def derive(seed, path):
    """validator_keys.derive (ethstaker-deposit's EIP-2333 tree walk along an EIP-2334
    path), remembering inner nodes: a pod's keys share m/12381/3600, a validator's
    signing and withdrawal keys share m/12381/3600/i/0."""
    if (seed, ()) not in _nodes:
        _nodes[(seed, ())] = derive_master_SK(seed)
    sk, walked = _nodes[(seed, ())], ()
    for node in path_to_nodes(path):
        walked += (node,)
        if (seed, walked) not in _nodes:
            _nodes[(seed, walked)] = derive_child_SK(parent_SK=sk, index=node)
        sk = _nodes[(seed, walked)]
    return sk


def pubkey_of(sk):
    """py_ecc's public key, once per secret key."""
    if sk not in _pubkeys:
        _pubkeys[sk] = "0x" + bls.SkToPk(sk).hex()
    return _pubkeys[sk]


def check_validators(o):
    pods = o.pods()
    w = o.pos.get("withdrawal")
    mnemonic = None
    if o.pos.get("mnemonicFile"):
        phrase = (o.network_file.parent / o.pos["mnemonicFile"]).read_text().strip()
        mnemonic = validator_keys.seed_of({"mnemonic": phrase, "passphrase": ""})
    expect(len(o.validators) == sum(p[4] for p in pods), f"{len(o.validators)} validators, network file says {sum(p[4] for p in pods)}")
    expect(len({v["pubkey"] for v in o.validators}) == len(o.validators), "a pubkey appears twice in the registry")
    secret_keys = {}  # pubkey -> secret key, derived here
    by_pod = {}
    # validators.json: the genesis ones in registry order, then the joining ones.
    genesis_count = len(o.genesis_validators())
    joining = o.validators[genesis_count:]
    o.joining = []  # (pubkey, credentials) of the joining validators, in file order
    for node, group, ordinal, first, count in pods:
        seed = mnemonic if mnemonic is not None else o.derive.bytes(f"validator-seed/{group}/{ordinal}", 32)
        by_pod[node] = []
        for j in range(count):
            if first is None:
                if len(o.joining) >= len(joining):
                    break
                v, index = joining[len(o.joining)], None
            else:
                index = first + j
                if index >= genesis_count:
                    break
                v = o.validators[index]
            tree_index = index if mnemonic is not None else j
            path = f"m/12381/3600/{tree_index}/0/0"
            label = f"validator {index if index is not None else 'joining'} ({node})"
            expect(v["index"] == index, f"{label}: index {v['index']}")
            expect(v["node"] == node, f"{label}: in pod {v['node']}, network file order puts it in {node}")
            expect(v["path"] == path, f"{label}: path {v['path']}, want {path}")
            sk = derive(seed, path)
            pubkey = pubkey_of(sk)
            expect(v["pubkey"] == pubkey, f"{label}: pubkey {v['pubkey']}, ethstaker-deposit {pubkey}")
            if w is None:
                wpk = bytes.fromhex(pubkey_of(derive(seed, f"m/12381/3600/{tree_index}/0"))[2:])
                creds = "0x00" + hashlib.sha256(wpk).hexdigest()[2:]
            else:
                prefix = "0x02" if w.get("compounding") else "0x01"
                creds = prefix + "00" * 11 + w["address"][2:].lower()
            expect(v["withdrawalCredentials"] == creds, f"{label}: credentials {v['withdrawalCredentials']}, want {creds}")
            if index is None:
                o.joining.append((pubkey, creds))
            secret_keys[pubkey] = sk
            by_pod[node].append(pubkey)

    kdf = LIGHT_SCRYPT if o.network.get("keystore", {}).get("kdf") == "light" else STANDARD_SCRYPT
    wallets = o.private.get("validatorWallets", {})
    expect(set(wallets) == set(by_pod), f"secrets validatorWallets for {sorted(wallets)}, pods {sorted(by_pod)}")
    in_wallets = []
    wrong_password_tried = False
    for n in o.nodes:
        node = n["name"]
        count = len(by_pod.get(node, []))
        expect(n["beacon"]["validators"] == count, f"{node}: nodes.json says {n['beacon']['validators']} validators, want {count}")
        expect(o.values_nodes[node]["beacon"]["validators"] == count, f"{node}: values.yaml validators")
        if node not in by_pod:
            expect(n["beacon"]["wallet"] is None, f"{node}: a wallet on a pod without validators")
            expect(not (o.export / n["dir"] / "validator").exists(), f"{node}: validator files on a pod without validators")
            continue
        group, ordinal = n["group"], n["ordinal"]
        chart = wallets[node]
        expect(set(chart["files"]) == {WALLET_FILE}, f"{node}: wallet files {sorted(chart['files'])}")
        # The pod's keys Secret is named in the public values with its files' SHA-256.
        keys = o.values_nodes[node]["validatorKeys"]
        expect(keys["secret"] == f"{node}-validator-keys", f"{node}: validatorKeys.secret {keys['secret']}")
        expect(keys["files"] == [{"path": WALLET_FILE, "sha256": hashlib.sha256(chart["files"][WALLET_FILE].encode()).hexdigest()}],
               f"{node}: validatorKeys.files {keys['files']}")
        password = (o.export / n["dir"] / "validator" / "wallet-password").read_text()
        expect(password == chart["password"], f"{node}: exported wallet password differs from secrets.values.yaml")
        expect(password == o.derive.token(f"validator-wallet-password/{group}/{ordinal}"),
               f"{node}: wallet password is not HKDF(validator-wallet-password/...)")
        raw_text = (o.export / n["dir"] / n["beacon"]["wallet"] / WALLET_FILE).read_text()
        raw = json.loads(raw_text)
        expect(json.loads(chart["files"][WALLET_FILE]) == raw, f"{node}: secrets wallet differs from the exported one")
        c = raw["crypto"]
        expect(c["kdf"]["function"] == "scrypt" and {k: c["kdf"]["params"][k] for k in "nrp"} == kdf,
               f"{node}: wallet kdf {c['kdf']['function']} {c['kdf']['params']}, network asks {kdf}")
        label = f"validator-wallet/{group}/{ordinal}"
        expect(c["kdf"]["params"]["salt"] == o.derive.bytes(f"{label}/keystore-salt", 32).hex(), f"{node}: wallet salt is not HKDF")
        expect(c["cipher"]["params"]["iv"] == o.derive.bytes(f"{label}/keystore-iv", 16).hex(), f"{node}: wallet iv is not HKDF")
        u = bytearray(o.derive.bytes(f"{label}/keystore-uuid", 16))
        u[6], u[8] = (u[6] & 0x0F) | 0x40, (u[8] & 0x3F) | 0x80
        expect(raw["uuid"] == str(uuid.UUID(bytes=bytes(u))), f"{node}: wallet uuid is not HKDF (v4)")
        expect(raw.get("name") == "keystore" and raw.get("version") == 4, f"{node}: wallet name/version")
        wallet = Keystore(crypto=KeystoreCrypto.from_json(c), path="", uuid=raw["uuid"], version=4)
        store = json.loads(wallet.decrypt(password))
        pubs = ["0x" + base64.b64decode(p).hex() for p in store["public_keys"]]
        expect(pubs == by_pod[node], f"{node}: wallet holds {len(pubs)} keys, not exactly its {len(by_pod[node])} validators in order")
        for sk_b64, pk in zip(store["private_keys"], pubs):
            sk = int.from_bytes(base64.b64decode(sk_b64), "big")
            expect(pubkey_of(sk) == pk, f"{node}: a wallet private key does not give its public key")
            expect(secret_keys.get(pk) == sk, f"{node}: wallet key {pk[:12]}... is not the derived one")
        in_wallets.extend(pubs)
        if not wrong_password_tried:
            wrong_password_tried = True
            try:
                wallet.decrypt(password + "x")
                failures.append(f"{node}: the wallet opened with a wrong password")
            except ValueError:
                pass
    expect(sorted(in_wallets) == sorted(v["pubkey"] for v in o.validators),
           "the wallets' keys are not the registry's, each once")
    return len(in_wallets)


# --- 4: beacon identities ----------------------------------------------------------


def enr_fork_fields(o, gvr):
    """(eth2 hex, nfd hex or None) at epoch 0, from the executable spec."""
    chain_id = int(o.config["DEPOSIT_CHAIN_ID"])
    if o.fork == "fulu":
        case = {
            "genesis_fork": "fulu",
            "chain_id": chain_id,
            "max_blobs_per_block_electra": int(o.config["MAX_BLOBS_PER_BLOCK_ELECTRA"]),
            "blob_schedule": [(int(e["EPOCH"]), int(e["MAX_BLOBS_PER_BLOCK"])) for e in o.config["BLOB_SCHEDULE"]],
            "genesis_validators_root": bytes(gvr).hex(),
            "epoch": 0,
        }
        out = fork_digest.compute(case)
        return out["enr_fork_id"], out["next_fork_digest"]
    # The Electra spec (no blob-parameter mixing) with config.yaml's versions and epochs.
    spec = importlib.import_module(f"eth_consensus_specs.electra.{o.preset}")
    fields = set(spec.config._fields)
    overrides = {k: spec.Version(unhex(v)) for k, v in o.config.items() if k.endswith("_FORK_VERSION") and k in fields}
    overrides.update({k: spec.Epoch(int(v)) for k, v in o.config.items() if k.endswith("_FORK_EPOCH") and k in fields})
    spec.config = spec.config._replace(**overrides)
    digest = spec.compute_fork_digest(gvr, spec.Epoch(0))
    version = spec.compute_fork_version(spec.Epoch(0))
    # No fork after Electra is scheduled: next version = current, epoch = far future.
    fork_id = fork_digest.ENRForkID(fork_digest=digest, next_fork_version=version, next_fork_epoch=FAR_FUTURE)
    return fork_id.encode_bytes().hex(), None


def check_beacon(o, gvr):
    eth2, nfd = enr_fork_fields(o, gvr)
    ports = o.public["proofOfStake"]["ports"]
    cgc = int(o.config["CUSTODY_REQUIREMENT"]) if o.fork == "fulu" else None
    before = len(beacon_identity.failures)
    names = set()
    for n in o.nodes:
        node, b = n["name"], n["beacon"]
        names.add(node)
        d = o.export / n["dir"]
        key_hex = (d / "beacon" / "p2p-key").read_text()
        label = f"beacon-nodekey/{n['group']}/{n['ordinal']}"
        expect(key_hex == o.derive.key(label), f"{node}: p2p-key is not HKDF({label})")
        expect(o.private["beacon"][node]["nodeKey"] == key_hex, f"{node}: secrets beacon nodeKey differs from p2p-key")
        # The execution node key beside it stays the clique-era rule.
        el_key = (d / "nodekey").read_text().strip()
        expect(el_key == o.private["nodeKeys"][node], f"{node}: geth nodekey differs from secrets nodeKeys")
        if not any(g["name"] == n["group"] and g.get("nodeKeyFiles") for g in o.network["nodes"]):
            expect(el_key == o.derive.key(f"nodekey/{n['group']}/{n['ordinal']}"), f"{node}: geth nodekey is not HKDF(nodekey/...)")
        expect(el_key != key_hex, f"{node}: geth and the beacon node share a key")
        jwt = (d / "jwt.hex").read_text()
        want_jwt = o.derive.bytes(f"jwt/{n['group']}/{n['ordinal']}", 32).hex()
        expect(jwt.removeprefix("0x") == want_jwt, f"{node}: jwt.hex is not HKDF(jwt/...)")
        expect(o.private["beacon"][node]["jwtSecret"] == jwt, f"{node}: secrets jwtSecret differs from jwt.hex")
        expect(b["tcpPort"] == ports["tcp"] and b["udpPort"] == ports["udp"], f"{node}: nodes.json ports differ from values")
        pub = eth_keys.PrivateKey(bytes.fromhex(key_hex)).public_key
        values_beacon = o.values_nodes[node]["beacon"]
        expect(values_beacon["peerId"] == b["peerId"], f"{node}: values peerId differs from nodes.json")
        enrs = {b["enr"], values_beacon["enr"]}
        for enr in enrs:
            beacon_identity.check_case(node, {
                "secret_key": key_hex,
                "p2p_priv_key_file": key_hex,
                "peer_id": b["peerId"],
                # check_case wants the in-cluster multiaddr form; the exported one
                # (its own loopback address) is checked below.
                "host": node, "tcp": ports["tcp"],
                "multiaddr": f"/dns4/{node}/tcp/{ports['tcp']}/p2p/{b['peerId']}",
                "enr": enr,
                "node_id": keccak(pub.to_bytes()).hex(),
                "udp": ports["udp"], "quic": None, "ip": None,
                "eth2": eth2, "nfd": nfd, "cgc": cgc,
            })
        expect(b["multiaddr"] == f"/ip4/{n['ip']}/tcp/{b['tcpPort']}/p2p/{b['peerId']}", f"{node}: exported multiaddr {b['multiaddr']}")
    expect(set(o.private["beacon"]) == names, "secrets beacon nodes differ from nodes.json")
    expect(set(o.values_nodes) == names, "values.yaml nodes differ from nodes.json")
    failures.extend(f"ENR/peer id: {f}" for f in beacon_identity.failures[before:])
    return eth2


# --- 5: config.yaml -----------------------------------------------------------------


def executable_spec_keys(preset):
    """Config keys of each fork's executable spec, by fork."""
    out = {}
    for f in FORKS[:]:
        name = "phase0" if f == "GENESIS" else f.lower()
        try:
            out[f] = set(importlib.import_module(f"eth_consensus_specs.{name}.{preset}").config._fields)
        except ModuleNotFoundError:
            pass
    return out


def spec_value(preset, key):
    """(fork that introduced the key, its value as text in the newest executable spec)."""
    first = None
    for f in FORKS:
        name = "phase0" if f == "GENESIS" else f.lower()
        try:
            if key in importlib.import_module(f"eth_consensus_specs.{name}.{preset}").config._fields:
                first = f
                break
        except ModuleNotFoundError:
            continue
    for f in reversed(FORKS):
        name = "phase0" if f == "GENESIS" else f.lower()
        try:
            cfg = importlib.import_module(f"eth_consensus_specs.{name}.{preset}").config
        except ModuleNotFoundError:
            continue
        if key in cfg._fields:
            v = getattr(cfg, key)
            return first, "0x" + bytes(v).hex() if isinstance(v, bytes) else str(int(v)) if isinstance(v, int) else v
    return None, None


def check_config(o, top):
    net = o.network["network"]
    c = o.config
    keys = set(c)
    # The pinned spec release (the one the consensus client is built against) is the
    # reference for the key set and every value the network does not set; the
    # executable spec (a later pre-release) only adds notes where it differs.
    pinned = read_config(top / "src" / "consensus" / "spec_config" / f"{o.preset}.yaml")
    vendored = set(pinned)
    expect(keys == vendored,
           f"config.yaml keys differ from spec_config/{o.preset}.yaml: missing {sorted(vendored - keys)}, extra {sorted(keys - vendored)}")
    for key in sorted(keys - NETWORK_KEYS - {"MAX_REQUEST_BLOB_SIDECARS_ELECTRA"}):
        expect(str(c[key]) == str(pinned[key]), f"config.yaml {key} = {c[key]}, pinned spec {pinned[key]}")
    # MAX_REQUEST_BLOCKS_DENEB blocks of at most MAX_BLOBS_PER_BLOCK_ELECTRA blobs.
    expect(int(c["MAX_REQUEST_BLOB_SIDECARS_ELECTRA"]) == int(c["MAX_REQUEST_BLOCKS_DENEB"]) * int(c["MAX_BLOBS_PER_BLOCK_ELECTRA"]),
           "MAX_REQUEST_BLOB_SIDECARS_ELECTRA does not follow the Electra blob limit")
    by_fork = executable_spec_keys(o.preset)
    genesis_index = FORKS.index(o.fork.upper())
    newer = set().union(*by_fork.values()) - keys if by_fork else set()
    if newer:
        notes.append(f"config.yaml lacks keys of eth-consensus-specs newer than the pinned spec: {sorted(newer)}")
    for key in sorted(keys - NETWORK_KEYS):
        fork, want = spec_value(o.preset, key)
        if want is not None and str(c[key]) != str(want):
            notes.append(f"config.yaml {key} = {c[key]}, eth-consensus-specs {want} ({fork})")

    count = len(o.genesis_validators())
    chain_id = str(net["chainId"])
    want_address = o.pos.get("depositContractAddress", DEFAULT_DEPOSIT_CONTRACT)
    checks = {
        "PRESET_BASE": o.preset,
        "CONFIG_NAME": f"{net['name']}-{net['chainId']}",
        "DEPOSIT_CHAIN_ID": chain_id,
        "DEPOSIT_NETWORK_ID": str(net.get("networkId", net["chainId"])),
        "MIN_GENESIS_TIME": str(net["genesisTimestamp"]),
        "SECONDS_PER_SLOT": str(o.pos.get("secondsPerSlot", 12)),
        "SLOT_DURATION_MS": str(o.pos.get("secondsPerSlot", 12) * 1000),
        "MIN_GENESIS_ACTIVE_VALIDATOR_COUNT": str(count),
        "TERMINAL_TOTAL_DIFFICULTY": str(o.genesis["config"]["terminalTotalDifficulty"]),
        "GENESIS_DELAY": "0",
    }
    for key, want in checks.items():
        expect(c.get(key) == want, f"config.yaml {key} = {c.get(key)!r}, want {want!r}")
    expect(int(c["SECONDS_PER_SLOT"]) * 1000 == int(c["SLOT_DURATION_MS"]), "SECONDS_PER_SLOT * 1000 != SLOT_DURATION_MS")
    gaddr = o.genesis["config"].get("depositContractAddress", "")
    expect(c["DEPOSIT_CONTRACT_ADDRESS"] == gaddr, f"DEPOSIT_CONTRACT_ADDRESS {c['DEPOSIT_CONTRACT_ADDRESS']}, genesis.json {gaddr}")
    expect(c["DEPOSIT_CONTRACT_ADDRESS"].lower() == want_address.lower(), f"DEPOSIT_CONTRACT_ADDRESS is not {want_address}")

    versions = set()
    forks = [(i, f) for i, f in enumerate(FORKS) if f"{f}_FORK_VERSION" in c]
    for i, f in forks:
        vkey = f"{f}_FORK_VERSION"
        expect(c.get(vkey) == "0x" + fork_digest.version(net["chainId"], i).hex(),
               f"{vkey} {c.get(vkey)} does not follow [0x40 + fork] + chain id")
        versions.add(c.get(vkey))
        if f != "GENESIS":
            want = "0" if i <= genesis_index else str(FAR_FUTURE)
            expect(c.get(f"{f}_FORK_EPOCH") == want, f"{f}_FORK_EPOCH {c.get(f'{f}_FORK_EPOCH')}, want {want}")
    expect(len(versions) == len(forks), "fork versions are not distinct")
    expect(genesis_index < len(forks), "the genesis fork has no version")

    # Blob limits: the CL schedule against the EL's (genesis.json blobSchedule and bpoN times).
    blob = o.genesis["config"].get("blobSchedule", {})
    expect(int(c["MAX_BLOBS_PER_BLOCK_ELECTRA"]) == blob.get("prague", {}).get("max"),
           f"MAX_BLOBS_PER_BLOCK_ELECTRA {c['MAX_BLOBS_PER_BLOCK_ELECTRA']}, genesis.json prague max {blob.get('prague', {}).get('max')}")
    schedule = [(int(e["EPOCH"]), int(e["MAX_BLOBS_PER_BLOCK"])) for e in c["BLOB_SCHEDULE"]]
    if o.fork == "electra":
        expect(schedule == [], f"BLOB_SCHEDULE {schedule} at Electra, want []")
        expect(not any(k.startswith("bpo") for k in o.genesis["config"]), "genesis.json has BPO forks at Electra")
    else:
        epoch_seconds = int(c["SECONDS_PER_SLOT"]) * int(o.spec.SLOTS_PER_EPOCH)
        want = {}
        for k in sorted((k for k in o.genesis["config"] if re.fullmatch(r"bpo\d+Time", k)), key=lambda k: int(k[3:-4])):
            t = o.genesis["config"][k]
            expect((t - net["genesisTimestamp"]) % epoch_seconds == 0 or t <= net["genesisTimestamp"], f"{k} not at an epoch start")
            epoch = max(0, (t - net["genesisTimestamp"]) // epoch_seconds)
            want[epoch] = blob[k[:-4]]["max"]  # a later BPO at the same epoch wins
        expect(schedule == sorted(want.items()), f"BLOB_SCHEDULE {schedule}, genesis.json BPOs give {sorted(want.items())}")
        expect(schedule == sorted(set(schedule)), "BLOB_SCHEDULE not sorted by epoch or has duplicates")
    pv = o.public["proofOfStake"]
    expect(pv["chainConfig"] == (o.export / "consensus" / "config.yaml").read_text(), "values chainConfig differs from config.yaml")
    expect(pv["preset"] == o.preset and pv["fork"] == o.fork, "values preset/fork")
    expect(pv["slotsPerEpoch"] == int(o.spec.SLOTS_PER_EPOCH), "values slotsPerEpoch is not the preset's")


# --- 6: geth ------------------------------------------------------------------------


def check_geth(o):
    bad_flags = ("--mine", "--unlock", "--allow-insecure-unlock", "--miner.etherbase")
    for n in o.nodes:
        d = o.export / n["dir"]
        toml = tomllib.loads((d / "config.toml").read_text())
        node = toml.get("Node", {})
        expect(node.get("JWTSecret") and node.get("AuthPort"), f"{n['name']}: config.toml lacks JWTSecret/AuthPort")
        if node.get("JWTSecret"):
            expect((d / node["JWTSecret"]).is_file(), f"{n['name']}: JWTSecret {node['JWTSecret']} is not a file beside config.toml")
        args = (d / "geth.args").read_text().split()
        expect(not [a for a in args if a.split("=")[0] in bad_flags], f"{n['name']}: geth.args has {[a for a in args if a.split('=')[0] in bad_flags]}")
    for g in o.public["nodeGroups"]:
        toml = tomllib.loads(g["config"])
        expect(toml["Node"].get("JWTSecret") and toml["Node"].get("AuthPort"), f"values group {g['name']}: TOML lacks JWTSecret/AuthPort")
        expect(not [a for a in g["args"] if a.split("=")[0] in bad_flags], f"values group {g['name']}: args {g['args']}")
        expect(g.get("unlockSigner") is False, f"values group {g['name']}: unlockSigner")


def main(argv):
    if len(argv) < 4:
        raise SystemExit(__doc__)
    network_file, values_dir, export_dir, secrets_file = map(Path, argv[:4])
    rest, geth_blocks = argv[4:], []
    while rest[:1] == ["--geth"]:
        geth_blocks.append(tuple(rest[1:4]))
        rest = rest[4:]
    if rest:
        raise SystemExit(f"unexpected arguments {rest}")
    top = Path(__file__).resolve().parents[2]
    o = Outputs(network_file, values_dir, export_dir, secrets_file)
    state, block = check_genesis(o, geth_blocks)
    wallet_keys = check_validators(o)
    check_beacon(o, state.genesis_validators_root)
    check_config(o, top)
    check_geth(o)
    deposits = check_deposits(o)

    name = network_file.stem
    for note in notes:
        print(f"pos oracle: {name}: note: {note}")
    if failures:
        for f in failures:
            print(f"pos oracle: {name}: MISMATCH {f}", file=sys.stderr)
        print(f"pos oracle: {name}: {len(failures)} mismatches", file=sys.stderr)
        return 1
    geth = ", ".join(f"geth {v}" for v, _, _ in geth_blocks) or "no geth"
    print(f"pos oracle: {name}: ok — {o.preset}/{o.fork}, {len(o.validators)} validators in {len(o.pods())} pods "
          f"({wallet_keys} wallet keys decrypted), genesis.ssz {len(o.ssz)} bytes = spec, "
          f"EL hash {block['block_hash'][:10]}… = el_genesis = {geth}, {len(o.nodes)} beacon identities, config.yaml, geth config, "
          f"{deposits} deposits of joining validators")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
