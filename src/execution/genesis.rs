//! The clique genesis, as geth v1.13 and other clients read it, and the JSON
//! writing it shares with the proof-of-stake genesis (`pos_genesis`).

use ruint::aliases::U256;
use serde::Serialize;

use crate::execution::alloc::{Account, Alloc};
use crate::execution::crypto::Address;

/// What the genesis is made of.
pub struct GenesisInput<'a> {
    pub chain_id: u64,
    pub period: u64,
    pub epoch: u64,
    pub gas_limit: u64,
    pub timestamp: u64,
    pub signers: &'a [Address],
    pub alloc: &'a [(Address, U256)],
}

/// geth's `genesis.json`, for either consensus: `C` is the chain config, and
/// only proof of stake writes a base fee (clique's genesis keeps geth's default).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenesisFile<C> {
    pub config: C,
    pub nonce: String,
    pub timestamp: String,
    pub extra_data: String,
    pub gas_limit: String,
    pub difficulty: &'static str,
    pub mix_hash: String,
    pub coinbase: String,
    pub alloc: serde_json::Map<String, serde_json::Value>,
    pub number: &'static str,
    pub gas_used: &'static str,
    pub parent_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_fee_per_gas: Option<String>,
}

/// The block-numbered forks (Homestead through Gray Glacier), all at block 0:
/// every network here starts with them, whatever its consensus.
#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BlockForksAtZero {
    homestead_block: u64,
    eip150_block: u64,
    eip155_block: u64,
    eip158_block: u64,
    byzantium_block: u64,
    constantinople_block: u64,
    petersburg_block: u64,
    istanbul_block: u64,
    muir_glacier_block: u64,
    berlin_block: u64,
    london_block: u64,
    arrow_glacier_block: u64,
    gray_glacier_block: u64,
}

/// Every pre-merge fork through London at block 0; no Shanghai, Cancun or terminal
/// total difficulty, which clique refuses (or stops sealing with).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChainConfig {
    chain_id: u64,
    #[serde(flatten)]
    forks: BlockForksAtZero,
    clique: CliqueConfig,
}

#[derive(Serialize)]
struct CliqueConfig {
    period: u64,
    epoch: u64,
}

/// `extraData` = 32 bytes vanity ‖ signers sorted ascending ‖ 65 zero bytes (seal).
pub fn clique_extra_data(signers: &[Address]) -> Vec<u8> {
    let mut sorted = signers.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out = vec![0u8; 32];
    for s in &sorted {
        out.extend_from_slice(s.as_slice());
    }
    out.extend_from_slice(&[0u8; 65]);
    out
}

/// The genesis JSON text (pretty, stable key order, exact integers).
pub fn genesis_json(input: &GenesisInput) -> String {
    let zero32 = format!("0x{}", "00".repeat(32));
    // An address listed twice keeps its larger balance: the entries are applied in
    // ascending (address, balance) order and the last one wins.
    let mut sorted = input.alloc.to_vec();
    sorted.sort();
    let mut alloc = Alloc::new();
    for (addr, balance) in sorted {
        alloc.set(addr, Account::funded(balance));
    }
    let g = GenesisFile {
        config: ChainConfig {
            chain_id: input.chain_id,
            forks: BlockForksAtZero::default(),
            clique: CliqueConfig {
                period: input.period,
                epoch: input.epoch,
            },
        },
        nonce: "0x0".into(),
        timestamp: format!("{:#x}", input.timestamp),
        extra_data: format!("0x{}", hex::encode(clique_extra_data(input.signers))),
        gas_limit: format!("{:#x}", input.gas_limit),
        difficulty: "0x1",
        mix_hash: zero32.clone(),
        coinbase: format!("0x{}", "00".repeat(20)),
        alloc: alloc.to_json(),
        number: "0x0",
        gas_used: "0x0",
        parent_hash: zero32,
        base_fee_per_gas: None,
    };
    to_pretty_json(&g)
}

/// Pretty JSON with a trailing newline. Only for genesis structures, which hold
/// strings, integers and maps with string keys: serializing those cannot fail.
pub(crate) fn to_pretty_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("genesis serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_data_layout() {
        let a = Address::new([0xbb; 20]);
        let b = Address::new([0xaa; 20]);
        let extra = clique_extra_data(&[a, b]);
        assert_eq!(extra.len(), 97 + 2 * 20);
        assert_eq!(&extra[32..52], &[0xaa; 20]);
        assert_eq!(&extra[52..72], &[0xbb; 20]);
    }

    #[test]
    fn genesis_has_required_keys_and_no_post_merge_forks() {
        let signer = Address::new([1; 20]);
        let text = genesis_json(&GenesisInput {
            chain_id: 4242,
            period: 5,
            epoch: 30000,
            gas_limit: 30_000_000,
            timestamp: 0,
            signers: &[signer],
            alloc: &[(
                Address::new([2; 20]),
                U256::from(10u64).pow(U256::from(24u64)),
            )],
        });
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for key in ["alloc", "difficulty", "gasLimit", "extraData", "nonce"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        for key in [
            "shanghaiTime",
            "cancunTime",
            "terminalTotalDifficulty",
            "terminalTotalDifficultyPassed",
        ] {
            assert!(!text.contains(key), "{key}");
        }
        assert_eq!(v["config"]["londonBlock"], 0);
        assert_eq!(v["gasLimit"], "0x1c9c380");
        assert_eq!(
            v["alloc"]["0x0202020202020202020202020202020202020202"]["balance"],
            "0xd3c21bcecceda1000000"
        );
    }
}
