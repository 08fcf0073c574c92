//! `tessera emissions schedule`: the curve of an emission schedule, epoch by epoch: one given
//! by flags (no ledger needed), or a live network's.

use super::network::check_emission;
use super::{Outcome, Session};
use anyhow::{Context, Result};
use clap::Subcommand;
use serde::Serialize;
use std::fmt;
use tessera::state::EmissionSchedule;
use tessera_ledger::tokens::{format_amount, parse_amount};

/// Decimals of the schedule the flags describe: the reward mint `network init` creates.
const FLAG_DECIMALS: u8 = 6;

#[derive(Subcommand)]
pub enum EmissionsCommand {
    /// Prints the curve of a schedule, epoch by epoch, until it ends or `--epochs`.
    Schedule {
        /// Emission of each early epoch, in whole reward tokens (6 decimals).
        #[arg(long, default_value = "10000")]
        initial: String,
        /// Cut every `--every` epochs, in basis points (5000 halves).
        #[arg(long, default_value_t = 5_000)]
        decay_bps: u16,
        /// Epochs between cuts.
        #[arg(long, default_value_t = 100)]
        every: u32,
        /// Cap on the total, in whole reward tokens.
        #[arg(long, default_value = "100000000")]
        cap: String,
        /// Epochs to print at most.
        #[arg(long, default_value_t = 20)]
        epochs: u64,
        /// Print the schedule of --network on the ledger instead (amounts in its reward
        /// mint's decimals; the other schedule flags are ignored).
        #[arg(long)]
        from_network: bool,
    },
}

impl EmissionsCommand {
    /// Whether the command runs without a ledger: a schedule given by flags.
    pub fn offline(&self) -> bool {
        let EmissionsCommand::Schedule { from_network, .. } = self;
        !from_network
    }

    /// The schedule the flags describe.
    pub fn run_offline(&self) -> Result<Outcome> {
        let EmissionsCommand::Schedule {
            initial,
            decay_bps,
            every,
            cap,
            epochs,
            ..
        } = self;
        let schedule = EmissionSchedule {
            initial_per_epoch: parse_amount(initial, FLAG_DECIMALS).context("--initial")?,
            decay_bps: *decay_bps,
            decay_every_epochs: *every,
            supply_cap: parse_amount(cap, FLAG_DECIMALS).context("--cap")?,
        };
        check_emission(&schedule)?;
        Outcome::view(&Curve::of(&schedule, FLAG_DECIMALS, *epochs))
    }

    /// The schedule of --network, in its reward mint's decimals.
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let EmissionsCommand::Schedule { epochs, .. } = self;
        Outcome::view(&network_curve(session, *epochs)?)
    }
}

/// `emissions schedule --from-network`: the first `epochs` epochs of --network's schedule.
pub fn network_curve(session: &Session, epochs: u64) -> Result<Curve> {
    let (_, network) = session.network()?;
    let reward = session.reward_mint(&network)?;
    Ok(Curve::of(&network.emission, reward.decimals, epochs))
}

/// The emission of each epoch from the first: `[epoch, amount]` pairs, amounts with the
/// reward mint's decimals.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Curve(pub Vec<(u64, String)>);

impl Curve {
    /// The first `epochs` epochs of `schedule`, in a mint of `decimals`.
    pub fn of(schedule: &EmissionSchedule, decimals: u8, epochs: u64) -> Self {
        Self(
            (0..epochs)
                .map(|epoch| {
                    let amount = schedule.emission_for_epoch(epoch);
                    (epoch, format_amount(amount, decimals))
                })
                .collect(),
        )
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>8} {:>24}", "epoch", "emission")?;
        for (epoch, amount) in &self.0 {
            write!(f, "\n{epoch:>8} {amount:>24}")?;
        }
        Ok(())
    }
}
