//! secp256k1 identities: private keys, Ethereum addresses (EIP-55) and devp2p
//! node identities (node ID, enode URL), computed exactly as geth does.

use std::fmt;

use k256::ecdsa::SigningKey;

/// The one address type: alloy's (`Display` gives the EIP-55 checksummed form).
pub use alloy_primitives::Address;

/// Keccak-256, the hash Ethereum uses everywhere (not NIST SHA3-256), as bytes.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    alloy_primitives::keccak256(data).0
}

/// A valid secp256k1 private key (non-zero, below the group order).
#[derive(Clone)]
pub struct PrivateKey(SigningKey);

#[derive(Debug, thiserror::Error)]
#[error("not a valid secp256k1 private key: {0}")]
pub struct KeyError(pub String);

impl PrivateKey {
    /// Accepts 32 bytes that form a valid scalar; `None` for 0 or ≥ the group order,
    /// which the derivation retries with another label.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        SigningKey::from_bytes(bytes.into()).ok().map(Self)
    }

    /// Parses 64 hex characters, with or without `0x`, and up to two trailing
    /// newlines (what geth tolerates in a nodekey file).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let trimmed = text.strip_suffix('\n').unwrap_or(text);
        let trimmed = trimmed.strip_suffix('\n').unwrap_or(trimmed);
        let trimmed = trimmed.strip_prefix("0x").unwrap_or(trimmed);
        if trimmed.len() != 64 {
            return Err(KeyError(format!(
                "expected 64 hex characters, found {}",
                trimmed.len()
            )));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(trimmed, &mut bytes).map_err(|e| KeyError(format!("not hex: {e}")))?;
        Self::from_bytes(&bytes).ok_or_else(|| KeyError("zero or above the curve order".into()))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes().into()
    }

    /// 64 lowercase hex characters without `0x`: geth's nodekey file format.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    /// The 64-byte uncompressed public key without its `04` prefix.
    pub fn public_key(&self) -> PublicKey {
        let point = self.0.verifying_key().to_encoded_point(false);
        let mut out = [0u8; 64];
        out.copy_from_slice(&point.as_bytes()[1..]);
        PublicKey(out)
    }

    pub fn address(&self) -> Address {
        self.public_key().address()
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material, not even in debug output.
        write!(f, "PrivateKey({})", self.address())
    }
}

/// An uncompressed secp256k1 public key without the `04` prefix.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub [u8; 64]);

impl PublicKey {
    pub fn address(&self) -> Address {
        Address::from_raw_public_key(&self.0)
    }

    /// The devp2p node ID: keccak256 of the public key (what `admin_nodeInfo.id` shows).
    pub fn node_id(&self) -> [u8; 32] {
        keccak256(&self.0)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `enode://<pubkey>@host:tcp`, with `?discport=` only when UDP differs.
    pub fn enode(&self, host: &str, tcp_port: u16, udp_port: u16) -> String {
        let mut url = format!("enode://{}@{}:{}", self.to_hex(), host, tcp_port);
        if udp_port != tcp_port {
            url.push_str(&format!("?discport={udp_port}"));
        }
        url
    }
}

/// Addresses as network files and geth's files write them.
pub trait AddressExt: Sized {
    /// Parses `0x` + 40 hex characters. A mixed-case address must carry a
    /// correct EIP-55 checksum (a typo in a funded address loses the funds).
    fn parse(text: &str) -> Result<Self, String>;
    /// The 40 hex digits in lower case, without `0x` (geth's alloc and keystore keys).
    fn to_lower_hex(&self) -> String;
}

impl AddressExt for Address {
    fn parse(text: &str) -> Result<Self, String> {
        let body = text
            .strip_prefix("0x")
            .ok_or_else(|| "an address starts with 0x".to_string())?;
        if body.len() != 40 {
            return Err(format!(
                "an address has 40 hex digits after 0x, this one has {}",
                body.len()
            ));
        }
        let mut bytes = [0u8; 20];
        hex::decode_to_slice(body, &mut bytes).map_err(|_| "not a hex address".to_string())?;
        let address = Address::new(bytes);
        let mixed = body.chars().any(|c| c.is_ascii_uppercase())
            && body.chars().any(|c| c.is_ascii_lowercase());
        if mixed && address.to_checksum(None) != text {
            return Err(format!(
                "EIP-55 checksum mismatch (the checksummed form is {address}); check for a typo"
            ));
        }
        Ok(address)
    }

    fn to_lower_hex(&self) -> String {
        hex::encode(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hex: &str) -> PrivateKey {
        PrivateKey::from_hex(hex).unwrap()
    }

    #[test]
    fn geth_vectors() {
        let cases = [
            (
                "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032",
                "0x970E8128AB834E8EAC17Ab8E3812F010678CF791",
                "ed26c72eda802a78a419eae1970e8128ab834e8eac17ab8e3812f010678cf791",
            ),
            (
                "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291",
                "0x71562b71999873DB5b286dF957af199Ec94617F7",
                "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7",
            ),
        ];
        for (private, address, node_id) in cases {
            let k = key(private);
            assert_eq!(k.address().to_string(), address);
            assert_eq!(hex::encode(k.public_key().node_id()), node_id);
        }
        let one = key("0000000000000000000000000000000000000000000000000000000000000001");
        assert_eq!(
            one.address().to_string(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
    }

    #[test]
    fn eip55_vectors() {
        for a in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let parsed = Address::parse(&a.to_lowercase()).unwrap();
            assert_eq!(parsed.to_string(), a);
            assert!(Address::parse(a).is_ok());
        }
        let wrong = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert!(Address::parse(wrong).unwrap_err().contains("checksum"));
    }

    #[test]
    fn enode_format() {
        let k = key("289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032");
        let e = k.public_key().enode("10.0.0.1", 30303, 30303);
        assert!(e.starts_with("enode://") && e.ends_with("@10.0.0.1:30303"));
        assert_eq!(e.len(), "enode://".len() + 128 + "@10.0.0.1:30303".len());
        let d = k.public_key().enode("h", 30303, 30301);
        assert!(d.ends_with("@h:30303?discport=30301"));
    }

    #[test]
    fn rejects_bad_keys() {
        assert!(PrivateKey::from_hex("00").is_err());
        assert!(PrivateKey::from_hex(&"0".repeat(64)).is_err());
        assert!(PrivateKey::from_hex(&"f".repeat(64)).is_err());
        assert!(PrivateKey::from_hex(&format!("{}\n\n", "1".repeat(64))).is_ok());
    }
}
