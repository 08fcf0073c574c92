//! `tessera migrate --config migrations/<cluster>.toml [--dry-run]`: brings a cluster to the
//! state a config describes through numbered, idempotent steps. Every step reads the chain
//! first and says what it did, or with --dry-run what it would do; a step already in place
//! does nothing. Every step is planned (and checked) before the first one is sent.

use super::network::{
    check_adoptable, check_attestor_group, check_attestors, check_params, default_stake_per_job,
    initialize, RewardMint, DEFAULT_START_TIMEOUT_SECS,
};
use super::{Outcome, Session};
use crate::view::{as_text, Indented};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{ensure, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use tessera::state::{
    AttestorMode, AttestorSet, ClassParams, EmissionSchedule, Network, NetworkParams,
};
use tessera_client::{instructions as ix, pda};
use tessera_ledger::tokens::parse_amount;

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
    #[serde(default, deserialize_with = "base58::optional")]
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
    #[serde(default, deserialize_with = "base58::optional")]
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

/// Public keys in a config are base58 text, as `tessera` and the Solana CLI print them.
mod base58 {
    use anchor_lang::prelude::Pubkey;
    use serde::de::{Deserialize, Deserializer, Error};

    fn parse<E: Error>(text: &str) -> Result<Pubkey, E> {
        text.parse()
            .map_err(|_| E::custom(format!("{text:?} is not a base58 public key")))
    }

    pub fn optional<'de, D: Deserializer<'de>>(from: D) -> Result<Option<Pubkey>, D::Error> {
        Option::<String>::deserialize(from)?
            .map(|text| parse(&text))
            .transpose()
    }

    pub fn list<'de, D: Deserializer<'de>>(from: D) -> Result<Vec<Pubkey>, D::Error> {
        Vec::<String>::deserialize(from)?
            .iter()
            .map(|text| parse(text))
            .collect()
    }
}

/// The attestor set: `keys` that sign one by one, `threshold` of them per receipt; or a group
/// key (`tessera attest dkg`) that `members` attestors hold shares of, `threshold` of them
/// signing together. A set is one or the other.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestorsConfig {
    #[serde(default, deserialize_with = "base58::list")]
    pub keys: Vec<Pubkey>,
    pub threshold: u8,
    #[serde(default, deserialize_with = "base58::optional")]
    pub group_key: Option<Pubkey>,
    pub members: Option<u8>,
}

impl AttestorsConfig {
    /// Refuses a set the program would refuse, naming the config's keys.
    fn check(&self) -> Result<()> {
        match (self.group_key, self.members) {
            (None, None) => check_attestors(&self.keys, self.threshold)
                .context("in [attestors] (keys, threshold)"),
            (Some(group_key), Some(members)) => {
                ensure!(
                    self.keys.is_empty(),
                    "[attestors] names keys and a group_key: a set is keys that sign one by \
                     one or a group key, not both"
                );
                check_attestor_group(&group_key, self.threshold, members)
                    .context("in [attestors] (group_key, members, threshold)")
            }
            (Some(_), None) => {
                anyhow::bail!("[attestors] group_key needs members: how many hold a share of it")
            }
            (None, Some(_)) => anyhow::bail!("[attestors] members is for a group: add group_key"),
        }
    }

    /// The set as the program stores it (its version aside).
    fn wanted(&self) -> AttestorSet {
        let mut set = AttestorSet {
            threshold: self.threshold,
            ..AttestorSet::default()
        };
        match self.group_key.zip(self.members) {
            Some((group_key, members)) => {
                set.mode = AttestorMode::Group;
                set.count = members;
                set.keys[0] = group_key;
            }
            None => {
                set.count = self.keys.len() as u8;
                set.keys[..self.keys.len()].copy_from_slice(&self.keys);
            }
        }
        set
    }

    /// The instruction that makes the set the config's.
    fn instruction(&self, authority: &Pubkey, network: &Pubkey) -> Instruction {
        match self.group_key.zip(self.members) {
            Some((group_key, members)) => {
                ix::set_attestor_group(authority, network, group_key, self.threshold, members)
            }
            None => ix::set_attestors(authority, network, self.keys.clone(), self.threshold),
        }
    }
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
        config.attestors.check()?;
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
        let current = existing.as_ref().map(|network| &network.attestors);
        plan.push(
            StepId::Attestors,
            attestors_step(&config.attestors, current),
        );
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
                session.send(&[config.attestors.instruction(&signer, &self.address)])?;
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

/// What the attestor step will do: nothing when the set on chain (`current`) is the config's.
fn attestors_step(wanted: &AttestorsConfig, current: Option<&AttestorSet>) -> Option<String> {
    let set = wanted.wanted();
    // The set on chain, or the empty one a new network starts with; its version aside.
    let current = current.copied().unwrap_or_default();
    let in_place = AttestorSet {
        version: current.version,
        ..set
    } == current;
    (!in_place).then(|| match set.mode {
        AttestorMode::Keys => format!(
            "set the attestor set to {} of {} keys",
            set.threshold, set.count
        ),
        AttestorMode::Group => format!(
            "set the attestor set to group key {} ({} of {} members sign)",
            set.keys[0], set.threshold, set.count
        ),
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

    #[test]
    fn keys_are_read_as_base58_text() {
        let treasury = Pubkey::new_unique();
        let text = std::fs::read_to_string(committed("localnet"))
            .unwrap()
            .replace(
                "# treasury = \"<pubkey>\"",
                &format!("treasury = \"{treasury}\""),
            );
        let config: Config = toml::from_str(&text).unwrap();
        assert_eq!(config.treasury, Some(treasury));
    }

    fn attestors(text: &str) -> Result<AttestorsConfig> {
        let config: AttestorsConfig = toml::from_str(text)?;
        config.check()?;
        Ok(config)
    }

    #[test]
    fn an_attestor_group_is_planned_once_and_refused_when_incomplete() {
        let group_key = Pubkey::new_unique();
        let group = attestors(&format!(
            "group_key = \"{group_key}\"\nmembers = 5\nthreshold = 3"
        ))
        .unwrap();
        let step = attestors_step(&group, None).unwrap();
        assert!(
            step.contains(&group_key.to_string()) && step.contains("3 of 5"),
            "{step}"
        );

        // Planned against a per-key set, in place once the group is the set.
        let keys = attestors(&format!(
            "keys = [\"{}\"]\nthreshold = 1",
            Pubkey::new_unique()
        ))
        .unwrap();
        let mut on_chain = keys.wanted();
        on_chain.version = 4;
        assert!(attestors_step(&keys, Some(&on_chain)).is_none());
        assert!(attestors_step(&group, Some(&on_chain)).is_some());
        let mut on_chain = group.wanted();
        on_chain.version = 5;
        assert!(attestors_step(&group, Some(&on_chain)).is_none());
        assert!(attestors_step(&keys, Some(&on_chain)).is_some());
        let other = attestors(&format!(
            "group_key = \"{group_key}\"\nmembers = 5\nthreshold = 4"
        ))
        .unwrap();
        assert!(attestors_step(&other, Some(&on_chain)).is_some());

        for (text, says) in [
            (
                "group_key = \"not-a-key\"\nmembers = 5\nthreshold = 3".to_string(),
                "\"not-a-key\" is not a base58 public key",
            ),
            (
                format!("group_key = \"{group_key}\"\nthreshold = 3"),
                "needs members",
            ),
            ("members = 5\nthreshold = 3".to_string(), "add group_key"),
            (
                format!("group_key = \"{group_key}\"\nmembers = 2\nthreshold = 3"),
                "between 1 and the --members 2",
            ),
            (
                format!(
                    "keys = [\"{}\"]\ngroup_key = \"{group_key}\"\nmembers = 2\nthreshold = 1",
                    Pubkey::new_unique()
                ),
                "not both",
            ),
        ] {
            let error = format!("{:#}", attestors(&text).err().unwrap());
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
