//! The execution-layer genesis against outside references: hoodi's published
//! genesis (whose hash geth pins), geth's own source for the system-contract
//! bytecode, and cases dumped for `scripts/oracle-el-genesis.sh`, which hands them
//! to `geth init` and to an independent Python computation.
//!
//! Environment:
//! - `EL_GENESIS_ORACLE_DIR`: write `<case>.json`, `<case>.hash`, `<case>.root` there.
//! - `GETH_SOURCE_DIRS`: `:`-separated go-ethereum module directories whose
//!   `params/protocol_params.go` must hold the same bytecode as the Rust constants.

use kuberneteth::execution::crypto::AddressExt;
use std::collections::BTreeMap;
use std::path::Path;

use kuberneteth::execution::alloc::{Account, Alloc, Storage};
use kuberneteth::execution::block::{GenesisHeader, HeaderFork};
use kuberneteth::execution::crypto::Address;
use kuberneteth::execution::pos_genesis::{pos_genesis, PosFork, PosGenesisInput};
use kuberneteth::execution::system_contracts::{
    deposit_contract, BEACON_ROOTS_CODE, CONSOLIDATION_QUEUE_CODE, HISTORY_STORAGE_CODE,
    MAINNET_DEPOSIT_CONTRACT_ADDRESS, WITHDRAWAL_QUEUE_CODE,
};
use ruint::aliases::U256;
use serde_json::Value;

/// eth-clients/hoodi `metadata/genesis.json` at 7f71638a (2025-04-08); its hash
/// (`hoodi-genesis.hash`) is geth's `params.HoodiGenesisHash`. A Cancun genesis
/// with 335 accounts, hoodi's deposit contract among them.
const HOODI_GENESIS: &str = include_str!("fixtures/hoodi-genesis.json");

/// Every fixture with the hash geth gives it: hoodi, and an Osaka genesis with a
/// single precompile account (POS_FACTS §4 item 1; `geth init` v1.17.10 agrees).
const FIXTURES: [(&str, &str, &str); 2] = [
    (
        "hoodi-genesis",
        HOODI_GENESIS,
        include_str!("fixtures/hoodi-genesis.hash"),
    ),
    (
        "osaka-vector",
        include_str!("fixtures/osaka-vector.json"),
        include_str!("fixtures/osaka-vector.hash"),
    ),
];

/// geth's HexOrDecimal: a JSON number, a decimal string or a `0x` hex string.
fn number(v: &Value) -> U256 {
    match v {
        Value::Null => U256::ZERO,
        Value::Number(n) => U256::from(n.as_u64().unwrap()),
        Value::String(s) => match s.strip_prefix("0x") {
            Some("") => U256::ZERO,
            Some(hex) => U256::from_str_radix(hex, 16).unwrap(),
            None if s.is_empty() => U256::ZERO,
            None => U256::from_str_radix(s, 10).unwrap(),
        },
        other => panic!("not a number: {other}"),
    }
}

fn small(v: &Value) -> u64 {
    u64::try_from(number(v)).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    let s = v.as_str().unwrap_or("");
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).unwrap()
}

fn fixed<const N: usize>(v: &Value) -> [u8; N] {
    let raw = bytes(v);
    let mut out = [0u8; N];
    out[N - raw.len()..].copy_from_slice(&raw);
    out
}

/// Looks a key up the way Go's encoding/json does: case-insensitively.
fn get<'a>(obj: &'a Value, key: &str) -> &'a Value {
    obj.as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v)
        .unwrap_or(&Value::Null)
}

fn parse_alloc(v: &Value) -> Alloc {
    let mut alloc = Alloc::new();
    for (address, account) in v.as_object().unwrap() {
        let storage: Storage = get(account, "storage")
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (fixed(&Value::String(k.clone())), fixed(v)))
                    .collect()
            })
            .unwrap_or_default();
        let account = Account {
            balance: number(get(account, "balance")),
            nonce: small(get(account, "nonce")),
            code: bytes(get(account, "code")),
            storage,
        };
        alloc
            .insert(
                Address::new(fixed(&Value::String(address.clone()))),
                account,
            )
            .unwrap();
    }
    alloc
}

/// The header geth derives from a genesis.json whose forks are all active from
/// London on at block 0 (true of every genesis here).
fn parse_header(genesis: &Value, state_root: [u8; 32]) -> GenesisHeader {
    let config = get(genesis, "config");
    let timestamp = small(get(genesis, "timestamp"));
    let active = |key: &str| {
        let at = get(config, key);
        !at.is_null() && small(at) <= timestamp
    };
    assert_eq!(small(get(config, "londonBlock")), 0);
    let fork = if active("pragueTime") {
        HeaderFork::Prague
    } else if active("cancunTime") {
        HeaderFork::Cancun
    } else if active("shanghaiTime") {
        HeaderFork::Shanghai
    } else {
        HeaderFork::London
    };
    let base_fee = get(genesis, "baseFeePerGas");
    GenesisHeader {
        fork,
        parent_hash: fixed(get(genesis, "parentHash")),
        coinbase: Address::new(fixed(get(genesis, "coinbase"))),
        state_root,
        difficulty: number(get(genesis, "difficulty")),
        number: small(get(genesis, "number")),
        gas_limit: small(get(genesis, "gasLimit")),
        gas_used: small(get(genesis, "gasUsed")),
        timestamp,
        extra_data: bytes(get(genesis, "extraData")),
        mix_hash: fixed(get(genesis, "mixHash")),
        nonce: small(get(genesis, "nonce")),
        base_fee_per_gas: if base_fee.is_null() {
            U256::from(1_000_000_000u64)
        } else {
            number(base_fee)
        },
        blob_gas_used: small(get(genesis, "blobGasUsed")),
        excess_blob_gas: small(get(genesis, "excessBlobGas")),
    }
}

fn hash_of_json(text: &str) -> ([u8; 32], [u8; 32]) {
    let genesis: Value = serde_json::from_str(text).unwrap();
    let root = parse_alloc(get(&genesis, "alloc")).state_root();
    (root, parse_header(&genesis, root).hash())
}

#[test]
fn fixture_hashes_are_geths() {
    for (name, json, want) in FIXTURES {
        let (_, hash) = hash_of_json(json);
        assert_eq!(format!("0x{}", hex::encode(hash)), want.trim(), "{name}");
    }
    let (root, _) = hash_of_json(HOODI_GENESIS);
    assert_eq!(
        hex::encode(root),
        "da87d7f5f91c51508791bbcbd4aa5baf04917830b86985eeb9ad3d5bfb657576"
    );
}

/// Hoodi's genesis pre-deploys the deposit contract; geth pins that genesis'
/// hash, so hoodi's copy is a verified reference for the Rust constant.
#[test]
fn deposit_contract_equals_hoodis() {
    let genesis: Value = serde_json::from_str(HOODI_GENESIS).unwrap();
    let alloc = parse_alloc(get(&genesis, "alloc"));
    assert_eq!(
        alloc.get(&MAINNET_DEPOSIT_CONTRACT_ADDRESS),
        Some(&deposit_contract())
    );
}

fn premine() -> Vec<(Address, U256)> {
    let ether = U256::from(10u64).pow(U256::from(18u64));
    vec![
        (
            Address::parse("0x970E8128AB834E8EAC17Ab8E3812F010678CF791").unwrap(),
            ether * U256::from(1_000_000u64),
        ),
        (
            Address::parse("0x71562b71999873DB5b286dF957af199Ec94617F7").unwrap(),
            ether,
        ),
        (Address::new([0xfe; 20]), U256::MAX),
        // A zero balance leaves an empty account, which geth keeps in the genesis trie.
        (Address::new([0x42; 20]), U256::ZERO),
    ]
}

/// The cases the oracle runner gives to geth and to the Python computation.
fn cases(alloc: &[(Address, U256)]) -> Vec<(&'static str, PosGenesisInput<'_>)> {
    let osaka_default = PosGenesisInput::new(4242, 1_700_000_000, alloc);
    let mut osaka_custom = PosGenesisInput::new(31337, 1_760_000_123, alloc);
    osaka_custom.gas_limit = 36_000_000;
    osaka_custom.base_fee_per_gas = U256::from(7u64);
    osaka_custom.extra_data = b"kuberneteth genesis, 32 bytes ok";
    osaka_custom.coinbase = Address::new([0xc0; 20]);
    osaka_custom.mix_hash = [0x5a; 32];
    osaka_custom.nonce = 0x1234;
    osaka_custom.deposit_contract_address = Address::new([0x44; 20]);
    let mut prague = PosGenesisInput::new(1337, 1_750_000_000, &alloc[..2]);
    prague.fork = PosFork::Prague;
    vec![
        ("osaka-default", osaka_default),
        ("osaka-custom", osaka_custom),
        ("prague", prague),
    ]
}

/// The JSON text and the block computed beside it agree (read back the way geth
/// reads JSON), for every case.
#[test]
fn json_and_block_agree() {
    let alloc = premine();
    for (name, input) in cases(&alloc) {
        let out = pos_genesis(&input).unwrap();
        let (root, hash) = hash_of_json(&out.json);
        assert_eq!(root, out.block.state_root, "{name}");
        assert_eq!(hash, out.block.block_hash, "{name}");
    }
}

#[test]
fn dump_oracle_cases() {
    let Some(dir) = std::env::var_os("EL_GENESIS_ORACLE_DIR") else {
        eprintln!("EL_GENESIS_ORACLE_DIR not set: nothing dumped");
        return;
    };
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    let alloc = premine();
    for (name, input) in cases(&alloc) {
        let out = pos_genesis(&input).unwrap();
        std::fs::write(dir.join(format!("{name}.json")), &out.json).unwrap();
        let hash = format!("0x{}\n", hex::encode(out.block.block_hash));
        std::fs::write(dir.join(format!("{name}.hash")), hash).unwrap();
        let root = format!("0x{}\n", hex::encode(out.block.state_root));
        std::fs::write(dir.join(format!("{name}.root")), root).unwrap();
    }
}

/// `Name = common.FromHex("…")` assignments of geth's `params/protocol_params.go`.
fn go_hex_constants(source: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for line in source.lines() {
        let Some((name, rest)) = line.split_once('=') else {
            continue;
        };
        let Some(hex) = rest
            .trim()
            .strip_prefix("common.FromHex(\"")
            .and_then(|r| r.strip_suffix("\")"))
        else {
            continue;
        };
        let hex = hex.strip_prefix("0x").unwrap_or(hex);
        out.insert(name.trim().to_string(), hex::decode(hex).unwrap());
    }
    out
}

#[test]
fn bytecode_equals_geth_source() {
    let Some(dirs) = std::env::var_os("GETH_SOURCE_DIRS") else {
        eprintln!("GETH_SOURCE_DIRS not set: geth's bytecode not compared");
        return;
    };
    let dirs = dirs.into_string().unwrap();
    for dir in dirs.split(':').filter(|d| !d.is_empty()) {
        let path = Path::new(dir).join("params/protocol_params.go");
        let source = std::fs::read_to_string(&path).unwrap();
        let geth = go_hex_constants(&source);
        for (name, ours) in [
            ("BeaconRootsCode", BEACON_ROOTS_CODE),
            ("HistoryStorageCode", HISTORY_STORAGE_CODE),
            ("WithdrawalQueueCode", WITHDRAWAL_QUEUE_CODE),
            ("ConsolidationQueueCode", CONSOLIDATION_QUEUE_CODE),
        ] {
            let theirs = geth
                .get(name)
                .unwrap_or_else(|| panic!("{name} not in {}", path.display()));
            assert!(
                theirs.as_slice() == ours,
                "{name} differs from {}",
                path.display()
            );
        }
        eprintln!("bytecode equals {}", path.display());
    }
}
