//! Validator keys: EIP-2333 derivation from a seed, EIP-2334 paths, BLS12-381
//! public keys and withdrawal credentials.
//!
//! A seed comes either from a BIP-39 mnemonic the user brings (so the keys match
//! what staking-deposit-cli and every wallet derive from it) or from 32 bytes the
//! caller derived itself. Derivation does not care which: index `i` always gives
//! the same keys for the same seed, whatever other validators exist.

use std::fmt;
use std::str::FromStr;

use blst::min_pk::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::execution::crypto::Address;

/// EIP-2334's purpose (`12381`) and coin type (`3600`) for Ethereum validators.
const PURPOSE: u32 = 12381;
const COIN_TYPE: u32 = 3600;

/// The root of an EIP-2333 key tree. Not `Debug`: it is as secret as every key below it.
pub struct Seed(Zeroizing<Vec<u8>>);

/// Why a mnemonic was refused. The messages never repeat the phrase or its words,
/// because error output ends up in logs and terminals.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MnemonicError {
    #[error("the mnemonic has {0} words; BIP-39 mnemonics have 12, 15, 18, 21 or 24")]
    WordCount(usize),
    #[error("word number {0} of the mnemonic is not in the BIP-39 English word list")]
    UnknownWord(usize),
    #[error("the mnemonic's checksum does not match: a word is wrong or two are swapped")]
    Checksum,
    #[error("the mnemonic is not valid BIP-39 English")]
    Invalid,
}

impl Seed {
    /// The BIP-39 seed of an English mnemonic (checksum checked) and an optional
    /// passphrase (the "25th word"; empty when there is none).
    pub fn from_mnemonic(phrase: &str, passphrase: &str) -> Result<Self, MnemonicError> {
        let mnemonic =
            bip39::Mnemonic::parse_in(bip39::Language::English, phrase).map_err(|e| match e {
                bip39::Error::BadWordCount(n) => MnemonicError::WordCount(n),
                bip39::Error::UnknownWord(i) => MnemonicError::UnknownWord(i + 1),
                bip39::Error::InvalidChecksum => MnemonicError::Checksum,
                _ => MnemonicError::Invalid,
            })?;
        Ok(Self(Zeroizing::new(mnemonic.to_seed(passphrase).to_vec())))
    }

    /// A seed from 32 bytes of key material, e.g. a labelled derivation of the
    /// compiler's master secret. 32 bytes is EIP-2333's minimum seed length.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// The key at `path`: the EIP-2333 master key, then one child per path element.
    pub fn derive(&self, path: &KeyPath) -> ValidatorSecretKey {
        // The seed is 32 or 64 bytes by construction, so blst's length check passes;
        // mapping its error anyway keeps a changed constructor from panicking.
        let mut key = match SecretKey::derive_master_eip2333(&self.0) {
            Ok(k) => k,
            Err(_) => unreachable_seed_length(),
        };
        for &index in path.indices() {
            key = key.derive_child_eip2333(index);
        }
        ValidatorSecretKey(key)
    }

    /// Validator `index`'s signing key and withdrawal public key (EIP-2334).
    pub fn validator(&self, index: u32) -> ValidatorKeys {
        self.validators().validator(index)
    }

    /// The `m/12381/3600` node every validator key descends from: deriving it
    /// once saves two of the five child derivations per validator, which is most
    /// of the work for a large registry.
    pub fn validators(&self) -> ValidatorTree {
        let mut key = self.derive(&KeyPath(vec![PURPOSE]));
        key = ValidatorSecretKey(key.0.derive_child_eip2333(COIN_TYPE));
        ValidatorTree(key)
    }
}

/// The EIP-2334 validator subtree `m/12381/3600` of a seed.
pub struct ValidatorTree(ValidatorSecretKey);

impl ValidatorTree {
    /// Validator `index`'s signing key and withdrawal public key (EIP-2334).
    pub fn validator(&self, index: u32) -> ValidatorKeys {
        // m/12381/3600/index/0, whose child 0 is the signing key.
        let withdrawal_key = self
            .0
             .0
            .derive_child_eip2333(index)
            .derive_child_eip2333(0);
        let signing = ValidatorSecretKey(withdrawal_key.derive_child_eip2333(0));
        ValidatorKeys {
            index,
            withdrawal: ValidatorSecretKey(withdrawal_key),
            signing,
        }
    }
}

#[cold]
fn unreachable_seed_length() -> ! {
    // Seeds are only built by the constructors above, which give 32 or 64 bytes.
    unreachable!("EIP-2333 seeds are at least 32 bytes")
}

/// An EIP-2334 path such as `m/12381/3600/0/0/0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyPath(Vec<u32>);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an EIP-2334 key path ({0}); expected m/12381/3600/<index>/0/0 or similar")]
pub struct KeyPathError(String);

impl KeyPath {
    /// `m/12381/3600/{index}/0/0`: the key that signs blocks and attestations.
    pub fn signing(index: u32) -> Self {
        Self(vec![PURPOSE, COIN_TYPE, index, 0, 0])
    }

    /// `m/12381/3600/{index}/0`: the key whose hash forms `0x00` withdrawal credentials.
    pub fn withdrawal(index: u32) -> Self {
        Self(vec![PURPOSE, COIN_TYPE, index, 0])
    }

    pub fn indices(&self) -> &[u32] {
        &self.0
    }
}

impl FromStr for KeyPath {
    type Err = KeyPathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.split('/');
        if parts.next() != Some("m") {
            return Err(KeyPathError("it must start with m/".into()));
        }
        let indices = parts
            .map(|p| {
                // Decimal without sign or leading zeros, so each path has one spelling.
                let canonical = !p.is_empty()
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && (p == "0" || !p.starts_with('0'));
                canonical
                    .then(|| p.parse::<u32>().ok())
                    .flatten()
                    .ok_or_else(|| KeyPathError(format!("{p:?} is not an index below 2^32")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(indices))
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for i in &self.0 {
            write!(f, "/{i}")?;
        }
        Ok(())
    }
}

/// A BLS12-381 secret key (a non-zero scalar below the group order). It never
/// prints, and blst wipes its memory when it is dropped.
#[derive(Clone)]
pub struct ValidatorSecretKey(SecretKey);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a BLS12-381 secret key (it must be 32 bytes, non-zero and below the group order)")]
pub struct SecretKeyError;

impl ValidatorSecretKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretKeyError> {
        SecretKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| SecretKeyError)
    }

    /// The 32-byte big-endian scalar (the form keystores encrypt); wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    pub fn public_key(&self) -> BlsPublicKey {
        BlsPublicKey(self.0.sk_to_pk().compress())
    }

    /// The compressed G2 signature of `message` under the ciphersuite `dst`.
    pub fn sign(&self, message: &[u8], dst: &[u8]) -> [u8; 96] {
        self.0.sign(message, dst, &[]).compress()
    }
}

impl fmt::Debug for ValidatorSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValidatorSecretKey({})", self.public_key())
    }
}

/// A compressed BLS12-381 G1 public key (48 bytes), as beacon states and keystores hold it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlsPublicKey(pub [u8; 48]);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a BLS12-381 public key: {0}")]
pub struct PublicKeyError(String);

impl BlsPublicKey {
    /// Accepts only a valid, non-infinity point in the G1 subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PublicKeyError> {
        let pk = PublicKey::key_validate(bytes)
            .map_err(|e| PublicKeyError(format!("{e:?} for {} bytes", bytes.len())))?;
        Ok(Self(pk.compress()))
    }

    /// 96 lowercase hex characters without `0x` (the keystore `pubkey` field).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for BlsPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", self.to_hex())
    }
}

impl fmt::Debug for BlsPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlsPublicKey({self})")
    }
}

/// One validator's keys from a seed.
#[derive(Debug, Clone)]
pub struct ValidatorKeys {
    pub index: u32,
    pub signing: ValidatorSecretKey,
    /// The withdrawal key (`m/12381/3600/index/0`); only its public key leaves here.
    withdrawal: ValidatorSecretKey,
}

impl ValidatorKeys {
    /// The withdrawal public key, for BLS (`0x00`) withdrawal credentials. Computed
    /// on demand: networks that withdraw to an address never need it.
    pub fn withdrawal_pubkey(&self) -> BlsPublicKey {
        self.withdrawal.public_key()
    }

    pub fn signing_path(&self) -> KeyPath {
        KeyPath::signing(self.index)
    }

    pub fn pubkey(&self) -> BlsPublicKey {
        self.signing.public_key()
    }
}

/// The 32 bytes of a validator's `withdrawal_credentials`. Only the constructors
/// below make one, so the prefix always matches the layout of the rest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WithdrawalCredentials([u8; 32]);

impl WithdrawalCredentials {
    /// `0x00`: `0x00 ‖ sha256(withdrawal_pubkey)[1..]`. Withdrawals need a later
    /// BLS-to-execution change signed by the withdrawal key.
    pub fn bls(withdrawal_pubkey: &BlsPublicKey) -> Self {
        let mut out: [u8; 32] = Sha256::digest(withdrawal_pubkey.0).into();
        out[0] = 0x00;
        Self(out)
    }

    /// `0x01`: withdrawals go to `address`; balance above 32 ETH is swept.
    pub fn execution(address: &Address) -> Self {
        Self::with_address(0x01, address)
    }

    /// `0x02` (EIP-7251): compounding, withdrawals to `address`, balance up to 2048 ETH.
    pub fn compounding(address: &Address) -> Self {
        Self::with_address(0x02, address)
    }

    fn with_address(prefix: u8, address: &Address) -> Self {
        let mut out = [0u8; 32];
        out[0] = prefix;
        out[12..].copy_from_slice(address.as_slice());
        Self(out)
    }

    pub fn prefix(&self) -> u8 {
        self.0[0]
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `0x`-prefixed lowercase hex, the form of deposit data and beacon APIs.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for WithdrawalCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WithdrawalCredentials({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn scalar(decimal: &str) -> [u8; 32] {
        ruint::aliases::U256::from_str_radix(decimal, 10)
            .unwrap()
            .to_be_bytes()
    }

    fn raw_seed(hex_text: &str) -> Seed {
        Seed(Zeroizing::new(hex::decode(hex_text).unwrap()))
    }

    /// ERC-2333 §Test Cases: master key from the seed, then one child.
    fn check_vector(seed: &Seed, master: &str, child_index: u32, child: &str) {
        let m = seed.derive(&KeyPath(vec![]));
        assert_eq!(*m.to_bytes(), scalar(master));
        let c = seed.derive(&KeyPath(vec![child_index]));
        assert_eq!(*c.to_bytes(), scalar(child));
    }

    #[test]
    fn erc2333_case0_from_the_trezor_mnemonic() {
        let seed = Seed::from_mnemonic(ABANDON, "TREZOR").unwrap();
        assert_eq!(
            hex::encode(&*seed.0),
            "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"
        );
        check_vector(
            &seed,
            "6083874454709270928345386274498605044986640685124978867557563392430687146096",
            0,
            "20397789859736650942317412262472558107875392172444076792671091975210932703118",
        );
    }

    #[test]
    fn erc2333_cases_1_to_3() {
        check_vector(
            &raw_seed("3141592653589793238462643383279502884197169399375105820974944592"),
            "29757020647961307431480504535336562678282505419141012933316116377660817309383",
            3141592653,
            "25457201688850691947727629385191704516744796114925897962676248250929345014287",
        );
        check_vector(
            &raw_seed("0099FF991111002299DD7744EE3355BBDD8844115566CC55663355668888CC00"),
            "27580842291869792442942448775674722299803720648445448686099262467207037398656",
            4294967295,
            "29358610794459428860402234341874281240803786294062035874021252734817515685787",
        );
        let seed: [u8; 32] =
            hex::decode("d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
                .unwrap()
                .try_into()
                .unwrap();
        check_vector(
            &Seed::from_bytes(seed),
            "19022158461524446591288038168518313374041767046816487870552872741050760015818",
            42,
            "31372231650479070279774297061823572166496564838472787488249775572789064611981",
        );
    }

    #[test]
    fn validator_keys_follow_eip2334_paths() {
        let seed = Seed::from_bytes([7; 32]);
        let v = seed.validator(3);
        assert_eq!(v.signing_path().to_string(), "m/12381/3600/3/0/0");
        assert_eq!(v.pubkey(), seed.derive(&KeyPath::signing(3)).public_key());
        assert_eq!(
            v.withdrawal_pubkey(),
            seed.derive(&KeyPath::withdrawal(3)).public_key()
        );
        assert_ne!(v.pubkey(), seed.validator(4).pubkey());
    }

    #[test]
    fn bad_mnemonics_are_refused_without_echo() {
        let seven = "abandon abandon abandon abandon abandon abandon abandon";
        assert_eq!(
            Seed::from_mnemonic(seven, "").err(),
            Some(MnemonicError::WordCount(7))
        );
        let swapped = ABANDON.replacen("abandon", "about", 1);
        assert_eq!(
            Seed::from_mnemonic(&swapped, "").err(),
            Some(MnemonicError::Checksum)
        );
        let typo = ABANDON.replacen("abandon", "abandonn", 2);
        let err = Seed::from_mnemonic(&typo, "").err().unwrap();
        assert_eq!(err, MnemonicError::UnknownWord(1));
        assert!(!err.to_string().contains("abandon"));
    }

    #[test]
    fn key_paths_parse_canonically() {
        let p: KeyPath = "m/12381/3600/0/0/0".parse().unwrap();
        assert_eq!(p, KeyPath::signing(0));
        assert_eq!(p.to_string(), "m/12381/3600/0/0/0");
        assert_eq!("m".parse::<KeyPath>().unwrap().indices(), &[] as &[u32]);
        for bad in ["", "n/1", "m/", "m/01", "m/-1", "m/4294967296", "m/1/x"] {
            assert!(bad.parse::<KeyPath>().is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_keys_do_not_print() {
        let k = Seed::from_bytes([9; 32]).validator(0).signing;
        let secret = hex::encode(*k.to_bytes());
        let shown = format!("{k:?}");
        assert!(!shown.contains(&secret));
        assert!(shown.contains(&k.public_key().to_hex()));
        assert!(ValidatorSecretKey::from_bytes(&[0; 32]).is_err());
        assert!(ValidatorSecretKey::from_bytes(&[0xff; 32]).is_err());
    }

    #[test]
    fn withdrawal_credentials() {
        let pk = Seed::from_bytes([1; 32]).validator(0).withdrawal_pubkey();
        let bls = WithdrawalCredentials::bls(&pk);
        let hash: [u8; 32] = Sha256::digest(pk.0).into();
        assert_eq!(bls.as_bytes()[0], 0);
        assert_eq!(bls.as_bytes()[1..], hash[1..]);
        let address = Address::new([0xab; 20]);
        let eth1 = WithdrawalCredentials::execution(&address);
        assert_eq!(
            eth1.to_hex(),
            format!("0x01{}{}", "00".repeat(11), "ab".repeat(20))
        );
        let compounding = WithdrawalCredentials::compounding(&address);
        assert_eq!(compounding.prefix(), 2);
        assert_eq!(compounding.as_bytes()[1..], eth1.as_bytes()[1..]);
    }

    #[test]
    fn public_keys_are_validated() {
        let pk = Seed::from_bytes([2; 32]).validator(0).pubkey();
        assert_eq!(BlsPublicKey::from_bytes(&pk.0).unwrap(), pk);
        assert!(BlsPublicKey::from_bytes(&[0u8; 48]).is_err());
        assert!(BlsPublicKey::from_bytes(&pk.0[..47]).is_err());
    }
}
