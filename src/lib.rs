//! kuberneteth: compile one `kuberneteth.yaml` into checked, keyed, deterministic
//! Helm values for a private Ethereum network.
pub mod app;
pub mod chart_docs;
pub mod check;
pub mod config;
pub mod consensus;
pub mod diagnostics;
pub mod docs;
pub mod execution;
pub mod input;
pub mod names;
pub mod objects;
pub mod output;
pub mod pair;
pub mod plan;
pub mod release;
pub mod rollout;
pub mod secrets;
pub mod shorthand;
pub mod sizing;
pub mod units;
pub mod values;
pub mod version;
pub mod yaml;
pub mod yamlout;
