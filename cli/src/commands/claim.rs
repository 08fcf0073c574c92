//! `tessera claim`: a provider's emissions for every finished epoch it worked in.

use super::{Outcome, Session};
use crate::view::{as_text, as_texts, Indented};
use anchor_lang::prelude::Pubkey;
use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::fmt;
use tessera_ledger::actions;

/// Whose emissions to claim, and for which epochs. A claim first tallies every work record of
/// the epoch not yet in the epoch's total, any provider's (`tally_work`): claims divide by the
/// total, so they wait for all of them.
#[derive(Args)]
pub struct ClaimArgs {
    /// The provider account (default: --keypair's provider on --network), even one that has
    /// deregistered since. Anyone may claim for any provider; rewards always go to the owner
    /// recorded with the work.
    #[arg(long)]
    pub provider: Option<Pubkey>,
    /// Only this epoch (default: every finished epoch with attested work).
    #[arg(long)]
    pub epoch: Option<u64>,
}

impl ClaimArgs {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        Outcome::view(&claim(session, self)?)
    }
}

/// `claim`: claims the provider's emission for each finished epoch it has unclaimed work in.
pub fn claim(session: &Session, args: &ClaimArgs) -> Result<Claimed> {
    let claimed = actions::claim::claim(session, args.provider, args.epoch)?;
    Ok(Claimed {
        provider: claimed.provider,
        epochs: claimed.epochs,
        amount: claimed.amount,
        owners: claimed.owners,
        tallied: claimed.tallied,
        skipped: claimed.skipped,
    })
}

/// `claim`: what was claimed for a provider, for whom, and what was not and why.
#[derive(Serialize)]
pub struct Claimed {
    #[serde(serialize_with = "as_text")]
    pub provider: Pubkey,
    /// The epochs claimed.
    pub epochs: Vec<u64>,
    /// Reward tokens received, in all.
    pub amount: String,
    /// The owners the work records named, who received the tokens.
    #[serde(serialize_with = "as_texts")]
    pub owners: Vec<Pubkey>,
    /// Work records of the claimed epochs, any provider's, that this claim tallied first
    /// (claims wait until every record of an epoch is in its total).
    pub tallied: usize,
    /// Each epoch not claimed, and why.
    pub skipped: Vec<String>,
}

impl fmt::Display for Claimed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epochs.is_empty() {
            write!(f, "nothing to claim for provider {} yet", self.provider)?;
        } else {
            let owners: Vec<String> = self.owners.iter().map(Pubkey::to_string).collect();
            write!(
                f,
                "claimed {} for provider {} (epochs {:?}) to {}",
                self.amount,
                self.provider,
                self.epochs,
                owners.join(", ")
            )?;
            if self.tallied > 0 {
                write!(
                    f,
                    "; tallied {} work record(s) of those epochs first",
                    self.tallied
                )?;
            }
        }
        write!(f, "{}", Indented(&self.skipped))
    }
}
