//! Genesis states for the cases the executable-spec oracle checks
//! (`scripts/oracle-genesis-state.sh`). With `GENESIS_STATE_ORACLE_DIR` set, each
//! case writes `<case>.json` (its inputs and the roots Rust computed) and
//! `<case>.ssz` there; without it, the cases only check invariants.

use std::path::PathBuf;

use blst::min_pk::SecretKey;
use kuberneteth::consensus::preset::Preset;
use kuberneteth::consensus::state::{
    build, ForkAtGenesis, GenesisState, GenesisStateInput, GenesisValidator,
};
use kuberneteth::execution::block::GenesisBlock;
use kuberneteth::execution::crypto::Address;
use ruint::aliases::U256;
use serde_json::json;

const ETH: u64 = 1_000_000_000;

/// A real BLS public key from a fixed seed.
fn pubkey(i: u32) -> [u8; 48] {
    let mut ikm = [0u8; 32];
    ikm[..4].copy_from_slice(&i.to_le_bytes());
    ikm[4..].copy_from_slice(b"kuberneteth genesis states: ");
    SecretKey::key_gen(&ikm, &[])
        .expect("32 bytes of key material")
        .sk_to_pk()
        .compress()
}

fn credentials(prefix: u8, i: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[0] = prefix;
    if prefix == 0 {
        out[1..5].copy_from_slice(&i.to_be_bytes());
        out[31] = 0x0b;
    } else {
        out[12..16].copy_from_slice(&i.to_be_bytes());
        out[31] = 0xad;
    }
    out
}

fn plain_validators(n: u32) -> Vec<GenesisValidator> {
    (0..n)
        .map(|i| GenesisValidator {
            pubkey: pubkey(i),
            withdrawal_credentials: credentials(0, i),
            balance_gwei: 32 * ETH,
        })
        .collect()
}

fn plain_block() -> GenesisBlock {
    let mut receipts_root = [0u8; 32];
    hex::decode_to_slice(
        "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
        &mut receipts_root,
    )
    .expect("hex");
    let mut block_hash = [0u8; 32];
    hex::decode_to_slice(
        "e1885f06bee2885f225a6210ba2dca924cc66e0e53a3cc08479c2f3bf67ba0e2",
        &mut block_hash,
    )
    .expect("hex");
    GenesisBlock {
        parent_hash: [0; 32],
        fee_recipient: Address::new([0; 20]),
        state_root: [0x11; 32],
        receipts_root,
        logs_bloom: [0; 256],
        prev_randao: [0; 32],
        number: 0,
        gas_limit: 200_000_000,
        gas_used: 0,
        timestamp: 1_700_000_000,
        extra_data: Vec::new(),
        base_fee_per_gas: U256::from(1_000_000_000u64),
        block_hash,
        blob_gas_used: 0,
        excess_blob_gas: 0,
    }
}

struct Case {
    name: &'static str,
    preset: Preset,
    fork: ForkAtGenesis,
    validators: Vec<GenesisValidator>,
    block: GenesisBlock,
}

fn versions(fork: ForkAtGenesis) -> ([u8; 4], [u8; 4]) {
    match fork {
        ForkAtGenesis::Electra => ([0x40, 0, 0, 0x38], [0x50, 0, 0, 0x38]),
        ForkAtGenesis::Fulu => ([0x50, 0, 0, 0x38], [0x60, 0, 0, 0x38]),
    }
}

const GENESIS_DELAY: u64 = 60;

fn input(case: &Case) -> GenesisStateInput<'_> {
    let (previous_fork_version, current_fork_version) = versions(case.fork);
    GenesisStateInput {
        preset: case.preset,
        fork: case.fork,
        genesis_time: case.block.timestamp + GENESIS_DELAY,
        previous_fork_version,
        current_fork_version,
        validators: &case.validators,
        execution_block: &case.block,
    }
}

fn cases() -> Vec<Case> {
    // 100 validators: one 0x01, one compounding 0x02 with 100.5 ETH, one below
    // the activation balance, one 0x00 above 32 ETH (capped), the rest plain.
    let mut mixed = plain_validators(100);
    mixed[3].withdrawal_credentials = credentials(1, 3);
    mixed[7].withdrawal_credentials = credentials(2, 7);
    mixed[7].balance_gwei = 100 * ETH + ETH / 2;
    mixed[11].balance_gwei = 31 * ETH + 999_999_999;
    mixed[13].balance_gwei = 40 * ETH + 17;

    let mut odd = plain_block();
    odd.parent_hash = [0x30; 32];
    odd.fee_recipient = Address::new([0x42; 20]);
    odd.logs_bloom = std::array::from_fn(|i| i as u8);
    odd.prev_randao = [0x5a; 32];
    odd.number = 7;
    odd.gas_used = 21_000;
    odd.extra_data = (0u8..32).collect();
    odd.base_fee_per_gas = (U256::from(1u64) << 70) + U256::from(12_345u64);
    odd.blob_gas_used = 131_072;
    odd.excess_blob_gas = 393_216;
    odd.block_hash = [0xc3; 32];

    let mut short_extra = plain_block();
    short_extra.extra_data = b"kuberneteth".to_vec();

    vec![
        Case {
            name: "minimal-fulu-8",
            preset: Preset::Minimal,
            fork: ForkAtGenesis::Fulu,
            validators: plain_validators(8),
            block: plain_block(),
        },
        Case {
            name: "mainnet-fulu-64",
            preset: Preset::Mainnet,
            fork: ForkAtGenesis::Fulu,
            validators: plain_validators(64),
            block: short_extra,
        },
        Case {
            name: "minimal-fulu-100-mixed",
            preset: Preset::Minimal,
            fork: ForkAtGenesis::Fulu,
            validators: mixed.clone(),
            block: plain_block(),
        },
        Case {
            name: "minimal-electra-100-mixed",
            preset: Preset::Minimal,
            fork: ForkAtGenesis::Electra,
            validators: mixed,
            block: plain_block(),
        },
        Case {
            name: "minimal-fulu-16-odd-el",
            preset: Preset::Minimal,
            fork: ForkAtGenesis::Fulu,
            validators: plain_validators(16),
            block: odd,
        },
    ]
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn describe(case: &Case, state: &GenesisState) -> serde_json::Value {
    let input = input(case);
    let block = &case.block;
    json!({
        "preset": case.preset.name(),
        "fork": match case.fork { ForkAtGenesis::Electra => "electra", ForkAtGenesis::Fulu => "fulu" },
        "genesis_time": input.genesis_time,
        "previous_fork_version": hex0x(&input.previous_fork_version),
        "current_fork_version": hex0x(&input.current_fork_version),
        "validators": case.validators.iter().map(|v| json!({
            "pubkey": hex0x(&v.pubkey),
            "withdrawal_credentials": hex0x(&v.withdrawal_credentials),
            "balance": v.balance_gwei,
        })).collect::<Vec<_>>(),
        "execution_block": {
            "parent_hash": hex0x(&block.parent_hash),
            "fee_recipient": hex0x(block.fee_recipient.as_slice()),
            "state_root": hex0x(&block.state_root),
            "receipts_root": hex0x(&block.receipts_root),
            "logs_bloom": hex0x(&block.logs_bloom),
            "prev_randao": hex0x(&block.prev_randao),
            "block_number": block.number,
            "gas_limit": block.gas_limit,
            "gas_used": block.gas_used,
            "timestamp": block.timestamp,
            "extra_data": hex0x(&block.extra_data),
            "base_fee_per_gas": block.base_fee_per_gas.to_string(),
            "block_hash": hex0x(&block.block_hash),
            "blob_gas_used": block.blob_gas_used,
            "excess_blob_gas": block.excess_blob_gas,
        },
        "rust": {
            "state_root": hex0x(&state.state_root),
            "genesis_validators_root": hex0x(&state.genesis_validators_root),
        },
    })
}

#[test]
fn genesis_state_cases() {
    let out_dir = std::env::var_os("GENESIS_STATE_ORACLE_DIR").map(PathBuf::from);
    for case in cases() {
        let state = build(&input(&case)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let again = build(&input(&case)).expect("second build");
        assert_eq!(state, again, "{}: not deterministic", case.name);

        // Per validator: 121 registry + 8 balance + 2 participation + 8 inactivity.
        let n = case.validators.len();
        let base = match (case.preset, case.fork) {
            (Preset::Minimal, ForkAtGenesis::Fulu) => 12_137 - 8 * 139,
            (Preset::Minimal, ForkAtGenesis::Electra) => 12_137 - 8 * 139 - 16 * 8,
            (Preset::Mainnet, ForkAtGenesis::Fulu) => 2_746_705 - 64 * 139,
            (Preset::Mainnet, ForkAtGenesis::Electra) => 2_746_705 - 64 * 139 - 64 * 8,
        };
        assert_eq!(
            state.ssz.len(),
            base + 139 * n + case.block.extra_data.len(),
            "{}: length",
            case.name
        );

        if let Some(dir) = &out_dir {
            std::fs::create_dir_all(dir).expect("oracle dir");
            let description = serde_json::to_string_pretty(&describe(&case, &state)).expect("json");
            std::fs::write(dir.join(format!("{}.json", case.name)), description)
                .expect("write json");
            std::fs::write(dir.join(format!("{}.ssz", case.name)), &state.ssz).expect("write ssz");
        }
    }
}

/// Times `build` on the mainnet preset (keys are made before the clock starts).
/// Run with `cargo test --release --test genesis_state -- --ignored --nocapture`;
/// `GENESIS_STATE_BENCH_DIR` keeps the SSZ files for size checks.
fn time_mainnet(n: u32) {
    let validators = plain_validators(n);
    let case = Case {
        name: "bench",
        preset: Preset::Mainnet,
        fork: ForkAtGenesis::Fulu,
        validators,
        block: plain_block(),
    };
    let start = std::time::Instant::now();
    let state = build(&input(&case)).expect("build");
    let elapsed = start.elapsed();
    println!(
        "mainnet fulu, {n} validators: build {:.1} ms, {} bytes",
        elapsed.as_secs_f64() * 1000.0,
        state.ssz.len()
    );
    if let Some(dir) = std::env::var_os("GENESIS_STATE_BENCH_DIR") {
        let path = PathBuf::from(dir).join(format!("mainnet-{n}.ssz"));
        std::fs::write(path, &state.ssz).expect("write ssz");
    }
}

#[test]
#[ignore = "timing; run with --release"]
fn timing_mainnet_1k() {
    time_mainnet(1_000);
}

#[test]
#[ignore = "timing; run with --release"]
fn timing_mainnet_10k() {
    time_mainnet(10_000);
}
