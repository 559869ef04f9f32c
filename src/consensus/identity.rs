//! A beacon node's network identity, fixed in advance from its secp256k1 key:
//! the libp2p peer id other nodes dial (`--peer .../p2p/<id>`), and an ENR
//! (EIP-778) describing it for discovery v5.
//!
//! Prysm v7.1.6 reads the key from `--p2p-priv-key`: a file of exactly 64 hex
//! characters, no `0x`, no newline (`beacon-chain/p2p/utils.go privKeyFromFile`
//! hex-decodes the whole file), which [`BeaconIdentity::p2p_priv_key_file`] gives.

use std::net::Ipv4Addr;

use alloy_rlp::{Encodable, Header};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use k256::ecdsa::{signature::DigestSigner, Signature, SigningKey};
use sha3::{Digest, Keccak256};

use super::fork::EnrForkId;
use crate::execution::crypto::PrivateKey;

/// Where a beacon node listens. Prysm's defaults are TCP 13000, UDP 12000 and
/// QUIC 13000 (`cmd/flags.go`); QUIC is on unless `--disable-quic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct P2pPorts {
    pub tcp: u16,
    pub udp: u16,
    /// `None` when the node runs with QUIC disabled.
    pub quic: Option<u16>,
}

impl Default for P2pPorts {
    fn default() -> Self {
        P2pPorts {
            tcp: 13000,
            udp: 12000,
            quic: Some(13000),
        }
    }
}

/// What goes into the ENR besides the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrFields {
    pub ports: P2pPorts,
    /// Pod IPs are unknown when values are compiled; a fixed address (a
    /// ClusterIP) can be given. Without one, discovery v5 cannot use the record
    /// as a bootnode (go-ethereum's `ValidateComplete` wants an IP).
    pub ip: Option<Ipv4Addr>,
    /// `eth2`: the SSZ `ENRForkID` at genesis.
    pub fork_id: EnrForkId,
    /// `nfd` (Fulu): the next fork digest, zeros when none is scheduled.
    /// `None` before Fulu, where clients do not set it.
    pub next_fork_digest: Option<[u8; 4]>,
    /// `cgc` (Fulu): the custody group count the node advertises
    /// (`CUSTODY_REQUIREMENT`, 4, for a node without validators). `None` before Fulu.
    pub custody_group_count: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("not a valid secp256k1 key")]
    Key,
    #[error("could not sign the ENR")]
    Sign,
    #[error("the ENR is {0} bytes, above EIP-778's 300")]
    TooLarge(usize),
}

/// EIP-778's limit on an encoded record.
const MAX_ENR_SIZE: usize = 300;

/// A beacon node's secp256k1 key and what follows from it.
pub struct BeaconIdentity {
    key: SigningKey,
}

impl BeaconIdentity {
    pub fn new(key: &PrivateKey) -> Result<Self, IdentityError> {
        let key =
            SigningKey::from_bytes((&key.to_bytes()).into()).map_err(|_| IdentityError::Key)?;
        Ok(BeaconIdentity { key })
    }

    /// The 33-byte compressed public key.
    pub fn public_key_compressed(&self) -> [u8; 33] {
        let point = self.key.verifying_key().to_encoded_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The libp2p peer id (`16Uiu2…`): base58btc of the identity multihash of
    /// the protobuf `PublicKey { Type: Secp256k1, Data: compressed key }`.
    /// Keys that encode to at most 42 bytes are inlined rather than hashed, and
    /// a secp256k1 key encodes to 37.
    pub fn peer_id(&self) -> String {
        let key = self.public_key_compressed();
        // Field 1 (varint) = 2 (Secp256k1); field 2 (bytes), length 33.
        let mut protobuf = vec![0x08, 0x02, 0x12, 33];
        protobuf.extend_from_slice(&key);
        // Multihash: code 0x00 (identity), length 37.
        let mut multihash = vec![0x00, protobuf.len() as u8];
        multihash.extend_from_slice(&protobuf);
        bs58::encode(multihash).into_string()
    }

    /// `/dns4/<host>/tcp/<port>/p2p/<peer id>`: the form Prysm's `--peer` takes
    /// when the address is a Service name.
    pub fn multiaddr_dns4(&self, host: &str, tcp_port: u16) -> String {
        format!("/dns4/{host}/tcp/{tcp_port}/p2p/{}", self.peer_id())
    }

    /// The contents of Prysm's `--p2p-priv-key` file.
    pub fn p2p_priv_key_file(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// The ENR text (`enr:…`), sequence number 1, signed deterministically
    /// (RFC 6979), so the same key and fields always give the same record.
    pub fn enr(&self, fields: &EnrFields) -> Result<String, IdentityError> {
        // EIP-778: key/value pairs sorted by key, values RLP items.
        let mut pairs: Vec<(&str, Vec<u8>)> = vec![
            ("attnets", rlp(&[0u8; 8].as_slice())),
            ("eth2", rlp(&fields.fork_id.to_ssz().as_slice())),
            ("id", rlp(&b"v4".as_slice())),
            ("secp256k1", rlp(&self.public_key_compressed().as_slice())),
            // Clients advertise no long-lived subnets until they have validators.
            ("syncnets", rlp(&[0u8; 1].as_slice())),
            ("tcp", rlp(&fields.ports.tcp)),
            ("udp", rlp(&fields.ports.udp)),
        ];
        if let Some(ip) = fields.ip {
            pairs.push(("ip", rlp(&ip.octets().as_slice())));
        }
        if let Some(quic) = fields.ports.quic {
            pairs.push(("quic", rlp(&quic)));
        }
        if let Some(nfd) = fields.next_fork_digest {
            pairs.push(("nfd", rlp(&nfd.as_slice())));
        }
        if let Some(cgc) = fields.custody_group_count {
            pairs.push(("cgc", rlp(&cgc)));
        }
        pairs.sort_by(|a, b| a.0.cmp(b.0));

        let seq: u64 = 1;
        let mut content = rlp(&seq);
        for (k, v) in &pairs {
            content.extend(rlp(&k.as_bytes()));
            content.extend(v);
        }
        // The `enr` crate signs k256 records with added randomness (hedged
        // signatures); plain RFC 6979 keeps every compile's output identical.
        let signature: Signature = self
            .key
            .try_sign_digest(Keccak256::new_with_prefix(rlp_list(&content)))
            .map_err(|_| IdentityError::Sign)?;
        let mut record = rlp(&signature.to_bytes().as_slice());
        record.extend(content);
        let record = rlp_list(&record);
        if record.len() > MAX_ENR_SIZE {
            return Err(IdentityError::TooLarge(record.len()));
        }
        Ok(format!("enr:{}", URL_SAFE_NO_PAD.encode(record)))
    }
}

fn rlp<T: Encodable + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

fn rlp_list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(payload);
    out
}

impl std::fmt::Debug for BeaconIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "BeaconIdentity({})", self.peer_id())
    }
}

/// The ENR's node id (keccak256 of the uncompressed public key), as discovery
/// v5 and `enr` tools show it.
pub fn node_id(identity: &BeaconIdentity) -> [u8; 32] {
    let point = identity.key.verifying_key().to_encoded_point(false);
    Keccak256::digest(&point.as_bytes()[1..]).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::fork::{BlobSchedule, ForkAtGenesis, ForkSchedule};

    fn key(hex_key: &str) -> PrivateKey {
        PrivateKey::from_hex(hex_key).unwrap()
    }

    fn fields() -> EnrFields {
        let schedule = ForkSchedule {
            chain_id: 1337,
            genesis_fork: ForkAtGenesis::Fulu,
            blob_schedule: BlobSchedule::mainnet_bpos(0, 0),
            max_blobs_per_block_electra: 9,
        };
        EnrFields {
            ports: P2pPorts::default(),
            ip: None,
            fork_id: schedule.enr_fork_id(&[0; 32], 0),
            next_fork_digest: Some(schedule.next_fork_digest(&[0; 32], 0)),
            custody_group_count: Some(4),
        }
    }

    /// The peer id decodes to the identity multihash of the protobuf key.
    #[test]
    fn peer_id_inlines_the_protobuf_key() {
        let id = BeaconIdentity::new(&key(
            "b45b5ff3a6e4c0f7cf4dd30ba6bd7ce2a1f3f6d9e7fa6b0fa3a0e1a45e43b1a1",
        ))
        .unwrap();
        let peer = id.peer_id();
        assert!(peer.starts_with("16Uiu2"), "{peer}");
        let raw = bs58::decode(&peer).into_vec().unwrap();
        assert_eq!(&raw[..6], &[0x00, 37, 0x08, 0x02, 0x12, 33]);
        assert_eq!(&raw[6..], &id.public_key_compressed());
        assert_eq!(
            id.multiaddr_dns4("bn-0.net", 13000),
            format!("/dns4/bn-0.net/tcp/13000/p2p/{peer}")
        );
    }

    #[test]
    fn enr_is_deterministic_and_verifies() {
        let k = key("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291");
        let id = BeaconIdentity::new(&k).unwrap();
        let a = id.enr(&fields()).unwrap();
        let b = BeaconIdentity::new(&k).unwrap().enr(&fields()).unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with("enr:"));
        let parsed: enr::Enr<k256::ecdsa::SigningKey> = a.parse().unwrap();
        assert!(parsed.verify());
        assert_eq!(parsed.seq(), 1);
        assert_eq!(parsed.tcp4(), Some(13000));
        assert_eq!(parsed.udp4(), Some(12000));
        assert_eq!(parsed.ip4(), None);
        assert_eq!(parsed.node_id().raw(), node_id(&id));
        let eth2: alloy_rlp::Bytes = parsed.get_decodable("eth2").unwrap().unwrap();
        let attnets: alloy_rlp::Bytes = parsed.get_decodable("attnets").unwrap().unwrap();
        assert_eq!(attnets.as_ref(), [0u8; 8]);
        assert_eq!(eth2.as_ref(), fields().fork_id.to_ssz());
        let quic: u16 = parsed.get_decodable("quic").unwrap().unwrap();
        assert_eq!(quic, 13000);
    }

    #[test]
    fn ip_and_optional_fields() {
        let id = BeaconIdentity::new(&key(
            "0000000000000000000000000000000000000000000000000000000000000001",
        ))
        .unwrap();
        let mut f = fields();
        f.ip = Some(Ipv4Addr::new(10, 96, 0, 10));
        f.ports.quic = None;
        f.next_fork_digest = None;
        f.custody_group_count = None;
        let parsed: enr::Enr<k256::ecdsa::SigningKey> = id.enr(&f).unwrap().parse().unwrap();
        assert_eq!(parsed.ip4(), Some(Ipv4Addr::new(10, 96, 0, 10)));
        assert!(parsed.get_raw_rlp("quic").is_none());
        assert!(parsed.get_raw_rlp("nfd").is_none());
        assert_eq!(
            id.p2p_priv_key_file(),
            "0000000000000000000000000000000000000000000000000000000000000001"
        );
    }
}
