//! The genesis block header and its hash, built as geth's `Genesis.ToBlock()` does.
//!
//! A genesis block has no transactions, receipts, ommers or withdrawals, so its
//! header is the configured fields plus constants; which optional fields it carries
//! depends only on the forks active at genesis.

use alloy_primitives::{keccak256, Bloom, Bytes, B256, B64};
use alloy_rlp::RlpEncodable;
use alloy_trie::EMPTY_ROOT_HASH;
use ruint::aliases::U256;
use sha2::{Digest, Sha256};

use crate::execution::crypto::Address;

/// The newest fork active at genesis, as far as the header is concerned. Osaka
/// adds no header field, so an Osaka genesis hashes as [`HeaderFork::Prague`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HeaderFork {
    /// `baseFeePerGas`.
    London,
    /// `withdrawalsRoot` (of the empty withdrawals list).
    Shanghai,
    /// `blobGasUsed`, `excessBlobGas`, `parentBeaconBlockRoot` (zero).
    Cancun,
    /// `requestsHash` (of no requests).
    Prague,
}

/// The configurable fields of a genesis header; the rest are fixed for block 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisHeader {
    pub fork: HeaderFork,
    pub parent_hash: [u8; 32],
    pub coinbase: Address,
    pub state_root: [u8; 32],
    pub difficulty: U256,
    pub number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub timestamp: u64,
    pub extra_data: Vec<u8>,
    pub mix_hash: [u8; 32],
    pub nonce: u64,
    pub base_fee_per_gas: U256,
    pub blob_gas_used: u64,
    pub excess_blob_gas: u64,
}

/// The sealed genesis block, field names as in the consensus layer's
/// `ExecutionPayloadHeader`, which the beacon genesis state embeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisBlock {
    pub parent_hash: [u8; 32],
    pub fee_recipient: Address,
    pub state_root: [u8; 32],
    pub receipts_root: [u8; 32],
    pub logs_bloom: [u8; 256],
    pub prev_randao: [u8; 32],
    pub number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub timestamp: u64,
    pub extra_data: Vec<u8>,
    pub base_fee_per_gas: U256,
    pub block_hash: [u8; 32],
    pub blob_gas_used: u64,
    pub excess_blob_gas: u64,
}

/// keccak256(rlp([])): the ommers hash of a block without ommers.
const EMPTY_OMMERS_HASH: B256 =
    alloy_primitives::b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

/// The header in geth's RLP field order; trailing `None`s are left out, which is
/// how the fork-dependent fields appear only from their fork on.
#[derive(RlpEncodable)]
#[rlp(trailing)]
struct RlpHeader {
    parent_hash: B256,
    ommers_hash: B256,
    coinbase: alloy_primitives::Address,
    state_root: B256,
    transactions_root: B256,
    receipts_root: B256,
    logs_bloom: Bloom,
    difficulty: U256,
    number: u64,
    gas_limit: u64,
    gas_used: u64,
    timestamp: u64,
    extra_data: Bytes,
    mix_hash: B256,
    nonce: B64,
    base_fee_per_gas: Option<U256>,
    withdrawals_root: Option<B256>,
    blob_gas_used: Option<u64>,
    excess_blob_gas: Option<u64>,
    parent_beacon_block_root: Option<B256>,
    requests_hash: Option<B256>,
}

impl GenesisHeader {
    /// The header's RLP encoding, whose keccak256 is the block hash.
    pub fn rlp(&self) -> Vec<u8> {
        let from = |fork: HeaderFork| self.fork >= fork;
        let cancun = from(HeaderFork::Cancun);
        let header = RlpHeader {
            parent_hash: B256::from(self.parent_hash),
            ommers_hash: EMPTY_OMMERS_HASH,
            coinbase: alloy_primitives::Address::from(self.coinbase.0),
            state_root: B256::from(self.state_root),
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Bloom::ZERO,
            difficulty: self.difficulty,
            number: self.number,
            gas_limit: self.gas_limit,
            gas_used: self.gas_used,
            timestamp: self.timestamp,
            extra_data: Bytes::copy_from_slice(&self.extra_data),
            mix_hash: B256::from(self.mix_hash),
            nonce: B64::from(self.nonce.to_be_bytes()),
            base_fee_per_gas: Some(self.base_fee_per_gas),
            // The root of the empty withdrawals list, which is the empty trie.
            withdrawals_root: from(HeaderFork::Shanghai).then_some(EMPTY_ROOT_HASH),
            blob_gas_used: cancun.then_some(self.blob_gas_used),
            excess_blob_gas: cancun.then_some(self.excess_blob_gas),
            // EIP-4788: the genesis block has no parent, so its beacon root is zero.
            parent_beacon_block_root: cancun.then_some(B256::ZERO),
            // EIP-7685: sha256 of nothing, the commitment to an empty request list.
            requests_hash: from(HeaderFork::Prague)
                .then(|| B256::from(<[u8; 32]>::from(Sha256::digest([])))),
        };
        alloy_rlp::encode(&header)
    }

    pub fn hash(&self) -> [u8; 32] {
        keccak256(self.rlp()).0
    }

    pub fn seal(&self) -> GenesisBlock {
        GenesisBlock {
            parent_hash: self.parent_hash,
            fee_recipient: self.coinbase,
            state_root: self.state_root,
            receipts_root: EMPTY_ROOT_HASH.0,
            logs_bloom: [0u8; 256],
            prev_randao: self.mix_hash,
            number: self.number,
            gas_limit: self.gas_limit,
            gas_used: self.gas_used,
            timestamp: self.timestamp,
            extra_data: self.extra_data.clone(),
            base_fee_per_gas: self.base_fee_per_gas,
            block_hash: self.hash(),
            blob_gas_used: self.blob_gas_used,
            excess_blob_gas: self.excess_blob_gas,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::alloc::{Account, Alloc};

    /// The Osaka genesis of POS_FACTS §4 item 1 (one precompile funded, no system
    /// contracts), whose hash an independent Python port of geth computed.
    #[test]
    fn osaka_vector() {
        let mut alloc = Alloc::new();
        let mut one = [0u8; 20];
        one[19] = 1;
        alloc.set(Address::new(one), Account::funded(U256::from(1u8)));
        let header = GenesisHeader {
            fork: HeaderFork::Prague,
            parent_hash: [0; 32],
            coinbase: Address::new([0; 20]),
            state_root: alloc.state_root(),
            difficulty: U256::ZERO,
            number: 0,
            gas_limit: 0xbebc200,
            gas_used: 0,
            timestamp: 1_700_000_000,
            extra_data: Vec::new(),
            mix_hash: [0; 32],
            nonce: 0x1234,
            base_fee_per_gas: U256::from(1_000_000_000u64),
            blob_gas_used: 0,
            excess_blob_gas: 0,
        };
        assert_eq!(
            hex::encode(header.hash()),
            "e1885f06bee2885f225a6210ba2dca924cc66e0e53a3cc08479c2f3bf67ba0e2"
        );
        let block = header.seal();
        assert_eq!(block.block_hash, header.hash());
        assert_eq!(block.prev_randao, [0; 32]);
        assert_eq!(
            hex::encode(block.receipts_root),
            "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
        );
    }

    #[test]
    fn optional_fields_follow_the_fork() {
        let header = |fork| GenesisHeader {
            fork,
            parent_hash: [0; 32],
            coinbase: Address::new([0; 20]),
            state_root: [0; 32],
            difficulty: U256::ZERO,
            number: 0,
            gas_limit: 30_000_000,
            gas_used: 0,
            timestamp: 0,
            extra_data: Vec::new(),
            mix_hash: [0; 32],
            nonce: 0,
            base_fee_per_gas: U256::from(7u8),
            blob_gas_used: 0,
            excess_blob_gas: 0,
        };
        let len = |fork| header(fork).rlp().len();
        // withdrawalsRoot: 33 bytes; two u64 zeros + a zero hash: 1 + 1 + 33; requestsHash: 33.
        assert_eq!(len(HeaderFork::Shanghai) - len(HeaderFork::London), 33);
        assert_eq!(len(HeaderFork::Cancun) - len(HeaderFork::Shanghai), 35);
        assert_eq!(len(HeaderFork::Prague) - len(HeaderFork::Cancun), 33);
    }
}
