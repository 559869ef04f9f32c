//! The deposit contract as the `deposit` command speaks to it: the call that
//! deposits (ABI from the contract's published interface, encoded by alloy), the
//! `DepositEvent` logs that say what the chain already holds, and which planned
//! deposits those logs leave missing.

use std::collections::BTreeMap;

use alloy::primitives::{Bytes, FixedBytes, B256, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolEvent};

use super::deposit::SignedDeposit;

sol! {
    /// `IDepositContract` of the consensus specs' deposit contract.
    function deposit(
        bytes pubkey,
        bytes withdrawal_credentials,
        bytes signature,
        bytes32 deposit_data_root
    ) external payable;

    /// Logged once per deposit; `amount` and `index` are little-endian uint64.
    event DepositEvent(
        bytes pubkey,
        bytes withdrawal_credentials,
        bytes amount,
        bytes signature,
        bytes index
    );
}

/// The transaction input that makes `deposit`.
pub fn calldata(d: &SignedDeposit) -> Bytes {
    depositCall {
        pubkey: Bytes::copy_from_slice(&d.pubkey.0),
        withdrawal_credentials: Bytes::copy_from_slice(&d.withdrawal_credentials),
        signature: Bytes::copy_from_slice(&d.signature),
        deposit_data_root: FixedBytes(d.deposit_data_root),
    }
    .abi_encode()
    .into()
}

/// The value a deposit transaction carries, in wei.
pub fn value_wei(d: &SignedDeposit) -> U256 {
    crate::units::wei_of_gwei(d.amount)
}

/// The topic `DepositEvent` logs carry first.
pub const DEPOSIT_EVENT_TOPIC: B256 = DepositEvent::SIGNATURE_HASH;

/// A deposit the chain holds, as its log gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainDeposit {
    pub pubkey: Vec<u8>,
    pub withdrawal_credentials: Vec<u8>,
    /// Gwei.
    pub amount: u64,
}

/// Decodes a `DepositEvent` log's data; `None` for anything else.
pub fn decode_deposit_event(topics: &[B256], data: &[u8]) -> Option<OnChainDeposit> {
    if topics.first() != Some(&DEPOSIT_EVENT_TOPIC) {
        return None;
    }
    let event = DepositEvent::abi_decode_data(data).ok()?;
    let (pubkey, withdrawal_credentials, amount) = (event.0, event.1, event.2);
    Some(OnChainDeposit {
        pubkey: pubkey.to_vec(),
        withdrawal_credentials: withdrawal_credentials.to_vec(),
        amount: u64::from_le_bytes(amount.as_ref().try_into().ok()?),
    })
}

/// What the chain already holds of the planned deposits.
pub struct Comparison<'a> {
    /// Planned and not on chain: to send.
    pub missing: Vec<&'a SignedDeposit>,
    /// Planned and on chain (at least the planned amount for the key).
    pub made: usize,
    /// Keys whose deposits on chain carry other withdrawal credentials than the
    /// planned ones: the chain keeps the first credentials it saw for a key.
    pub foreign_credentials: Vec<&'a SignedDeposit>,
}

/// Splits `planned` by what `on_chain` holds: a key counts as deposited once
/// the chain holds at least its planned amount for it, whoever sent it.
pub fn compare<'a>(
    planned: &'a [&'a SignedDeposit],
    on_chain: &[OnChainDeposit],
) -> Comparison<'a> {
    let mut held: BTreeMap<&[u8], (u64, &[u8])> = BTreeMap::new();
    for d in on_chain {
        let entry = held
            .entry(d.pubkey.as_slice())
            .or_insert((0, d.withdrawal_credentials.as_slice()));
        entry.0 = entry.0.saturating_add(d.amount);
    }
    let mut comparison = Comparison {
        missing: Vec::new(),
        made: 0,
        foreign_credentials: Vec::new(),
    };
    for d in planned {
        match held.get(d.pubkey.0.as_slice()) {
            Some((amount, credentials)) => {
                if *credentials != d.withdrawal_credentials.as_slice() {
                    comparison.foreign_credentials.push(d);
                }
                if *amount >= d.amount {
                    comparison.made += 1;
                } else {
                    comparison.missing.push(d);
                }
            }
            None => comparison.missing.push(d),
        }
    }
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::bls::BlsPublicKey;

    fn planned(key: u8, amount: u64) -> SignedDeposit {
        SignedDeposit {
            pubkey: BlsPublicKey([key; 48]),
            withdrawal_credentials: [1; 32],
            amount,
            signature: [2; 96],
            deposit_message_root: [3; 32],
            deposit_data_root: [4; 32],
        }
    }

    fn held(key: u8, credentials: u8, amount: u64) -> OnChainDeposit {
        OnChainDeposit {
            pubkey: vec![key; 48],
            withdrawal_credentials: vec![credentials; 32],
            amount,
        }
    }

    /// The selector and layout the deposit contract's ABI gives
    /// (`deposit(bytes,bytes,bytes,bytes32)` = 0x22895118, as in its bytecode).
    #[test]
    fn calldata_calls_deposit() {
        let data = calldata(&planned(7, 32_000_000_000));
        assert_eq!(&data[..4], &[0x22, 0x89, 0x51, 0x18]);
        // Four head words, then pubkey (48 bytes in 2 words), credentials (1 word),
        // signature (3 words), each after its length word.
        assert_eq!(data.len(), 4 + 32 * (4 + 3 + 2 + 4));
        assert_eq!(
            value_wei(&planned(7, 32_000_000_000)),
            U256::from(32u64) * U256::from(10u64).pow(U256::from(18u8))
        );
    }

    /// The event's topic is the one the contract's bytecode logs.
    #[test]
    fn the_event_topic_is_the_contracts() {
        assert_eq!(
            hex::encode(DEPOSIT_EVENT_TOPIC),
            "649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5"
        );
        let code = hex::encode(crate::execution::system_contracts::DEPOSIT_CONTRACT_CODE);
        assert!(code.contains(&hex::encode(DEPOSIT_EVENT_TOPIC)));
    }

    #[test]
    fn an_event_decodes_to_its_deposit() {
        let event = DepositEvent {
            pubkey: vec![9u8; 48].into(),
            withdrawal_credentials: vec![1u8; 32].into(),
            amount: 32_000_000_000u64.to_le_bytes().to_vec().into(),
            signature: vec![2u8; 96].into(),
            index: 5u64.to_le_bytes().to_vec().into(),
        };
        let data = event.encode_data();
        assert_eq!(
            decode_deposit_event(&[DEPOSIT_EVENT_TOPIC], &data),
            Some(held(9, 1, 32_000_000_000))
        );
        assert_eq!(decode_deposit_event(&[B256::ZERO], &data), None);
        assert_eq!(
            decode_deposit_event(&[DEPOSIT_EVENT_TOPIC], &data[..40]),
            None
        );
    }

    #[test]
    fn only_what_the_chain_lacks_is_missing() {
        let (a, b, c, d) = (
            planned(1, 32_000_000_000),
            planned(2, 32_000_000_000),
            planned(3, 32_000_000_000),
            planned(4, 32_000_000_000),
        );
        let plan = [&a, &b, &c, &d];
        let chain = [
            held(1, 1, 32_000_000_000),
            // Two deposits that add up to the planned amount.
            held(2, 1, 16_000_000_000),
            held(2, 1, 16_000_000_000),
            // Too little so far.
            held(3, 1, 1_000_000_000),
            // Someone else's key.
            held(9, 1, 32_000_000_000),
        ];
        let cmp = compare(&plan, &chain);
        assert_eq!(cmp.made, 2);
        let missing: Vec<u8> = cmp.missing.iter().map(|d| d.pubkey.0[0]).collect();
        assert_eq!(missing, [3, 4]);
        assert!(cmp.foreign_credentials.is_empty());
        let cmp = compare(&plan, &[held(1, 7, 32_000_000_000)]);
        assert_eq!(cmp.foreign_credentials.len(), 1);
        assert_eq!(cmp.made, 1);
    }
}
