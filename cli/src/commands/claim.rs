//! `tessera claim`: a provider's emissions for every finished epoch it worked in.

use super::{ensure_open, Activity, Outcome, Session};
use anchor_lang::prelude::Pubkey;
use anyhow::{bail, ensure, Result};
use clap::Args;
use serde_json::json;
use tessera::state::WorkRecord;
use tessera_client::flows;

#[derive(Args)]
pub struct ClaimArgs {
    /// The provider account (default: --keypair's provider on --network), even one that has
    /// deregistered since. Anyone may claim for any provider; rewards always go to the owner
    /// recorded with the work.
    #[arg(long)]
    provider: Option<Pubkey>,
    /// Only this epoch (default: every finished epoch with attested work).
    #[arg(long)]
    epoch: Option<u64>,
}

impl ClaimArgs {
    pub fn run(&self, session: &Session) -> Result<Outcome> {
        let (network_key, network) = session.network()?;
        ensure_open(&network, Activity::Claims)?;
        let ledger = session.ledger;
        let me = session.signer();
        // The provider account need not exist any more: each work record names its owner.
        let provider = self
            .provider
            .unwrap_or_else(|| tessera_client::pda::provider(&network_key, &me));
        let reward = session.reward_mint(&network)?;
        let now = ledger.now()?;
        let current = network.epoch_at(now)?;
        // Work records: [discriminator 8][provider 32][epoch 8]...
        let mut records: Vec<(Pubkey, WorkRecord)> = ledger.all_where(&[(8, provider)])?;
        records.retain(|(_, record)| record.network == network_key);
        records.sort_by_key(|(_, record)| record.epoch);
        if records.is_empty() && !ledger.exists(&provider)? {
            bail!(
                "{provider} is no provider on network {} and has no unclaimed work: pass the \
                 provider account with --provider (`tessera provider list`)",
                network.network_id
            );
        }
        if let Some(epoch) = self.epoch {
            ensure!(
                epoch < current,
                "epoch {epoch} is not over (the ledger is in epoch {current}); claim once it ends"
            );
            records.retain(|(_, record)| record.epoch == epoch);
            ensure!(
                !records.is_empty(),
                "provider {provider} has no unclaimed work in epoch {epoch}"
            );
        }
        let mut claimed = Vec::new();
        let mut skipped = Vec::new();
        let mut gained = 0;
        let mut owners = Vec::new();
        for (_, record) in &records {
            if record.epoch >= current {
                skipped.push(format!("epoch {} is not over", record.epoch));
                continue;
            }
            if record.units == 0 {
                skipped.push(format!(
                    "epoch {}: no attested work, nothing to claim",
                    record.epoch
                ));
                continue;
            }
            let owner_token = reward.associated(&record.owner);
            let claim = flows::claim(me, network_key, reward.key, provider, record, record.epoch);
            let before = ledger.token_balance(&owner_token)?;
            ledger.send(&claim, &[])?;
            gained += ledger.token_balance(&owner_token)? - before;
            claimed.push(record.epoch);
            if !owners.contains(&record.owner) {
                owners.push(record.owner);
            }
        }
        let owners: Vec<String> = owners.iter().map(Pubkey::to_string).collect();
        let mut text = if claimed.is_empty() {
            format!("nothing to claim for provider {provider} yet")
        } else {
            format!(
                "claimed {} for provider {provider} (epochs {:?}) to {}",
                reward.format(gained),
                claimed,
                owners.join(", ")
            )
        };
        for line in &skipped {
            text += &format!("\n  {line}");
        }
        Ok(Outcome::new(
            text,
            json!({
                "provider": provider.to_string(),
                "epochs": claimed,
                "amount": reward.format(gained),
                "owners": owners,
                "skipped": skipped,
            }),
        ))
    }
}
