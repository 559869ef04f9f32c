//! kuberneteth: compile one `kuberneteth.yaml` into checked, keyed, deterministic
//! Helm values for a private Ethereum network.
pub mod crypto;
pub mod keystore;
pub mod secrets;
