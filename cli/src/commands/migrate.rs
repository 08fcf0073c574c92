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
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;
use serde_json::json;
use std::path::Path;
use tessera::state::{ClassParams, EmissionSchedule, Network, NetworkParams};
use tessera_client::{instructions as ix, pda};

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

/// One planned step: its number and name, and what it will do (None: already in place).
struct Step {
    id: &'static str,
    action: Option<String>,
}

/// Plans every step against the chain, then (unless `dry_run`) applies those not in place.
pub fn run(session: &Session, path: &Path, dry_run: bool) -> Result<Outcome> {
    let config = Config::read(path)?;
    let ledger = session.ledger;
    let signer = session.signer();
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

    let mut steps = Vec::new();
    if let (None, Some(mint)) = (&existing, config.reward_mint.address) {
        check_adoptable(session, config.network_id, &mint, &signer, "--keypair")?;
    }
    match &existing {
        None => steps.push(Step {
            id: "0001-network",
            action: Some(match config.reward_mint.address {
                Some(mint) => format!(
                    "create network {} at {address}, adopting reward mint {mint}",
                    config.network_id
                ),
                None => format!(
                    "create network {} at {address} and a new reward mint ({decimals} decimals)",
                    config.network_id
                ),
            }),
        }),
        Some(network) => {
            if let Some(mint) = config.reward_mint.address {
                ensure!(
                    mint == network.reward_mint,
                    "network {} already uses reward mint {}, not {mint}: a reward mint \
                    cannot change",
                    config.network_id,
                    network.reward_mint
                );
            }
            ensure!(
                network.emission == emission,
                "network {}'s emission schedule differs from the config's, and a \
                schedule is fixed for a network's life: fix [emission] in {}",
                config.network_id,
                path.display()
            );
            ensure!(
                network.params.epoch_length_secs == params.epoch_length_secs,
                "network {}'s epochs are {} s, the config says {}: the epoch length is \
                fixed once a network exists",
                config.network_id,
                network.params.epoch_length_secs,
                params.epoch_length_secs
            );
            steps.push(Step {
                id: "0001-network",
                action: None,
            });
        }
    }
    let authority = existing.as_ref().map_or(signer, |n| n.authority);
    let current_keys: Vec<Pubkey> = existing.as_ref().map_or_else(Vec::new, |n| {
        n.attestors.keys[..n.attestors.count as usize].to_vec()
    });
    let current_threshold = existing.as_ref().map_or(0, |n| n.attestors.threshold);
    steps.push(Step {
        id: "0002-attestors",
        action: (current_keys != config.attestors.keys
            || current_threshold != config.attestors.threshold)
            .then(|| {
                format!(
                    "set the attestor set to {} of {} keys",
                    config.attestors.threshold,
                    config.attestors.keys.len()
                )
            }),
    });
    let current_params = existing.as_ref().map_or(params, |n| n.params);
    steps.push(Step {
        id: "0003-parameters",
        action: (current_params != params)
            .then(|| "update the network parameters to the config's".to_string()),
    });
    if steps.iter().any(|s| s.action.is_some()) && existing.is_some() {
        ensure!(
            authority == signer,
            "network {} is governed by {authority}; run the migration with that \
            --keypair (it is {signer})",
            config.network_id
        );
    }

    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for step in &steps {
        let (state, text) = match (&step.action, dry_run) {
            (None, _) => ("in place", "already as configured".to_string()),
            (Some(action), true) => ("would run", action.clone()),
            (Some(action), false) => {
                match step.id {
                    "0001-network" => {
                        let reward = match config.reward_mint.address {
                            Some(mint) => RewardMint::Adopt {
                                mint,
                                authority: session.keypair(),
                                authority_flag: "--keypair",
                            },
                            None => RewardMint::Create {
                                decimals,
                                allocation: if config.reward_mint.allocation.is_empty() {
                                    0
                                } else {
                                    parse_amount(&config.reward_mint.allocation, decimals)
                                        .context("reward_mint.allocation")?
                                },
                            },
                        };
                        initialize(
                            session,
                            config.network_id,
                            reward,
                            config.treasury.unwrap_or(signer),
                            params,
                            emission,
                        )?;
                    }
                    "0002-attestors" => {
                        ledger.send(
                            &[ix::set_attestors(
                                &signer,
                                &address,
                                config.attestors.keys.clone(),
                                config.attestors.threshold,
                            )],
                            &[],
                        )?;
                    }
                    "0003-parameters" => {
                        ledger.send(&[ix::update_parameters(&signer, &address, params)], &[])?;
                    }
                    other => bail!("unknown migration step {other}"),
                }
                ("done", action.clone())
            }
        };
        lines.push(format!("{} {state}: {text}", step.id));
        rows.push(json!({"step": step.id, "state": state, "action": text}));
    }
    Ok(Outcome::new(
        format!(
            "migration {} on {}{}\n  {}",
            path.display(),
            ledger.url(),
            if dry_run {
                " (dry run: nothing sent)"
            } else {
                ""
            },
            lines.join("\n  ")
        ),
        json!({
            "config": path.display().to_string(),
            "dry_run": dry_run,
            "network": address.to_string(),
            "steps": rows,
        }),
    ))
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
