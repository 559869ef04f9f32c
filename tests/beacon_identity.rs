//! Writes beacon-node identities (key, peer id, multiaddr, ENR and the fields
//! the ENR should carry) for `tests/oracle/beacon_identity.py` to check with
//! independent libraries. Run through `scripts/oracle-beacon-identity.sh`,
//! which sets `BEACON_IDENTITY_ORACLE_DIR`; without it the test only checks
//! that every case builds.

use std::net::Ipv4Addr;

use kuberneteth::consensus::fork::{BlobSchedule, ForkAtGenesis, ForkSchedule};
use kuberneteth::consensus::identity::{node_id, BeaconIdentity, EnrFields, P2pPorts};
use kuberneteth::execution::crypto::PrivateKey;
use kuberneteth::secrets::MasterSecret;

#[test]
fn beacon_identities_for_the_oracle() {
    let secret = MasterSecret::from_bytes([7u8; 32]);
    let gvr: [u8; 32] = core::array::from_fn(|i| i as u8);
    let mut cases = Vec::new();
    for (n, bpo2_epoch) in [(0u32, 0u64), (1, 0), (2, 10), (3, 0)] {
        let key = match n {
            // The smallest and the largest valid scalar.
            0 => PrivateKey::from_hex(&format!("{:064x}", 1)).unwrap(),
            1 => PrivateKey::from_hex(
                "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
            )
            .unwrap(),
            _ => secret.derive_key(&format!("beacon-nodekey/bn/{n}")),
        };
        let schedule = ForkSchedule {
            chain_id: 1337 + u64::from(n),
            genesis_fork: ForkAtGenesis::Fulu,
            blob_schedule: BlobSchedule::mainnet_bpos(0, bpo2_epoch),
            max_blobs_per_block_electra: 9,
        };
        let fields = EnrFields {
            ports: P2pPorts {
                tcp: 13000 + n as u16,
                udp: 12000 + n as u16,
                quic: (n != 3).then_some(13000 + n as u16),
            },
            ip: (n == 2).then_some(Ipv4Addr::new(10, 96, 0, 10)),
            fork_id: schedule.enr_fork_id(&gvr, 0),
            next_fork_digest: Some(schedule.next_fork_digest(&gvr, 0)),
            custody_group_count: (n != 1).then_some(4),
        };
        let identity = BeaconIdentity::new(&key).unwrap();
        let enr = identity.enr(&fields).unwrap();
        assert_eq!(
            enr,
            BeaconIdentity::new(&key).unwrap().enr(&fields).unwrap()
        );
        cases.push(serde_json::json!({
            "secret_key": key.to_hex(),
            "p2p_priv_key_file": identity.p2p_priv_key_file(),
            "peer_id": identity.peer_id(),
            "multiaddr": identity.multiaddr_dns4(&format!("bn-{n}.bn.ns.svc.cluster.local"), fields.ports.tcp),
            "host": format!("bn-{n}.bn.ns.svc.cluster.local"),
            "enr": enr,
            "node_id": hex::encode(node_id(&identity)),
            "tcp": fields.ports.tcp,
            "udp": fields.ports.udp,
            "quic": fields.ports.quic,
            "ip": fields.ip.map(|ip| ip.to_string()),
            "eth2": hex::encode(fields.fork_id.to_ssz()),
            "nfd": fields.next_fork_digest.map(hex::encode),
            "cgc": fields.custody_group_count,
        }));
    }
    if let Some(dir) = std::env::var_os("BEACON_IDENTITY_ORACLE_DIR") {
        let path = std::path::Path::new(&dir).join("cases.json");
        std::fs::write(&path, serde_json::to_string_pretty(&cases).unwrap()).unwrap();
        eprintln!("wrote {} cases to {}", cases.len(), path.display());
    }
}
