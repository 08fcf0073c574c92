//! `tessera network …`: create a network, read it, and the authority's levers (parameters,
//! attestor set, pause).

use super::{ClassArg, Outcome, Session};
use crate::tokens::{associated_account, create_mint, mint_to, set_mint_authority, Mint};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera::instructions::InitializeNetworkArgs;
use tessera::state::{
    ClassParams, EmissionSchedule, Network, NetworkParams, PauseFlags, ProviderClass,
};
use tessera_client::instructions::{self as ix, MintRef};
use tessera_client::pda;

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Creates network --network, signed by --keypair, who becomes its authority. Without
    /// --reward-mint it also creates the reward mint and hands its mint authority to the network.
    Init(InitArgs),
    /// Shows every network on the ledger, or only --network when given.
    Show {
        /// Only this network (otherwise every network).
        #[arg(long)]
        only: bool,
    },
    /// Changes parameters (authority only); flags left out keep their current value.
    SetParams(ParamsArgs),
    /// Replaces the attestor set (authority only).
    SetAttestors {
        /// An attestor's ed25519 public key; repeat for each (at most 8; none disables attestation).
        #[arg(long = "attestor")]
        attestors: Vec<Pubkey>,
        /// Distinct attestor signatures a receipt needs (1..=number of attestors; 0 with none).
        #[arg(long)]
        threshold: u8,
    },
    /// Pauses new jobs/registrations/stake, settlements and/or claims (authority only); with no
    /// flag, all three. Exits (unstake, withdraw, cancel, close) never pause.
    Pause(PauseArgs),
    /// Lifts a pause (authority only); with no flag, all three.
    Unpause(PauseArgs),
}

#[derive(Args)]
pub struct PauseArgs {
    #[arg(long)]
    new_jobs: bool,
    #[arg(long)]
    settlements: bool,
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
    /// Lost disputes after which a provider is jailed.
    #[arg(long)]
    pub jail_after: Option<u8>,
    /// Minimum stake of a class, in reward tokens: CLASS=AMOUNT (e.g. training=1000); repeatable.
    #[arg(long = "min-stake", value_parser = class_value)]
    pub min_stake: Vec<(ClassArg, String)>,
    /// Emission weight of a class, basis points per unit: CLASS=BPS; repeatable.
    #[arg(long = "class-weight", value_parser = class_value)]
    pub class_weight: Vec<(ClassArg, String)>,
}

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub params: ParamsArgs,
    /// Adopt this reward mint; its mint authority must already be the network's mint authority
    /// PDA (shown by a failed attempt) and it must have no freeze authority.
    #[arg(long)]
    pub reward_mint: Option<Pubkey>,
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

/// Defaults of a new network: daily epochs, a week of unbonding, two days to dispute.
pub fn default_params(reward: u8) -> NetworkParams {
    let whole = 10u64.pow(reward as u32);
    let class = |min, weight| ClassParams {
        min_stake: min * whole,
        emission_weight_bps: weight,
    };
    NetworkParams {
        epoch_length_secs: 86_400,
        unbonding_period_secs: 7 * 86_400,
        dispute_window_secs: 2 * 86_400,
        receipt_max_age_secs: 3_600,
        protocol_fee_bps: 250,
        jail_after_lost_disputes: 3,
        classes: [
            class(1_000, 20_000),
            class(500, 10_000),
            class(100, 10_000),
            class(100, 1),
        ],
    }
}

impl ParamsArgs {
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
        if let Some(fee) = self.fee_bps {
            params.protocol_fee_bps = fee;
        }
        if let Some(jail) = self.jail_after {
            params.jail_after_lost_disputes = jail;
        }
        for (class, amount) in &self.min_stake {
            params.classes[ProviderClass::from(*class).index()].min_stake =
                crate::tokens::parse_amount(amount, reward_decimals)
                    .with_context(|| format!("--min-stake {class:?}"))?;
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
    for (index, class) in params.classes.iter().enumerate() {
        ensure!(
            (1..=tessera::state::MAX_CLASS_WEIGHT_BPS).contains(&class.emission_weight_bps),
            "--class-weight of class {index} must be 1..={}",
            tessera::state::MAX_CLASS_WEIGHT_BPS
        );
    }
    Ok(())
}

/// The reward mint a new network will use.
pub enum RewardMint {
    /// An existing mint whose authority is already the network's PDA.
    Adopt(Pubkey),
    /// A new mint with these decimals; `allocation` base units go to the authority first.
    Create { decimals: u8, allocation: u64 },
}

/// Creates network `network_id` in one transaction (and its reward mint when asked), signed by
/// the session's keypair. Returns the network and reward mint addresses.
pub fn initialize(
    session: &Session,
    network_id: u64,
    reward: RewardMint,
    treasury: Pubkey,
    params: NetworkParams,
    emission: EmissionSchedule,
) -> Result<(Pubkey, Pubkey)> {
    let ledger = session.ledger;
    let authority = session.signer();
    let network = pda::network(network_id);
    if ledger.exists(&network)? {
        bail!("network {network_id} already exists at {network}: choose a free id with --network");
    }
    check_params(&params)?;
    check_emission(&emission)?;
    let mint_authority = pda::mint_authority(&network);
    let mut instructions = Vec::new();
    let mint_keypair = Keypair::new();
    let mint = match reward {
        RewardMint::Adopt(mint) => {
            let account = ledger
                .rpc
                .get_account(&mint)
                .with_context(|| format!("no mint at {mint}: check the address"))?;
            let info = Mint::parse(&mint, &account.owner, &account.data)?;
            let holder = (account.data[0..4] == [1, 0, 0, 0])
                .then(|| Pubkey::try_from(&account.data[4..36]).ok())
                .flatten();
            ensure!(
                holder == Some(mint_authority),
                "the mint authority of {mint} must be network {network_id}'s mint authority \
                 {mint_authority}: run `spl-token authorize {mint} mint {mint_authority}` first"
            );
            ensure!(
                account.data[46..50] == [0, 0, 0, 0],
                "{mint} has a freeze authority: a reward mint may not be freezable"
            );
            info.key
        }
        RewardMint::Create {
            decimals,
            allocation,
        } => {
            let key = MintRef {
                mint: mint_keypair.pubkey(),
                token_program: spl_token_interface::ID,
            };
            let rent = ledger
                .rpc
                .get_minimum_balance_for_rent_exemption(crate::tokens::MINT_LEN)?;
            instructions.extend(create_mint(&authority, key, &authority, decimals, rent)?);
            if allocation > 0 {
                let (account, create) = associated_account(&authority, &authority, key);
                instructions.push(create);
                instructions.push(mint_to(key, &account, &authority, allocation)?);
            }
            instructions.push(set_mint_authority(key, &authority, &mint_authority)?);
            key
        }
    };
    instructions.push(ix::initialize_network(
        &authority,
        mint,
        InitializeNetworkArgs {
            network_id,
            treasury,
            params,
            emission,
        },
    ));
    ledger
        .send(
            &instructions,
            &[&mint_keypair][..usize::from(instructions.len() > 1)],
        )
        .with_context(|| format!("creating network {network_id}"))?;
    Ok((network, mint.mint))
}

impl NetworkCommand {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        match self {
            NetworkCommand::Init(args) => init(session, args),
            NetworkCommand::Show { only } => show(session, *only),
            NetworkCommand::SetParams(args) => {
                let (address, network) = session.network()?;
                ensure_authority(session, &network)?;
                ensure!(
                    args.epoch_secs
                        .is_none_or(|secs| secs == network.params.epoch_length_secs),
                    "the epoch length of a running network is fixed (epochs already counted \
                     would move); leave --epoch-secs out"
                );
                let reward = session.reward_mint(&network)?;
                let params = args.apply(network.params, reward.decimals)?;
                session.ledger.send(
                    &[ix::update_parameters(&session.signer(), &address, params)],
                    &[],
                )?;
                Ok(Outcome::new(
                    format!("network {} parameters updated", network.network_id),
                    params_json(&params, &reward),
                ))
            }
            NetworkCommand::SetAttestors {
                attestors,
                threshold,
            } => {
                let (address, network) = session.network()?;
                ensure_authority(session, &network)?;
                check_attestors(attestors, *threshold)?;
                session.ledger.send(
                    &[ix::set_attestors(
                        &session.signer(),
                        &address,
                        attestors.clone(),
                        *threshold,
                    )],
                    &[],
                )?;
                Ok(Outcome::new(
                    format!(
                        "network {}: {threshold} of {} attestors now vouch for receipts",
                        network.network_id,
                        attestors.len()
                    ),
                    json!({
                        "attestors": attestors.iter().map(Pubkey::to_string).collect::<Vec<_>>(),
                        "threshold": threshold,
                        "version": network.attestors.version + 1,
                    }),
                ))
            }
            NetworkCommand::Pause(flags) | NetworkCommand::Unpause(flags) => {
                let pausing = matches!(self, NetworkCommand::Pause(_));
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
                session
                    .ledger
                    .send(&[ix::set_pause(&session.signer(), &address, pause)], &[])?;
                Ok(Outcome::new(
                    format!(
                        "network {} pause: {}",
                        network.network_id,
                        pause_text(&pause)
                    ),
                    pause_json(&pause),
                ))
            }
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

fn pause_json(pause: &PauseFlags) -> serde_json::Value {
    json!({
        "new_jobs": pause.new_jobs,
        "settlements": pause.settlements,
        "claims": pause.claims,
    })
}

fn pause_text(pause: &PauseFlags) -> String {
    let paused: Vec<&str> = [
        (pause.new_jobs, "new jobs"),
        (pause.settlements, "settlements"),
        (pause.claims, "claims"),
    ]
    .into_iter()
    .filter_map(|(on, what)| on.then_some(what))
    .collect();
    if paused.is_empty() {
        "nothing paused".into()
    } else {
        format!("{} paused", paused.join(", "))
    }
}

fn init(session: &Session, args: &InitArgs) -> Result<Outcome> {
    let (reward, decimals) = match args.reward_mint {
        Some(mint) => (
            RewardMint::Adopt(mint),
            session.ledger.mint(&mint)?.decimals,
        ),
        None => (
            RewardMint::Create {
                decimals: args.decimals,
                allocation: crate::tokens::parse_amount(&args.allocation, args.decimals)
                    .context("--allocation")?,
            },
            args.decimals,
        ),
    };
    let params = args.params.apply(default_params(decimals), decimals)?;
    let amount = |text: &str, flag: &str| {
        crate::tokens::parse_amount(text, decimals).with_context(|| flag.to_string())
    };
    let emission = EmissionSchedule {
        initial_per_epoch: amount(&args.initial_emission, "--initial-emission")?,
        decay_bps: args.decay_bps,
        decay_every_epochs: args.decay_every,
        supply_cap: amount(&args.supply_cap, "--supply-cap")?,
    };
    let treasury = args.treasury.unwrap_or(session.signer());
    let (network, mint) = initialize(
        session,
        session.network_id,
        reward,
        treasury,
        params,
        emission,
    )?;
    Ok(Outcome::new(
        format!(
            "network {} created at {network}\n  authority {}\n  reward mint \
                {mint}\n  treasury {treasury}",
            session.network_id,
            session.signer()
        ),
        json!({
            "network_id": session.network_id,
            "address": network.to_string(),
            "authority": session.signer().to_string(),
            "reward_mint": mint.to_string(),
            "treasury": treasury.to_string(),
        }),
    ))
}

fn params_json(params: &NetworkParams, reward: &Mint) -> serde_json::Value {
    json!({
        "epoch_length_secs": params.epoch_length_secs,
        "unbonding_period_secs": params.unbonding_period_secs,
        "dispute_window_secs": params.dispute_window_secs,
        "receipt_max_age_secs": params.receipt_max_age_secs,
        "protocol_fee_bps": params.protocol_fee_bps,
        "jail_after_lost_disputes": params.jail_after_lost_disputes,
        "classes": params
            .classes
            .iter()
            .zip(["Training", "Inference", "Edge", "Bandwidth"])
            .map(|(class, label)| json!({
                "class": label,
                "min_stake": reward.format(class.min_stake),
                "emission_weight_bps": class.emission_weight_bps,
            }))
            .collect::<Vec<_>>(),
    })
}

fn show(session: &Session, only: bool) -> Result<Outcome> {
    let networks: Vec<(Pubkey, Network)> = if only {
        vec![session.network()?]
    } else {
        session.ledger.all()?
    };
    let mut text = String::new();
    let mut rows = Vec::new();
    for (address, n) in networks {
        let reward = session.reward_mint(&n)?;
        let attestors: Vec<String> = n.attestors.keys[..n.attestors.count as usize]
            .iter()
            .map(Pubkey::to_string)
            .collect();
        text += &format!(
            "network {} at {address}\n  authority {}, treasury {}\n  reward mint {} \
                (supply at genesis {}), emitted {}\n  {} providers, {} open jobs, \
                staked {}, unbonding {}, slashed {}\n  epochs of {} s since {}; fee {} \
                bps; {}\n  attestors: {} of {} (version {})\n",
            n.network_id,
            n.authority,
            n.treasury,
            n.reward_mint,
            reward.format(n.genesis_supply),
            reward.format(n.totals.emitted),
            n.totals.providers,
            n.totals.open_jobs,
            reward.format(n.totals.staked),
            reward.format(n.totals.unbonding),
            reward.format(n.totals.slashed),
            n.params.epoch_length_secs,
            n.genesis_at,
            n.params.protocol_fee_bps,
            pause_text(&n.pause),
            n.attestors.threshold,
            attestors.len(),
            n.attestors.version,
        );
        rows.push(json!({
            "address": address.to_string(),
            "network_id": n.network_id,
            "authority": n.authority.to_string(),
            "treasury": n.treasury.to_string(),
            "reward_mint": n.reward_mint.to_string(),
            "genesis_at": n.genesis_at,
            "params": params_json(&n.params, &reward),
            "attestors": attestors,
            "attestor_threshold": n.attestors.threshold,
            "attestor_version": n.attestors.version,
            "pause": pause_json(&n.pause),
            "providers": n.totals.providers,
            "open_jobs": n.totals.open_jobs,
            "staked": reward.format(n.totals.staked),
            "unbonding": reward.format(n.totals.unbonding),
            "emitted": reward.format(n.totals.emitted),
            "slashed": reward.format(n.totals.slashed),
            "jobs_created": n.totals.jobs_created,
        }));
    }
    if rows.is_empty() {
        text = "no networks on this ledger: run `tessera quickstart` or `tessera network init`\n"
            .into();
    }
    Ok(Outcome::new(text.trim_end(), json!(rows)))
}
