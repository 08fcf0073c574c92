use crate::errors::TesseraError;
use crate::events::ServiceSettled;
// The glob brings the composite's generated client and bump types, which `#[derive(Accounts)]` names.
use super::receipt_accounts::*;
use crate::settlement::{require_current_epoch, ReceiptArgs};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SettleService<'info> {
    /// The receipt's subject is `settlement.provider` itself.
    pub settlement: ReceiptAccounts<'info>,
}

/// Records service (bandwidth relayed, uptime served) that no client pays for: the receipt's
/// subject is the provider itself, the attestor quorum must co-sign, and it earns emission units only.
pub(crate) fn handler(ctx: Context<SettleService>, args: ReceiptArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = &mut ctx.accounts.settlement;
    accounts.network.require_settlements_open()?;
    require_current_epoch(&accounts.network, args.epoch, now)?;
    let subject = Subject {
        key: accounts.provider.key(),
        nonce: accounts.provider.nonce,
        client: None,
        unit_kind: None,
    };
    accounts.verify(subject, &args, now)?;

    let provider = &mut accounts.provider;
    require!(
        args.cumulative_units > provider.service_units,
        TesseraError::ReceiptNotNewer
    );
    let units = args.cumulative_units - provider.service_units;
    // The network's total is the sum over its providers (see `NetworkTotals::deregistered_service_units`).
    provider.service_units = args.cumulative_units;

    let mut weighted = [0u128];
    accounts.record(args.epoch, &[units], &mut weighted)?;
    let [weighted_units] = weighted;
    crate::events::emit(ServiceSettled {
        provider: accounts.provider.key(),
        cumulative_units: args.cumulative_units,
        units,
        epoch: args.epoch,
        weighted_units,
    });
    Ok(())
}
