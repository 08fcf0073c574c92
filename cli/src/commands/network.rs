//! `tessera network …`: create a network, read it, and the authority's levers (parameters,
//! attestor set, pause, treasury).

use super::{ClassArg, Outcome, Session, CLASSES};
use crate::view::{as_name, as_optional_text, as_proposed_key, as_text, as_texts, Indented};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{bail, ensure, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::fmt;
use std::path::PathBuf;
use tessera::instructions::InitializeNetworkArgs;
use tessera::state::{
    AttestorMode, ClassParams, EmissionSchedule, Network, NetworkParams, PauseFlags, ProviderClass,
    SettlementPauses,
};
use tessera_client::instructions::{self as ix, MintRef};
use tessera_client::pda;
use tessera_ledger::tokens::{associated_account, create_mint, mint_to, Mint};

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Creates network --network, signed by --keypair, who becomes its authority. Without
    /// --reward-mint it also creates the reward mint; either way the mint's authority passes to
    /// the network in the same transaction.
    Init(InitArgs),
    /// Shows every network on the ledger, or only --network when given.
    Show {
        /// Only this network (otherwise every network).
        #[arg(long)]
        only: bool,
    },
    /// Changes parameters (authority only); flags left out keep their current value.
    SetParams(ParamsArgs),
    /// Replaces the attestor set (authority only): attestors who sign one by one (--attestor),
    /// or a group who sign as one key (--group-key, --members).
    SetAttestors(AttestorsArgs),
    /// Pauses new jobs/registrations/stake, settlements and/or claims (authority only); with no
    /// flag, all three. Exits (unstake, withdraw, cancel, close) never pause.
    Pause(PauseArgs),
    /// Lifts a pause (authority only); with no flag, all three.
    Unpause(PauseArgs),
    /// Sets a class's emission price floor (authority only): the attested units of a job of
    /// that class earn emission only if it pays in the reward mint at least this price per
    /// unit. 0 removes the floor (every job earns).
    SetEmissionFloor(EmissionFloorArgs),
    /// Proposes a new treasury, the owner of the fee accounts (authority only); it takes over
    /// once it runs `tessera network accept-treasury`.
    ProposeTreasury(ProposeTreasuryArgs),
    /// Becomes the treasury the authority proposed, signed by that wallet (--keypair).
    AcceptTreasury,
}

impl NetworkCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        match self {
            NetworkCommand::Init(args) => Outcome::view(&init(session, args)?),
            NetworkCommand::Show { only } => Outcome::view(&show(session, *only)?),
            NetworkCommand::SetParams(args) => Outcome::view(&set_params(session, args)?),
            NetworkCommand::SetAttestors(args) => Outcome::view(&set_attestors(session, args)?),
            NetworkCommand::Pause(flags) => Outcome::view(&set_pause(session, flags, true)?),
            NetworkCommand::Unpause(flags) => Outcome::view(&set_pause(session, flags, false)?),
            NetworkCommand::SetEmissionFloor(args) => {
                Outcome::view(&set_emission_floor(session, args)?)
            }
            NetworkCommand::ProposeTreasury(args) => {
                Outcome::view(&propose_treasury(session, args)?)
            }
            NetworkCommand::AcceptTreasury => Outcome::view(&accept_treasury(session)?),
        }
    }
}

/// A new attestor set: keys that sign one by one, or one group key.
#[derive(Args)]
pub struct AttestorsArgs {
    /// An attestor's ed25519 public key; repeat for each (at most 8; none disables attestation).
    #[arg(long = "attestor", conflicts_with = "group_key")]
    pub attestors: Vec<Pubkey>,
    /// The attestors' FROST group key (their DKG's group verifying key): receipts then carry
    /// this one key's signature, made by any --threshold of the --members together.
    #[arg(long, requires = "members")]
    pub group_key: Option<Pubkey>,
    /// With --group-key: the members holding a share of it (1..=255).
    #[arg(long, requires = "group_key")]
    pub members: Option<u8>,
    /// Distinct attestor signatures a receipt needs (1..=number of attestors; 0 with none); with
    /// --group-key, the members it takes to sign (1..=--members).
    #[arg(long)]
    pub threshold: u8,
}

/// One class's emission price floor.
#[derive(Args)]
pub struct EmissionFloorArgs {
    /// The provider class whose jobs the floor applies to.
    #[arg(long, value_enum)]
    pub class: ClassArg,
    /// Least price per unit, in reward tokens (e.g. 0.05), of a job whose attested units earn
    /// emission; 0 removes the floor. Jobs paid in any other mint earn no emission while the
    /// class has a floor: their price cannot be compared with what an emission is worth.
    #[arg(long)]
    pub price: String,
}

/// A treasury proposal, or its withdrawal.
#[derive(Args)]
pub struct ProposeTreasuryArgs {
    /// The proposed treasury wallet.
    #[arg(required_unless_present = "withdraw")]
    pub treasury: Option<Pubkey>,
    /// Withdraw the pending proposal instead.
    #[arg(long, conflicts_with = "treasury")]
    pub withdraw: bool,
}

/// The activities a pause or an unpause touches; none named means all three.
#[derive(Args)]
pub struct PauseArgs {
    /// New jobs, registrations and stake.
    #[arg(long)]
    new_jobs: bool,
    /// Receipt settlements; the time they are paused is given back to receipts and jobs.
    #[arg(long)]
    settlements: bool,
    /// Emission claims.
    #[arg(long)]
    claims: bool,
}

/// Network parameters as flags; each is optional (init fills defaults, set-params keeps the
/// current value).
#[derive(Args, Clone, Default)]
pub struct ParamsArgs {
    /// Epoch length in seconds (fixed once the network exists).
    #[arg(long)]
    pub epoch_secs: Option<i64>,
    /// Seconds between an unstake request and its withdrawal (>= the dispute window).
    #[arg(long)]
    pub unbonding_secs: Option<i64>,
    /// Seconds after a job ends during which its client may dispute.
    #[arg(long)]
    pub dispute_window_secs: Option<i64>,
    /// Longest validity of a receipt, seconds.
    #[arg(long)]
    pub receipt_max_age_secs: Option<i64>,
    /// Protocol fee on job payments, basis points.
    #[arg(long)]
    pub fee_bps: Option<u16>,
    /// Lost disputes and no-shows after which a provider is jailed.
    #[arg(long)]
    pub jail_after: Option<u8>,
    /// Seconds a provider has after accepting a job to settle a first receipt; after them the
    /// client may cancel the job as a no-show.
    #[arg(long)]
    pub start_timeout_secs: Option<i64>,
    /// Minimum stake of a class, in reward tokens: CLASS=AMOUNT (e.g. training=1000); repeatable.
    #[arg(long = "min-stake", value_parser = class_value)]
    pub min_stake: Vec<(ClassArg, String)>,
    /// Stake each running job of a class ties up, in reward tokens: CLASS=AMOUNT; repeatable.
    /// A new network's default is a quarter of the class minimum.
    #[arg(long = "stake-per-job", value_parser = class_value)]
    pub stake_per_job: Vec<(ClassArg, String)>,
    /// Emission weight of a class, basis points per unit: CLASS=BPS; repeatable.
    #[arg(long = "class-weight", value_parser = class_value)]
    pub class_weight: Vec<(ClassArg, String)>,
}

/// A new network: its parameters, reward mint, treasury and emission schedule.
#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub params: ParamsArgs,
    /// Adopt this reward mint instead of creating one. It must have no freeze authority, and
    /// its current mint authority (--mint-authority) signs to hand it to the network.
    #[arg(long)]
    pub reward_mint: Option<Pubkey>,
    /// Keypair file of --reward-mint's current mint authority (default: --keypair).
    #[arg(long, requires = "reward_mint")]
    pub mint_authority: Option<PathBuf>,
    /// Decimals of a reward mint created here.
    #[arg(long, default_value_t = 6)]
    pub decimals: u8,
    /// Reward tokens minted to the signer before the network takes the mint (genesis supply).
    #[arg(long, default_value = "1000000")]
    pub allocation: String,
    /// Owner of the accounts that receive protocol fees (default: the signer).
    #[arg(long)]
    pub treasury: Option<Pubkey>,
    /// Emission of each early epoch, in reward tokens.
    #[arg(long, default_value = "10000")]
    pub initial_emission: String,
    /// Cut of the emission every --decay-every epochs, basis points.
    #[arg(long, default_value_t = 5_000)]
    pub decay_bps: u16,
    /// Epochs between cuts.
    #[arg(long, default_value_t = 100)]
    pub decay_every: u32,
    /// Cap on all emissions, in reward tokens.
    #[arg(long, default_value = "100000000")]
    pub supply_cap: String,
}

fn class_value(text: &str) -> Result<(ClassArg, String), String> {
    let (class, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not CLASS=VALUE (e.g. training=1000)"))?;
    let class = <ClassArg as clap::ValueEnum>::from_str(class, true)
        .map_err(|_| format!("{class:?} is not a class: training, inference, edge or bandwidth"))?;
    Ok((class, value.to_string()))
}

pub use tessera_client::flows::{
    default_stake_per_job, new_network_params as default_params, DEFAULT_START_TIMEOUT_SECS,
};

impl ParamsArgs {
    /// The parameters of a new network: the defaults with every given flag applied. A class
    /// minimum given without a stake per job moves that class's default stake per job with it.
    pub fn for_new_network(&self, reward_decimals: u8) -> Result<NetworkParams> {
        let mut params = default_params(reward_decimals);
        self.apply_min_stakes(&mut params, reward_decimals)?;
        for class in &mut params.classes {
            class.stake_per_job = default_stake_per_job(class.min_stake);
        }
        self.apply(params, reward_decimals)
    }

    fn apply_min_stakes(&self, params: &mut NetworkParams, reward_decimals: u8) -> Result<()> {
        for (class, amount) in &self.min_stake {
            params.classes[ProviderClass::from(*class).index()].min_stake =
                tessera_ledger::tokens::parse_amount(amount, reward_decimals)
                    .with_context(|| format!("--min-stake {class:?}"))?;
        }
        Ok(())
    }

    /// `params` with every given flag applied; amounts in the reward mint's decimals.
    pub fn apply(&self, mut params: NetworkParams, reward_decimals: u8) -> Result<NetworkParams> {
        let set = |slot: &mut i64, value: Option<i64>| {
            if let Some(value) = value {
                *slot = value;
            }
        };
        set(&mut params.epoch_length_secs, self.epoch_secs);
        set(&mut params.unbonding_period_secs, self.unbonding_secs);
        set(&mut params.dispute_window_secs, self.dispute_window_secs);
        set(&mut params.receipt_max_age_secs, self.receipt_max_age_secs);
        set(&mut params.start_timeout_secs, self.start_timeout_secs);
        if let Some(fee) = self.fee_bps {
            params.protocol_fee_bps = fee;
        }
        if let Some(jail) = self.jail_after {
            params.jail_after_lost_disputes = jail;
        }
        self.apply_min_stakes(&mut params, reward_decimals)?;
        for (class, amount) in &self.stake_per_job {
            params.classes[ProviderClass::from(*class).index()].stake_per_job =
                tessera_ledger::tokens::parse_amount(amount, reward_decimals)
                    .with_context(|| format!("--stake-per-job {class:?}"))?;
        }
        for (class, bps) in &self.class_weight {
            params.classes[ProviderClass::from(*class).index()].emission_weight_bps =
                bps.parse().with_context(|| {
                    format!("--class-weight {class:?}={bps}: not a whole number")
                })?;
        }
        check_params(&params)?;
        Ok(params)
    }
}

/// The program's parameter rules, checked here first so the message can name the flag.
pub fn check_params(params: &NetworkParams) -> Result<()> {
    ensure!(
        params.protocol_fee_bps <= 10_000,
        "--fee-bps {} is above 10000 (100%)",
        params.protocol_fee_bps
    );
    for (flag, value) in [
        ("--epoch-secs", params.epoch_length_secs),
        ("--unbonding-secs", params.unbonding_period_secs),
        ("--dispute-window-secs", params.dispute_window_secs),
        ("--receipt-max-age-secs", params.receipt_max_age_secs),
        ("--start-timeout-secs", params.start_timeout_secs),
    ] {
        ensure!(
            (1..=tessera::state::MAX_PERIOD_SECS).contains(&value),
            "{flag} {value} is out of range: 1 second to 10 years"
        );
    }
    ensure!(
        params.unbonding_period_secs >= params.dispute_window_secs,
        "--unbonding-secs {} is shorter than --dispute-window-secs {}: stake must stay slashable \
         while a dispute can still be opened",
        params.unbonding_period_secs,
        params.dispute_window_secs
    );
    ensure!(
        params.jail_after_lost_disputes >= 1,
        "--jail-after must be at least 1"
    );
    for (class, label) in params.classes.iter().zip(CLASSES) {
        ensure!(
            (1..=tessera::state::MAX_CLASS_WEIGHT_BPS).contains(&class.emission_weight_bps),
            "--class-weight of class {label:?} must be 1..={}",
            tessera::state::MAX_CLASS_WEIGHT_BPS
        );
        ensure!(
            class.stake_per_job >= 1,
            "--stake-per-job of class {label:?} must be at least one base unit: with 0, one \
             stake could hold any number of jobs"
        );
    }
    Ok(())
}

impl InitArgs {
    /// The emission schedule the flags describe, in the reward mint's `decimals`.
    fn emission(&self, decimals: u8) -> Result<EmissionSchedule> {
        let amount = |text: &str, flag: &str| {
            tessera_ledger::tokens::parse_amount(text, decimals).with_context(|| flag.to_string())
        };
        Ok(EmissionSchedule {
            initial_per_epoch: amount(&self.initial_emission, "--initial-emission")?,
            decay_bps: self.decay_bps,
            decay_every_epochs: self.decay_every,
            supply_cap: amount(&self.supply_cap, "--supply-cap")?,
        })
    }
}

/// The reward mint a new network will use.
pub enum RewardMint<'a> {
    /// An existing mint whose current mint authority, `authority`, signs the handover;
    /// `authority_flag` names the flag that chose that keypair, for messages.
    Adopt {
        mint: Pubkey,
        authority: &'a Keypair,
        authority_flag: &'static str,
    },
    /// A new mint with these decimals, minted by the signer: `allocation` base units go to it
    /// before the network takes the mint authority.
    Create { decimals: u8, allocation: u64 },
}

/// Refuses a mint that network `network_id` could not adopt with `signer`'s signature: the
/// signer must hold its mint authority (which `initialize_network` hands to the network), and
/// it may not be freezable. `authority_flag` names how the signer was chosen.
pub fn check_adoptable(
    session: &Session,
    network_id: u64,
    mint: &Pubkey,
    signer: &Pubkey,
    authority_flag: &str,
) -> Result<MintRef> {
    let account = session
        .ledger
        .account(mint)?
        .with_context(|| format!("no mint at {mint}: check the address"))?;
    let (info, state) = Mint::unpack(mint, &account.owner, &account.data)?;
    let holder: Option<Pubkey> = state.mint_authority.into();
    let network_mint_authority = pda::mint_authority(&pda::network(network_id));
    ensure!(
        holder != Some(network_mint_authority),
        "the mint authority of {mint} already is network {network_id}'s PDA \
         {network_mint_authority}: only the mint's own authority can hand it over, inside \
         `network init`, so nobody can sign for it any more; use a new mint"
    );
    let Some(holder) = holder else {
        bail!(
            "{mint} has no mint authority (its supply is fixed): the network must be able to \
             mint emissions; use a mint you hold the mint authority of"
        )
    };
    ensure!(
        holder == *signer,
        "the mint authority of {mint} is {holder}, not {signer}: the mint's current mint \
         authority signs the handover to the network; pass its keypair with {authority_flag}"
    );
    ensure!(
        state.freeze_authority.is_none(),
        "{mint} has a freeze authority: a reward mint may not be freezable"
    );
    Ok(info.key)
}

/// Creates network `network_id` in one transaction (and its reward mint when asked), signed by
/// the session's keypair and the mint's authority, whose mint authority `initialize_network`
/// hands to the network. Returns the network and reward mint addresses.
pub fn initialize(
    session: &Session,
    network_id: u64,
    reward: RewardMint,
    treasury: Pubkey,
    params: NetworkParams,
    emission: EmissionSchedule,
) -> Result<(Pubkey, Pubkey)> {
    let network = pda::network(network_id);
    if session.ledger.exists(&network)? {
        bail!("network {network_id} already exists at {network}: choose a free id with --network");
    }
    check_params(&params)?;
    check_emission(&emission)?;
    let mint_keypair = Keypair::new();
    let (mut instructions, mint, mint_authority, signers) =
        reward_mint_setup(session, network_id, reward, &mint_keypair)?;
    instructions.push(ix::initialize_network(
        &session.signer(),
        &mint_authority,
        mint,
        InitializeNetworkArgs {
            network_id,
            treasury,
            params,
            emission,
        },
    ));
    session
        .send_with(&instructions, &signers)
        .with_context(|| format!("creating network {network_id}"))?;
    Ok((network, mint.mint))
}

/// What a new network's transaction does with its reward mint before `initialize_network`:
/// the instructions that create and allocate a new mint at `new_mint` (nothing to adopt one),
/// the mint, who holds its mint authority, and who else signs.
fn reward_mint_setup<'a>(
    session: &Session,
    network_id: u64,
    reward: RewardMint<'a>,
    new_mint: &'a Keypair,
) -> Result<(Vec<Instruction>, MintRef, Pubkey, Vec<&'a Keypair>)> {
    let authority = session.signer();
    match reward {
        RewardMint::Adopt {
            mint,
            authority: mint_authority,
            authority_flag,
        } => {
            let holder = mint_authority.pubkey();
            let key = check_adoptable(session, network_id, &mint, &holder, authority_flag)?;
            let signers = if holder == authority {
                vec![]
            } else {
                vec![mint_authority]
            };
            Ok((vec![], key, holder, signers))
        }
        RewardMint::Create {
            decimals,
            allocation,
        } => {
            let key = MintRef {
                mint: new_mint.pubkey(),
                token_program: spl_token_interface::ID,
            };
            let rent = session
                .ledger
                .rent_exempt(tessera_ledger::tokens::MINT_LEN)?;
            let mut instructions = create_mint(&authority, key, &authority, decimals, rent)?;
            if allocation > 0 {
                let (account, create) = associated_account(&authority, &authority, key);
                instructions.push(create);
                instructions.push(mint_to(key, &account, &authority, allocation)?);
            }
            Ok((instructions, key, authority, vec![new_mint]))
        }
    }
}

/// The program's emission-schedule rule, with what to change.
pub fn check_emission(emission: &EmissionSchedule) -> Result<()> {
    emission.validate().map_err(|_| {
        anyhow::anyhow!(
            "invalid emission schedule: the decay is at most 10000 bps, every 1 or more epochs, \
             and the initial emission is not above the supply cap"
        )
    })
}

/// Refuses attestor sets the program would refuse, naming the flag.
pub fn check_attestors(attestors: &[Pubkey], threshold: u8) -> Result<()> {
    ensure!(
        attestors.len() <= tessera::state::MAX_ATTESTORS,
        "at most {} attestors (got {})",
        tessera::state::MAX_ATTESTORS,
        attestors.len()
    );
    for (index, key) in attestors.iter().enumerate() {
        ensure!(
            !attestors[..index].contains(key),
            "--attestor {key} is given twice"
        );
    }
    if attestors.is_empty() {
        ensure!(threshold == 0, "with no attestors the --threshold is 0");
    } else {
        ensure!(
            (1..=attestors.len()).contains(&(threshold as usize)),
            "--threshold {threshold} must be between 1 and the {} attestors given",
            attestors.len()
        );
    }
    Ok(())
}

/// Refuses attestor groups the program would refuse, naming the flag.
pub fn check_attestor_group(group_key: &Pubkey, threshold: u8, members: u8) -> Result<()> {
    ensure!(
        *group_key != Pubkey::default(),
        "--group-key cannot be the default (all zero) key"
    );
    ensure!(
        (1..=members).contains(&threshold),
        "--threshold {threshold} must be between 1 and the --members {members}"
    );
    Ok(())
}

fn ensure_authority(session: &Session, network: &Network) -> Result<()> {
    ensure!(
        network.authority == session.signer(),
        "only network {}'s authority {} may do this; --keypair is {}",
        network.network_id,
        network.authority,
        session.signer()
    );
    Ok(())
}

/// `network init`: creates network --network and, unless adopting one, its reward mint.
pub fn init(session: &Session, args: &InitArgs) -> Result<NetworkCreated> {
    let named_authority = args
        .mint_authority
        .as_deref()
        .map(tessera_ledger::read_keypair)
        .transpose()
        .context("--mint-authority")?;
    let (reward, decimals) = reward_mint_of(session, args, named_authority.as_ref())?;
    let params = args.params.for_new_network(decimals)?;
    let emission = args.emission(decimals)?;
    let treasury = args.treasury.unwrap_or(session.signer());
    let (address, reward_mint) = initialize(
        session,
        session.network_id,
        reward,
        treasury,
        params,
        emission,
    )?;
    Ok(NetworkCreated {
        network_id: session.network_id,
        address,
        authority: session.signer(),
        reward_mint,
        treasury,
    })
}

/// The reward mint `network init` asks for, and its decimals: --reward-mint adopted with the
/// signature of `named_authority` (--mint-authority, default the signer), or a new one.
fn reward_mint_of<'k>(
    session: &Session<'k>,
    args: &InitArgs,
    named_authority: Option<&'k Keypair>,
) -> Result<(RewardMint<'k>, u8)> {
    let Some(mint) = args.reward_mint else {
        let allocation = tessera_ledger::tokens::parse_amount(&args.allocation, args.decimals)
            .context("--allocation")?;
        let create = RewardMint::Create {
            decimals: args.decimals,
            allocation,
        };
        return Ok((create, args.decimals));
    };
    let adopt = RewardMint::Adopt {
        mint,
        authority: named_authority.unwrap_or(session.keypair()),
        authority_flag: if named_authority.is_some() {
            "--mint-authority"
        } else {
            "--mint-authority (default: --keypair)"
        },
    };
    Ok((adopt, session.ledger.mint(&mint)?.decimals))
}

/// `network show`: every network, or only --network.
pub fn show(session: &Session, only: bool) -> Result<NetworkList> {
    let networks: Vec<(Pubkey, Network)> = if only {
        vec![session.network()?]
    } else {
        session.ledger.all()?
    };
    let views = networks
        .iter()
        .map(|(address, network)| {
            let reward = session.reward_mint(network)?;
            Ok(NetworkView::of(address, network, &reward))
        })
        .collect::<Result<_>>()?;
    Ok(NetworkList(views))
}

/// `network set-params`: the authority changes the parameters the flags name.
pub fn set_params(session: &Session, args: &ParamsArgs) -> Result<ParamsUpdated> {
    let (address, network) = session.network()?;
    ensure_authority(session, &network)?;
    ensure!(
        args.epoch_secs
            .is_none_or(|secs| secs == network.params.epoch_length_secs),
        "the epoch length of a running network is fixed (epochs already counted would move); \
         leave --epoch-secs out"
    );
    let reward = session.reward_mint(&network)?;
    let params = args.apply(network.params, reward.decimals)?;
    session.send(&[ix::update_parameters(&session.signer(), &address, params)])?;
    Ok(ParamsUpdated {
        network_id: network.network_id,
        params: ParamsView::of(&params, &network.emission_price_floors, &reward),
    })
}

/// `network set-attestors`: the authority replaces the attestor set.
pub fn set_attestors(session: &Session, args: &AttestorsArgs) -> Result<AttestorsSet> {
    let (address, network) = session.network()?;
    ensure_authority(session, &network)?;
    let set = match (args.group_key, args.members) {
        (Some(group_key), Some(members)) => {
            check_attestor_group(&group_key, args.threshold, members)?;
            session.send(&[ix::set_attestor_group(
                &session.signer(),
                &address,
                group_key,
                args.threshold,
                members,
            )])?;
            AttestorsSet {
                network_id: network.network_id,
                mode: AttestorMode::Group,
                attestors: vec![group_key],
                group_key: Some(group_key),
                threshold: args.threshold,
                members,
                version: network.attestors.version + 1,
            }
        }
        _ => {
            check_attestors(&args.attestors, args.threshold)?;
            session.send(&[ix::set_attestors(
                &session.signer(),
                &address,
                args.attestors.clone(),
                args.threshold,
            )])?;
            AttestorsSet {
                network_id: network.network_id,
                mode: AttestorMode::Keys,
                attestors: args.attestors.clone(),
                group_key: None,
                threshold: args.threshold,
                members: args.attestors.len() as u8,
                version: network.attestors.version + 1,
            }
        }
    };
    Ok(set)
}

/// `network pause` (`pausing`) and `network unpause`: the flags chosen, or all three.
pub fn set_pause(session: &Session, flags: &PauseArgs, pausing: bool) -> Result<PauseSet> {
    let (address, network) = session.network()?;
    ensure_authority(session, &network)?;
    let all = !(flags.new_jobs || flags.settlements || flags.claims);
    let mut pause = network.pause;
    for (chosen, slot) in [
        (flags.new_jobs, &mut pause.new_jobs),
        (flags.settlements, &mut pause.settlements),
        (flags.claims, &mut pause.claims),
    ] {
        if all || chosen {
            *slot = pausing;
        }
    }
    session.send(&[ix::set_pause(&session.signer(), &address, pause)])?;
    Ok(PauseSet {
        network_id: network.network_id,
        pause: pause.into(),
    })
}

/// `network set-emission-floor`: the authority sets one class's emission price floor.
pub fn set_emission_floor(session: &Session, args: &EmissionFloorArgs) -> Result<ParamsUpdated> {
    let (address, network) = session.network()?;
    ensure_authority(session, &network)?;
    let reward = session.reward_mint(&network)?;
    let floor = reward.parse_amount(&args.price).context("--price")?;
    let mut floors = network.emission_price_floors;
    floors[ProviderClass::from(args.class).index()] = floor;
    session.send(&[ix::set_emission_floors(&session.signer(), &address, floors)])?;
    Ok(ParamsUpdated {
        network_id: network.network_id,
        params: ParamsView::of(&network.params, &floors, &reward),
    })
}

/// `network propose-treasury`: the authority proposes a treasury, or withdraws the proposal.
pub fn propose_treasury(session: &Session, args: &ProposeTreasuryArgs) -> Result<TreasuryProposed> {
    let (address, network) = session.network()?;
    ensure_authority(session, &network)?;
    let proposed = match (args.treasury, args.withdraw) {
        (Some(treasury), false) => treasury,
        _ => Pubkey::default(),
    };
    if args.withdraw {
        ensure!(
            network.pending_treasury != Pubkey::default(),
            "network {} has no treasury proposal to withdraw",
            network.network_id
        );
    } else {
        ensure!(
            proposed != Pubkey::default(),
            "the default pubkey cannot be a treasury: to withdraw a proposal, pass --withdraw"
        );
        ensure!(
            proposed != network.treasury,
            "{proposed} already is network {}'s treasury",
            network.network_id
        );
    }
    session.send(&[ix::propose_treasury(&session.signer(), &address, &proposed)])?;
    Ok(TreasuryProposed {
        network_id: network.network_id,
        network: address,
        treasury: network.treasury,
        pending_treasury: proposed,
        withdrawn: args.withdraw.then_some(network.pending_treasury),
    })
}

/// `network accept-treasury`: the proposed treasury takes over.
pub fn accept_treasury(session: &Session) -> Result<TreasuryAccepted> {
    let (address, network) = session.network()?;
    let me = session.signer();
    ensure!(
        network.pending_treasury != Pubkey::default(),
        "network {} has no proposed treasury: its authority {} proposes one with `tessera \
         network propose-treasury PUBKEY`",
        network.network_id,
        network.authority
    );
    ensure!(
        network.pending_treasury == me,
        "only the proposed treasury {} may accept; --keypair is {me}",
        network.pending_treasury
    );
    session.send(&[ix::accept_treasury(&me, &address)])?;
    Ok(TreasuryAccepted {
        network_id: network.network_id,
        network: address,
        treasury: me,
        previous_treasury: network.treasury,
    })
}

/// `network init`: the network created.
#[derive(Serialize)]
pub struct NetworkCreated {
    pub network_id: u64,
    #[serde(serialize_with = "as_text")]
    pub address: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub authority: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub reward_mint: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub treasury: Pubkey,
}

impl fmt::Display for NetworkCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "network {} created at {}\n  authority {}\n  reward mint {}\n  treasury {}",
            self.network_id, self.address, self.authority, self.reward_mint, self.treasury
        )
    }
}

/// `network show`: the networks, in the order the ledger lists them.
#[derive(Serialize)]
#[serde(transparent)]
pub struct NetworkList(pub Vec<NetworkView>);

impl fmt::Display for NetworkList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(
                f,
                "no networks on this ledger: run `tessera quickstart` or `tessera network init`"
            );
        }
        let blocks: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", blocks.join("\n"))
    }
}

/// A network, amounts in its reward mint's decimals.
#[derive(Serialize)]
pub struct NetworkView {
    #[serde(serialize_with = "as_text")]
    pub address: Pubkey,
    pub network_id: u64,
    #[serde(serialize_with = "as_text")]
    pub authority: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub treasury: Pubkey,
    #[serde(serialize_with = "as_proposed_key")]
    pub pending_treasury: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub reward_mint: Pubkey,
    pub genesis_at: i64,
    /// Reward tokens in circulation when the network took the mint (text only).
    #[serde(skip)]
    pub genesis_supply: String,
    pub params: ParamsView,
    /// The keys receipts may carry for the attestors: theirs, or their group key alone.
    #[serde(serialize_with = "as_texts")]
    pub attestors: Vec<Pubkey>,
    pub attestor_threshold: u8,
    pub attestor_version: u32,
    /// `Keys` (attestors sign one by one) or `Group` (they sign as one group key).
    #[serde(serialize_with = "as_name")]
    pub attestor_mode: AttestorMode,
    /// The group key, in group mode (null otherwise).
    #[serde(serialize_with = "as_optional_text")]
    pub attestor_group_key: Option<Pubkey>,
    /// Attestors in the set: keys in use, or members holding a share of the group key.
    pub attestor_members: u8,
    pub pause: PauseView,
    pub settlement_pauses: SettlementPausesView,
    pub providers: u64,
    pub open_jobs: u64,
    pub staked: String,
    pub unbonding: String,
    pub emitted: String,
    pub slashed: String,
    pub jobs_created: u64,
}

impl NetworkView {
    /// The view of `network` at `address`, whose reward mint is `reward`.
    pub fn of(address: &Pubkey, network: &Network, reward: &Mint) -> Self {
        let totals = &network.totals;
        Self {
            address: *address,
            network_id: network.network_id,
            authority: network.authority,
            treasury: network.treasury,
            pending_treasury: network.pending_treasury,
            reward_mint: network.reward_mint,
            genesis_at: network.genesis_at,
            genesis_supply: reward.format(network.genesis_supply),
            params: ParamsView::of(&network.params, &network.emission_price_floors, reward),
            attestors: network.attestors.members().to_vec(),
            attestor_threshold: network.attestors.threshold,
            attestor_version: network.attestors.version,
            attestor_mode: network.attestors.mode,
            attestor_group_key: network.attestors.group_key(),
            attestor_members: network.attestors.count,
            pause: network.pause.into(),
            settlement_pauses: network.settlement_pauses.into(),
            providers: totals.providers,
            open_jobs: totals.open_jobs,
            staked: reward.format(totals.staked),
            unbonding: reward.format(totals.unbonding),
            emitted: reward.format(totals.emitted),
            slashed: reward.format(totals.slashed),
            jobs_created: totals.jobs_created,
        }
    }
}

impl fmt::Display for NetworkView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = &self.params;
        write!(
            f,
            "network {} at {}\n  authority {}, treasury {}",
            self.network_id, self.address, self.authority, self.treasury
        )?;
        if self.pending_treasury != Pubkey::default() {
            write!(f, " (proposed: {})", self.pending_treasury)?;
        }
        write!(
            f,
            "\n  reward mint {} (supply at genesis {}), emitted {}\n  {} providers, {} open \
             jobs, staked {}, unbonding {}, slashed {}\n  epochs of {} s since {}; fee {} bps; \
             {}; {}\n  start timeout {} s, dispute window {} s, unbonding {} s, jail after {} \
             strikes",
            self.reward_mint,
            self.genesis_supply,
            self.emitted,
            self.providers,
            self.open_jobs,
            self.staked,
            self.unbonding,
            self.slashed,
            params.epoch_length_secs,
            self.genesis_at,
            params.protocol_fee_bps,
            self.pause,
            self.settlement_pauses,
            params.start_timeout_secs,
            params.dispute_window_secs,
            params.unbonding_period_secs,
            params.jail_after_lost_disputes,
        )?;
        let classes: Vec<String> = params.classes.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{}\n  attestors: {} of {}",
            Indented(&classes),
            self.attestor_threshold,
            self.attestor_members,
        )?;
        match self.attestor_group_key {
            Some(group_key) => write!(f, " signing as group key {group_key}")?,
            None => write!(f, " signing one by one")?,
        }
        write!(f, " (version {})", self.attestor_version)
    }
}

/// A network's parameters, amounts in its reward mint's decimals.
#[derive(Serialize)]
pub struct ParamsView {
    pub epoch_length_secs: i64,
    pub unbonding_period_secs: i64,
    pub dispute_window_secs: i64,
    pub receipt_max_age_secs: i64,
    pub protocol_fee_bps: u16,
    pub jail_after_lost_disputes: u8,
    pub start_timeout_secs: i64,
    pub classes: Vec<ClassView>,
}

impl ParamsView {
    /// The view of `params` and the emission price `floors`, whose amounts are in `reward`'s
    /// decimals.
    pub fn of(params: &NetworkParams, floors: &[u64; ProviderClass::COUNT], reward: &Mint) -> Self {
        Self {
            epoch_length_secs: params.epoch_length_secs,
            unbonding_period_secs: params.unbonding_period_secs,
            dispute_window_secs: params.dispute_window_secs,
            receipt_max_age_secs: params.receipt_max_age_secs,
            protocol_fee_bps: params.protocol_fee_bps,
            jail_after_lost_disputes: params.jail_after_lost_disputes,
            start_timeout_secs: params.start_timeout_secs,
            classes: params
                .classes
                .iter()
                .zip(CLASSES)
                .map(|(class, label)| ClassView::of(label, class, floors[label.index()], reward))
                .collect(),
        }
    }
}

/// One class's parameters.
#[derive(Serialize)]
pub struct ClassView {
    #[serde(serialize_with = "as_name")]
    pub class: ProviderClass,
    pub min_stake: String,
    pub stake_per_job: String,
    pub emission_weight_bps: u32,
    /// Least price per unit, in reward tokens, of a job whose attested units earn emission
    /// ("0": no floor).
    pub emission_price_floor: String,
}

impl ClassView {
    fn of(class: ProviderClass, params: &ClassParams, floor: u64, reward: &Mint) -> Self {
        Self {
            class,
            min_stake: reward.format(params.min_stake),
            stake_per_job: reward.format(params.stake_per_job),
            emission_weight_bps: params.emission_weight_bps,
            emission_price_floor: reward.format(floor),
        }
    }
}

impl fmt::Display for ClassView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?}: min stake {}, {} per running job, weight {} bps",
            self.class, self.min_stake, self.stake_per_job, self.emission_weight_bps
        )?;
        match self.emission_price_floor.trim_start_matches(['0', '.']) {
            "" => Ok(()),
            _ => write!(
                f,
                ", emission only for jobs paying at least {} reward tokens a unit",
                self.emission_price_floor
            ),
        }
    }
}

/// `network set-params`: the parameters now in force.
#[derive(Serialize)]
pub struct ParamsUpdated {
    #[serde(skip)]
    pub network_id: u64,
    #[serde(flatten)]
    pub params: ParamsView,
}

impl fmt::Display for ParamsUpdated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "network {} parameters updated", self.network_id)
    }
}

/// `network set-attestors`: the new set and its version.
#[derive(Serialize)]
pub struct AttestorsSet {
    #[serde(skip)]
    pub network_id: u64,
    /// `Keys` (attestors sign one by one) or `Group` (they sign as one group key).
    #[serde(serialize_with = "as_name")]
    pub mode: AttestorMode,
    /// The keys receipts may carry for the attestors: theirs, or their group key alone.
    #[serde(serialize_with = "as_texts")]
    pub attestors: Vec<Pubkey>,
    /// The group key, in group mode (null otherwise).
    #[serde(serialize_with = "as_optional_text")]
    pub group_key: Option<Pubkey>,
    pub threshold: u8,
    /// Attestors in the set: keys given, or members holding a share of the group key.
    pub members: u8,
    pub version: u32,
}

impl fmt::Display for AttestorsSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "network {}: {} of {} attestors now vouch for receipts",
            self.network_id, self.threshold, self.members
        )?;
        if let Some(group_key) = self.group_key {
            write!(f, ", signing as group key {group_key}")?;
        }
        Ok(())
    }
}

/// What a network pauses.
#[derive(Serialize)]
pub struct PauseView {
    pub new_jobs: bool,
    pub settlements: bool,
    pub claims: bool,
}

impl From<PauseFlags> for PauseView {
    fn from(pause: PauseFlags) -> Self {
        Self {
            new_jobs: pause.new_jobs,
            settlements: pause.settlements,
            claims: pause.claims,
        }
    }
}

impl fmt::Display for PauseView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let paused: Vec<&str> = [
            (self.new_jobs, "new jobs"),
            (self.settlements, "settlements"),
            (self.claims, "claims"),
        ]
        .into_iter()
        .filter_map(|(on, what)| on.then_some(what))
        .collect();
        if paused.is_empty() {
            write!(f, "nothing paused")
        } else {
            write!(f, "{} paused", paused.join(", "))
        }
    }
}

/// `network pause` and `network unpause`: what is paused now.
#[derive(Serialize)]
pub struct PauseSet {
    #[serde(skip)]
    pub network_id: u64,
    #[serde(flatten)]
    pub pause: PauseView,
}

impl fmt::Display for PauseSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "network {} pause: {}", self.network_id, self.pause)
    }
}

/// The network's clock of settlement pauses.
#[derive(Serialize)]
pub struct SettlementPausesView {
    pub running: bool,
    pub latest_started_at: i64,
    pub latest_ended_at: i64,
    pub ended_secs: i64,
}

impl From<SettlementPauses> for SettlementPausesView {
    fn from(pauses: SettlementPauses) -> Self {
        Self {
            running: pauses.running(),
            latest_started_at: pauses.latest_started_at,
            latest_ended_at: pauses.latest_ended_at,
            ended_secs: pauses.ended_secs,
        }
    }
}

impl fmt::Display for SettlementPausesView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.running {
            write!(
                f,
                "settlements paused since {} ({} s paused before)",
                self.latest_started_at, self.ended_secs
            )
        } else if self.latest_started_at == 0 {
            write!(f, "settlements never paused")
        } else {
            write!(
                f,
                "settlements paused {} s in all, latest from {} to {}",
                self.ended_secs, self.latest_started_at, self.latest_ended_at
            )
        }
    }
}

/// `network propose-treasury`: the treasury, and the proposal now pending (none once
/// withdrawn).
#[derive(Serialize)]
pub struct TreasuryProposed {
    #[serde(skip)]
    pub network_id: u64,
    #[serde(serialize_with = "as_text")]
    pub network: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub treasury: Pubkey,
    #[serde(serialize_with = "as_proposed_key")]
    pub pending_treasury: Pubkey,
    /// The proposal withdrawn, when that is what happened.
    #[serde(skip)]
    pub withdrawn: Option<Pubkey>,
}

impl fmt::Display for TreasuryProposed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.withdrawn {
            Some(withdrawn) => write!(
                f,
                "network {}: the proposal of treasury {withdrawn} is withdrawn",
                self.network_id
            ),
            None => write!(
                f,
                "network {}: treasury {} proposed; it takes over once it runs `tessera network \
                 accept-treasury` (signed by its --keypair)",
                self.network_id, self.pending_treasury
            ),
        }
    }
}

/// `network accept-treasury`: the new treasury and the one it replaced.
#[derive(Serialize)]
pub struct TreasuryAccepted {
    #[serde(skip)]
    pub network_id: u64,
    #[serde(serialize_with = "as_text")]
    pub network: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub treasury: Pubkey,
    #[serde(serialize_with = "as_text")]
    pub previous_treasury: Pubkey,
}

impl fmt::Display for TreasuryAccepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "network {}: {} is the treasury (was {}); fees of jobs closed from now on go to it",
            self.network_id, self.treasury, self.previous_treasury
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tessera network set-attestors` with `flags`, parsed as the command line would be.
    fn set_attestors_flags(flags: &[&str]) -> Result<AttestorsArgs, clap::Error> {
        #[derive(clap::Parser)]
        struct Command {
            #[command(flatten)]
            args: AttestorsArgs,
        }
        let line = std::iter::once("set-attestors").chain(flags.iter().copied());
        <Command as clap::Parser>::try_parse_from(line).map(|command| command.args)
    }

    #[test]
    fn set_attestors_takes_keys_or_a_group_key_with_its_members() {
        let (a, b) = (Pubkey::new_unique().to_string(), Pubkey::new_unique());
        let group = set_attestors_flags(&[
            "--group-key",
            &b.to_string(),
            "--members",
            "5",
            "--threshold",
            "3",
        ])
        .unwrap();
        assert_eq!((group.group_key, group.members), (Some(b), Some(5)));
        assert!(group.attestors.is_empty());
        let keys = set_attestors_flags(&["--attestor", &a, "--threshold", "1"]).unwrap();
        assert_eq!((keys.group_key, keys.attestors.len()), (None, 1));

        let refused = [
            vec!["--attestor", &a, "--group-key", &a, "--members", "3"],
            vec!["--group-key", &a, "--threshold", "1"],
            vec!["--members", "3", "--threshold", "1"],
        ];
        for flags in refused {
            assert!(set_attestors_flags(&flags).is_err(), "{flags:?}");
        }

        check_attestor_group(&b, 3, 5).unwrap();
        let error = check_attestor_group(&b, 6, 5).unwrap_err().to_string();
        assert!(error.contains("--threshold 6"), "{error}");
        let error = check_attestor_group(&b, 0, 5).unwrap_err().to_string();
        assert!(error.contains("--threshold 0"), "{error}");
        let error = check_attestor_group(&Pubkey::default(), 1, 5)
            .unwrap_err()
            .to_string();
        assert!(error.contains("--group-key"), "{error}");
    }

    #[test]
    fn a_new_network_takes_a_quarter_of_each_class_minimum_per_job() {
        let defaults = ParamsArgs::default().for_new_network(6).unwrap();
        defaults.validate().unwrap();
        assert_eq!(defaults.start_timeout_secs, DEFAULT_START_TIMEOUT_SECS);
        assert_eq!(defaults.classes[0].stake_per_job, 250_000_000);

        let args = ParamsArgs {
            min_stake: vec![
                (ClassArg::Edge, "200".into()),
                (ClassArg::Training, "0".into()),
            ],
            stake_per_job: vec![(ClassArg::Bandwidth, "7.5".into())],
            start_timeout_secs: Some(60),
            ..ParamsArgs::default()
        };
        let params = args.for_new_network(6).unwrap();
        let per_job: Vec<u64> = params.classes.iter().map(|c| c.stake_per_job).collect();
        assert_eq!(per_job, [1, 125_000_000, 50_000_000, 7_500_000]);
        assert_eq!(params.start_timeout_secs, 60);

        // Changing a running network keeps what is not given.
        let changed = ParamsArgs {
            min_stake: vec![(ClassArg::Edge, "400".into())],
            ..ParamsArgs::default()
        }
        .apply(params, 6)
        .unwrap();
        assert_eq!(changed.classes[2].stake_per_job, 50_000_000);

        let zero = ParamsArgs {
            stake_per_job: vec![(ClassArg::Edge, "0".into())],
            ..ParamsArgs::default()
        };
        let error = zero.apply(params, 6).unwrap_err().to_string();
        assert!(error.contains("--stake-per-job of class Edge"), "{error}");
        let error = ParamsArgs {
            start_timeout_secs: Some(0),
            ..ParamsArgs::default()
        }
        .apply(params, 6)
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("--start-timeout-secs 0 is out of range"),
            "{error}"
        );
    }
}
