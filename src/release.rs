//! What one Helm release can hold, and where a proof-of-stake network's large
//! objects (the genesis state and the validators' wallets) live because of it.
//!
//! Helm keeps every revision of a release in one Kubernetes Secret of at most
//! 1 MiB, and every byte of key material and genesis state rendered by the chart
//! sits in it. A network too large for that keeps those objects outside the
//! release: `compile` writes them as ConfigMaps and per-pod Secrets under
//! `objects/`, each within Kubernetes' 1 MiB per object, and the release carries
//! only their names and checksums (`largeObjects` in the network file).

use crate::config::{LargeObjects, NetworkFile, ProofOfStake, Role};

/// The most validators (weighed as below) one Helm release holds when it is kept
/// in one Kubernetes Secret of at most 1 MiB (base64 of the gzipped release: the
/// chart, both values files and the rendered manifest, which hold every validator's
/// wallet and the genesis state): a validator counts 1 and each validator pod
/// [`RELEASE_POD_COST`] more (its wallet, keys and identity), and the sum may not pass
/// this. Measured by `scripts/live-limits.sh --search` (tests/live/limits.py: one
/// validator group and an rpc node, `helm install` on the API server) on Kubernetes
/// v1.37.2 with Helm v4.3.2: 1,400 validators in 14 pods installed and 1,500 in 15
/// did not; 1,130 in 113 pods installed and 1,140 in 114 did not — about 1,500
/// validators less 3.2 per pod. This leaves about an eighth for the rest of a network
/// (accounts, more nodes). `make live-limits` installs the largest network of pods of
/// 100 it allows in the release and checks that one pod more goes outside it;
/// `kuberneteth-values limits` prints the numbers for scripts.
pub const RELEASE_CAPACITY: u64 = 1300;

/// What a validator pod adds to a release, in validators (see [`RELEASE_CAPACITY`]).
pub const RELEASE_POD_COST: u64 = 4;

/// The most validators one pod's keys Secret holds. Prysm's wallet keeps each key
/// as 228 bytes of ciphertext (hex of its base64 private and public keys), so 4,000
/// keys are about 0.9 MB: within Kubernetes' 1 MiB per Secret, with room for the
/// keystore's own fields and the password. A unit test checks the bytes.
pub const VALIDATORS_PER_KEYS_SECRET: u32 = 4000;

/// Bytes of gzipped genesis state per ConfigMap: 256 KiB, well within Kubernetes'
/// 1 MiB per ConfigMap and etcd's 1.5 MiB per request. Small parts cost little (a
/// state of 100,000 validators is about 20 of them) and keep each object far from
/// any limit.
pub const GENESIS_STATE_PART_BYTES: usize = 256 * 1024;

/// Where the large objects of a network live, `auto` resolved.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    #[default]
    /// Created by the chart, inside the release.
    Release,
    /// Written by `compile` to `objects/`, applied before the release.
    Separate,
}

/// What a validator group weighs in a release: its validators, and
/// [`RELEASE_POD_COST`] for each of its pods.
pub fn release_weight(pods: u32, per_pod: u32) -> u64 {
    u64::from(pods) * (u64::from(per_pod) + RELEASE_POD_COST)
}

/// The weight of all of a network's validator groups (see [`release_weight`]).
pub fn network_weight(config: &NetworkFile) -> u64 {
    config
        .nodes
        .iter()
        .filter(|g| g.role == Role::Validator)
        .map(|g| release_weight(g.replicas, g.validators_per_pod.unwrap_or(0)))
        .sum()
}

/// Where `pos`'s large objects live: as the file says, `auto` by whether the
/// network fits one release. A function of the file alone, so the outputs are too.
pub fn placement(config: &NetworkFile, pos: &ProofOfStake) -> Placement {
    match pos.large_objects {
        LargeObjects::Release => Placement::Release,
        LargeObjects::Separate => Placement::Separate,
        LargeObjects::Auto if network_weight(config) <= RELEASE_CAPACITY => Placement::Release,
        LargeObjects::Auto => Placement::Separate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::bls::Seed;
    use crate::consensus::keystore::{Kdf, KeystoreNonces};
    use crate::consensus::prysm_wallet::wallet_files;

    /// A pod of [`VALIDATORS_PER_KEYS_SECRET`] keys fits its Secret: the wallet and a
    /// password as long as the compiler's, with room to spare for the object's own
    /// fields. The wallet's size grows with the keys, not with their values.
    #[test]
    fn the_largest_pod_wallet_fits_one_secret() {
        let seed = Seed::from_bytes([8; 32]);
        let keys: Vec<_> = (0..VALIDATORS_PER_KEYS_SECRET)
            .map(|i| seed.validator(i).signing)
            .collect();
        let nonces = KeystoreNonces {
            salt: [4; 32],
            iv: [5; 16],
            uuid: [6; 16],
        };
        let password = "0".repeat(64);
        let files = wallet_files(&keys, &password, Kdf::LIGHT, &nonces).unwrap();
        let bytes: usize = files.values().map(Vec::len).sum::<usize>() + password.len();
        assert!(
            bytes < (1 << 20) - (64 << 10),
            "{bytes} bytes for {VALIDATORS_PER_KEYS_SECRET} keys"
        );
    }
}
