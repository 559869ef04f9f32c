//! The consensus clients' `config.yaml`.
//!
//! Clients fill keys missing from a config file with their built-in mainnet or
//! minimal values, and those differ between clients and releases. So the file
//! carries every key of the spec's own config for the pinned spec version
//! (consensus-specs v1.6.0, what Prysm v7.1.2 is built against; copies in
//! `spec_config/`), in the spec's order, with this network's values put in place.
//!
//! Prysm v7.1.2 (`config/params/loader.go`) shapes the format:
//! - it rewrites every non-comment line containing `0x` into a YAML byte list,
//!   so hex values stay bare and no line carries a trailing comment;
//! - `DEPOSIT_CONTRACT_ADDRESS` is exempt from that rewrite and is read as a
//!   string, so it is quoted (a YAML 1.1 parser would read a short bare hex as a number);
//! - it picks its minimal defaults only when a line starts with
//!   `PRESET_BASE: 'minimal'` (or the same unquoted or double-quoted);
//! - it parses with `yaml.UnmarshalStrict`: keys it does not know (the spec's
//!   Gloas and feature-fork keys, and `AGGREGATE_DUE_BPS`, which Prysm spells
//!   `AGGREGRATE_DUE_BPS`) are only logged as "There were some issues parsing
//!   the config from a yaml file", and it keeps its built-in value for them;
//! - a `CONFIG_NAME` of one of its built-in networks replaces that network's
//!   config, and fork versions another built-in network owns are refused
//!   (`config/params/configset.go`), hence [`ConfigName`] and the version rule
//!   in [`super::fork`].

use std::fmt::Write as _;

use super::fork::{Fork, ForkSchedule, FAR_FUTURE_EPOCH};
use crate::execution::crypto::Address;

const MAINNET: &str = include_str!("spec_config/mainnet.yaml");
const MINIMAL: &str = include_str!("spec_config/minimal.yaml");

/// The consensus-specs release the embedded key lists come from (tag v1.6.0,
/// commit f96d3e7acf35125295d234da4b0c67591fdef49c).
pub const SPEC_VERSION: &str = "v1.6.0";

/// Keys the renderer must find in the spec config. Prysm v7.1.2 takes the slot
/// length from `SLOT_DURATION_MS` but still reads the `SECONDS_PER_SLOT` field
/// directly in many places (tickers, timeouts), so both must carry this
/// network's value; v1.6.0 still lists both.
const REQUIRED_SPEC_KEYS: &[&str] = &[
    "CONFIG_NAME",
    "SECONDS_PER_SLOT",
    "SLOT_DURATION_MS",
    "MAX_REQUEST_BLOCKS_DENEB",
    "BLOB_SCHEDULE",
];

/// A short delay for eth1-data votes. Since Electra at genesis deposits arrive
/// as EIP-6110 requests and the genesis state disables the eth1 bridge, the
/// distance only delays which execution block the votes name.
pub const DEFAULT_ETH1_FOLLOW_DISTANCE: u64 = 12;

pub use crate::config::Preset;

impl Preset {
    /// The spec's config file for this preset at [`SPEC_VERSION`].
    pub fn spec_config(self) -> &'static str {
        match self {
            Preset::Mainnet => MAINNET,
            Preset::Minimal => MINIMAL,
        }
    }
}

/// Names Prysm v7.1.2 registers itself (`config/params/values.go`): reusing one
/// replaces that network's config (and its embedded genesis) in the running
/// client, so they are refused.
pub const RESERVED_NAMES: &[&str] = &[
    "mainnet",
    "minimal",
    "sepolia",
    "holesky",
    "hoodi",
    "interop",
    "end-to-end",
    "end-to-end-mainnet",
    "mainnet-test",
    "devnet",
];

/// `CONFIG_NAME`: `[a-z0-9-]+` (the spec's rule) and none of [`RESERVED_NAMES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigName(String);

impl ConfigName {
    pub fn parse(text: &str) -> Result<Self, ChainConfigError> {
        let valid = !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(ChainConfigError::ConfigName(format!(
                "{text:?} must be lowercase letters, digits and '-'"
            )));
        }
        if RESERVED_NAMES.contains(&text) {
            return Err(ChainConfigError::ConfigName(format!(
                "{text:?} is a network Prysm has built in; pick another name"
            )));
        }
        Ok(ConfigName(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whole seconds per slot. Prysm v7.1.2 derives tickers from the integer
/// `SECONDS_PER_SLOT`, so fractional slot times would make its clocks disagree
/// with `SLOT_DURATION_MS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotSeconds(u64);

impl SlotSeconds {
    pub fn new(seconds: u64) -> Result<Self, ChainConfigError> {
        // 1 s leaves no time for the attestation and aggregation deadlines.
        if !(2..=3600).contains(&seconds) {
            return Err(ChainConfigError::SlotDuration(seconds));
        }
        Ok(SlotSeconds(seconds))
    }

    pub fn seconds(self) -> u64 {
        self.0
    }

    pub fn millis(self) -> u64 {
        self.0 * 1000
    }
}

/// The network values of a `config.yaml`; everything else comes from the spec.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    pub preset: Preset,
    pub name: ConfigName,
    pub schedule: ForkSchedule,
    /// `MIN_GENESIS_ACTIVE_VALIDATOR_COUNT`: the genesis validator count.
    pub validator_count: u64,
    /// `MIN_GENESIS_TIME`: the execution genesis timestamp (`GENESIS_DELAY` is 0,
    /// so this is also the beacon chain's `genesis_time`).
    pub genesis_time: u64,
    pub slot: SlotSeconds,
    pub deposit_contract: Address,
    pub eth1_follow_distance: u64,
    /// `SHARD_COMMITTEE_PERIOD`: epochs a validator is active before it may exit;
    /// `None` keeps the spec's.
    pub shard_committee_period: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChainConfigError {
    #[error("invalid CONFIG_NAME: {0}")]
    ConfigName(String),
    #[error("slot duration of {0} s: choose whole seconds from 2 to 3600")]
    SlotDuration(u64),
    #[error("MIN_GENESIS_ACTIVE_VALIDATOR_COUNT must be at least 1")]
    NoValidators,
    #[error("the embedded {preset} spec config has no key {key}")]
    MissingSpecKey { preset: &'static str, key: String },
    #[error("the embedded {preset} spec config has {key}: {value:?}, not a number")]
    SpecValue {
        preset: &'static str,
        key: &'static str,
        value: String,
    },
}

/// One top-level line of a spec config: a key and its value without comment.
/// `BLOB_SCHEDULE`'s nested list is not a scalar and is rendered separately.
struct SpecEntry<'a> {
    key: &'a str,
    value: &'a str,
}

fn spec_entries(text: &str) -> Vec<SpecEntry<'_>> {
    text.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .filter_map(|l| l.split_once(':'))
        .map(|(key, rest)| {
            let value = rest.split_once('#').map_or(rest, |(v, _)| v).trim();
            SpecEntry { key, value }
        })
        .collect()
}

/// The number the spec config gives `key`.
fn spec_number(
    entries: &[SpecEntry<'_>],
    preset: Preset,
    key: &'static str,
) -> Result<u64, ChainConfigError> {
    let value = entries
        .iter()
        .find(|e| e.key == key)
        .map(|e| e.value)
        .ok_or_else(|| ChainConfigError::MissingSpecKey {
            preset: preset.name(),
            key: key.to_string(),
        })?;
    value.parse().map_err(|_| ChainConfigError::SpecValue {
        preset: preset.name(),
        key,
        value: value.to_string(),
    })
}

/// The keys of the spec config for `preset`, in file order.
pub fn spec_keys(preset: Preset) -> Vec<&'static str> {
    spec_entries(preset.spec_config())
        .into_iter()
        .map(|e| e.key)
        .collect()
}

impl ChainConfig {
    /// The value this network sets for `key`, or `None` to keep the spec's.
    /// `request_blocks_deneb` is the spec's `MAX_REQUEST_BLOCKS_DENEB`.
    fn override_value(&self, key: &str, request_blocks_deneb: u64) -> Option<String> {
        let s = &self.schedule;
        for fork in Fork::ALL {
            let prefix = fork.config_prefix();
            if key.strip_prefix(prefix) == Some("_FORK_VERSION") {
                return Some(s.version(fork).to_string());
            }
            if fork != Fork::Phase0 && key.strip_prefix(prefix) == Some("_FORK_EPOCH") {
                return Some(s.epoch(fork).to_string());
            }
        }
        let value = match key {
            "PRESET_BASE" => format!("'{}'", self.preset.name()),
            "CONFIG_NAME" => format!("'{}'", self.name.as_str()),
            "TERMINAL_TOTAL_DIFFICULTY" => "0".into(),
            "MIN_GENESIS_ACTIVE_VALIDATOR_COUNT" => self.validator_count.to_string(),
            "MIN_GENESIS_TIME" => self.genesis_time.to_string(),
            "GENESIS_DELAY" => "0".into(),
            "SLOT_DURATION_MS" => self.slot.millis().to_string(),
            "SECONDS_PER_SLOT" => self.slot.seconds().to_string(),
            "ETH1_FOLLOW_DISTANCE" => self.eth1_follow_distance.to_string(),
            "SHARD_COMMITTEE_PERIOD" => self.shard_committee_period?.to_string(),
            "DEPOSIT_CHAIN_ID" | "DEPOSIT_NETWORK_ID" => s.chain_id.to_string(),
            "DEPOSIT_CONTRACT_ADDRESS" => format!("'{}'", self.deposit_contract),
            "MAX_BLOBS_PER_BLOCK_ELECTRA" => s.max_blobs_per_block_electra.to_string(),
            // The spec derives it (MAX_REQUEST_BLOCKS_DENEB * MAX_BLOBS_PER_BLOCK_ELECTRA)
            // and Prysm reads it as given, so it follows the Electra blob limit.
            "MAX_REQUEST_BLOB_SIDECARS_ELECTRA" => request_blocks_deneb
                .saturating_mul(s.max_blobs_per_block_electra)
                .to_string(),
            _ => return None,
        };
        Some(value)
    }

    /// The `config.yaml` text: every spec key in the spec's order, one
    /// `KEY: value` per line.
    pub fn render(&self) -> Result<String, ChainConfigError> {
        if self.validator_count == 0 {
            return Err(ChainConfigError::NoValidators);
        }
        let preset = self.preset;
        let entries = spec_entries(preset.spec_config());
        for required in REQUIRED_SPEC_KEYS {
            if !entries.iter().any(|e| e.key == *required) {
                return Err(ChainConfigError::MissingSpecKey {
                    preset: preset.name(),
                    key: required.to_string(),
                });
            }
        }
        let request_blocks_deneb = spec_number(&entries, preset, "MAX_REQUEST_BLOCKS_DENEB")?;
        let mut out = format!(
            "# Consensus config of the {} network: every key of consensus-specs {} \
             configs/{}.yaml, with this network's values.\n",
            self.name.as_str(),
            SPEC_VERSION,
            preset.name()
        );
        for entry in entries {
            if entry.key == "BLOB_SCHEDULE" {
                out.push_str(&self.blob_schedule_yaml());
                continue;
            }
            let value = self
                .override_value(entry.key, request_blocks_deneb)
                .unwrap_or_else(|| entry.value.to_string());
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{}: {}", entry.key, value);
        }
        Ok(out)
    }

    /// `BLOB_SCHEDULE` as a block list, `[]` when no BPO is scheduled (the
    /// form ethereum-genesis-generator writes and every client reads).
    fn blob_schedule_yaml(&self) -> String {
        let entries: Vec<_> = self
            .schedule
            .blob_schedule
            .entries()
            .iter()
            .filter(|e| e.epoch != FAR_FUTURE_EPOCH)
            .collect();
        if entries.is_empty() {
            return "BLOB_SCHEDULE: []\n".into();
        }
        let mut out = String::from("BLOB_SCHEDULE:\n");
        for e in entries {
            let _ = writeln!(
                out,
                "  - EPOCH: {}\n    MAX_BLOBS_PER_BLOCK: {}",
                e.epoch, e.max_blobs_per_block
            );
        }
        out
    }
}

/// The number a rendered `config.yaml` gives `key` (a line `KEY: value`).
fn rendered_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// `SHARD_COMMITTEE_PERIOD` of a rendered `config.yaml` (the values carry the text).
pub fn shard_committee_period(text: &str) -> Option<u64> {
    rendered_value(text, "SHARD_COMMITTEE_PERIOD")?.parse().ok()
}

/// `CAPELLA_FORK_VERSION` of a rendered `config.yaml`: the voluntary exits' domain
/// (EIP-7044).
pub fn capella_fork_version(text: &str) -> Option<super::fork::Version> {
    let hex_text = rendered_value(text, "CAPELLA_FORK_VERSION")?.strip_prefix("0x")?;
    let bytes: [u8; 4] = hex::decode(hex_text).ok()?.try_into().ok()?;
    Some(super::fork::Version(bytes))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::execution::crypto::AddressExt;

    use yaml_rust2::{Yaml, YamlLoader};

    use super::*;
    use crate::consensus::fork::{BlobSchedule, ForkAtGenesis};

    fn config(preset: Preset, blobs: BlobSchedule) -> ChainConfig {
        ChainConfig {
            preset,
            name: ConfigName::parse("kuberneteth-test").unwrap(),
            schedule: ForkSchedule {
                chain_id: 4242,
                genesis_fork: ForkAtGenesis::Fulu,
                blob_schedule: blobs,
                max_blobs_per_block_electra: 9,
            },
            validator_count: 64,
            genesis_time: 1_700_000_000,
            slot: SlotSeconds::new(6).unwrap(),
            deposit_contract: Address::parse("0x00000000219ab540356cBB839Cbe05303d7705Fa").unwrap(),
            eth1_follow_distance: DEFAULT_ETH1_FOLLOW_DISTANCE,
            shard_committee_period: None,
        }
    }

    fn parse(text: &str) -> yaml_rust2::yaml::Hash {
        let docs = YamlLoader::load_from_str(text).unwrap();
        docs[0].as_hash().unwrap().clone()
    }

    fn keys(hash: &yaml_rust2::yaml::Hash) -> BTreeSet<String> {
        hash.keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    }

    /// Drift guard: the emitted keys are exactly the pinned spec file's keys
    /// (read by a YAML parser, not by the line scanner the renderer uses), for
    /// both presets, and the values of keys the network does not set are the
    /// spec's values as a YAML parser reads them.
    #[test]
    fn emits_exactly_the_spec_key_set() {
        for preset in [Preset::Mainnet, Preset::Minimal] {
            let spec = parse(preset.spec_config());
            let out = parse(
                &config(preset, BlobSchedule::mainnet_bpos(0, 0))
                    .render()
                    .unwrap(),
            );
            let want = keys(&spec);
            assert_eq!(keys(&out), want, "{}", preset.name());
            assert!(want.len() > 80);
            assert_eq!(
                spec_keys(preset).into_iter().collect::<BTreeSet<_>>().len(),
                want.len()
            );
            for required in REQUIRED_SPEC_KEYS {
                assert!(want.contains(*required), "{required}");
            }
            for (key, value) in &spec {
                let key = key.as_str().unwrap();
                if key == "BLOB_SCHEDULE" || key == "PRESET_BASE" || key.contains("FORK_") {
                    continue;
                }
                if config(preset, BlobSchedule::default())
                    .override_value(key, 128)
                    .is_none()
                {
                    assert_eq!(&out[&Yaml::String(key.into())], value, "{key}");
                }
            }
        }
    }

    /// Every key the network does not set keeps the spec's value, so the
    /// overrides are exactly the documented list.
    #[test]
    fn only_network_keys_differ_from_the_spec() {
        let cfg = config(Preset::Mainnet, BlobSchedule::mainnet_bpos(0, 0));
        let text = cfg.render().unwrap();
        let out = parse(&text);
        let spec_text = Preset::Mainnet.spec_config();
        let mut changed = BTreeSet::new();
        for e in spec_entries(spec_text) {
            let line = text
                .lines()
                .find(|l| l.split_once(':').map(|(k, _)| k) == Some(e.key))
                .unwrap();
            let value = line.split_once(':').unwrap().1.trim();
            if e.key != "BLOB_SCHEDULE" && value != e.value {
                changed.insert(e.key.to_string());
            }
        }
        let expected: BTreeSet<String> = [
            "CONFIG_NAME",
            "TERMINAL_TOTAL_DIFFICULTY",
            "MIN_GENESIS_ACTIVE_VALIDATOR_COUNT",
            "MIN_GENESIS_TIME",
            "GENESIS_DELAY",
            "GENESIS_FORK_VERSION",
            "ALTAIR_FORK_VERSION",
            "ALTAIR_FORK_EPOCH",
            "BELLATRIX_FORK_VERSION",
            "BELLATRIX_FORK_EPOCH",
            "CAPELLA_FORK_VERSION",
            "CAPELLA_FORK_EPOCH",
            "DENEB_FORK_VERSION",
            "DENEB_FORK_EPOCH",
            "ELECTRA_FORK_VERSION",
            "ELECTRA_FORK_EPOCH",
            "FULU_FORK_VERSION",
            "FULU_FORK_EPOCH",
            "GLOAS_FORK_VERSION",
            "SECONDS_PER_SLOT",
            "SLOT_DURATION_MS",
            "ETH1_FOLLOW_DISTANCE",
            "DEPOSIT_CHAIN_ID",
            "DEPOSIT_NETWORK_ID",
            "DEPOSIT_CONTRACT_ADDRESS",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(changed, expected);
        let get = |k: &str| out[&Yaml::String(k.into())].clone();
        assert_eq!(get("SECONDS_PER_SLOT"), Yaml::Integer(6));
        assert_eq!(get("SLOT_DURATION_MS"), Yaml::Integer(6000));
        assert!(text.contains("\nGLOAS_FORK_EPOCH: 18446744073709551615\n"));
        assert!(text.contains("\nFULU_FORK_EPOCH: 0\n"));
        assert!(text.contains("\nFULU_FORK_VERSION: 0x46001092\n"));
        assert!(text.contains("\nCONFIG_NAME: 'kuberneteth-test'\n"));
        assert!(text.contains(
            "\nDEPOSIT_CONTRACT_ADDRESS: '0x00000000219ab540356cBB839Cbe05303d7705Fa'\n"
        ));
    }

    /// The spec's derived request limit follows a non-default Electra blob limit.
    #[test]
    fn blob_sidecar_request_limit_follows_the_electra_blob_limit() {
        let mut cfg = config(Preset::Minimal, BlobSchedule::default());
        cfg.schedule.max_blobs_per_block_electra = 12;
        let text = cfg.render().unwrap();
        assert!(text.contains("\nMAX_BLOBS_PER_BLOCK_ELECTRA: 12\n"));
        assert!(text.contains("\nMAX_REQUEST_BLOB_SIDECARS_ELECTRA: 1536\n"));
    }

    #[test]
    fn blob_schedule_collapses_and_can_be_empty() {
        let text = config(Preset::Mainnet, BlobSchedule::mainnet_bpos(0, 0))
            .render()
            .unwrap();
        assert!(text.contains("BLOB_SCHEDULE:\n  - EPOCH: 0\n    MAX_BLOBS_PER_BLOCK: 21\n"));
        let out = parse(&text);
        let schedule = out[&Yaml::String("BLOB_SCHEDULE".into())].as_vec().unwrap();
        assert_eq!(schedule.len(), 1);
        let text = config(Preset::Minimal, BlobSchedule::default())
            .render()
            .unwrap();
        assert!(text.contains("\nBLOB_SCHEDULE: []\n"));
        assert!(text.contains("\nPRESET_BASE: 'minimal'\n"));
    }

    /// Prysm's hex rewrite splits a line at "0x" and hex-decodes the rest: no
    /// line may carry a comment or anything else after a hex value.
    #[test]
    fn hex_lines_are_bare_for_prysm() {
        let text = config(Preset::Mainnet, BlobSchedule::mainnet_bpos(0, 0))
            .render()
            .unwrap();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(!line.contains('#'), "{line}");
            if line.contains("0x") && !line.starts_with("DEPOSIT_CONTRACT_ADDRESS") {
                let (_, hex_part) = line.split_once("0x").unwrap();
                assert!(hex::decode(hex_part).is_ok(), "{line}");
            }
        }
    }

    #[test]
    fn refuses_reserved_or_malformed_names_and_bad_slots() {
        for bad in ["mainnet", "hoodi", "devnet", "", "My-Net", "a_b", "net.1"] {
            assert!(ConfigName::parse(bad).is_err(), "{bad}");
        }
        assert!(ConfigName::parse("kuberneteth-1337").is_ok());
        assert!(SlotSeconds::new(0).is_err());
        assert!(SlotSeconds::new(1).is_err());
        assert_eq!(SlotSeconds::new(12).unwrap().millis(), 12_000);
        let mut cfg = config(Preset::Mainnet, BlobSchedule::default());
        cfg.validator_count = 0;
        assert!(cfg.render().is_err());
    }

    /// Writes the configs `scripts/check-prysm.sh` hands to Prysm into
    /// `PRYSM_CONFIG_DIR` (`mainnet.yaml`, `minimal.yaml`); without it the test
    /// only renders them. Slot lengths differ from the presets' so the runner
    /// can see Prysm read them.
    #[test]
    fn configs_for_prysm() {
        let dir = std::env::var_os("PRYSM_CONFIG_DIR").map(std::path::PathBuf::from);
        let cases = [
            (Preset::Mainnet, BlobSchedule::mainnet_bpos(1, 2), 6),
            (Preset::Minimal, BlobSchedule::default(), 4),
        ];
        for (preset, blobs, slot) in cases {
            let mut cfg = config(preset, blobs);
            cfg.name = ConfigName::parse(&format!("kuberneteth-{}", preset.name())).unwrap();
            cfg.validator_count = 8;
            cfg.slot = SlotSeconds::new(slot).unwrap();
            let text = cfg.render().unwrap();
            if let Some(dir) = &dir {
                std::fs::write(dir.join(format!("{}.yaml", preset.name())), text).unwrap();
            }
        }
    }

    /// `shardCommitteePeriod` replaces the spec's `SHARD_COMMITTEE_PERIOD`; unset,
    /// each preset keeps its own (256 mainnet, 64 minimal).
    #[test]
    fn shard_committee_period_is_the_networks_or_the_presets() {
        for (preset, spec) in [(Preset::Mainnet, 256), (Preset::Minimal, 64)] {
            let mut cfg = config(preset, BlobSchedule::default());
            let text = cfg.render().unwrap();
            assert!(
                text.contains(&format!("\nSHARD_COMMITTEE_PERIOD: {spec}\n")),
                "{}",
                preset.name()
            );
            assert_eq!(shard_committee_period(&text), Some(spec));
            cfg.shard_committee_period = Some(4);
            let text = cfg.render().unwrap();
            assert!(text.contains("\nSHARD_COMMITTEE_PERIOD: 4\n"));
            assert_eq!(shard_committee_period(&text), Some(4));
            assert_eq!(
                capella_fork_version(&text).map(|v| v.to_string()),
                Some(cfg.schedule.version(Fork::Capella).to_string())
            );
        }
    }

    #[test]
    fn electra_genesis_leaves_fulu_unscheduled() {
        let mut cfg = config(Preset::Mainnet, BlobSchedule::default());
        cfg.schedule.genesis_fork = ForkAtGenesis::Electra;
        let text = cfg.render().unwrap();
        assert!(text.contains("\nELECTRA_FORK_EPOCH: 0\n"));
        assert!(text.contains("\nFULU_FORK_EPOCH: 18446744073709551615\n"));
    }
}
