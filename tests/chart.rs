//! Chart tests: render `chart/` with Helm for every example network and check the
//! Kubernetes objects it produces.
//!
//! Examples: every `values/*.yaml` and the test networks in `tests/chart/networks/`
//! (a single node; every port moved and a network id unlike the chain id; proof of
//! stake with one and with two validator groups) compiled by
//! `kuberneteth-values compile` into a scratch folder (with a fixed, test-only master
//! secret so the outputs are stable), plus the hand-made value pairs in
//! `tests/chart/fixtures/` (keystores in a ConfigMap, a bootnode, monitoring on, every
//! RPC exposure and scheduling knob).
//!
//! Helm: `$KUBERNETETH_HELM` if set, else `scripts/helm.sh` (the pinned Helm v4.3.2; Helm
//! v3.21.4 with `scripts/helm.sh 3`), built from Helm's Go modules into .cache/helm/; a
//! helm on PATH is never used. scripts/chart-test.sh runs this suite with each of the two.
//! Golden files (the default network, and the small proof-of-stake network `pos-tiny`):
//! `UPDATE_GOLDEN=1` rewrites them; both Helm versions compare equal to one golden file.
//!
//! One module per concern (each says which in its first line); what they share is
//! in `support`.

#[path = "common/args.rs"]
mod args;
#[path = "common/beacon_state.rs"]
mod beacon_state;
#[path = "chart/support.rs"]
mod support;

#[path = "chart/exits.rs"]
mod exits;
#[path = "chart/golden.rs"]
mod golden;
#[path = "chart/networking.rs"]
mod networking;
#[path = "chart/pdbs.rs"]
mod pdbs;
#[path = "chart/probes.rs"]
mod probes;
#[path = "chart/proof_of_stake.rs"]
mod proof_of_stake;
#[path = "chart/rollout.rs"]
mod rollout;
#[path = "chart/security.rs"]
mod security;
#[path = "chart/shell_steps.rs"]
mod shell_steps;
#[path = "chart/signer_votes.rs"]
mod signer_votes;
#[path = "chart/values.rs"]
mod values;
#[path = "chart/workloads.rs"]
mod workloads;
