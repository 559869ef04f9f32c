//! The execution layer: geth's keys and enode URLs, V3 account keystores, the
//! genesis block and the geth configuration each release accepts.
pub mod alloc;
pub mod block;
pub mod crypto;
pub mod genesis;
pub mod geth;
pub mod keystore;
pub mod pos_genesis;
pub mod system_contracts;
