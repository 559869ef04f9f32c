//! The rules of a proof-of-stake network that a schema cannot express: its
//! genesis time, addresses, client, validator balance and stake spread.

use ruint::aliases::U256;

use crate::config::{ConsensusClient, NetworkFile, NodeGroup, Preset, ProofOfStake, Role};
use crate::consensus::bls::WithdrawalCredentials;
use crate::consensus::chain_config::{ConfigName, SlotSeconds};
use crate::consensus::preset::{MAX_EFFECTIVE_BALANCE_ELECTRA, MIN_ACTIVATION_BALANCE};
use crate::execution::crypto::{Address, AddressExt};
use crate::release::{
    release_weight, Placement, RELEASE_CAPACITY, RELEASE_POD_COST, VALIDATORS_PER_KEYS_SECRET,
};
use crate::units::parse_balance;

use super::findings::Findings;
use super::network::CheckedProofOfStake;
use super::{Context, ReleaseLimit};

/// Where the file keeps the proof-of-stake settings.
const AT: &str = "/network/consensus/proofOfStake";

/// The largest genesis registry the compiler builds, whatever holds the release
/// (about 100 MB of wallets). Below it, [`RELEASE_CAPACITY`] bounds what
/// one Helm release in a Kubernetes Secret holds.
pub(super) const MAX_VALIDATORS: u64 = 1 << 20;

/// Checks `pos`, the settings of `cfg`; their parsed values when every one parsed.
pub(super) fn rules(
    cfg: &NetworkFile,
    pos: &ProofOfStake,
    ctx: Context,
    f: &mut Findings,
) -> Option<CheckedProofOfStake> {
    let genesis_time = genesis_time(cfg, ctx, f);
    let deposit_contract = address(f, "depositContractAddress", &pos.deposit_contract_address);
    let fee_recipient = address(f, "feeRecipient", &pos.fee_recipient);
    let withdrawal = match &pos.withdrawal {
        None => Some(None),
        Some(w) => address(f, "withdrawal/address", &w.address).map(|a| {
            Some(if w.compounding {
                WithdrawalCredentials::compounding(&a)
            } else {
                WithdrawalCredentials::execution(&a)
            })
        }),
    };
    reserved_accounts(cfg, deposit_contract, f);
    client(pos, f);
    let validator_balance_gwei = validator_balance(pos, f);
    stake_spread(cfg, pos, ctx, f);
    joining_validators(cfg, pos, f);
    // The schema bounds the slot and the network name; these are the parsers
    // the consensus config takes them through.
    let slot = SlotSeconds::new(pos.seconds_per_slot)
        .map_err(|e| f.error(&format!("{AT}/secondsPerSlot"), e.to_string()))
        .ok();
    // The chain id keeps the name clear of the clients' built-in networks
    // (`devnet`, `mainnet`, ...), which they refuse to redefine.
    let config_name = ConfigName::parse(&format!("{}-{}", cfg.network.name, cfg.network.chain_id))
        .map_err(|e| f.error("/network/name", e.to_string()))
        .ok();
    Some(CheckedProofOfStake {
        settings: pos.clone(),
        genesis_time: genesis_time?,
        slot: slot?,
        deposit_contract: deposit_contract?,
        fee_recipient: fee_recipient?,
        withdrawal: withdrawal?,
        validator_balance_gwei: validator_balance_gwei?,
        config_name: config_name?,
    })
}

/// The address at `key` of the settings, reported there when it is none.
fn address(f: &mut Findings, key: &str, text: &str) -> Option<Address> {
    Address::parse(text)
        .map_err(|e| f.error(&format!("{AT}/{key}"), e))
        .ok()
}

/// `genesisTimestamp`, which proof of stake needs; a warning when it is long past.
fn genesis_time(cfg: &NetworkFile, ctx: Context, f: &mut Findings) -> Option<u64> {
    let Some(t) = cfg.network.genesis_timestamp else {
        f.error("/network", "a proof-of-stake network needs `genesisTimestamp` (Unix seconds): the first slot starts then. Pick a moment shortly after you deploy, e.g. `date -d '+10 min' +%s`".into());
        return None;
    };
    // Only this warning depends on `now`; no output does.
    if let Some(days) = days_past(t, ctx.now) {
        let days = if days == 1 {
            "1 day".into()
        } else {
            format!("{days} days")
        };
        f.warning("/network/genesisTimestamp", format!(
            "genesis was {days} ago: beacon nodes must first process every empty slot since then, which can take long; a fresh network wants a time shortly after deploy"
        ));
    }
    Some(t)
}

/// Whole days by which `genesis` lies more than a day before `now` (both Unix
/// seconds), or `None` when it is later than that or in the future. Never overflows.
pub(super) fn days_past(genesis: u64, now: u64) -> Option<u64> {
    let age = now.checked_sub(genesis)?;
    (age > 86_400).then_some(age / 86_400)
}

/// Addresses the genesis fills itself: a prefunded account there would be
/// overwritten (or would overwrite a system contract).
fn reserved_accounts(cfg: &NetworkFile, deposit: Option<Address>, f: &mut Findings) {
    let reserved = |a: &Address| crate::execution::system_contracts::is_reserved(a, deposit);
    for (i, a) in cfg.accounts.iter().enumerate() {
        if let Some(Ok(addr)) = a.address.as_deref().map(Address::parse) {
            if reserved(&addr) {
                f.error(&format!("/accounts/{i}/address"), format!(
                    "{addr} is a precompile, a system contract or the deposit contract, which the proof-of-stake genesis fills itself; fund another address"
                ));
            }
        }
    }
}

/// The Prysm release, and images built for the preset.
fn client(pos: &ProofOfStake, f: &mut Findings) {
    let ConsensusClient::Prysm(prysm) = &pos.client;
    if let Err(e) = crate::consensus::client::PrysmVersion::parse(&prysm.version) {
        f.error(&format!("{AT}/client/prysm/version"), e);
    }
    // The preset is compiled into Prysm (`-tags minimal`); the official images are
    // mainnet builds, and a minimal-preset network makes their beacon nodes exit at
    // start-up, over and over.
    if pos.preset == Preset::Minimal {
        let official = crate::config::Prysm::default();
        for (image, default) in [
            (&prysm.beacon_image, &official.beacon_image),
            (&prysm.validator_image, &official.validator_image),
        ] {
            if image == default {
                f.error(&format!("{AT}/preset"), format!(
                    "`preset: minimal` needs Prysm images built for the minimal preset (`go build -tags minimal`), and `{default}` is built for mainnet: its beacon nodes would crash-loop. Name such images in `consensus.proofOfStake.client.prysm` (`beaconImage`, `validatorImage`), or use `preset: mainnet` (short slots via `secondsPerSlot`)"
                ));
                break;
            }
        }
    }
}

/// The validator balance in the consensus layer's whole gwei, within its limits.
fn validator_balance(pos: &ProofOfStake, f: &mut Findings) -> Option<u64> {
    let at = format!("{AT}/validatorBalance");
    let wei = parse_balance(&pos.validator_balance)
        .map_err(|e| f.error(&at, e))
        .ok()?;
    let wei_per_gwei = U256::from(1_000_000_000u64);
    let Ok(gwei) = u64::try_from(wei / wei_per_gwei) else {
        f.error(&at, "a validator balance must fit the consensus layer's 64-bit gwei; use at most `2048 ether`, all that counts as stake".into());
        return None;
    };
    if wei % wei_per_gwei != U256::ZERO {
        f.error(
            &at,
            "the consensus layer counts in gwei; give a whole number of gwei".into(),
        );
        return None;
    }
    if gwei < MIN_ACTIVATION_BALANCE {
        f.error(&at, "validators below 32 ether are not active at genesis and nothing would propose; use at least `32 ether`".into());
        return None;
    }
    let compounding = pos.withdrawal.as_ref().is_some_and(|w| w.compounding);
    let counted = if compounding {
        MAX_EFFECTIVE_BALANCE_ELECTRA
    } else {
        MIN_ACTIVATION_BALANCE
    };
    if gwei > counted {
        let why = if compounding {
            "compounding validators count at most 2048 ether"
        } else {
            "only 32 ether counts as stake unless `withdrawal.compounding` is true (up to 2048 ether)"
        };
        f.warning(&at, format!("{why}; the rest earns nothing"));
    }
    Some(gwei)
}

/// Stake spread: finality needs two thirds of the stake attesting, and the
/// registry must fit the compiler, one release (unless lifted) and each pod's
/// keys Secret.
fn stake_spread(cfg: &NetworkFile, pos: &ProofOfStake, ctx: Context, f: &mut Findings) {
    let validator_groups: Vec<(usize, &NodeGroup)> = cfg
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, g)| g.role == Role::Validator)
        .collect();
    let per_pod = |g: &NodeGroup| u64::from(g.validators_per_pod.unwrap_or(0));
    let total: u64 = validator_groups
        .iter()
        .map(|(_, g)| per_pod(g) * u64::from(g.replicas))
        .sum();
    if validator_groups.is_empty() {
        f.error("/nodes", "a proof-of-stake network needs at least one node group with `role: validator` and `validatorsPerPod`, or no block is ever proposed".into());
        return;
    }
    if total > MAX_VALIDATORS {
        f.error("/nodes", format!(
            "{total} validators in all; the compiler builds a genesis registry of at most {MAX_VALIDATORS}"
        ));
        return;
    }
    let placement = crate::release::placement(cfg, pos);
    if placement == Placement::Release && ctx.release_limit == ReleaseLimit::Enforce {
        release_too_large(&validator_groups, total, f);
    }
    if let Some((i, g)) = validator_groups
        .iter()
        .find(|(_, g)| g.validators_per_pod.unwrap_or(0) > VALIDATORS_PER_KEYS_SECRET)
    {
        f.error(&format!("/nodes/{i}/validatorsPerPod"), format!(
            "{} validators in each pod of `{}`, and one pod's keys Secret holds at most {VALIDATORS_PER_KEYS_SECRET} (Kubernetes keeps each Secret within 1 MiB): \
             spread them over more pods (`replicas`)",
            per_pod(g),
            g.name
        ));
    }
    if total > 0 {
        if let Some((i, g)) = validator_groups
            .iter()
            .find(|(_, g)| per_pod(g) * 3 > total)
        {
            f.warning(&format!("/nodes/{i}/validatorsPerPod"), format!(
                "each pod of `{}` holds {} of the {total} validators, more than a third: while one such pod is down (as in every upgrade) the chain keeps making blocks but stops finalizing; spread validators over 4 or more pods",
                g.name,
                per_pod(g)
            ));
        }
    }
    // Each slot of an epoch needs its own attesters.
    let minimum = pos.preset.slots_per_epoch();
    if total > 0 && total < minimum {
        f.warning(&format!("/nodes/{}/validatorsPerPod", validator_groups[0].0), format!(
            "{total} validators: an epoch has {minimum} slots and each needs its own attesters, so some slots get no votes and blocks gain weight slowly; use {minimum} or more"
        ));
    }
}

/// Validators that join a running network (pods from `genesisReplicas` on) deposit
/// keys no other pod's change; the genesis needs validators of its own. Pods leave
/// (`replicas` below `genesisReplicas`, or a joined group lowered or removed) by
/// voluntary exit, which `compile` plans against the earlier values; with
/// `mnemonicFile` keys are numbered in file order, so neither can happen.
fn joining_validators(cfg: &NetworkFile, pos: &ProofOfStake, f: &mut Findings) {
    let groups = || {
        cfg.nodes
            .iter()
            .enumerate()
            .filter(|(_, g)| g.role == Role::Validator)
    };
    for (i, g) in groups() {
        let Some(genesis) = g.genesis_replicas else {
            continue;
        };
        if pos.mnemonic_file.is_none() || g.replicas == genesis {
            continue;
        }
        if g.replicas < genesis {
            f.error(&format!("/nodes/{i}/replicas"), format!(
                "{} of `{}`'s {genesis} genesis pods would go, and `mnemonicFile` numbers validator keys in file order, so removing pods would move the keys of every pod after them: keep `replicas` at {genesis}, or leave `mnemonicFile` out of a network whose validators come and go",
                genesis - g.replicas,
                g.name
            ));
        } else {
            f.error(&format!("/nodes/{i}/genesisReplicas"), "validators that join later take their keys from the master secret, pod by pod, and `mnemonicFile` numbers keys in file order (a joining pod would move every key after it): leave `mnemonicFile` out, or start a new network with these validators in its genesis".into());
        }
    }
    if groups().all(|(_, g)| g.genesis_replica_count() == 0) {
        f.error("/nodes", "no validator group has a pod in the genesis (every `genesisReplicas` is 0), so the chain has no validator to start with; a new network's validators are its genesis validators (leave `genesisReplicas` out)".into());
    } else if groups().all(|(_, g)| g.replicas == 0) {
        f.error("/nodes", "every validator pod would go (each validator group has `replicas: 0`), and a chain without validators makes no block; keep validators that stay (more than two thirds of them)".into());
    }
}

/// Refuses a network whose validator groups weigh more than [`RELEASE_CAPACITY`], at
/// the `validatorsPerPod` (always in the file, unlike `replicas`) of the group that
/// carries the weight past it.
fn release_too_large(validator_groups: &[(usize, &NodeGroup)], total: u64, f: &mut Findings) {
    let mut before = 0;
    for (i, g) in validator_groups {
        let per_pod = g.validators_per_pod.unwrap_or(0);
        let after = before + release_weight(g.replicas, per_pod);
        if after <= RELEASE_CAPACITY {
            before = after;
            continue;
        }
        let pods = if g.replicas == 1 {
            "1 pod".to_string()
        } else {
            format!("{} pods", g.replicas)
        };
        let count = if validator_groups.len() == 1 {
            format!("{total} genesis validators in {pods} of {per_pod} weigh {after}")
        } else {
            format!(
                "{total} genesis validators in all; this group's {pods} of {per_pod} take the weight from {before} to {after}"
            )
        };
        f.error(&format!("/nodes/{i}/validatorsPerPod"), format!(
            "{count} (each validator 1, each validator pod {RELEASE_POD_COST} more), and one Helm release holds at most {RELEASE_CAPACITY}: \
             Helm keeps each release in one Kubernetes Secret of at most 1 MiB, and with `largeObjects: release` the release holds the validators' wallets and the genesis state. \
             Set `largeObjects: separate` in `network.consensus.proofOfStake` (or leave it out: `auto`), which keeps them in objects applied beside the release; \
             or use fewer validators (about {RELEASE_CAPACITY} less {RELEASE_POD_COST} per pod); or, when the release is stored elsewhere (Helm's SQL storage driver, `HELM_DRIVER=sql`), pass `--no-size-limit`"
        ));
        return;
    }
}
