//! A provider's emissions for every finished epoch it worked in.

use crate::session::{ensure_open, Activity, Session};
use crate::tokens::Mint;
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Result};
use tessera::state::{Network, WorkRecord};
use tessera_client::{filters, flows};

/// What was claimed for a provider, for whom, and what was not and why.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub provider: Pubkey,
    /// The epochs claimed.
    pub epochs: Vec<u64>,
    /// Reward tokens received, in all, in the mint's decimals.
    pub amount: String,
    /// The owners the work records named, who received the tokens.
    pub owners: Vec<Pubkey>,
    /// Work records, any provider's, tallied before the claims (see [`tally_epoch`]).
    pub tallied: usize,
    /// Each epoch not claimed, and why.
    pub skipped: Vec<String>,
}

/// Claims the emission of `provider` (default: the session signer's provider) for each
/// finished epoch it has unclaimed work in, or for `epoch` only. Anyone may claim for any
/// provider, even one that deregistered; rewards go to the owner each work record names.
pub fn claim(session: &Session, provider: Option<Pubkey>, epoch: Option<u64>) -> Result<Claimed> {
    let (network_key, network) = session.network()?;
    ensure_open(&network, Activity::Claims)?;
    // The provider account need not exist any more: each work record names its owner.
    let provider =
        provider.unwrap_or_else(|| tessera_client::pda::provider(&network_key, &session.signer()));
    let reward = session.reward_mint(&network)?;
    let current = network.epoch_at(session.ledger.now()?)?;
    let records = unclaimed_work(session, &network, network_key, provider, epoch, current)?;
    let mut claimed = Claimed {
        provider,
        epochs: Vec::new(),
        amount: String::new(),
        owners: Vec::new(),
        tallied: 0,
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
            claimed.tallied += tally_epoch(session, network_key, record.epoch)?;
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

/// Work records tallied in one transaction: each `tally_work` adds two keys and its data, and
/// eight fit a legacy transaction with room to spare.
const TALLIES_PER_TRANSACTION: usize = 8;

/// Tallies every work record of epoch `epoch` on `network` not yet in the epoch's total, any
/// provider's: claims divide by the total, so they wait for all of them (`tally_work`).
/// Another claimer may tally some at the same time, and one record tallied by someone else
/// fails a whole transaction (`WorkAlreadyTallied`): after a failure it reads the records
/// again and goes on while someone made progress, and fails only when nobody did. Returns how
/// many this call tallied.
pub fn tally_epoch(session: &Session, network: Pubkey, epoch: u64) -> Result<usize> {
    let untallied = || -> Result<Vec<Pubkey>> {
        let records: Vec<(Pubkey, WorkRecord)> = session
            .ledger
            .all_where(&filters::work_records_on(network))?;
        Ok(records
            .into_iter()
            .filter(|(_, record)| record.epoch == epoch && !record.tallied)
            .map(|(_, record)| record.provider)
            .collect())
    };
    let mut tallied = 0;
    let mut left = untallied()?;
    // Each turn leaves fewer records untallied, or fails: the loop ends.
    while !left.is_empty() {
        let count = left.len().min(TALLIES_PER_TRANSACTION);
        let tallies: Vec<_> = left[..count]
            .iter()
            .map(|provider| tessera_client::instructions::tally_work(&network, provider, epoch))
            .collect();
        match session.send(&tallies) {
            Ok(_) => {
                tallied += count;
                left.drain(..count);
            }
            Err(error) => {
                let now_left = untallied()?;
                if now_left.len() >= left.len() {
                    return Err(error.context(format!("tallying epoch {epoch}'s work records")));
                }
                left = now_left;
            }
        }
    }
    Ok(tallied)
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
