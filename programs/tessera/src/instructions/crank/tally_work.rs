use crate::errors::TesseraError;
use crate::events::WorkTallied;
use crate::math;
use crate::state::{Epoch, Network, WorkRecord};
use anchor_lang::prelude::*;

/// Adds one work record's units to its epoch's total once the epoch is over. Settlements write
/// a provider's units into its own work record only, so that settlements of different
/// providers share no write lock; the epoch's total, which every claim divides by, is the sum
/// of its records, taken here one record at a time.
// `dup` leaves the epoch and the record out of Anchor's duplicate check (a hash set, about
// 700 CU a key on SBF): their types keep them apart.
#[derive(Accounts)]
#[instruction(epoch_index: u64)]
pub struct TallyWork<'info> {
    pub network: Box<Account<'info, Network>>,

    /// CHECK: the provider's address only (it may have deregistered since the work); the work
    /// record's seeds bind it.
    pub provider: UncheckedAccount<'info>,

    #[account(
        mut,
        dup,
        seeds = [Epoch::SEED, network.key().as_ref(), &epoch_index.to_le_bytes()],
        bump = epoch.bump,
    )]
    pub epoch: Box<Account<'info, Epoch>>,

    #[account(
        mut,
        dup,
        seeds = [WorkRecord::SEED, provider.key().as_ref(), &epoch_index.to_le_bytes()],
        bump = work_record.bump,
        has_one = network,
    )]
    pub work_record: Box<Account<'info, WorkRecord>>,
}

/// Anyone, once the epoch is over, once per work record: adds the record's eligible units to
/// the epoch's total. Claims wait until every record of the epoch is tallied.
pub(crate) fn handler(ctx: Context<TallyWork>, epoch_index: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let next_epoch = math::add(epoch_index, 1)?;
    require!(
        now >= ctx.accounts.network.epoch_start(next_epoch)?,
        TesseraError::EpochNotOver
    );
    let work = &mut ctx.accounts.work_record;
    require!(!work.tallied, TesseraError::WorkAlreadyTallied);
    work.tallied = true;
    let epoch = &mut ctx.accounts.epoch;
    // Sums saturate, as settlements' did: a claim treats a saturated total as "all of the
    // epoch", which can never mint more than the emission.
    epoch.total_units = epoch.total_units.saturating_add(work.units);
    epoch.tallied_records = math::add(epoch.tallied_records, 1)?;
    epoch.invariant()?;
    crate::events::emit(WorkTallied {
        provider: ctx.accounts.provider.key(),
        epoch: epoch_index,
        units: work.units,
        epoch_units: epoch.total_units,
        tallied_records: epoch.tallied_records,
        work_records: epoch.work_records,
    });
    Ok(())
}
