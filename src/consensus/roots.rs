//! Hash tree roots of the empty and default values the genesis state refers to
//! without holding them: empty lists (transactions, withdrawals, deposits) and the
//! default beacon block body.

use ssz_types::{typenum::Unsigned, BitVector};
use tree_hash::{merkle_root, mix_in_length, Hash256, TreeHash};

use super::containers::{BlsSignature, Eth1Data, ExecutionPayloadHeader};
use super::preset::{
    MaxTransactionsPerPayload, PresetSpec, DEPOSIT_LIST_LIMIT, MAX_ATTESTATIONS_ELECTRA,
    MAX_ATTESTER_SLASHINGS_ELECTRA, MAX_BLOB_COMMITMENTS_PER_BLOCK, MAX_BLS_TO_EXECUTION_CHANGES,
    MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD, MAX_DEPOSITS, MAX_DEPOSIT_REQUESTS_PER_PAYLOAD,
    MAX_PROPOSER_SLASHINGS, MAX_VOLUNTARY_EXITS, MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD,
};

/// The root of an empty SSZ list whose elements are composite (containers, byte
/// vectors, byte lists): each element takes one chunk, so the tree has `limit`
/// leaves, all zero, and the length mixed in is 0.
pub fn empty_list_root(limit: usize) -> Hash256 {
    mix_in_length(&merkle_root(&[], limit), 0)
}

/// `hash_tree_root(List[Transaction, MAX_TRANSACTIONS_PER_PAYLOAD]())`.
pub fn empty_transactions_root() -> Hash256 {
    empty_list_root(MaxTransactionsPerPayload::USIZE)
}

/// `hash_tree_root(List[Withdrawal, MAX_WITHDRAWALS_PER_PAYLOAD]())`; geth gives a
/// Shanghai genesis block an empty (not absent) withdrawals list.
pub fn empty_withdrawals_root<P: PresetSpec>() -> Hash256 {
    empty_list_root(P::MaxWithdrawalsPerPayload::USIZE)
}

/// `hash_tree_root(List[DepositData, 2**DEPOSIT_CONTRACT_TREE_DEPTH]())`, the
/// deposit root of a chain that has seen no deposit.
pub fn empty_deposit_root() -> Hash256 {
    empty_list_root(DEPOSIT_LIST_LIMIT)
}

/// The root of a container given its fields' roots, in field order.
fn container_root(field_roots: &[Hash256]) -> Hash256 {
    let bytes = field_roots
        .iter()
        .flat_map(|root| root.0)
        .collect::<Vec<u8>>();
    merkle_root(&bytes, 0)
}

/// `hash_tree_root(BeaconBlockBody())` of Electra and Fulu (the body did not change
/// in Fulu), built from the roots of its default fields rather than from ~20
/// container types that would only ever be empty here.
pub fn default_block_body_root<P: PresetSpec>() -> Hash256 {
    let zero_signature: BlsSignature = [0; 96];
    let sync_aggregate = container_root(&[
        BitVector::<P::SyncCommitteeSize>::new().tree_hash_root(),
        zero_signature.tree_hash_root(),
    ]);
    // A default payload has the header's shape with empty transactions and
    // withdrawals in place of their roots, and every other field zero.
    let execution_payload = ExecutionPayloadHeader {
        parent_hash: Hash256::ZERO,
        fee_recipient: [0; 20],
        state_root: Hash256::ZERO,
        receipts_root: Hash256::ZERO,
        logs_bloom: [0; 256],
        prev_randao: Hash256::ZERO,
        block_number: 0,
        gas_limit: 0,
        gas_used: 0,
        timestamp: 0,
        extra_data: Default::default(),
        base_fee_per_gas: Default::default(),
        block_hash: Hash256::ZERO,
        transactions_root: empty_transactions_root(),
        withdrawals_root: empty_withdrawals_root::<P>(),
        blob_gas_used: 0,
        excess_blob_gas: 0,
    }
    .tree_hash_root();
    let execution_requests = container_root(&[
        empty_list_root(MAX_DEPOSIT_REQUESTS_PER_PAYLOAD),
        empty_list_root(MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD),
        empty_list_root(MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD),
    ]);
    container_root(&[
        zero_signature.tree_hash_root(),      // randao_reveal
        Eth1Data::default().tree_hash_root(), // eth1_data
        Hash256::ZERO,                        // graffiti
        empty_list_root(MAX_PROPOSER_SLASHINGS),
        empty_list_root(MAX_ATTESTER_SLASHINGS_ELECTRA),
        empty_list_root(MAX_ATTESTATIONS_ELECTRA),
        empty_list_root(MAX_DEPOSITS),
        empty_list_root(MAX_VOLUNTARY_EXITS),
        sync_aggregate,
        execution_payload,
        empty_list_root(MAX_BLS_TO_EXECUTION_CHANGES),
        empty_list_root(MAX_BLOB_COMMITMENTS_PER_BLOCK), // KZG commitments are Bytes48
        execution_requests,
    ])
}

#[cfg(test)]
mod tests {
    use super::super::preset::{Mainnet, Minimal};
    use super::*;

    fn hex_root(root: Hash256) -> String {
        hex::encode(root.0)
    }

    /// Well-known constants: the deposit contract's empty `get_deposit_root()`
    /// (before the length mix-in it is the depth-32 zero hash), the empty
    /// transactions root every post-merge client uses, and the empty withdrawals
    /// root of the mainnet preset (16) and minimal preset (4). The last and the block
    /// body roots were computed with the executable spec 1.7.0a13
    /// (`hash_tree_root(fulu.<preset>.BeaconBlockBody())`) and pinned.
    #[test]
    fn empty_roots() {
        assert_eq!(
            hex_root(empty_deposit_root()),
            "d70a234731285c6804c2a4f56711ddb8c82c99740f207854891028af34e27e5e"
        );
        assert_eq!(
            hex_root(empty_transactions_root()),
            "7ffe241ea60187fdb0187bfa22de35d1f9bed7ab061d9401fd47e34a54fbede1"
        );
        assert_eq!(
            hex_root(empty_withdrawals_root::<Mainnet>()),
            "792930bbd5baac43bcc798ee49aa8185ef76bb3b44ba62b91d86ae569e4bb535"
        );
        assert_eq!(
            hex_root(empty_withdrawals_root::<Minimal>()),
            MINIMAL_WITHDRAWALS
        );
        assert_eq!(hex_root(default_block_body_root::<Mainnet>()), MAINNET_BODY);
        assert_eq!(hex_root(default_block_body_root::<Minimal>()), MINIMAL_BODY);
    }

    const MINIMAL_WITHDRAWALS: &str =
        "28ba1834a3a7b657460ce79fa3a1d909ab8828fd557659d4d0554a9bdbc0ec30";
    const MAINNET_BODY: &str = "ca4f98890bc98a59f015d06375a5e00546b8f2ac1e88d31b1774ea28d4b3e7d1";
    const MINIMAL_BODY: &str = "df89c8202680d48494ded9d70338458aa3f056a8e85e109e271d218552149b14";
}
