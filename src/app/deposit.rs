//! `deposit`: sends the deposits of validators that join a running
//! proof-of-stake network, from one of its funded accounts, through its RPC.
//!
//! Idempotent: it reads the deposit contract's logs first and sends only the
//! deposits the chain lacks, so running it again (or after another tool sent
//! some) sends nothing twice. Signed here with the account's compiled key (alloy's
//! local signer), sent over JSON-RPC by alloy's provider; nothing is unlocked in
//! geth.

use std::path::Path;
use std::time::Duration;

use alloy::eips::eip1559::Eip1559Estimation;
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use alloy::transports::TransportError;

use super::failure::{exit, Failure};
use super::stages::{plan_network, prepare, without_release};
use crate::consensus::deposit::SignedDeposit;
use crate::consensus::deposit_contract::{self as contract, OnChainDeposit};
use crate::plan::proof_of_stake::DepositPlan;
use crate::plan::{AccountPlan, Keystores, Plan};
use crate::units::ether_text;

pub struct DepositOptions<'a> {
    pub config: Option<&'a Path>,
    pub secrets: Option<&'a Path>,
    /// The network's JSON-RPC endpoint (its rpc Service, port-forwarded or not).
    pub rpc: &'a str,
    /// The name of the funded account that pays.
    pub from: &'a str,
    /// Compare and check the balance, but send nothing.
    pub dry_run: bool,
    /// The moment of the check (see [`crate::check::Context`]).
    pub now: u64,
}

/// How long one deposit may take to be mined before the command gives up (the
/// transaction may still land; running the command again finds it).
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(180);

/// The gas each deposit may use. Deposits sent together are estimated against
/// the same state, but each walks the contract's tree by the count before it (up
/// to 32 levels, a cold storage read and a SHA-256 call each) and may write a new
/// node: a later one can need twice what the first did. About 130,000 at worst;
/// what is not used is not paid.
const DEPOSIT_GAS_LIMIT: u64 = 250_000;

/// deposit: the joining validators' deposits that the chain lacks, sent.
/// `say`: progress, one line per deposit as it lands.
pub fn deposit(opts: &DepositOptions, say: &mut dyn FnMut(String)) -> Result<Vec<String>, Failure> {
    let url: Url = opts.rpc.parse().map_err(|e| {
        Failure::new(
            exit::USAGE,
            format!("--rpc {}: not a URL ({e}); give the network's JSON-RPC endpoint, e.g. http://localhost:8545 after kubectl port-forward svc/NETWORK-rpc 8545", opts.rpc),
        )
    })?;
    let prepared = prepare(opts.config, without_release(opts.now), say)?;
    let plan = plan_network(prepared, opts.secrets, false, Keystores::Skip, say)?.plan;
    let Some(pos) = plan.proof_of_stake.as_ref() else {
        return Err(Failure::new(
            exit::REFUSED,
            "this network runs clique: its signers join by vote (`genesisReplicas`, README \"Add and remove signers\"), and it has no deposits to send",
        ));
    };
    if pos.deposits.is_empty() {
        return Ok(vec![
            "nothing to deposit: every validator of the file is in the genesis (a validator pod joins by deposit when its ordinal is at or above its group's `genesisReplicas`)".into(),
        ]);
    }
    let account = paying_account(&plan, opts.from)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::IO, format!("cannot start the RPC client: {e}")))?;
    runtime.block_on(send(
        opts,
        &plan,
        &pos.deposits,
        pos.deposit_contract,
        account,
        url,
        say,
    ))
}

/// The fees each deposit offers: alloy's estimate from the recent blocks, with
/// at least the tip the node suggests. On a quiet chain the recent blocks paid no
/// tips and alloy's estimate is 1 wei, below what geth's block builders take
/// (`--miner.gasprice`, 0.001 gwei by default), so the deposits would wait in the
/// pool for ever; geth suggests at least that minimum.
async fn fees(provider: &impl Provider) -> Result<Eip1559Estimation, TransportError> {
    let estimate = provider.estimate_eip1559_fees().await?;
    let suggested = provider.get_max_priority_fee_per_gas().await?;
    let tip = estimate.max_priority_fee_per_gas.max(suggested);
    Ok(Eip1559Estimation {
        max_fee_per_gas: estimate.max_fee_per_gas - estimate.max_priority_fee_per_gas + tip,
        max_priority_fee_per_gas: tip,
    })
}

/// The account named `--from`, with its key.
fn paying_account<'a>(
    plan: &'a Plan,
    name: &str,
) -> Result<(&'a AccountPlan, PrivateKeySigner), Failure> {
    let with_keys: Vec<&str> = plan
        .accounts
        .iter()
        .filter(|a| a.key.is_some())
        .filter_map(|a| a.name.as_deref())
        .collect();
    let account = plan
        .accounts
        .iter()
        .find(|a| a.name.as_deref() == Some(name));
    let key = account.and_then(|a| a.key.as_ref());
    match (account, key) {
        (Some(a), Some(k)) => PrivateKeySigner::from_bytes(&k.to_bytes().into())
            .map(|s| (a, s))
            .map_err(|e| Failure::new(exit::INVALID, format!("account `{name}`: {e}"))),
        _ => Err(Failure::new(
            exit::USAGE,
            format!(
                "--from {name}: no account of the network file has that name and a key here; the accounts that can pay: {}",
                if with_keys.is_empty() {
                    "none (add one under `accounts:` with a `name` and a balance, compile and upgrade)".to_string()
                } else {
                    with_keys.join(", ")
                }
            ),
        )),
    }
}

/// The network's RPC as the command uses it: alloy's provider with the paying
/// account's wallet, and where failures point.
struct Chain<'a, P> {
    provider: P,
    rpc: &'a str,
    deposit_contract: Address,
    from: Address,
}

impl<P: Provider> Chain<'_, P> {
    fn unreachable(&self, what: &str, e: &dyn std::fmt::Display) -> Failure {
        Failure::new(
            exit::IO,
            format!(
                "{}: cannot {what} ({e}); is the network's rpc Service reachable there (kubectl port-forward svc/NETWORK-rpc 8545)?",
                self.rpc
            ),
        )
    }

    /// Refuses an RPC of another chain, or without the deposit contract.
    async fn check(&self, chain_id: u64) -> Result<(), Failure> {
        let served = self
            .provider
            .get_chain_id()
            .await
            .map_err(|e| self.unreachable("read the chain id", &e))?;
        if served != chain_id {
            return Err(Failure::new(
                exit::REFUSED,
                format!(
                    "{} serves chain {served}, and this network is chain {chain_id}: point --rpc at this network's rpc Service; nothing was sent",
                    self.rpc
                ),
            ));
        }
        let code = self
            .provider
            .get_code_at(self.deposit_contract)
            .await
            .map_err(|e| self.unreachable("read the deposit contract", &e))?;
        if code.is_empty() {
            return Err(Failure::new(
                exit::REFUSED,
                format!(
                    "{}: no deposit contract at {} (`depositContractAddress`); is this the network's RPC? nothing was sent",
                    self.rpc, self.deposit_contract
                ),
            ));
        }
        Ok(())
    }

    /// Every deposit the contract has logged.
    async fn deposits(&self) -> Result<Vec<OnChainDeposit>, Failure> {
        let filter = Filter::new()
            .address(self.deposit_contract)
            .event_signature(contract::DEPOSIT_EVENT_TOPIC)
            .from_block(0);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| self.unreachable("read the deposit contract's logs", &e))?;
        Ok(logs
            .iter()
            .filter_map(|l| contract::decode_deposit_event(l.topics(), &l.data().data))
            .collect())
    }

    /// The transaction that makes deposit `d`.
    fn request(&self, d: &SignedDeposit) -> TransactionRequest {
        TransactionRequest::default()
            .with_from(self.from)
            .with_to(self.deposit_contract)
            .with_value(contract::value_wei(d))
            .with_input(contract::calldata(d))
            .with_gas_limit(DEPOSIT_GAS_LIMIT)
    }

    /// The fees the deposits offer, once the contract accepts the first of
    /// `missing` (it checks each deposit's data against its root) and the account
    /// can pay them all; `name` is the account's, for the refusal.
    async fn afford(
        &self,
        missing: &[&SignedDeposit],
        name: &str,
    ) -> Result<(Eip1559Estimation, U256), Failure> {
        let first = missing[0];
        self.provider
            .estimate_gas(self.request(first))
            .await
            .map_err(|e| {
                Failure::new(
                    exit::REFUSED,
                    format!(
                        "the deposit contract refuses the deposit of validator {} ({e}); nothing was sent",
                        first.pubkey
                    ),
                )
            })?;
        let fees = fees(&self.provider)
            .await
            .map_err(|e| self.unreachable("estimate fees", &e))?;
        let balance = self
            .provider
            .get_balance(self.from)
            .await
            .map_err(|e| self.unreachable("read the balance", &e))?;
        let stake: U256 = missing.iter().map(|d| contract::value_wei(d)).sum();
        let gas = U256::from(missing.len())
            * U256::from(DEPOSIT_GAS_LIMIT)
            * U256::from(fees.max_fee_per_gas);
        if balance < stake + gas {
            return Err(Failure::new(
                exit::REFUSED,
                format!(
                    "account `{name}` ({}) holds {} ether, and {} deposits need {} ether of stake plus up to {} ether of gas: fund it (or use another account with --from); nothing was sent",
                    self.from,
                    ether_text(balance),
                    missing.len(),
                    ether_text(stake),
                    ether_text(gas)
                ),
            ));
        }
        Ok((fees, balance))
    }

    /// Sends every deposit of `missing`, then waits for each (they can share
    /// blocks), saying where each landed.
    async fn send_all(
        &self,
        missing: &[&SignedDeposit],
        fees: &Eip1559Estimation,
        node_of: &dyn Fn(&SignedDeposit) -> String,
        say: &mut dyn FnMut(String),
    ) -> Result<(), Failure> {
        let mut pending = Vec::new();
        for d in missing {
            let request = self
                .request(d)
                .with_max_fee_per_gas(fees.max_fee_per_gas)
                .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
            let tx = self.provider.send_transaction(request).await.map_err(|e| {
                self.unreachable(&format!("send the deposit of validator {}", d.pubkey), &e)
            })?;
            pending.push((d, tx.with_timeout(Some(RECEIPT_TIMEOUT))));
        }
        for (d, tx) in pending {
            let hash = *tx.tx_hash();
            let receipt = tx.get_receipt().await.map_err(|e| {
                Failure::new(
                    exit::IO,
                    format!(
                        "{}: transaction {hash} (the deposit of validator {}) was not mined within {}s ({e}); is the chain making blocks? Run the command again: it sends only what the chain lacks",
                        self.rpc,
                        d.pubkey,
                        RECEIPT_TIMEOUT.as_secs()
                    ),
                )
            })?;
            if !receipt.status() {
                return Err(Failure::new(
                    exit::REFUSED,
                    format!(
                        "the deposit of validator {} (transaction {hash}) failed on chain",
                        d.pubkey
                    ),
                ));
            }
            say(format!(
                "deposited {} ether for validator {} ({}): transaction {hash} in block {}",
                ether_text(contract::value_wei(d)),
                d.pubkey,
                node_of(d),
                receipt.block_number.unwrap_or_default()
            ));
        }
        Ok(())
    }
}

/// Compares the planned deposits with the chain's, then sends what it lacks.
async fn send(
    opts: &DepositOptions<'_>,
    plan: &Plan,
    deposits: &[DepositPlan],
    deposit_contract: Address,
    (account, signer): (&AccountPlan, PrivateKeySigner),
    url: Url,
    say: &mut dyn FnMut(String),
) -> Result<Vec<String>, Failure> {
    let chain = Chain {
        provider: ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url),
        rpc: opts.rpc,
        deposit_contract,
        from: account.address,
    };
    chain.check(plan.config.network.chain_id).await?;
    let on_chain = chain.deposits().await?;
    let planned: Vec<&SignedDeposit> = deposits.iter().map(|d| &d.deposit).collect();
    let comparison = contract::compare(&planned, &on_chain);
    for d in &comparison.foreign_credentials {
        say(format!(
            "warning: validator {} has a deposit on chain with other withdrawal credentials than this network file gives; the chain keeps the first ones",
            d.pubkey
        ));
    }
    let node_of = |d: &SignedDeposit| {
        deposits
            .iter()
            .find(|p| p.deposit.pubkey == d.pubkey)
            .map_or_else(String::new, |p| p.node.clone())
    };
    let mut lines = vec![format!(
        "{} deposits planned: {} on chain already, {} to send",
        planned.len(),
        comparison.made,
        comparison.missing.len()
    )];
    if comparison.missing.is_empty() {
        lines.push("nothing to send: the chain holds every deposit of this network file".into());
        return Ok(lines);
    }
    let (fees, balance) = chain.afford(&comparison.missing, opts.from).await?;
    if opts.dry_run {
        for d in &comparison.missing {
            lines.push(format!(
                "would deposit {} ether for validator {} ({})",
                ether_text(contract::value_wei(d)),
                d.pubkey,
                node_of(d)
            ));
        }
        lines.push(format!(
            "dry run: nothing was sent; account `{}` ({}) holds {} ether, enough for these deposits",
            opts.from,
            account.address,
            ether_text(balance)
        ));
        return Ok(lines);
    }
    chain
        .send_all(&comparison.missing, &fees, &node_of, say)
        .await?;
    lines.push(format!(
        "sent {} deposits; the beacon chain takes each once its block is finalized, then activates the validators as the churn limit allows, 5 epochs after they are eligible (their status on any beacon node: /eth/v1/beacon/states/head/validators?id=PUBKEY)",
        comparison.missing.len()
    ));
    Ok(lines)
}
