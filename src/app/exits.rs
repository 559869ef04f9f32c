//! `exit`: the voluntary exits of the validators whose pods leave a running
//! proof-of-stake network, sent to a beacon node, then waited for.
//!
//! `compile` lists the leaving pods and their validators' public keys in the
//! values (`proofOfStake.exits`); this command derives their keys from the master
//! secret (as every pod's), asks the beacon node each validator's status, signs a
//! `VoluntaryExit` for each active one (EIP-7044 domain: the Capella fork version
//! and the genesis validators root, both from the values) and posts it to the
//! node's pool, which gossips it. Idempotent: a validator already exiting or
//! exited, or whose exit waits in the node's pool for a block, is passed over, so
//! a second run sends nothing in flight.

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::transports::http::reqwest::{self, Url};
use serde_json::Value;

use super::failure::{exit, Failure};
use super::guard::read_existing;
use super::source::Source;
use super::stages::load_secret;
use crate::consensus::bls::ValidatorSecretKey;
use crate::consensus::chain_config::{capella_fork_version, shard_committee_period};
use crate::consensus::fork::Version;
use crate::consensus::voluntary_exit::sign_voluntary_exit;
use crate::execution::keystore::utc_text;
use crate::plan::proof_of_stake::pod_signing_keys;
use crate::values::{ExitValues, ProofOfStakeValues};

pub struct ExitOptions<'a> {
    pub config: Option<&'a Path>,
    /// The folder `compile` wrote (`values.yaml` there lists the exits).
    pub out: &'a Path,
    pub secrets: Option<&'a Path>,
    /// A beacon node's REST API, e.g. http://localhost:3500.
    pub beacon_api: &'a str,
    /// Compare with the chain, but send nothing.
    pub dry_run: bool,
    /// Wait until every validator has exited.
    pub wait: bool,
    /// How long to wait at most.
    pub timeout: Duration,
    /// The wall clock in Unix seconds, for the times of status changes (the
    /// library never reads the clock itself).
    pub clock: &'a dyn Fn() -> u64,
}

/// How long one request to the beacon node may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A validator's place in the chain, as the beacon node reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The node does not know the public key (a joining validator never deposited,
    /// or its deposit not yet processed).
    Unknown,
    Known {
        index: u64,
        /// `pending_initialized`, `active_ongoing`, `active_exiting`, ...
        status: String,
        activation_epoch: u64,
    },
}

impl Status {
    /// The exit is in flight or done: nothing to send.
    fn exiting(&self) -> bool {
        match self {
            Status::Unknown => false,
            Status::Known { status, .. } => {
                status == "active_exiting" || status == "active_slashed" || exited(status)
            }
        }
    }

    fn text(&self) -> &str {
        match self {
            Status::Unknown => "unknown to the chain",
            Status::Known { status, .. } => status,
        }
    }
}

/// The statuses of a validator that has left the active set for good.
pub fn exited(status: &str) -> bool {
    status.starts_with("exited_") || status.starts_with("withdrawal_")
}

/// One validator to exit: its pod, public key and secret key.
struct Leaving<'a> {
    exit: &'a ExitValues,
    pubkey: &'a str,
    key: ValidatorSecretKey,
}

/// What a validator needs now.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Exiting or exited already, or unknown to the chain: nothing to send.
    Nothing(String),
    /// Sign and send an exit for this registry index.
    Send(u64),
    /// Cannot exit yet: why, and the epoch it may.
    Refuse(String),
}

/// Whether validator `s` may exit at `epoch` with `period` (`SHARD_COMMITTEE_PERIOD`).
pub fn decide(s: &Status, epoch: u64, period: u64, seconds_per_epoch: u64) -> Decision {
    match s {
        Status::Unknown => Decision::Nothing(
            "unknown to the chain (never deposited, or its deposit not yet processed): nothing to exit".into(),
        ),
        _ if s.exiting() => Decision::Nothing(format!("{}: its exit is under way or done", s.text())),
        Status::Known { status, .. } if status.starts_with("pending_") => Decision::Refuse(format!(
            "is {status}: a validator exits only once active and then {period} epochs later (`shardCommitteePeriod`); run this again then"
        )),
        Status::Known {
            index,
            activation_epoch,
            ..
        } => {
            let possible = activation_epoch.saturating_add(period);
            if epoch < possible {
                let wait = (possible - epoch).saturating_mul(seconds_per_epoch);
                Decision::Refuse(format!(
                    "(index {index}) was activated at epoch {activation_epoch} and may exit from epoch {possible} on ({period} epochs active, `shardCommitteePeriod`); the chain is at epoch {epoch}, so in about {}: run this again then",
                    duration_text(wait)
                ))
            } else {
                Decision::Send(*index)
            }
        }
    }
}

fn duration_text(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{:.1} h", s as f64 / 3600.0),
    }
}

/// The JSON body of `POST /eth/v1/beacon/pool/voluntary_exits`: one
/// `SignedVoluntaryExit`, numbers as decimal strings (the Beacon API's form).
pub fn signed_exit_json(epoch: u64, validator_index: u64, signature: &[u8; 96]) -> Value {
    serde_json::json!({
        "message": {
            "epoch": epoch.to_string(),
            "validator_index": validator_index.to_string(),
        },
        "signature": format!("0x{}", hex::encode(signature)),
    })
}

/// exit: the leaving validators' exits the chain lacks, sent; then waits for them.
/// `say`: progress, one line per exit sent and per status change.
pub fn exit_validators(
    opts: &ExitOptions,
    say: &mut dyn FnMut(String),
) -> Result<Vec<String>, Failure> {
    let url: Url = opts.beacon_api.trim_end_matches('/').parse().map_err(|e| {
        Failure::new(
            exit::USAGE,
            format!("--beacon-api {}: not a URL ({e}); give a beacon node's REST API, e.g. http://localhost:3500 after kubectl port-forward pod/NETWORK-VALIDATORGROUP-0 3500", opts.beacon_api),
        )
    })?;
    let values_path = opts.out.join("values.yaml");
    let values = read_existing(&values_path)?.ok_or_else(|| {
        Failure::new(
            exit::IO,
            format!("{}: not found; run kuberneteth-values compile -o {} first (it lists the validators that leave)", values_path.display(), opts.out.display()),
        )
    })?;
    let Some(pos) = values.proof_of_stake.as_ref() else {
        return Err(Failure::new(
            exit::REFUSED,
            "this network runs clique: its signers leave by vote (README \"Add and remove signers\"), and it has no validators to exit",
        ));
    };
    if pos.exits.is_empty() {
        return Ok(vec![format!(
            "nothing to exit: {} lists no validator pod that left (lower a validator group's `replicas` and compile first)",
            values_path.display()
        )]);
    }
    let chain = ChainFacts::of(pos, &values_path)?;
    let source = Source::load(opts.config)?;
    let secret = load_secret(&source, opts.secrets, false, say)?;
    let mut leaving = Vec::new();
    for e in &pos.exits {
        let keys = pod_signing_keys(&secret, &e.group, e.ordinal, e.pubkeys.len() as u32);
        for (key, pubkey) in keys.into_iter().zip(&e.pubkeys) {
            if key.public_key().to_string() != *pubkey {
                return Err(Failure::new(
                    exit::REFUSED,
                    format!("validator {pubkey} of {}: the secrets file does not give its key, so it is not the secrets file this network was compiled with (pass --secrets FILE); nothing was sent", e.node),
                ));
            }
            leaving.push(Leaving {
                exit: e,
                pubkey,
                key,
            });
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::IO, format!("cannot start the HTTP client: {e}")))?;
    let api = BeaconApi {
        client: reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| Failure::new(exit::IO, format!("cannot start the HTTP client: {e}")))?,
        url,
        display: opts.beacon_api,
    };
    runtime.block_on(api.check_genesis(&chain.genesis_validators_root))?;
    let epoch = runtime.block_on(api.head_slot())? / chain.slots_per_epoch;
    // Exits sent a moment ago wait in the pool until a block includes them; the
    // status says so only then.
    let pooled = runtime.block_on(api.pooled_exits())?;
    let mut lines = Vec::new();
    let mut refusals = Vec::new();
    let mut to_send = Vec::new();
    let mut statuses = Vec::new();
    for v in &leaving {
        let status = runtime.block_on(api.status(v.pubkey))?;
        match decide(&status, epoch, chain.period, chain.seconds_per_epoch) {
            Decision::Nothing(why) => lines.push(format!("{} ({}): {why}", v.pubkey, v.exit.node)),
            Decision::Refuse(why) => {
                refusals.push(format!("validator {} ({}) {why}", v.pubkey, v.exit.node))
            }
            Decision::Send(index) if pooled.contains(&index) => lines.push(format!(
                "{} ({}): its exit waits in the beacon node's pool for a block",
                v.pubkey, v.exit.node
            )),
            Decision::Send(index) => to_send.push((v, index)),
        }
        statuses.push(status);
    }
    if !refusals.is_empty() {
        refusals.push("nothing was sent; the pods stay until their validators have exited (helm upgrade refuses to remove them before)".into());
        return Err(Failure {
            code: exit::REFUSED,
            lines: refusals,
        });
    }
    if opts.dry_run {
        for (v, index) in &to_send {
            lines.push(format!(
                "would exit validator {} (index {index}, {}) at epoch {epoch}",
                v.pubkey, v.exit.node
            ));
        }
        lines.push(format!(
            "dry run: nothing was sent ({} exits to send)",
            to_send.len()
        ));
        return Ok(lines);
    }
    for (v, index) in &to_send {
        let signature = sign_voluntary_exit(
            &v.key,
            *index,
            epoch,
            chain.capella,
            &chain.genesis_validators_root,
        );
        runtime.block_on(api.post_exit(&signed_exit_json(epoch, *index, &signature), v.pubkey))?;
        say(format!(
            "sent the exit of validator {} (index {index}, {}) at epoch {epoch}",
            v.pubkey, v.exit.node
        ));
    }
    lines.push(format!(
        "{} exits sent, {} under way or done before",
        to_send.len(),
        leaving.len() - to_send.len()
    ));
    if !opts.wait {
        lines.push(format!("not waiting (--no-wait): helm upgrade removes the pods once every one has exited; see the status of each on any beacon node: {}/eth/v1/beacon/states/head/validators/PUBKEY", opts.beacon_api.trim_end_matches('/')));
        return Ok(lines);
    }
    let started = Instant::now();
    let poll = Duration::from_secs(chain.seconds_per_slot.max(1));
    loop {
        let mut done = true;
        for (v, last) in leaving.iter().zip(statuses.iter_mut()) {
            let now = runtime.block_on(api.status(v.pubkey))?;
            if now != *last {
                say(format!(
                    "{}: validator {} ({}): {} → {}",
                    utc_text((opts.clock)()),
                    v.pubkey,
                    v.exit.node,
                    last.text(),
                    now.text()
                ));
                *last = now;
            }
            done &= match last {
                Status::Unknown => true,
                Status::Known { status, .. } => exited(status),
            };
        }
        if done {
            lines.push(format!(
                "every validator of {} has exited: helm upgrade removes the pods now",
                pods_text(&pos.exits)
            ));
            return Ok(lines);
        }
        if started.elapsed() >= opts.timeout {
            let waiting: Vec<String> = leaving
                .iter()
                .zip(&statuses)
                .filter(|(_, s)| matches!(s, Status::Known { status, .. } if !exited(status)))
                .map(|(v, s)| format!("{} ({})", v.pubkey, s.text()))
                .collect();
            return Err(Failure::new(
                exit::IO,
                format!(
                    "not every validator had exited after {} s: {}; the exits are sent and the chain goes on with them (an exit waits its turn in the churn limit); run this again to wait more: it sends nothing twice",
                    opts.timeout.as_secs(),
                    waiting.join(", ")
                ),
            ));
        }
        std::thread::sleep(poll);
    }
}

fn pods_text(exits: &[ExitValues]) -> String {
    exits
        .iter()
        .map(|e| e.node.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the values say of the chain that an exit needs.
struct ChainFacts {
    capella: Version,
    period: u64,
    genesis_validators_root: [u8; 32],
    slots_per_epoch: u64,
    seconds_per_slot: u64,
    seconds_per_epoch: u64,
}

impl ChainFacts {
    fn of(pos: &ProofOfStakeValues, path: &Path) -> Result<Self, Failure> {
        let bad = |what: &str| {
            Failure::new(
                exit::REFUSED,
                format!(
                    "{}: {what} is missing or malformed; compile again",
                    path.display()
                ),
            )
        };
        let gvr = pos
            .genesis_validators_root
            .strip_prefix("0x")
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| bad("proofOfStake.genesisValidatorsRoot"))?;
        Ok(ChainFacts {
            capella: capella_fork_version(&pos.chain_config)
                .ok_or_else(|| bad("CAPELLA_FORK_VERSION in proofOfStake.chainConfig"))?,
            period: shard_committee_period(&pos.chain_config)
                .ok_or_else(|| bad("SHARD_COMMITTEE_PERIOD in proofOfStake.chainConfig"))?,
            genesis_validators_root: gvr,
            slots_per_epoch: pos.slots_per_epoch.max(1),
            seconds_per_slot: pos.seconds_per_slot,
            seconds_per_epoch: pos.slots_per_epoch * pos.seconds_per_slot,
        })
    }
}

/// A beacon node's REST API.
struct BeaconApi<'a> {
    client: reqwest::Client,
    url: Url,
    display: &'a str,
}

impl BeaconApi<'_> {
    fn unreachable(&self, what: &str, e: &dyn std::fmt::Display) -> Failure {
        Failure::new(
            exit::IO,
            format!(
                "{}: cannot {what} ({e}); is a beacon node's REST API reachable there (kubectl port-forward pod/NETWORK-VALIDATORGROUP-0 3500)?",
                self.display
            ),
        )
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url.as_str().trim_end_matches('/'))
    }

    /// GET `path`: the JSON body, or `None` on 404.
    async fn get(&self, path: &str, what: &str) -> Result<Option<Value>, Failure> {
        let response = self
            .client
            .get(self.endpoint(path))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| self.unreachable(what, &e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let text = response
            .text()
            .await
            .map_err(|e| self.unreachable(what, &e))?;
        if !status.is_success() {
            return Err(self.unreachable(
                what,
                &format!("HTTP {status}: {}", crate::diagnostics::excerpt(&text)),
            ));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.unreachable(what, &format!("not JSON: {e}")))
    }

    /// Refuses a node of another chain.
    async fn check_genesis(&self, root: &[u8; 32]) -> Result<(), Failure> {
        let what = "read the genesis";
        let body = self
            .get("/eth/v1/beacon/genesis", what)
            .await?
            .ok_or_else(|| self.unreachable(what, &"HTTP 404"))?;
        let served = body["data"]["genesis_validators_root"]
            .as_str()
            .unwrap_or("");
        let ours = format!("0x{}", hex::encode(root));
        if !served.eq_ignore_ascii_case(&ours) {
            return Err(Failure::new(
                exit::REFUSED,
                format!("{}: its chain's genesis validators root is {served}, and this network's is {ours}: point --beacon-api at a beacon node of this network; nothing was sent", self.display),
            ));
        }
        Ok(())
    }

    /// The head block's slot.
    async fn head_slot(&self) -> Result<u64, Failure> {
        let what = "read the head block";
        let body = self
            .get("/eth/v1/beacon/headers/head", what)
            .await?
            .ok_or_else(|| self.unreachable(what, &"HTTP 404"))?;
        number(&body["data"]["header"]["message"]["slot"])
            .ok_or_else(|| self.unreachable(what, &"no slot in the answer"))
    }

    async fn status(&self, pubkey: &str) -> Result<Status, Failure> {
        let what = format!("read the status of validator {pubkey}");
        let Some(body) = self
            .get(
                &format!("/eth/v1/beacon/states/head/validators/{pubkey}"),
                &what,
            )
            .await?
        else {
            return Ok(Status::Unknown);
        };
        let data = &body["data"];
        match (
            number(&data["index"]),
            data["status"].as_str(),
            number(&data["validator"]["activation_epoch"]),
        ) {
            (Some(index), Some(status), Some(activation_epoch)) => Ok(Status::Known {
                index,
                status: status.to_string(),
                activation_epoch,
            }),
            _ => {
                Err(self.unreachable(&what, &"no index, status or activation_epoch in the answer"))
            }
        }
    }

    /// The validator indices whose exits wait in the node's pool.
    async fn pooled_exits(&self) -> Result<std::collections::BTreeSet<u64>, Failure> {
        let what = "read the pool of voluntary exits";
        let body = self
            .get("/eth/v1/beacon/pool/voluntary_exits", what)
            .await?
            .ok_or_else(|| self.unreachable(what, &"HTTP 404"))?;
        body["data"]
            .as_array()
            .map(|exits| {
                exits
                    .iter()
                    .filter_map(|e| number(&e["message"]["validator_index"]))
                    .collect()
            })
            .ok_or_else(|| self.unreachable(what, &"no list in the answer"))
    }

    async fn post_exit(&self, body: &Value, pubkey: &str) -> Result<(), Failure> {
        let what = format!("send the exit of validator {pubkey}");
        let response = self
            .client
            .post(self.endpoint("/eth/v1/beacon/pool/voluntary_exits"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.unreachable(&what, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(Failure::new(
            if status.is_client_error() {
                exit::REFUSED
            } else {
                exit::IO
            },
            format!(
                "{}: the beacon node refused the exit of validator {pubkey} (HTTP {status}: {})",
                self.display,
                crate::diagnostics::excerpt(&text)
            ),
        ))
    }
}

/// A Beacon API number: a decimal string (or, leniently, a JSON number).
fn number(v: &Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(status: &str, activation_epoch: u64) -> Status {
        Status::Known {
            index: 7,
            status: status.into(),
            activation_epoch,
        }
    }

    #[test]
    fn the_exit_body_is_the_beacon_apis_signed_voluntary_exit() {
        let body = signed_exit_json(12, 7, &[0xab; 96]);
        assert_eq!(
            body.to_string(),
            format!(
                r#"{{"message":{{"epoch":"12","validator_index":"7"}},"signature":"0x{}"}}"#,
                "ab".repeat(96)
            )
        );
    }

    #[test]
    fn only_active_validators_past_the_shard_committee_period_are_sent() {
        assert_eq!(
            decide(&known("active_ongoing", 0), 4, 4, 64),
            Decision::Send(7)
        );
        assert_eq!(
            decide(&known("active_ongoing", 2), 10, 4, 64),
            Decision::Send(7)
        );
        let Decision::Refuse(why) = decide(&known("active_ongoing", 2), 5, 4, 64) else {
            panic!()
        };
        assert!(
            why.contains("may exit from epoch 6 on") && why.contains("epoch 5"),
            "{why}"
        );
        assert!(matches!(
            decide(&known("pending_queued", u64::MAX), 5, 4, 64),
            Decision::Refuse(_)
        ));
        for done in [
            "active_exiting",
            "active_slashed",
            "exited_unslashed",
            "exited_slashed",
            "withdrawal_possible",
            "withdrawal_done",
        ] {
            assert!(
                matches!(decide(&known(done, 0), 500, 4, 64), Decision::Nothing(_)),
                "{done}"
            );
        }
        assert!(matches!(
            decide(&Status::Unknown, 500, 4, 64),
            Decision::Nothing(_)
        ));
        assert!(
            exited("exited_unslashed") && exited("withdrawal_done") && !exited("active_exiting")
        );
        assert_eq!(number(&Value::String("42".into())), Some(42));
        assert_eq!(number(&serde_json::json!(42)), Some(42));
    }
}
