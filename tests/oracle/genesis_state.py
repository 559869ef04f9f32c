"""Rebuilds a genesis BeaconState with the executable consensus spec
(eth-consensus-specs) from the JSON description the Rust test wrote, and compares
it byte for byte with the SSZ file Rust wrote, plus the roots Rust reported.

Usage: genesis_state.py CASE.json [CASE.json ...]   (each next to CASE.ssz)

The construction is the direct one of the spec's test harness
(`test/helpers/genesis.py create_genesis_state`) with no deposits counted; every
computed field comes from a spec function: `get_max_effective_balance`,
`get_next_sync_committee`, `initialize_proposer_lookahead`, `hash_tree_root`.
Exits 1 on any difference and names the top-level fields that differ.
"""

import importlib
import json
import sys
from pathlib import Path


def load_spec(fork, preset):
    if fork not in ("electra", "fulu") or preset not in ("mainnet", "minimal"):
        raise SystemExit(f"unknown fork/preset {fork}/{preset}")
    return importlib.import_module(f"eth_consensus_specs.{fork}.{preset}")


def unhex(text):
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def build_state(spec, desc):
    block = desc["execution_block"]
    block_hash = spec.Hash32(unhex(block["block_hash"]))

    state = spec.BeaconState(
        genesis_time=desc["genesis_time"],
        fork=spec.Fork(
            previous_version=unhex(desc["previous_fork_version"]),
            current_version=unhex(desc["current_fork_version"]),
            epoch=spec.GENESIS_EPOCH,
        ),
        latest_block_header=spec.BeaconBlockHeader(
            body_root=spec.hash_tree_root(spec.BeaconBlockBody())
        ),
        eth1_data=spec.Eth1Data(
            deposit_root=spec.hash_tree_root(
                spec.List[spec.DepositData, 2**spec.DEPOSIT_CONTRACT_TREE_DEPTH]()
            ),
            deposit_count=0,
            block_hash=block_hash,
        ),
        eth1_deposit_index=0,
        randao_mixes=[block_hash] * spec.EPOCHS_PER_HISTORICAL_VECTOR,
    )

    for entry in desc["validators"]:
        balance = spec.Gwei(entry["balance"])
        validator = spec.Validator(
            pubkey=spec.BLSPubkey(unhex(entry["pubkey"])),
            withdrawal_credentials=spec.Bytes32(unhex(entry["withdrawal_credentials"])),
            effective_balance=0,
            slashed=False,
            activation_eligibility_epoch=spec.FAR_FUTURE_EPOCH,
            activation_epoch=spec.FAR_FUTURE_EPOCH,
            exit_epoch=spec.FAR_FUTURE_EPOCH,
            withdrawable_epoch=spec.FAR_FUTURE_EPOCH,
        )
        validator.effective_balance = min(
            balance - balance % spec.EFFECTIVE_BALANCE_INCREMENT,
            spec.get_max_effective_balance(validator),
        )
        if validator.effective_balance >= spec.MIN_ACTIVATION_BALANCE:
            validator.activation_eligibility_epoch = spec.GENESIS_EPOCH
            validator.activation_epoch = spec.GENESIS_EPOCH
        state.validators.append(validator)
        state.balances.append(balance)
        state.previous_epoch_participation.append(spec.ParticipationFlags(0))
        state.current_epoch_participation.append(spec.ParticipationFlags(0))
        state.inactivity_scores.append(spec.Uint64(0))

    state.genesis_validators_root = spec.hash_tree_root(state.validators)
    state.current_sync_committee = spec.get_next_sync_committee(state)
    state.next_sync_committee = spec.get_next_sync_committee(state)

    payload = spec.ExecutionPayload(
        parent_hash=unhex(block["parent_hash"]),
        fee_recipient=unhex(block["fee_recipient"]),
        state_root=unhex(block["state_root"]),
        receipts_root=unhex(block["receipts_root"]),
        logs_bloom=unhex(block["logs_bloom"]),
        prev_randao=unhex(block["prev_randao"]),
        block_number=block["block_number"],
        gas_limit=block["gas_limit"],
        gas_used=block["gas_used"],
        timestamp=block["timestamp"],
        extra_data=unhex(block["extra_data"]),
        base_fee_per_gas=int(block["base_fee_per_gas"]),
        block_hash=block_hash,
        transactions=[],
        withdrawals=[],
        blob_gas_used=block["blob_gas_used"],
        excess_blob_gas=block["excess_blob_gas"],
    )
    state.latest_execution_payload_header = spec.ExecutionPayloadHeader(
        parent_hash=payload.parent_hash,
        fee_recipient=payload.fee_recipient,
        state_root=payload.state_root,
        receipts_root=payload.receipts_root,
        logs_bloom=payload.logs_bloom,
        prev_randao=payload.prev_randao,
        block_number=payload.block_number,
        gas_limit=payload.gas_limit,
        gas_used=payload.gas_used,
        timestamp=payload.timestamp,
        extra_data=payload.extra_data,
        base_fee_per_gas=payload.base_fee_per_gas,
        block_hash=payload.block_hash,
        transactions_root=spec.hash_tree_root(payload.transactions),
        withdrawals_root=spec.hash_tree_root(payload.withdrawals),
        blob_gas_used=payload.blob_gas_used,
        excess_blob_gas=payload.excess_blob_gas,
    )

    # The harness: Fulu starts deposit requests at eth1_data.deposit_count,
    # Electra leaves the "unset" marker of upgrade_to_electra.
    if desc["fork"] == "fulu":
        state.deposit_requests_start_index = state.eth1_data.deposit_count
    else:
        state.deposit_requests_start_index = spec.UNSET_DEPOSIT_REQUESTS_START_INDEX
    state.earliest_exit_epoch = spec.GENESIS_EPOCH
    state.earliest_consolidation_epoch = 0

    if desc["fork"] == "fulu":
        state.proposer_lookahead = spec.initialize_proposer_lookahead(state)
    return state


def field_differences(spec, expected, got_bytes):
    try:
        got = spec.BeaconState.decode_bytes(got_bytes)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the answer
        return [f"the Rust bytes do not decode as a BeaconState: {exc}"]
    lines = []
    for name in spec.BeaconState.fields():
        want, have = getattr(expected, name), getattr(got, name)
        want_root, have_root = spec.hash_tree_root(want), spec.hash_tree_root(have)
        if want_root != have_root:
            if isinstance(want, int):
                lines.append(f"field {name} differs: spec {int(want)}, rust {int(have)}")
            else:
                lines.append(
                    f"field {name} differs: spec root 0x{want_root.hex()}, rust root 0x{have_root.hex()}"
                )
    return lines


def check(path):
    desc = json.loads(path.read_text())
    spec = load_spec(desc["fork"], desc["preset"])
    got = path.with_suffix(".ssz").read_bytes()
    state = build_state(spec, desc)
    want = state.encode_bytes()
    problems = []
    if want != got:
        problems.append(f"SSZ bytes differ (spec {len(want)} bytes, rust {len(got)} bytes)")
        problems.extend(field_differences(spec, state, got))
    root = "0x" + spec.hash_tree_root(state).hex()
    gvr = "0x" + state.genesis_validators_root.hex()
    if desc["rust"]["state_root"] != root:
        problems.append(f"state root: spec {root}, rust {desc['rust']['state_root']}")
    if desc["rust"]["genesis_validators_root"] != gvr:
        problems.append(
            f"genesis_validators_root: spec {gvr}, rust {desc['rust']['genesis_validators_root']}"
        )
    return problems, root, len(want)


def main(paths):
    if not paths:
        raise SystemExit(__doc__)
    failed = False
    for name in paths:
        path = Path(name)
        problems, root, size = check(path)
        if problems:
            failed = True
            print(f"MISMATCH {path.stem}:")
            for line in problems:
                print(f"  {line}")
        else:
            print(f"ok {path.stem}: {size} bytes, state root {root}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
