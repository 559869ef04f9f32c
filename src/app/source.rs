//! Where a network comes from (the file given with `-c`, or the built-in one)
//! and the key files it names: what every command reads before it checks or plans.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::failure::{exit, invalid, Failure};
use crate::check::{self, AccountKey, Checked, CheckedConsensus, Context};
use crate::diagnostics::{display_path, Diagnostic};
use crate::execution::crypto::{Address, PrivateKey};
use crate::execution::keystore;
use crate::execution::system_contracts::is_reserved;
use crate::input::{self, ReadError};
use crate::plan::{BroughtAccount, BroughtKeys};

/// The network compiled when no `-c` is given.
pub const DEFAULT_NETWORK: &str = include_str!("../../values/kuberneteth.yaml");
pub const DEFAULT_NETWORK_NAME: &str = "<default network>";

/// Where the network comes from.
pub struct Source {
    /// Shown in messages.
    pub display: String,
    pub text: String,
    /// Directory relative paths in the file are resolved against.
    pub dir: PathBuf,
    /// Default location of the secrets file.
    pub default_secrets: PathBuf,
    /// Whether the network is a regular file (not `/dev/stdin`, a pipe, a device):
    /// only then is "beside the network file" a place to create the secret.
    pub regular: bool,
}

impl Source {
    pub fn load(config: Option<&Path>) -> Result<Self, Failure> {
        let Some(path) = config else {
            return Ok(Self {
                display: DEFAULT_NETWORK_NAME.into(),
                text: DEFAULT_NETWORK.into(),
                dir: PathBuf::from("."),
                default_secrets: PathBuf::from("kuberneteth.secrets.yaml"),
                regular: true,
            });
        };
        let display = path.display().to_string();
        let bytes = input::read_bounded(path, input::MAX_NETWORK_FILE).map_err(|e| match e {
            ReadError::Io(_) => Failure::new(
                exit::IO,
                format!("{display}: cannot read the network file: {e}"),
            ),
            ReadError::TooLarge { .. } => Failure::new(
                exit::INVALID,
                format!("{display}: the network file is {e}; nothing was written"),
            ),
        })?;
        let text = input::decode(bytes)
            .map_err(|e| invalid(&display, &[Diagnostic::error(e.position, "", e.message)]))?;
        let regular = fs::metadata(path).is_ok_and(|m| m.is_file());
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Self {
            display,
            text,
            default_secrets: dir.join("kuberneteth.secrets.yaml"),
            dir,
            regular,
        })
    }

    /// Checks the file in `ctx` (see [`check::Context`]); warnings are printed,
    /// errors become a failure.
    pub fn check(&self, ctx: Context, warn: &mut dyn FnMut(String)) -> Result<Checked, Failure> {
        match check::check(&self.text, ctx) {
            Ok(checked) => {
                for w in &checked.warnings {
                    warn(w.render(&self.display));
                }
                Ok(checked)
            }
            Err(diags) => Err(invalid(&self.display, &diags)),
        }
    }
}

/// Reads a brought file (relative to the network file), bounded in size.
fn read_brought(dir: &Path, file: &Path, limit: u64) -> Result<String, String> {
    let path = dir.join(file);
    let bytes =
        input::read_bounded(&path, limit).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))
}

/// A brought keystore's address is known only once it is opened, so the rules
/// that keep funded addresses apart (no address funded twice; none a proof-of-stake
/// genesis fills itself) are applied to it here; the genesis would refuse it later.
fn brought_addresses_free(
    checked: &Checked,
    brought: &BroughtKeys,
    problem: &mut dyn FnMut(String, String),
) {
    let deposit = match checked.network.consensus() {
        CheckedConsensus::ProofOfStake(pos) => Some(pos.deposit_contract),
        CheckedConsensus::Clique(_) => None,
    };
    let mut funded: BTreeMap<Address, usize> = BTreeMap::new();
    for (i, (_, account)) in checked.network.accounts().enumerate() {
        if let AccountKey::Outside(address) = &account.key {
            funded.insert(*address, i);
        }
    }
    for (i, (a, _)) in checked.network.accounts().enumerate() {
        let Some(b) = a.name.as_ref().and_then(|n| brought.accounts.get(n)) else {
            continue;
        };
        let address = b.key.address();
        let at = format!("/accounts/{i}/keystore");
        if deposit.is_some() && is_reserved(&address, deposit) {
            problem(at, format!(
                "the keystore's address {address} is a precompile, a system contract or the deposit contract, which the proof-of-stake genesis fills itself; bring another key"
            ));
        } else if let Some(j) = funded.insert(address, i) {
            problem(at, format!(
                "the keystore's address {address} is already funded by accounts[{j}]; fund it once (merge the balances)"
            ));
        }
    }
}

/// Reads the keys the user brought (node key files, account keystores). Every
/// problem is reported at the entry of the network file that names the file.
pub fn load_brought(checked: &Checked, source: &Source) -> Result<BroughtKeys, Failure> {
    let cfg = checked.network.file();
    let dir = &source.dir;
    let mut brought = BroughtKeys::default();
    let mut problems = Vec::new();
    let mut problem = |pointer: String, message: String| {
        problems.push(Diagnostic::error(
            checked.doc.position(&pointer),
            display_path(&pointer),
            message,
        ))
    };
    for (gi, g) in cfg.nodes.iter().enumerate() {
        for (o, file) in g.node_key_files.iter().enumerate() {
            let key = read_brought(dir, file, input::MAX_NODE_KEY_FILE).and_then(|t| {
                PrivateKey::from_hex(&t).map_err(|e| format!("{}: {e}", file.display()))
            });
            match key {
                Ok(k) => {
                    brought.node_keys.insert((g.name.clone(), o as u32), k);
                }
                Err(e) => problem(format!("/nodes/{gi}/nodeKeyFiles/{o}"), e),
            }
        }
    }
    for (i, a) in cfg.accounts.iter().enumerate() {
        let (Some(name), Some(ks), Some(pw)) = (&a.name, &a.keystore, &a.password_file) else {
            continue;
        };
        let password = match read_brought(dir, pw, input::MAX_PASSWORD_FILE) {
            Ok(p) => p.trim_end_matches(['\n', '\r']).to_string(),
            Err(e) => {
                problem(format!("/accounts/{i}/passwordFile"), e);
                continue;
            }
        };
        let opened = read_brought(dir, ks, input::MAX_KEYSTORE_FILE).and_then(|json| {
            let key = keystore::decrypt(&json, &password)
                .map_err(|e| format!("{}: {e}", ks.display()))?;
            Ok(BroughtAccount {
                key,
                keystore_json: json,
                password,
            })
        });
        match opened {
            Ok(b) => {
                brought.accounts.insert(name.clone(), b);
            }
            Err(e) => problem(format!("/accounts/{i}/keystore"), e),
        }
    }
    brought_addresses_free(checked, &brought, &mut problem);
    if let crate::config::Consensus::ProofOfStake(pos) = &cfg.network.consensus {
        if let Some(file) = &pos.mnemonic_file {
            let seed = read_brought(dir, file, input::MAX_PASSWORD_FILE).and_then(|text| {
                // One line of words; surrounding whitespace is not part of it.
                let phrase = text.split_whitespace().collect::<Vec<_>>().join(" ");
                crate::consensus::bls::Seed::from_mnemonic(&phrase, "")
                    .map_err(|e| format!("{}: {e}", file.display()))
            });
            match seed {
                Ok(s) => brought.validator_mnemonic = Some(s),
                Err(e) => problem(
                    "/network/consensus/proofOfStake/mnemonicFile".to_string(),
                    e,
                ),
            }
        }
    }
    if problems.is_empty() {
        return Ok(brought);
    }
    crate::diagnostics::sort(&mut problems);
    Err(invalid(&source.display, &problems))
}
