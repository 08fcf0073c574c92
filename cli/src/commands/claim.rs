//! `tessera claim`: a provider's emissions for every finished epoch it worked in.

use super::{ensure_open, Activity, Outcome, Session};
use crate::tokens::Mint;
use crate::view::{as_text, as_texts, Indented};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Result};
use clap::Args;
use serde::Serialize;
use std::fmt;
use tessera::state::{Network, WorkRecord};
use tessera_client::{filters, flows};

/// Whose emissions to claim, and for which epochs.
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
    let (network_key, network) = session.network()?;
    ensure_open(&network, Activity::Claims)?;
    // The provider account need not exist any more: each work record names its owner.
    let provider = args
        .provider
        .unwrap_or_else(|| tessera_client::pda::provider(&network_key, &session.signer()));
    let reward = session.reward_mint(&network)?;
    let current = network.epoch_at(session.ledger.now()?)?;
    let records = unclaimed_work(
        session,
        &network,
        network_key,
        provider,
        args.epoch,
        current,
    )?;
    let mut claimed = Claimed {
        provider,
        epochs: Vec::new(),
        amount: String::new(),
        owners: Vec::new(),
        skipped: Vec::new(),
    };
    let mut gained = 0;
    for record in &records {
        if record.epoch >= current {
            claimed
                .skipped
                .push(format!("epoch {} is not over", record.epoch));
        } else if record.units == 0 {
            claimed.skipped.push(format!(
                "epoch {}: no attested work, nothing to claim",
                record.epoch
            ));
        } else {
            gained += claim_record(session, network_key, &reward, provider, record)?;
            claimed.epochs.push(record.epoch);
            if !claimed.owners.contains(&record.owner) {
                claimed.owners.push(record.owner);
            }
        }
    }
    claimed.amount = reward.format(gained);
    Ok(claimed)
}

/// The unclaimed work records of `provider` on the network at `network_key`, oldest first:
/// those of `epoch` only when given, which must be over (`current` is the ledger's epoch).
fn unclaimed_work(
    session: &Session,
    network: &Network,
    network_key: Pubkey,
    provider: Pubkey,
    epoch: Option<u64>,
    current: u64,
) -> Result<Vec<WorkRecord>> {
    let ledger = session.ledger;
    let records: Vec<(Pubkey, WorkRecord)> =
        ledger.all_where(&filters::work_records_of(provider))?;
    let mut records: Vec<WorkRecord> = records
        .into_iter()
        .map(|(_, record)| record)
        .filter(|record| record.network == network_key)
        .collect();
    records.sort_by_key(|record| record.epoch);
    if records.is_empty() && !ledger.exists(&provider)? {
        bail!(
            "{provider} is no provider on network {} and has no unclaimed work: pass the \
             provider account with --provider (`tessera provider list`)",
            network.network_id
        );
    }
    if let Some(epoch) = epoch {
        ensure!(
            epoch < current,
            "epoch {epoch} is not over (the ledger is in epoch {current}); claim once it ends"
        );
        records.retain(|record| record.epoch == epoch);
        ensure!(
            !records.is_empty(),
            "provider {provider} has no unclaimed work in epoch {epoch}"
        );
    }
    Ok(records)
}

/// Claims the emission `record` earned; returns what its owner received, in base units.
fn claim_record(
    session: &Session,
    network: Pubkey,
    reward: &Mint,
    provider: Pubkey,
    record: &WorkRecord,
) -> Result<u64> {
    let owner_token = reward.associated(&record.owner);
    let claim = flows::claim(
        session.signer(),
        network,
        reward.key,
        provider,
        record,
        record.epoch,
    );
    let before = session.ledger.token_balance(&owner_token)?;
    session.send(&claim)?;
    Ok(session.ledger.token_balance(&owner_token)? - before)
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
        }
        write!(f, "{}", Indented(&self.skipped))
    }
}
