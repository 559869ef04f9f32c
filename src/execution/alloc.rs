//! The genesis allocation: the accounts a chain starts with, written as geth's
//! `alloc` JSON and hashed into the genesis state root.

use crate::execution::crypto::AddressExt;
use std::collections::BTreeMap;

use alloy_primitives::{keccak256, B256};
use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};
use alloy_trie::TrieAccount;
use ruint::aliases::U256;

use crate::execution::crypto::Address;

/// Storage slots to values, both as 32 big-endian bytes.
pub type Storage = BTreeMap<[u8; 32], [u8; 32]>;

/// One account of the genesis state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    pub balance: U256,
    pub nonce: u64,
    pub code: Vec<u8>,
    pub storage: Storage,
}

impl Account {
    /// An externally owned account holding `balance` wei.
    pub fn funded(balance: U256) -> Self {
        Self {
            balance,
            ..Self::default()
        }
    }

    /// geth's account JSON: `balance` always, the rest only when set.
    fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        out.insert("balance".into(), format!("{:#x}", self.balance).into());
        if self.nonce != 0 {
            out.insert("nonce".into(), format!("{:#x}", self.nonce).into());
        }
        if !self.code.is_empty() {
            out.insert(
                "code".into(),
                format!("0x{}", hex::encode(&self.code)).into(),
            );
        }
        if !self.storage.is_empty() {
            let slots = self
                .storage
                .iter()
                .map(|(k, v)| {
                    (
                        format!("0x{}", hex::encode(k)),
                        format!("0x{}", hex::encode(v)).into(),
                    )
                })
                .collect();
            out.insert("storage".into(), serde_json::Value::Object(slots));
        }
        serde_json::Value::Object(out)
    }

    /// The account as the state trie stores it. Zero-valued slots are left out, as
    /// geth's state database deletes a slot that is set to zero.
    fn trie_account(&self) -> TrieAccount {
        let slots = self
            .storage
            .iter()
            .filter(|(_, v)| **v != [0u8; 32])
            .map(|(k, v)| (B256::from(*k), U256::from_be_bytes(*v)));
        TrieAccount {
            nonce: self.nonce,
            // ruint's U256 is alloy's U256: one type, no conversion.
            balance: self.balance,
            storage_root: storage_root_unhashed(slots),
            code_hash: keccak256(&self.code),
        }
    }
}

/// The genesis accounts by address. The map keeps them sorted, so the JSON text
/// does not depend on the order they were added in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alloc(BTreeMap<Address, Account>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the genesis allocates account {0} twice")]
pub struct DuplicateAccount(pub Address);

impl Alloc {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an account; an address that is already present is an error rather
    /// than a silent overwrite (a premine must not replace a system contract).
    pub fn insert(&mut self, address: Address, account: Account) -> Result<(), DuplicateAccount> {
        match self.0.entry(address) {
            std::collections::btree_map::Entry::Occupied(_) => Err(DuplicateAccount(address)),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(account);
                Ok(())
            }
        }
    }

    /// Adds or replaces an account.
    pub fn set(&mut self, address: Address, account: Account) {
        self.0.insert(address, account);
    }

    pub fn get(&self, address: &Address) -> Option<&Account> {
        self.0.get(address)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.0.iter()
    }

    /// geth's `alloc` object: `0x`-prefixed lowercase addresses in ascending order.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.0
            .iter()
            .map(|(a, acc)| (format!("0x{}", a.to_lower_hex()), acc.to_json()))
            .collect()
    }

    /// The Merkle-Patricia root over the accounts, keyed by keccak(address), as
    /// geth's `hashAlloc` computes it. Empty accounts stay in the trie: geth commits
    /// the genesis state without EIP-158's empty-account deletion.
    pub fn state_root(&self) -> [u8; 32] {
        state_root_unhashed(
            self.0
                .iter()
                .map(|(a, acc)| (alloy_primitives::Address::from(a.0), acc.trie_account())),
        )
        .0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_trie::EMPTY_ROOT_HASH;

    #[test]
    fn empty_alloc_has_the_empty_trie_root() {
        assert_eq!(Alloc::new().state_root(), EMPTY_ROOT_HASH.0);
    }

    #[test]
    fn duplicates_are_refused() {
        let mut alloc = Alloc::new();
        let a = Address::new([7; 20]);
        alloc.insert(a, Account::funded(U256::from(1u8))).unwrap();
        assert_eq!(
            alloc.insert(a, Account::funded(U256::from(2u8))),
            Err(DuplicateAccount(a))
        );
    }

    #[test]
    fn json_omits_unset_fields() {
        let mut alloc = Alloc::new();
        alloc.set(Address::new([1; 20]), Account::funded(U256::from(255u16)));
        let mut storage = Storage::new();
        storage.insert([0; 32], [0xff; 32]);
        alloc.set(
            Address::new([2; 20]),
            Account {
                nonce: 1,
                code: vec![0x60, 0x00],
                storage,
                ..Account::default()
            },
        );
        let json = serde_json::Value::Object(alloc.to_json());
        assert_eq!(
            json["0x0101010101010101010101010101010101010101"],
            serde_json::json!({ "balance": "0xff" })
        );
        let contract = &json["0x0202020202020202020202020202020202020202"];
        assert_eq!(contract["balance"], "0x0");
        assert_eq!(contract["nonce"], "0x1");
        assert_eq!(contract["code"], "0x6000");
        assert_eq!(
            contract["storage"][format!("0x{}", "00".repeat(32))],
            format!("0x{}", "ff".repeat(32))
        );
    }

    #[test]
    fn zero_slots_do_not_change_the_root() {
        let with = |slots: &[([u8; 32], [u8; 32])]| {
            let mut alloc = Alloc::new();
            alloc.set(
                Address::new([3; 20]),
                Account {
                    nonce: 1,
                    storage: slots.iter().copied().collect(),
                    ..Account::default()
                },
            );
            alloc.state_root()
        };
        let one = ([1; 32], [2; 32]);
        assert_eq!(with(&[one]), with(&[one, ([5; 32], [0; 32])]));
        assert_eq!(with(&[]), with(&[([5; 32], [0; 32])]));
    }
}
