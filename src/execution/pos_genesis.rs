//! The proof-of-stake execution genesis: geth's `genesis.json` for a network that
//! starts at Prague or Osaka, and the genesis block (hash, state root and the
//! header fields the beacon genesis state embeds), computed without geth.

use crate::execution::crypto::AddressExt;
use ruint::aliases::U256;
use serde::Serialize;

use crate::execution::alloc::{Account, Alloc, DuplicateAccount};
use crate::execution::block::{GenesisBlock, GenesisHeader, HeaderFork};
use crate::execution::crypto::Address;
use crate::execution::genesis::{to_pretty_json, BlockForksAtZero, GenesisFile};
use crate::execution::system_contracts::{
    deposit_contract, precompile_addresses, system_contracts, MAINNET_DEPOSIT_CONTRACT_ADDRESS,
};

/// The fork the execution layer starts at; every earlier fork is active from
/// block 0 / time 0 as well.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PosFork {
    /// Prague (consensus layer: Electra).
    Prague,
    /// Osaka with BPO1 and BPO2 active at genesis too (consensus layer: Fulu),
    /// where mainnet's blob parameters are today.
    #[default]
    Osaka,
}

/// A fork's blob parameters (`blobSchedule.<fork>` in geth's genesis).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobParams {
    pub target: u64,
    pub max: u64,
    pub base_fee_update_fraction: u64,
}

/// Mainnet's values, from geth's `params/config.go` (v1.16.9 and v1.17.10 agree).
pub const CANCUN_BLOBS: BlobParams = BlobParams {
    target: 3,
    max: 6,
    base_fee_update_fraction: 3_338_477,
};
pub const PRAGUE_BLOBS: BlobParams = BlobParams {
    target: 6,
    max: 9,
    base_fee_update_fraction: 5_007_716,
};
/// Osaka changes no blob parameter: geth v1.16.9's `DefaultOsakaBlobConfig` is Prague's.
pub const OSAKA_BLOBS: BlobParams = PRAGUE_BLOBS;
pub const BPO1_BLOBS: BlobParams = BlobParams {
    target: 10,
    max: 15,
    base_fee_update_fraction: 8_346_193,
};
pub const BPO2_BLOBS: BlobParams = BlobParams {
    target: 14,
    max: 21,
    base_fee_update_fraction: 11_684_671,
};

/// geth's `params.InitialBaseFee`: 1 gwei.
pub const DEFAULT_BASE_FEE: U256 = U256::from_limbs([1_000_000_000, 0, 0, 0]);

/// geth's `params.MinGasLimit`; below it no block after genesis is valid.
pub const MIN_GAS_LIMIT: u64 = 5000;

/// What a proof-of-stake execution genesis is made of.
#[derive(Clone, Debug)]
pub struct PosGenesisInput<'a> {
    pub chain_id: u64,
    pub fork: PosFork,
    /// Unix seconds; the consensus layer's `MIN_GENESIS_TIME`.
    pub timestamp: u64,
    pub gas_limit: u64,
    pub base_fee_per_gas: U256,
    /// At most 32 bytes (the consensus layer's `extra_data` is a `ByteList[32]`).
    pub extra_data: &'a [u8],
    pub coinbase: Address,
    /// The header's `mixHash`, which the beacon state reads as `prev_randao`.
    pub mix_hash: [u8; 32],
    pub nonce: u64,
    /// Where the deposit contract is deployed; must equal the consensus layer's
    /// `DEPOSIT_CONTRACT_ADDRESS`.
    pub deposit_contract_address: Address,
    /// Prefunded accounts (address, wei), the same shape the clique genesis takes.
    pub alloc: &'a [(Address, U256)],
}

impl<'a> PosGenesisInput<'a> {
    /// The customary values for everything but the chain, the time and the premine:
    /// Osaka, 60M gas, 1 gwei base fee, empty extra data, zero coinbase and
    /// mixHash, nonce 0, the mainnet deposit contract address.
    pub fn new(chain_id: u64, timestamp: u64, alloc: &'a [(Address, U256)]) -> Self {
        Self {
            chain_id,
            fork: PosFork::Osaka,
            timestamp,
            gas_limit: 60_000_000,
            base_fee_per_gas: DEFAULT_BASE_FEE,
            extra_data: &[],
            coinbase: Address::new([0; 20]),
            mix_hash: [0; 32],
            nonce: 0,
            deposit_contract_address: MAINNET_DEPOSIT_CONTRACT_ADDRESS,
            alloc,
        }
    }
}

/// The genesis as geth reads it, and the block geth derives from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionGenesis {
    /// `genesis.json` text (pretty, stable key order, trailing newline).
    pub json: String,
    pub block: GenesisBlock,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenesisError {
    #[error("the chain id must not be 0")]
    ZeroChainId,
    #[error("extra data is {0} bytes; the consensus layer allows at most 32")]
    ExtraDataTooLong(usize),
    #[error("the gas limit {0} is below geth's minimum of {MIN_GAS_LIMIT}")]
    GasLimitTooLow(u64),
    #[error(
        "account {} is allocated twice, or is the address of a system contract, \
         the deposit contract or a precompile", .0.0
    )]
    AddressTaken(#[from] DuplicateAccount),
}

/// Builds the `genesis.json` and computes the genesis block for `input`.
pub fn pos_genesis(input: &PosGenesisInput) -> Result<ExecutionGenesis, GenesisError> {
    if input.chain_id == 0 {
        return Err(GenesisError::ZeroChainId);
    }
    if input.extra_data.len() > 32 {
        return Err(GenesisError::ExtraDataTooLong(input.extra_data.len()));
    }
    if input.gas_limit < MIN_GAS_LIMIT {
        return Err(GenesisError::GasLimitTooLow(input.gas_limit));
    }
    let alloc = pos_alloc(input)?;
    let header = GenesisHeader {
        fork: HeaderFork::Prague,
        parent_hash: [0; 32],
        coinbase: input.coinbase,
        state_root: alloc.state_root(),
        difficulty: U256::ZERO,
        number: 0,
        gas_limit: input.gas_limit,
        gas_used: 0,
        timestamp: input.timestamp,
        extra_data: input.extra_data.to_vec(),
        mix_hash: input.mix_hash,
        nonce: input.nonce,
        base_fee_per_gas: input.base_fee_per_gas,
        blob_gas_used: 0,
        excess_blob_gas: 0,
    };
    Ok(ExecutionGenesis {
        json: genesis_json(input, &alloc),
        block: header.seal(),
    })
}

/// Precompiles with 1 wei, the system contracts, the deposit contract, then the
/// premine; any address given twice is an error.
fn pos_alloc(input: &PosGenesisInput) -> Result<Alloc, DuplicateAccount> {
    let mut alloc = Alloc::new();
    for address in precompile_addresses() {
        alloc.insert(address, Account::funded(U256::from(1u8)))?;
    }
    for (address, account) in system_contracts() {
        alloc.insert(address, account)?;
    }
    alloc.insert(input.deposit_contract_address, deposit_contract())?;
    for (address, balance) in input.alloc {
        alloc.insert(*address, Account::funded(*balance))?;
    }
    Ok(alloc)
}

/// Every fork through Prague (or Osaka + BPO1 + BPO2) at block 0 / time 0, and
/// the merge already done (terminal total difficulty 0).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChainConfig {
    chain_id: u64,
    #[serde(flatten)]
    forks: BlockForksAtZero,
    merge_netsplit_block: u64,
    terminal_total_difficulty: u64,
    shanghai_time: u64,
    cancun_time: u64,
    prague_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    osaka_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bpo1_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bpo2_time: Option<u64>,
    deposit_contract_address: String,
    blob_schedule: BlobSchedule,
}

/// geth requires an entry for every scheduled blob fork. `osaka` is read by
/// v1.16.9 and v1.17.0–v1.17.4 (which refuse an Osaka genesis without it) and
/// ignored from v1.17.5 on, so it is always written when Osaka is scheduled.
#[derive(Serialize)]
struct BlobSchedule {
    cancun: BlobParams,
    prague: BlobParams,
    #[serde(skip_serializing_if = "Option::is_none")]
    osaka: Option<BlobParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bpo1: Option<BlobParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bpo2: Option<BlobParams>,
}

fn genesis_json(input: &PosGenesisInput, alloc: &Alloc) -> String {
    let osaka = input.fork == PosFork::Osaka;
    let at_genesis = |on: bool| on.then_some(0);
    let config = ChainConfig {
        chain_id: input.chain_id,
        forks: BlockForksAtZero::default(),
        merge_netsplit_block: 0,
        terminal_total_difficulty: 0,
        shanghai_time: 0,
        cancun_time: 0,
        prague_time: 0,
        osaka_time: at_genesis(osaka),
        bpo1_time: at_genesis(osaka),
        bpo2_time: at_genesis(osaka),
        deposit_contract_address: input.deposit_contract_address.to_string(),
        blob_schedule: BlobSchedule {
            cancun: CANCUN_BLOBS,
            prague: PRAGUE_BLOBS,
            osaka: osaka.then_some(OSAKA_BLOBS),
            bpo1: osaka.then_some(BPO1_BLOBS),
            bpo2: osaka.then_some(BPO2_BLOBS),
        },
    };
    let genesis = GenesisFile {
        config,
        nonce: format!("{:#x}", input.nonce),
        timestamp: format!("{:#x}", input.timestamp),
        extra_data: format!("0x{}", hex::encode(input.extra_data)),
        gas_limit: format!("{:#x}", input.gas_limit),
        difficulty: "0x0",
        mix_hash: format!("0x{}", hex::encode(input.mix_hash)),
        coinbase: format!("0x{}", input.coinbase.to_lower_hex()),
        alloc: alloc.to_json(),
        number: "0x0",
        gas_used: "0x0",
        parent_hash: format!("0x{}", "00".repeat(32)),
        base_fee_per_gas: Some(format!("{:#x}", input.base_fee_per_gas)),
    };
    to_pretty_json(&genesis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn premine() -> Vec<(Address, U256)> {
        vec![(
            Address::new([0xaa; 20]),
            U256::from(10u64).pow(U256::from(24u64)),
        )]
    }

    #[test]
    fn osaka_config_schedules_bpo1_and_bpo2_with_an_osaka_blob_entry() {
        let alloc = premine();
        let out = pos_genesis(&PosGenesisInput::new(4242, 1_700_000_000, &alloc)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out.json).unwrap();
        let config = &v["config"];
        for key in [
            "pragueTime",
            "osakaTime",
            "bpo1Time",
            "bpo2Time",
            "mergeNetsplitBlock",
        ] {
            assert_eq!(config[key], 0, "{key}");
        }
        assert_eq!(config["terminalTotalDifficulty"], 0);
        let schedule = &config["blobSchedule"];
        assert_eq!(schedule["osaka"], schedule["prague"]);
        assert_eq!(
            schedule["bpo2"],
            serde_json::json!({"target": 14, "max": 21, "baseFeeUpdateFraction": 11684671})
        );
        assert_eq!(v["baseFeePerGas"], "0x3b9aca00");
        assert_eq!(v["difficulty"], "0x0");
        // 18 precompiles + 4 system contracts + deposit contract + 1 premine.
        assert_eq!(v["alloc"].as_object().unwrap().len(), 24);
        assert_eq!(out.block.timestamp, 1_700_000_000);
        assert_eq!(out.block.base_fee_per_gas, DEFAULT_BASE_FEE);
    }

    #[test]
    fn prague_has_no_osaka_keys_and_hashes_the_same_header_shape() {
        let alloc = premine();
        let mut input = PosGenesisInput::new(4242, 0, &alloc);
        input.fork = PosFork::Prague;
        let prague = pos_genesis(&input).unwrap();
        for key in ["osakaTime", "bpo1", "bpo2", "\"osaka\""] {
            assert!(!prague.json.contains(key), "{key}");
        }
        // The alloc and header are the same for both forks: only the config differs,
        // and the config is not part of the block.
        input.fork = PosFork::Osaka;
        assert_eq!(pos_genesis(&input).unwrap().block, prague.block);
    }

    #[test]
    fn same_input_same_bytes() {
        let alloc = premine();
        let input = PosGenesisInput::new(7, 1, &alloc);
        assert_eq!(pos_genesis(&input), pos_genesis(&input));
    }

    #[test]
    fn invalid_inputs_are_refused() {
        let alloc = premine();
        let mut input = PosGenesisInput::new(7, 1, &alloc);
        input.extra_data = &[0; 33];
        assert_eq!(pos_genesis(&input), Err(GenesisError::ExtraDataTooLong(33)));
        let mut input = PosGenesisInput::new(7, 1, &alloc);
        input.gas_limit = 4999;
        assert_eq!(pos_genesis(&input), Err(GenesisError::GasLimitTooLow(4999)));
        assert_eq!(
            pos_genesis(&PosGenesisInput::new(0, 1, &alloc)),
            Err(GenesisError::ZeroChainId)
        );
        let taken = [(MAINNET_DEPOSIT_CONTRACT_ADDRESS, U256::from(1u8))];
        let err = pos_genesis(&PosGenesisInput::new(7, 1, &taken)).unwrap_err();
        assert_eq!(
            err,
            GenesisError::AddressTaken(DuplicateAccount(MAINNET_DEPOSIT_CONTRACT_ADDRESS))
        );
        assert!(err
            .to_string()
            .contains("0x00000000219ab540356cBB839Cbe05303d7705Fa"));
    }
}
