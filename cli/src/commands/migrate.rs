//! `tessera migrate --config migrations/<cluster>.toml [--dry-run]`: brings a cluster to the
//! state a config describes through numbered, idempotent steps. Every step reads the chain
//! first and says what it did, or with --dry-run what it would do; a step already in place
//! does nothing. Every step is planned (and checked) before the first one is sent.

use super::network::{
    check_adoptable, check_attestors, check_params, default_stake_per_job, initialize, RewardMint,
    DEFAULT_START_TIMEOUT_SECS,
};
use super::{Outcome, Session};
use crate::tokens::parse_amount;
use crate::view::{as_text, Indented};
use anchor_lang::prelude::Pubkey;
use anyhow::{ensure, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use tessera::state::{ClassParams, EmissionSchedule, Network, NetworkParams};
use tessera_client::{instructions as ix, pda};

/// A migration config, and whether to only say what it would do.
#[derive(Args)]
pub struct MigrateArgs {
    /// The config, e.g. migrations/devnet.toml.
    #[arg(long)]
    pub config: PathBuf,
    /// Print what each step would do; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl MigrateArgs {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        Outcome::view(&run(session, &self.config, self.dry_run)?)
    }
}

/// The config file's schema version this build reads.
pub const CONFIG_VERSION: u32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub version: u32,
    pub network_id: u64,
    /// Fee recipient (default: the signer).
    pub treasury: Option<Pubkey>,
    pub reward_mint: RewardMintConfig,
    pub params: ParamsConfig,
    pub classes: ClassesConfig,
    pub emission: EmissionConfig,
    pub attestors: AttestorsConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardMintConfig {
    /// Adopt this mint, whose mint authority must be the signer (it passes to the network);
    /// otherwise create one.
    pub address: Option<Pubkey>,
    #[serde(default = "six")]
    pub decimals: u8,
    /// Reward tokens minted to the signer when the mint is created here.
    #[serde(default)]
    pub allocation: String,
}

fn six() -> u8 {
    6
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsConfig {
    pub epoch_length_secs: i64,
    pub unbonding_period_secs: i64,
    pub dispute_window_secs: i64,
    pub receipt_max_age_secs: i64,
    pub protocol_fee_bps: u16,
    pub jail_after_lost_disputes: u8,
    /// Seconds a provider has after accepting a job to settle a first receipt (default 3600).
    pub start_timeout_secs: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassesConfig {
    pub training: ClassConfig,
    pub inference: ClassConfig,
    pub edge: ClassConfig,
    pub bandwidth: ClassConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassConfig {
    /// Reward tokens, e.g. "1000".
    pub min_stake: String,
    pub emission_weight_bps: u32,
    /// Reward tokens each running job ties up (default: a quarter of `min_stake`).
    pub stake_per_job: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmissionConfig {
    pub initial_per_epoch: String,
    pub decay_bps: u16,
    pub decay_every_epochs: u32,
    pub supply_cap: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestorsConfig {
    pub keys: Vec<Pubkey>,
    pub threshold: u8,
}

impl Config {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the migration config {}", path.display()))?;
        let config: Config = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid migration config", path.display()))?;
        ensure!(
            config.version == CONFIG_VERSION,
            "{} is config version {}; this tessera reads version {CONFIG_VERSION}",
            path.display(),
            config.version
        );
        Ok(config)
    }

    fn params(&self, decimals: u8) -> Result<NetworkParams> {
        let class = |c: &ClassConfig, label: &str| -> Result<ClassParams> {
            let min_stake = parse_amount(&c.min_stake, decimals)
                .with_context(|| format!("classes.{label}.min_stake"))?;
            let stake_per_job = match &c.stake_per_job {
                Some(amount) => parse_amount(amount, decimals)
                    .with_context(|| format!("classes.{label}.stake_per_job"))?,
                None => default_stake_per_job(min_stake),
            };
            Ok(ClassParams {
                min_stake,
                emission_weight_bps: c.emission_weight_bps,
                stake_per_job,
            })
        };
        let p = &self.params;
        let params = NetworkParams {
            epoch_length_secs: p.epoch_length_secs,
            unbonding_period_secs: p.unbonding_period_secs,
            dispute_window_secs: p.dispute_window_secs,
            receipt_max_age_secs: p.receipt_max_age_secs,
            protocol_fee_bps: p.protocol_fee_bps,
            jail_after_lost_disputes: p.jail_after_lost_disputes,
            classes: [
                class(&self.classes.training, "training")?,
                class(&self.classes.inference, "inference")?,
                class(&self.classes.edge, "edge")?,
                class(&self.classes.bandwidth, "bandwidth")?,
            ],
            start_timeout_secs: p.start_timeout_secs.unwrap_or(DEFAULT_START_TIMEOUT_SECS),
        };
        check_params(&params)?;
        Ok(params)
    }

    fn emission(&self, decimals: u8) -> Result<EmissionSchedule> {
        let e = &self.emission;
        Ok(EmissionSchedule {
            initial_per_epoch: parse_amount(&e.initial_per_epoch, decimals)
                .context("emission.initial_per_epoch")?,
            decay_bps: e.decay_bps,
            decay_every_epochs: e.decay_every_epochs,
            supply_cap: parse_amount(&e.supply_cap, decimals).context("emission.supply_cap")?,
        })
    }
}

/// The steps of a migration, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepId {
    Network,
    Attestors,
    Parameters,
}

impl StepId {
    /// The step's number and name, as the output shows it.
    fn name(self) -> &'static str {
        match self {
            StepId::Network => "0001-network",
            StepId::Attestors => "0002-attestors",
            StepId::Parameters => "0003-parameters",
        }
    }
}

/// One planned step and what it will do (None: already in place).
struct Step {
    id: StepId,
    action: Option<String>,
}

/// Every step of a migration, planned against the chain, with what the config resolves to in
/// the reward mint's decimals.
struct Plan {
    address: Pubkey,
    decimals: u8,
    params: NetworkParams,
    emission: EmissionSchedule,
    steps: Vec<Step>,
}

/// `migrate`: plans every step against the chain, then (unless `dry_run`) applies those not in
/// place.
pub fn run(session: &Session, path: &Path, dry_run: bool) -> Result<Migration> {
    let config = Config::read(path)?;
    let plan = Plan::make(session, &config, path)?;
    let steps = plan
        .steps
        .iter()
        .map(|step| plan.carry_out(session, &config, step, dry_run))
        .collect::<Result<_>>()?;
    Ok(Migration {
        config: path.display().to_string(),
        dry_run,
        network: plan.address,
        steps,
        ledger: session.ledger.url(),
    })
}

impl Plan {
    /// Reads the chain and plans each step of `config` (read from `path`); refuses a config
    /// that would change what cannot change, or a signer that may not change the network.
    fn make(session: &Session, config: &Config, path: &Path) -> Result<Self> {
        let ledger = session.ledger;
        let address = pda::network(config.network_id);
        let existing: Option<Network> = ledger.fetch(&address)?;
        let decimals = match (&existing, config.reward_mint.address) {
            (Some(network), _) => ledger.mint(&network.reward_mint)?.decimals,
            (None, Some(mint)) => ledger.mint(&mint)?.decimals,
            (None, None) => config.reward_mint.decimals,
        };
        let params = config.params(decimals)?;
        let emission = config.emission(decimals)?;
        check_attestors(&config.attestors.keys, config.attestors.threshold)?;
        let mut plan = Self {
            address,
            decimals,
            params,
            emission,
            steps: Vec::new(),
        };
        let network_step = match &existing {
            None => plan.network_step(session, config)?,
            Some(network) => {
                plan.ensure_fixed_parts_match(config, network, path)?;
                None
            }
        };
        plan.push(StepId::Network, network_step);
        plan.push(StepId::Attestors, attestors_step(config, existing.as_ref()));
        let current_params = existing.as_ref().map_or(params, |n| n.params);
        let params_step = (current_params != params)
            .then(|| "update the network parameters to the config's".to_string());
        plan.push(StepId::Parameters, params_step);
        plan.ensure_governed_by_signer(session, config, existing.as_ref())?;
        Ok(plan)
    }

    fn push(&mut self, id: StepId, action: Option<String>) {
        self.steps.push(Step { id, action });
    }

    /// What creating the network will do; an adopted mint is checked first.
    fn network_step(&self, session: &Session, config: &Config) -> Result<Option<String>> {
        let (id, address) = (config.network_id, self.address);
        Ok(Some(match config.reward_mint.address {
            Some(mint) => {
                check_adoptable(session, id, &mint, &session.signer(), "--keypair")?;
                format!("create network {id} at {address}, adopting reward mint {mint}")
            }
            None => format!(
                "create network {id} at {address} and a new reward mint ({} decimals)",
                self.decimals
            ),
        }))
    }

    /// Refuses a config that differs from `network` where a network cannot change: its reward
    /// mint, emission schedule and epoch length.
    fn ensure_fixed_parts_match(
        &self,
        config: &Config,
        network: &Network,
        path: &Path,
    ) -> Result<()> {
        if let Some(mint) = config.reward_mint.address {
            ensure!(
                mint == network.reward_mint,
                "network {} already uses reward mint {}, not {mint}: a reward mint cannot change",
                config.network_id,
                network.reward_mint
            );
        }
        ensure!(
            network.emission == self.emission,
            "network {}'s emission schedule differs from the config's, and a schedule is fixed              for a network's life: fix [emission] in {}",
            config.network_id,
            path.display()
        );
        ensure!(
            network.params.epoch_length_secs == self.params.epoch_length_secs,
            "network {}'s epochs are {} s, the config says {}: the epoch length is fixed once a              network exists",
            config.network_id,
            network.params.epoch_length_secs,
            self.params.epoch_length_secs
        );
        Ok(())
    }

    /// Refuses to change an existing network unless the signer is its authority.
    fn ensure_governed_by_signer(
        &self,
        session: &Session,
        config: &Config,
        existing: Option<&Network>,
    ) -> Result<()> {
        let signer = session.signer();
        let Some(network) = existing else {
            return Ok(());
        };
        if self.steps.iter().any(|step| step.action.is_some()) {
            ensure!(
                network.authority == signer,
                "network {} is governed by {}; run the migration with that --keypair (it is \
                 {signer})",
                config.network_id,
                network.authority
            );
        }
        Ok(())
    }

    /// Runs `step` unless it is in place or this is a dry run; says what happened.
    fn carry_out(
        &self,
        session: &Session,
        config: &Config,
        step: &Step,
        dry_run: bool,
    ) -> Result<StepView> {
        let (state, action) = match (&step.action, dry_run) {
            (None, _) => ("in place", "already as configured".to_string()),
            (Some(action), true) => ("would run", action.clone()),
            (Some(action), false) => {
                self.apply(session, config, step.id)?;
                ("done", action.clone())
            }
        };
        Ok(StepView {
            step: step.id.name(),
            state,
            action,
        })
    }

    fn apply(&self, session: &Session, config: &Config, id: StepId) -> Result<()> {
        let signer = session.signer();
        match id {
            StepId::Network => {
                initialize(
                    session,
                    config.network_id,
                    self.reward_mint(session, config)?,
                    config.treasury.unwrap_or(signer),
                    self.params,
                    self.emission,
                )?;
            }
            StepId::Attestors => {
                let keys = config.attestors.keys.clone();
                let threshold = config.attestors.threshold;
                session.send(&[ix::set_attestors(&signer, &self.address, keys, threshold)])?;
            }
            StepId::Parameters => {
                session.send(&[ix::update_parameters(&signer, &self.address, self.params)])?;
            }
        }
        Ok(())
    }

    /// The reward mint the config asks for: adopted with the signer's signature, or created.
    fn reward_mint<'a>(&self, session: &Session<'a>, config: &Config) -> Result<RewardMint<'a>> {
        if let Some(mint) = config.reward_mint.address {
            return Ok(RewardMint::Adopt {
                mint,
                authority: session.keypair(),
                authority_flag: "--keypair",
            });
        }
        let allocation = match config.reward_mint.allocation.as_str() {
            "" => 0,
            amount => parse_amount(amount, self.decimals).context("reward_mint.allocation")?,
        };
        Ok(RewardMint::Create {
            decimals: self.decimals,
            allocation,
        })
    }
}

/// What the attestor step will do: nothing when the set on chain is the config's.
fn attestors_step(config: &Config, existing: Option<&Network>) -> Option<String> {
    let current_keys: Vec<Pubkey> =
        existing.map_or_else(Vec::new, |n| n.attestors.members().to_vec());
    let current_threshold = existing.map_or(0, |n| n.attestors.threshold);
    let wanted = &config.attestors;
    // A group (`network set-attestors --group-key`) is never the config's keys.
    let group = existing.is_some_and(|n| n.attestors.group_key().is_some());
    (group || current_keys != wanted.keys || current_threshold != wanted.threshold).then(|| {
        format!(
            "set the attestor set to {} of {} keys",
            wanted.threshold,
            wanted.keys.len()
        )
    })
}

/// `migrate`: each step and what became of it.
#[derive(Serialize)]
pub struct Migration {
    /// The config file.
    pub config: String,
    pub dry_run: bool,
    #[serde(serialize_with = "as_text")]
    pub network: Pubkey,
    pub steps: Vec<StepView>,
    /// Where it ran (text only).
    #[serde(skip)]
    pub ledger: String,
}

impl fmt::Display for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dry_run = if self.dry_run {
            " (dry run: nothing sent)"
        } else {
            ""
        };
        let lines: Vec<String> = self.steps.iter().map(ToString::to_string).collect();
        write!(
            f,
            "migration {} on {}{dry_run}{}",
            self.config,
            self.ledger,
            Indented(&lines)
        )
    }
}

/// One step: `in place`, `would run` (a dry run) or `done`, and what it does.
#[derive(Serialize)]
pub struct StepView {
    pub step: &'static str,
    pub state: &'static str,
    pub action: String,
}

impl fmt::Display for StepView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.step, self.state, self.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../migrations")
            .join(format!("{name}.toml"))
    }

    #[test]
    fn the_committed_configs_hold_parameters_the_program_accepts() {
        for (name, start_timeout_secs) in [("devnet", 3_600), ("localnet", 120)] {
            let config = Config::read(&committed(name)).unwrap();
            let params = config.params(6).unwrap();
            params.validate().unwrap();
            assert_eq!(params.start_timeout_secs, start_timeout_secs, "{name}");
            let per_job: Vec<u64> = params.classes.iter().map(|c| c.stake_per_job).collect();
            assert_eq!(
                per_job,
                [250_000_000, 125_000_000, 25_000_000, 25_000_000],
                "{name}"
            );
        }
    }

    #[test]
    fn left_out_keys_take_their_defaults_and_unknown_keys_are_refused() {
        let text = std::fs::read_to_string(committed("localnet")).unwrap();
        let bare: String = text
            .lines()
            .filter(|line| {
                !line.starts_with("stake_per_job") && !line.starts_with("start_timeout_secs")
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let config: Config = toml::from_str(&bare).unwrap();
        let params = config.params(6).unwrap();
        assert_eq!(params.start_timeout_secs, DEFAULT_START_TIMEOUT_SECS);
        assert_eq!(
            params.classes[0].stake_per_job, 250_000_000,
            "a quarter of 1000"
        );

        let typo = text.replace("stake_per_job = \"25\"", "stake_per_jobs = \"25\"");
        let error = toml::from_str::<Config>(&typo).err().unwrap().to_string();
        assert!(error.contains("unknown field `stake_per_jobs`"), "{error}");
        let zero = text.replace("stake_per_job = \"25\"", "stake_per_job = \"0\"");
        let error = toml::from_str::<Config>(&zero)
            .unwrap()
            .params(6)
            .err()
            .unwrap();
        assert!(error.to_string().contains("--stake-per-job"), "{error}");
    }
}
