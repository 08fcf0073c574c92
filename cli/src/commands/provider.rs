//! `tessera provider …` and `tessera stake …`: a provider's registration and its stake, signed
//! by the owner's --keypair.

use super::{ensure_open, parse_hash, when, Activity, ClassArg, Outcome, Session};
use crate::view::{as_name, as_text};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::fmt;
use tessera::instructions::RegisterProviderArgs;
use tessera::state::{Network, Provider, ProviderClass, ProviderSpec, ProviderStatus};
use tessera_client::{filters, instructions as ix};
use tessera_ledger::tokens::{associated_account, Mint};

#[derive(Subcommand)]
pub enum ProviderCommand {
    /// Registers --keypair as a provider of one class on --network; optionally stakes at once.
    Register(RegisterArgs),
    /// Replaces the machine description of --keypair's provider.
    Update(SpecArgs),
    /// Points --keypair's provider at a new worker key (receipts signed by the old key stop
    /// settling).
    RotateKey {
        /// The new worker key.
        #[arg(long)]
        worker: Pubkey,
    },
    /// Shows a provider: by address, or --keypair's (or --owner's) on --network.
    Show(ShowArgs),
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

impl ProviderCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        match self {
            ProviderCommand::Register(args) => Outcome::view(&register(session, args)?),
            ProviderCommand::Update(spec) => Outcome::view(&update(session, spec)?),
            ProviderCommand::RotateKey { worker } => Outcome::view(&rotate_key(session, worker)?),
            ProviderCommand::Show(args) => Outcome::view(&show(session, args)?),
            ProviderCommand::List => Outcome::view(&list(session)?),
            ProviderCommand::Deregister { to } => Outcome::view(&deregister(session, *to)?),
        }
    }
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

impl StakeCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        match self {
            StakeCommand::Add { amount, from } => Outcome::view(&add(session, amount, *from)?),
            StakeCommand::Unstake { amount } => Outcome::view(&unstake(session, amount)?),
            StakeCommand::Withdraw { to } => Outcome::view(&withdraw(session, *to)?),
            StakeCommand::Show { owner } => Outcome::view(&show_stake(session, *owner)?),
        }
    }
}

/// A new provider: its class, worker key, machine and first stake.
#[derive(Args)]
pub struct RegisterArgs {
    /// The class: fixed for the provider's life.
    #[arg(long, value_enum)]
    pub class: ClassArg,
    /// The ed25519 key the worker signs receipts with (default: the owner's own key).
    #[arg(long)]
    pub worker: Option<Pubkey>,
    /// Reward tokens to stake in the same transaction (e.g. 1000 or 1000.5).
    #[arg(long)]
    pub stake: Option<String>,
    #[command(flatten)]
    pub spec: SpecArgs,
}

/// Which provider to show.
#[derive(Args)]
pub struct ShowArgs {
    /// The provider account.
    pub address: Option<Pubkey>,
    /// The provider's owner wallet.
    #[arg(long, conflicts_with = "address")]
    pub owner: Option<Pubkey>,
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

/// The network a provider command is about and its reward mint, in which stakes are counted.
struct OnNetwork {
    address: Pubkey,
    state: Network,
    reward: Mint,
}

impl OnNetwork {
    fn read(session: &Session) -> Result<Self> {
        let (address, state) = session.network()?;
        let reward = session.reward_mint(&state)?;
        Ok(Self {
            address,
            state,
            reward,
        })
    }
}

/// `provider register`: --keypair registers a provider, and stakes when asked.
pub fn register(session: &Session, args: &RegisterArgs) -> Result<ProviderRegistered> {
    let network = OnNetwork::read(session)?;
    ensure_open(&network.state, Activity::NewJobs)?;
    let owner = session.signer();
    let reward = &network.reward;
    let address = tessera_client::pda::provider(&network.address, &owner);
    if session.ledger.exists(&address)? {
        bail!(
            "{owner} already has a provider on network {} at {address}: change it with `tessera \
             provider update`",
            network.state.network_id
        );
    }
    let class = ProviderClass::from(args.class);
    let mut instructions = vec![ix::register_provider(
        &owner,
        &network.address,
        reward.key,
        RegisterProviderArgs {
            class,
            spec: args.spec.spec()?,
            worker_key: args.worker.unwrap_or(owner),
        },
    )];
    if let Some(amount) = &args.stake {
        let amount = reward.parse_amount(amount).context("--stake")?;
        let source = reward.associated(&owner);
        session.ensure_balance(&source, reward, amount, "--stake")?;
        instructions.push(ix::stake(
            &owner,
            &network.address,
            reward.key,
            &source,
            amount,
        ));
    }
    session.send(&instructions)?;
    let provider: Provider = session
        .ledger
        .fetch(&address)?
        .context("the provider is missing after registration")?;
    let min_stake = network.state.params.class(class).min_stake;
    Ok(ProviderRegistered {
        provider: ProviderView::of(&address, &provider, reward),
        short_of_min_stake: (provider.stake < min_stake).then(|| reward.format(min_stake)),
    })
}

/// `provider update`: replaces the machine description of --keypair's provider.
pub fn update(session: &Session, spec: &SpecArgs) -> Result<ProviderUpdated> {
    let network = OnNetwork::read(session)?;
    let owner = session.signer();
    let (address, _) = session.provider_of(&network.address, &owner)?;
    session.send(&[ix::update_provider(&owner, &network.address, spec.spec()?)])?;
    let provider = session.provider_at(&address)?;
    Ok(ProviderUpdated(ProviderView::of(
        &address,
        &provider,
        &network.reward,
    )))
}

/// `provider rotate-key`: --keypair's provider takes receipts signed by `worker` from now on.
pub fn rotate_key(session: &Session, worker: &Pubkey) -> Result<WorkerRotated> {
    let network = OnNetwork::read(session)?;
    let owner = session.signer();
    let (address, _) = session.provider_of(&network.address, &owner)?;
    session.send(&[ix::rotate_worker_key(&owner, &network.address, worker)])?;
    Ok(WorkerRotated {
        address,
        worker_key: *worker,
    })
}

/// `provider show`: a provider by address, or by owner (default --keypair).
pub fn show(session: &Session, args: &ShowArgs) -> Result<ProviderView> {
    let network = OnNetwork::read(session)?;
    let (address, provider) = match args.address {
        Some(address) => (address, session.provider_at(&address)?),
        None => {
            let owner = args.owner.unwrap_or(session.signer());
            session.provider_of(&network.address, &owner)?
        }
    };
    Ok(ProviderView::of(&address, &provider, &network.reward))
}

/// `provider list`: the providers of --network.
pub fn list(session: &Session) -> Result<ProviderList> {
    let network = OnNetwork::read(session)?;
    let providers: Vec<(Pubkey, Provider)> = session
        .ledger
        .all_where(&filters::providers_of(network.address))?;
    Ok(ProviderList {
        network_id: network.state.network_id,
        providers: providers
            .iter()
            .map(|(address, provider)| ProviderView::of(address, provider, &network.reward))
            .collect(),
    })
}

/// `provider deregister`: closes --keypair's provider once it holds and owes nothing.
pub fn deregister(session: &Session, to: Option<Pubkey>) -> Result<Deregistered> {
    let network = OnNetwork::read(session)?;
    let owner = session.signer();
    let (address, provider) = session.provider_of(&network.address, &owner)?;
    ensure_may_leave(&address, &provider, &network.reward, session.ledger.now()?)?;
    let (destination, create) = associated_account(&owner, &owner, network.reward.key);
    let mut instructions = Vec::new();
    if to.is_none() {
        instructions.push(create);
    }
    instructions.push(ix::deregister(
        &owner,
        &network.address,
        network.reward.key,
        &to.unwrap_or(destination),
    ));
    session.send(&instructions)?;
    Ok(Deregistered {
        address,
        deregistered: true,
        owner,
    })
}

/// Refuses to deregister a provider that still holds stake, runs jobs, faces disputes, or
/// backs work its clients may still dispute.
fn ensure_may_leave(address: &Pubkey, provider: &Provider, reward: &Mint, now: i64) -> Result<()> {
    ensure!(
        provider.stake == 0 && provider.unbonding_amount == 0,
        "provider {address} still holds {} staked and {} unbonding: `tessera stake unstake` \
         all, wait for the unbonding period, then `tessera stake withdraw`",
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
        "provider {address} has {} open disputes: it can leave once they are resolved",
        provider.open_disputes
    );
    ensure_not_slashable(address, provider, now, "deregister")
}

/// A provider and the network its stake is on, for the stake commands.
struct Staker {
    network: OnNetwork,
    address: Pubkey,
    provider: Provider,
}

impl Staker {
    /// The provider of `owner` on the session's network.
    fn of(session: &Session, owner: &Pubkey) -> Result<Self> {
        let network = OnNetwork::read(session)?;
        let (address, provider) = session.provider_of(&network.address, owner)?;
        Ok(Self {
            network,
            address,
            provider,
        })
    }

    /// The stake as it is now on the ledger, after `verb`.
    fn view(&self, session: &Session, verb: String) -> Result<StakeView> {
        let provider = session.provider_at(&self.address)?;
        StakeView::of(
            &self.address,
            &provider,
            &self.network,
            session.ledger.now()?,
            verb,
        )
    }
}

/// `stake add`: the owner moves reward tokens into its provider's stake.
pub fn add(session: &Session, amount: &str, from: Option<Pubkey>) -> Result<StakeView> {
    let owner = session.signer();
    let staker = Staker::of(session, &owner)?;
    let network = &staker.network;
    ensure_open(&network.state, Activity::NewJobs)?;
    let reward = &network.reward;
    let amount = reward.parse_amount(amount)?;
    ensure!(amount > 0, "stake at least one base unit");
    let source = from.unwrap_or(reward.associated(&owner));
    session.ensure_balance(&source, reward, amount, "staking")?;
    session.send(&[ix::stake(
        &owner,
        &network.address,
        reward.key,
        &source,
        amount,
    )])?;
    staker.view(session, format!("staked {}", reward.format(amount)))
}

/// `stake unstake`: the owner starts unbonding part of its stake.
pub fn unstake(session: &Session, amount: &str) -> Result<StakeView> {
    let owner = session.signer();
    let staker = Staker::of(session, &owner)?;
    let reward = &staker.network.reward;
    let amount = reward.parse_amount(amount)?;
    ensure!(amount > 0, "unstake at least one base unit");
    ensure_may_unstake(&staker, amount)?;
    session.send(&[ix::request_unstake(&owner, &staker.network.address, amount)])?;
    staker.view(session, format!("unbonding {}", reward.format(amount)))
}

/// Refuses to unstake more than the provider has, while it faces disputes, or below what its
/// running jobs need.
fn ensure_may_unstake(staker: &Staker, amount: u64) -> Result<()> {
    let (address, provider) = (&staker.address, &staker.provider);
    let reward = &staker.network.reward;
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
    if provider.active_jobs == 0 {
        return Ok(());
    }
    let needed = staker
        .network
        .state
        .params
        .class(provider.class)
        .stake_for_jobs(provider.active_jobs)?;
    ensure!(
        provider.stake - amount >= needed,
        "provider {address}'s {} running jobs need {} staked (the class minimum, and its stake \
         per job for each): at most {} can unstake until they end",
        provider.active_jobs,
        reward.format(needed),
        reward.format(provider.stake.saturating_sub(needed))
    );
    Ok(())
}

/// `stake withdraw`: the owner takes out the stake whose unbonding has ended.
pub fn withdraw(session: &Session, to: Option<Pubkey>) -> Result<StakeView> {
    let owner = session.signer();
    let staker = Staker::of(session, &owner)?;
    let (address, provider) = (&staker.address, &staker.provider);
    let reward = &staker.network.reward;
    ensure!(
        provider.unbonding_amount > 0,
        "provider {address} has nothing unbonding: `tessera stake unstake AMOUNT` first"
    );
    let now = session.ledger.now()?;
    ensure!(
        provider.unbonding_ends_at <= now,
        "the unbonding of {} ends in {} s (at {}); try again then",
        reward.format(provider.unbonding_amount),
        provider.unbonding_ends_at - now,
        provider.unbonding_ends_at
    );
    ensure_not_slashable(address, provider, now, "withdraw")?;
    let (destination, create) = associated_account(&owner, &owner, reward.key);
    let mut instructions = Vec::new();
    if to.is_none() {
        instructions.push(create);
    }
    instructions.push(ix::withdraw_unstaked(
        &owner,
        &staker.network.address,
        reward.key,
        &to.unwrap_or(destination),
    ));
    session.send(&instructions)?;
    let verb = format!("withdrew {}", reward.format(provider.unbonding_amount));
    staker.view(session, verb)
}

/// `stake show`: the stake of --keypair's (or `owner`'s) provider.
pub fn show_stake(session: &Session, owner: Option<Pubkey>) -> Result<StakeView> {
    let staker = Staker::of(session, &owner.unwrap_or(session.signer()))?;
    staker.view(session, "stake".into())
}

/// A provider, amounts in the reward mint's decimals.
#[derive(Serialize)]
pub struct ProviderView {
    #[serde(serialize_with = "as_text")]
    pub address: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub network: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub owner: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub worker_key: Pubkey,
    #[serde(serialize_with = "as_name")]
    pub class: ProviderClass,
    #[serde(serialize_with = "as_name")]
    pub status: ProviderStatus,
    pub gpu_model: String,
    pub gpus: u16,
    pub vram_gib: u16,
    pub bandwidth_mbps: u32,
    pub region: String,
    pub stake: String,
    pub unbonding: String,
    pub unbonding_ends_at: i64,
    pub slashable_until: i64,
    pub slashed: String,
    pub settled_units: u64,
    pub service_units: u64,
    pub active_jobs: u32,
    pub jobs_completed: u64,
    pub lost_disputes: u16,
    pub no_shows: u16,
    pub open_disputes: u16,
}

impl ProviderView {
    /// The view of the provider at `address`, amounts in `reward`'s decimals.
    pub fn of(address: &Pubkey, provider: &Provider, reward: &Mint) -> Self {
        Self {
            address: *address,
            network: provider.network,
            owner: provider.owner,
            worker_key: provider.worker_key,
            class: provider.class,
            status: provider.status,
            gpu_model: text_of(&provider.spec.gpu_model),
            gpus: provider.spec.gpu_count,
            vram_gib: provider.spec.vram_gib,
            bandwidth_mbps: provider.spec.bandwidth_mbps,
            region: text_of(&provider.spec.region),
            stake: reward.format(provider.stake),
            unbonding: reward.format(provider.unbonding_amount),
            unbonding_ends_at: provider.unbonding_ends_at,
            slashable_until: provider.slashable_until,
            slashed: reward.format(provider.slashed_total),
            settled_units: provider.settled_units,
            service_units: provider.service_units,
            active_jobs: provider.active_jobs,
            jobs_completed: provider.jobs_completed,
            lost_disputes: provider.lost_disputes,
            no_shows: provider.no_shows,
            open_disputes: provider.open_disputes,
        }
    }
}

impl fmt::Display for ProviderView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "provider {}\n  network {}\n  owner {}, worker key {}\n  class {:?}, status {:?}\n  \
             machine: GPU model {:?}, {} GPUs of {} GiB, uplink {} Mbit/s, region {:?}",
            self.address,
            self.network,
            self.owner,
            self.worker_key,
            self.class,
            self.status,
            self.gpu_model,
            self.gpus,
            self.vram_gib,
            self.bandwidth_mbps,
            self.region
        )?;
        write!(
            f,
            "\n  stake {}, unbonding {} (ends at {}), slashed {}; slashable until {}\n  settled \
             units {}, service units {}\n  {} active jobs, {} completed\n  {} lost disputes, {} \
             no-shows, {} open disputes",
            self.stake,
            self.unbonding,
            self.unbonding_ends_at,
            self.slashed,
            self.slashable_until,
            self.settled_units,
            self.service_units,
            self.active_jobs,
            self.jobs_completed,
            self.lost_disputes,
            self.no_shows,
            self.open_disputes
        )
    }
}

/// `provider register`: the new provider.
#[derive(Serialize)]
pub struct ProviderRegistered {
    #[serde(flatten)]
    pub provider: ProviderView,
    /// The class minimum, when the provider's stake is below it (text only).
    #[serde(skip)]
    pub short_of_min_stake: Option<String>,
}

impl fmt::Display for ProviderRegistered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let provider = &self.provider;
        write!(
            f,
            "provider {} registered ({:?}) for {}; stake {}",
            provider.address, provider.class, provider.owner, provider.stake
        )?;
        if let Some(min_stake) = &self.short_of_min_stake {
            write!(
                f,
                "\n  it accepts jobs once staked to the class minimum {min_stake} (`tessera stake \
                 add`)"
            )?;
        }
        Ok(())
    }
}

/// `provider update`: the provider with its new machine description.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ProviderUpdated(pub ProviderView);

impl fmt::Display for ProviderUpdated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "provider {} updated", self.0.address)
    }
}

/// `provider rotate-key`: the provider's new worker key.
#[derive(Serialize)]
pub struct WorkerRotated {
    #[serde(serialize_with = "as_text")]
    pub address: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub worker_key: Pubkey,
}

impl fmt::Display for WorkerRotated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "provider {} now takes receipts signed by {}",
            self.address, self.worker_key
        )
    }
}

/// `provider list`: the providers of a network.
#[derive(Serialize)]
#[serde(transparent)]
pub struct ProviderList {
    #[serde(skip)]
    pub network_id: u64,
    pub providers: Vec<ProviderView>,
}

impl fmt::Display for ProviderList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.providers.is_empty() {
            return write!(
                f,
                "network {} has no providers yet: `tessera provider register`",
                self.network_id
            );
        }
        write!(
            f,
            "{:<45} {:<10} {:<7} {:>16} {:>14} {:>6}",
            "provider", "class", "status", "stake", "settled units", "jobs"
        )?;
        for provider in &self.providers {
            write!(
                f,
                "\n{:<45} {:<10} {:<7} {:>16} {:>14} {:>6}",
                provider.address.to_string(),
                format!("{:?}", provider.class),
                format!("{:?}", provider.status),
                provider.stake,
                provider.settled_units,
                provider.active_jobs
            )?;
        }
        Ok(())
    }
}

/// `provider deregister`: the provider closed.
#[derive(Serialize)]
pub struct Deregistered {
    #[serde(serialize_with = "as_text")]
    pub address: Pubkey,
    pub deregistered: bool,
    /// Who got the rent back (text only).
    #[serde(skip)]
    pub owner: Pubkey,
}

impl fmt::Display for Deregistered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "provider {} deregistered; its rent returned to {}",
            self.address, self.owner
        )
    }
}

/// `stake …`: a provider's stake after the command, what it must keep, and its strikes.
#[derive(Serialize)]
pub struct StakeView {
    #[serde(rename = "provider", serialize_with = "as_text")]
    pub address: Pubkey,
    pub stake: String,
    pub unbonding: String,
    pub unbonding_ends_at: i64,
    pub slashable_until: i64,
    pub class_min_stake: String,
    pub stake_per_job: String,
    pub active_jobs: u32,
    pub lost_disputes: u16,
    pub no_shows: u16,
    /// What the command did: "staked 10.000000" (text only).
    #[serde(skip)]
    pub verb: String,
    /// Ledger time the text's "withdrawable in" and "slashable until" are relative to.
    #[serde(skip)]
    pub now: i64,
    #[serde(skip)]
    pub is_unbonding: bool,
    /// Stake the running jobs hold, when some run (text only).
    #[serde(skip)]
    pub held_by_jobs: Option<String>,
    /// Strikes at which the network jails a provider (text only).
    #[serde(skip)]
    pub jail_after: u8,
}

impl StakeView {
    fn of(
        address: &Pubkey,
        provider: &Provider,
        network: &OnNetwork,
        now: i64,
        verb: String,
    ) -> Result<Self> {
        let reward = &network.reward;
        let class = network.state.params.class(provider.class);
        Ok(Self {
            address: *address,
            stake: reward.format(provider.stake),
            unbonding: reward.format(provider.unbonding_amount),
            unbonding_ends_at: provider.unbonding_ends_at,
            slashable_until: provider.slashable_until,
            class_min_stake: reward.format(class.min_stake),
            stake_per_job: reward.format(class.stake_per_job),
            active_jobs: provider.active_jobs,
            lost_disputes: provider.lost_disputes,
            no_shows: provider.no_shows,
            verb,
            now,
            is_unbonding: provider.unbonding_amount > 0,
            held_by_jobs: match provider.active_jobs {
                0 => None,
                running => Some(reward.format(class.stake_for_jobs(running)?)),
            },
            jail_after: network.state.params.jail_after_lost_disputes,
        })
    }
}

impl fmt::Display for StakeView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "provider {}: {}\n  staked {}\n  unbonding {}",
            self.address, self.verb, self.stake, self.unbonding
        )?;
        if self.is_unbonding && self.unbonding_ends_at <= self.now {
            write!(f, " (withdrawable now)")?;
        } else if self.is_unbonding {
            write!(
                f,
                " (withdrawable in {} s)",
                self.unbonding_ends_at - self.now
            )?;
        }
        write!(
            f,
            "\n  class minimum {}, and {} per running job",
            self.class_min_stake, self.stake_per_job
        )?;
        if let Some(held) = &self.held_by_jobs {
            write!(
                f,
                "\n  {} running job(s) hold {held} of it until they end",
                self.active_jobs
            )?;
        }
        if self.slashable_until > self.now {
            write!(
                f,
                "\n  slashable until {}: withdrawals and deregistration wait until then",
                self.slashable_until
            )?;
        }
        if self.lost_disputes > 0 || self.no_shows > 0 {
            write!(
                f,
                "\n  {} lost disputes and {} no-shows (jailed at {})",
                self.lost_disputes, self.no_shows, self.jail_after
            )?;
        }
        Ok(())
    }
}
