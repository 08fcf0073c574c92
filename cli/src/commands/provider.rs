//! `tessera provider …` and `tessera stake …`: a provider's registration and its stake, signed
//! by the owner's --keypair.

use super::{ensure_open, name, parse_hash, when, Activity, ClassArg, Outcome, Session};
use crate::tokens::associated_account;
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use tessera::instructions::RegisterProviderArgs;
use tessera::state::{Provider, ProviderSpec};
use tessera_client::instructions as ix;

#[derive(Subcommand)]
pub enum ProviderCommand {
    /// Registers --keypair as a provider of one class on --network; optionally stakes at once.
    Register {
        /// The class: fixed for the provider's life.
        #[arg(long, value_enum)]
        class: ClassArg,
        /// The ed25519 key the worker signs receipts with (default: the owner's own key).
        #[arg(long)]
        worker: Option<Pubkey>,
        /// Reward tokens to stake in the same transaction (e.g. 1000 or 1000.5).
        #[arg(long)]
        stake: Option<String>,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Replaces the machine description of --keypair's provider.
    Update {
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Points --keypair's provider at a new worker key (receipts signed by the old key stop
    /// settling).
    RotateKey {
        /// The new worker key.
        #[arg(long)]
        worker: Pubkey,
    },
    /// Shows a provider: by address, or --keypair's (or --owner's) on --network.
    Show {
        /// The provider account.
        address: Option<Pubkey>,
        /// The provider's owner wallet.
        #[arg(long, conflicts_with = "address")]
        owner: Option<Pubkey>,
    },
    /// Lists the providers of --network.
    List,
    /// Closes --keypair's provider once nothing is staked, unbonding, active or disputed; rent
    /// returns to the owner.
    Deregister {
        /// Reward-token account for stray vault tokens (default: the owner's associated account).
        #[arg(long)]
        to: Option<Pubkey>,
    },
}

#[derive(Subcommand)]
pub enum StakeCommand {
    /// Moves reward tokens from the owner's account into the provider's stake vault.
    Add {
        /// Reward tokens, e.g. 1000 or 0.5 (at most the mint's decimals).
        amount: String,
        /// Source token account (default: the owner's associated account).
        #[arg(long)]
        from: Option<Pubkey>,
    },
    /// Starts unbonding `amount`: withdrawable once the unbonding period has passed.
    Unstake {
        /// Reward tokens.
        amount: String,
    },
    /// Withdraws the unbonded stake once its period has passed.
    Withdraw {
        /// Destination token account (default: the owner's associated account, created if needed).
        #[arg(long)]
        to: Option<Pubkey>,
    },
    /// Shows the stake of --keypair's (or --owner's) provider.
    Show {
        #[arg(long)]
        owner: Option<Pubkey>,
    },
}

/// A machine description as flags.
#[derive(Args, Clone)]
pub struct SpecArgs {
    /// GPU model, up to 32 bytes of UTF-8 (e.g. "H100 SXM").
    #[arg(long, default_value = "")]
    pub gpu_model: String,
    #[arg(long, default_value_t = 0)]
    pub gpus: u16,
    /// VRAM per GPU, GiB.
    #[arg(long, default_value_t = 0)]
    pub vram_gib: u16,
    /// Uplink, Mbit/s.
    #[arg(long, default_value_t = 0)]
    pub bandwidth_mbps: u32,
    /// Region code, up to 8 bytes (e.g. eu-west).
    #[arg(long, default_value = "")]
    pub region: String,
    /// SHA-256 of a longer off-chain description, 64 hex digits.
    #[arg(long, value_parser = parse_hash)]
    pub metadata_hash: Option<[u8; 32]>,
}

impl SpecArgs {
    fn spec(&self) -> Result<ProviderSpec> {
        Ok(ProviderSpec {
            gpu_model: padded("--gpu-model", &self.gpu_model)?,
            gpu_count: self.gpus,
            vram_gib: self.vram_gib,
            bandwidth_mbps: self.bandwidth_mbps,
            region: padded("--region", &self.region)?,
            metadata_hash: self.metadata_hash.unwrap_or_default(),
        })
    }
}

fn padded<const N: usize>(flag: &str, text: &str) -> Result<[u8; N]> {
    ensure!(
        text.len() <= N,
        "{flag} {text:?} is {} bytes; at most {N}",
        text.len()
    );
    let mut bytes = [0; N];
    bytes[..text.len()].copy_from_slice(text.as_bytes());
    Ok(bytes)
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches('\0')
        .to_string()
}

/// A provider in JSON, amounts in the reward mint's decimals.
pub fn provider_json(
    address: &Pubkey,
    p: &Provider,
    reward: &crate::tokens::Mint,
) -> serde_json::Value {
    json!({
        "address": address.to_string(),
        "network": p.network.to_string(),
        "owner": p.owner.to_string(),
        "worker_key": p.worker_key.to_string(),
        "class": name(p.class),
        "status": name(p.status),
        "gpu_model": text_of(&p.spec.gpu_model),
        "gpus": p.spec.gpu_count,
        "vram_gib": p.spec.vram_gib,
        "bandwidth_mbps": p.spec.bandwidth_mbps,
        "region": text_of(&p.spec.region),
        "stake": reward.format(p.stake),
        "unbonding": reward.format(p.unbonding_amount),
        "unbonding_ends_at": p.unbonding_ends_at,
        "slashable_until": p.slashable_until,
        "slashed": reward.format(p.slashed_total),
        "settled_units": p.settled_units,
        "service_units": p.service_units,
        "active_jobs": p.active_jobs,
        "jobs_completed": p.jobs_completed,
        "lost_disputes": p.lost_disputes,
        "no_shows": p.no_shows,
        "open_disputes": p.open_disputes,
    })
}

/// Refuses while the provider's stake backs attested work whose dispute window is open
/// (`Provider::slashable_until`); `what` is the refused action.
fn ensure_not_slashable(address: &Pubkey, provider: &Provider, now: i64, what: &str) -> Result<()> {
    ensure!(
        now >= provider.slashable_until,
        "provider {address}'s stake backs attested work its clients may still dispute until {}: \
         {what} {}",
        provider.slashable_until,
        when(provider.slashable_until, now)
    );
    Ok(())
}

impl ProviderCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let (network_key, network) = session.network()?;
        let reward = session.reward_mint(&network)?;
        let owner = session.signer();
        let ledger = session.ledger;
        match self {
            ProviderCommand::Register {
                class,
                worker,
                stake,
                spec,
            } => {
                ensure_open(&network, Activity::NewJobs)?;
                let address = tessera_client::pda::provider(&network_key, &owner);
                if ledger.exists(&address)? {
                    bail!(
                        "{owner} already has a provider on network {} at {address}: change it \
                        with `tessera provider update`",
                        network.network_id
                    );
                }
                let class_params = network.params.class((*class).into());
                let mut instructions = vec![ix::register_provider(
                    &owner,
                    &network_key,
                    reward.key,
                    RegisterProviderArgs {
                        class: (*class).into(),
                        spec: spec.spec()?,
                        worker_key: worker.unwrap_or(owner),
                    },
                )];
                if let Some(amount) = stake {
                    let amount = reward.parse_amount(amount).context("--stake")?;
                    let source = reward.associated(&owner);
                    session.ensure_balance(&source, &reward, amount, "--stake")?;
                    instructions.push(ix::stake(&owner, &network_key, reward.key, &source, amount));
                }
                ledger.send(&instructions, &[])?;
                let provider: Provider = ledger
                    .fetch(&address)?
                    .context("the provider is missing after registration")?;
                let mut text = format!(
                    "provider {address} registered ({class:?}) for {owner}; stake {}",
                    reward.format(provider.stake)
                );
                if provider.stake < class_params.min_stake {
                    text += &format!(
                        "\n  it accepts jobs once staked to the class minimum {} (`tessera \
                        stake add`)",
                        reward.format(class_params.min_stake)
                    );
                }
                Ok(Outcome::new(
                    text,
                    provider_json(&address, &provider, &reward),
                ))
            }
            ProviderCommand::Update { spec } => {
                let (address, _) = session.provider_of(&network_key, &owner)?;
                ledger.send(
                    &[ix::update_provider(&owner, &network_key, spec.spec()?)],
                    &[],
                )?;
                let provider = session.provider_at(&address)?;
                Ok(Outcome::new(
                    format!("provider {address} updated"),
                    provider_json(&address, &provider, &reward),
                ))
            }
            ProviderCommand::RotateKey { worker } => {
                let (address, _) = session.provider_of(&network_key, &owner)?;
                ledger.send(&[ix::rotate_worker_key(&owner, &network_key, worker)], &[])?;
                Ok(Outcome::new(
                    format!("provider {address} now takes receipts signed by {worker}"),
                    json!({"address": address.to_string(), "worker_key": worker.to_string()}),
                ))
            }
            ProviderCommand::Show {
                address,
                owner: other,
            } => {
                let (address, provider) = match address {
                    Some(address) => (*address, session.provider_at(address)?),
                    None => session.provider_of(&network_key, &other.unwrap_or(owner))?,
                };
                let row = provider_json(&address, &provider, &reward);
                let text = row
                    .as_object()
                    .map(|fields| {
                        fields
                            .iter()
                            .map(|(k, v)| {
                                format!(
                                    "  {k}: {}",
                                    v.as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| v.to_string())
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                Ok(Outcome::new(format!("provider {address}\n{text}"), row))
            }
            ProviderCommand::List => {
                let providers: Vec<(Pubkey, Provider)> = ledger.all_where(&[(8, network_key)])?;
                let mut text = format!(
                    "{:<45} {:<10} {:<7} {:>16} {:>14} {:>6}",
                    "provider", "class", "status", "stake", "settled units", "jobs"
                );
                for (address, p) in &providers {
                    text += &format!(
                        "\n{:<45} {:<10} {:<7} {:>16} {:>14} {:>6}",
                        address.to_string(),
                        name(p.class),
                        name(p.status),
                        reward.format(p.stake),
                        p.settled_units,
                        p.active_jobs
                    );
                }
                if providers.is_empty() {
                    text = format!(
                        "network {} has no providers yet: `tessera provider register`",
                        network.network_id
                    );
                }
                Ok(Outcome::new(
                    text,
                    json!(providers
                        .iter()
                        .map(|(a, p)| provider_json(a, p, &reward))
                        .collect::<Vec<_>>()),
                ))
            }
            ProviderCommand::Deregister { to } => {
                let (address, provider) = session.provider_of(&network_key, &owner)?;
                ensure!(
                    provider.stake == 0 && provider.unbonding_amount == 0,
                    "provider {address} still holds {} staked and {} unbonding: `tessera \
                    stake unstake` all, wait for the unbonding period, then `tessera stake \
                    withdraw`",
                    reward.format(provider.stake),
                    reward.format(provider.unbonding_amount)
                );
                ensure!(
                    provider.active_jobs == 0,
                    "provider {address} has {} active jobs: complete them first",
                    provider.active_jobs
                );
                ensure!(
                    provider.open_disputes == 0,
                    "provider {address} has {} open disputes: it can leave once they are \
                     resolved",
                    provider.open_disputes
                );
                ensure_not_slashable(&address, &provider, ledger.now()?, "deregister")?;
                let (destination, create) = associated_account(&owner, &owner, reward.key);
                let mut instructions = Vec::new();
                if to.is_none() {
                    instructions.push(create);
                }
                instructions.push(ix::deregister(
                    &owner,
                    &network_key,
                    reward.key,
                    &to.unwrap_or(destination),
                ));
                ledger.send(&instructions, &[])?;
                Ok(Outcome::new(
                    format!("provider {address} deregistered; its rent returned to {owner}"),
                    json!({"address": address.to_string(), "deregistered": true}),
                ))
            }
        }
    }
}

impl StakeCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let (network_key, network) = session.network()?;
        let reward = session.reward_mint(&network)?;
        let owner = session.signer();
        let ledger = session.ledger;
        let lookup = match self {
            StakeCommand::Show { owner: Some(other) } => *other,
            _ => owner,
        };
        let (address, provider) = session.provider_of(&network_key, &lookup)?;
        let outcome = |verb: &str| -> Result<Outcome> {
            let p = session.provider_at(&address)?;
            let now = ledger.now()?;
            let mut text = format!(
                "provider {address}: {verb}\n  staked {}\n  unbonding {}",
                reward.format(p.stake),
                reward.format(p.unbonding_amount)
            );
            if p.unbonding_amount > 0 {
                text += &if p.unbonding_ends_at <= now {
                    " (withdrawable now)".to_string()
                } else {
                    format!(" (withdrawable in {} s)", p.unbonding_ends_at - now)
                };
            }
            let class = network.params.class(p.class);
            text += &format!(
                "\n  class minimum {}, and {} per running job",
                reward.format(class.min_stake),
                reward.format(class.stake_per_job)
            );
            if p.active_jobs > 0 {
                text += &format!(
                    "\n  {} running job(s) hold {} of it until they end",
                    p.active_jobs,
                    reward.format(class.stake_for_jobs(p.active_jobs)?)
                );
            }
            if p.slashable_until > now {
                text += &format!(
                    "\n  slashable until {}: withdrawals and deregistration wait until then",
                    p.slashable_until
                );
            }
            if p.lost_disputes > 0 || p.no_shows > 0 {
                text += &format!(
                    "\n  {} lost disputes and {} no-shows (jailed at {})",
                    p.lost_disputes, p.no_shows, network.params.jail_after_lost_disputes
                );
            }
            Ok(Outcome::new(
                text,
                json!({
                    "provider": address.to_string(),
                    "stake": reward.format(p.stake),
                    "unbonding": reward.format(p.unbonding_amount),
                    "unbonding_ends_at": p.unbonding_ends_at,
                    "slashable_until": p.slashable_until,
                    "class_min_stake": reward.format(class.min_stake),
                    "stake_per_job": reward.format(class.stake_per_job),
                    "active_jobs": p.active_jobs,
                    "lost_disputes": p.lost_disputes,
                    "no_shows": p.no_shows,
                }),
            ))
        };
        match self {
            StakeCommand::Add { amount, from } => {
                ensure_open(&network, Activity::NewJobs)?;
                let amount = reward.parse_amount(amount)?;
                ensure!(amount > 0, "stake at least one base unit");
                let source = from.unwrap_or(reward.associated(&owner));
                session.ensure_balance(&source, &reward, amount, "staking")?;
                ledger.send(
                    &[ix::stake(&owner, &network_key, reward.key, &source, amount)],
                    &[],
                )?;
                outcome(&format!("staked {}", reward.format(amount)))
            }
            StakeCommand::Unstake { amount } => {
                let amount = reward.parse_amount(amount)?;
                ensure!(amount > 0, "unstake at least one base unit");
                ensure!(
                    amount <= provider.stake,
                    "provider {address} has {} staked; cannot unstake {}",
                    reward.format(provider.stake),
                    reward.format(amount)
                );
                ensure!(
                    provider.open_disputes == 0,
                    "provider {address} has {} open disputes: stake stays until they are resolved",
                    provider.open_disputes
                );
                if provider.active_jobs > 0 {
                    let needed = network
                        .params
                        .class(provider.class)
                        .stake_for_jobs(provider.active_jobs)?;
                    ensure!(
                        provider.stake - amount >= needed,
                        "provider {address}'s {} running jobs need {} staked (the class \
                         minimum, and its stake per job for each): at most {} can unstake until \
                         they end",
                        provider.active_jobs,
                        reward.format(needed),
                        reward.format(provider.stake.saturating_sub(needed))
                    );
                }
                ledger.send(&[ix::request_unstake(&owner, &network_key, amount)], &[])?;
                outcome(&format!("unbonding {}", reward.format(amount)))
            }
            StakeCommand::Withdraw { to } => {
                ensure!(
                    provider.unbonding_amount > 0,
                    "provider {address} has nothing unbonding: `tessera stake unstake \
                    AMOUNT` first"
                );
                let now = ledger.now()?;
                ensure!(
                    provider.unbonding_ends_at <= now,
                    "the unbonding of {} ends in {} s (at {}); try again then",
                    reward.format(provider.unbonding_amount),
                    provider.unbonding_ends_at - now,
                    provider.unbonding_ends_at
                );
                ensure_not_slashable(&address, &provider, now, "withdraw")?;
                let (destination, create) = associated_account(&owner, &owner, reward.key);
                let mut instructions = Vec::new();
                if to.is_none() {
                    instructions.push(create);
                }
                instructions.push(ix::withdraw_unstaked(
                    &owner,
                    &network_key,
                    reward.key,
                    &to.unwrap_or(destination),
                ));
                ledger.send(&instructions, &[])?;
                outcome(&format!(
                    "withdrew {}",
                    reward.format(provider.unbonding_amount)
                ))
            }
            StakeCommand::Show { .. } => outcome("stake"),
        }
    }
}
