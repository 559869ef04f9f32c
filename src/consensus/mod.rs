//! The consensus layer of a proof-of-stake network: validator keys (EIP-2333/2334)
//! and their EIP-2335 keystores, the beacon chain's genesis state and config, the
//! beacon nodes' identities, and the deposits and exits of validators that join or
//! leave a running network (with the deposit contract's side of deposits).
pub mod bls;
pub mod chain_config;
pub mod client;
pub mod containers;
pub mod deposit;
pub mod deposit_contract;
pub mod fork;
pub mod identity;
pub mod keystore;
pub mod preset;
pub mod prysm;
pub mod prysm_wallet;
pub mod roots;
pub mod selection;
pub mod shuffle;
pub mod signing;
pub mod state;
pub mod voluntary_exit;
