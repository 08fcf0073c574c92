use crate::errors::TesseraError;
use crate::events::ServiceSettled;
use crate::instructions::settle::verify::{
    record_work, require_current_epoch, verify_receipt, ReceiptArgs, ReceiptContext, WorkAccounts,
};
use crate::state::{Epoch, Network, Provider, WorkRecord};
use anchor_lang::prelude::*;

#[derive(Accounts)]
#[instruction(args: ReceiptArgs)]
pub struct SettleService<'info> {
    /// Anyone holding the signed receipt; pays rent for a new epoch or work record.
    #[account(mut)]
    pub submitter: Signer<'info>,

    #[account(mut)]
    pub network: Box<Account<'info, Network>>,

    #[account(mut, has_one = network)]
    pub provider: Box<Account<'info, Provider>>,

    /// CHECK: the instructions sysvar, by address; the Ed25519 instruction is read from it.
    #[account(address = solana_sdk_ids::sysvar::instructions::ID @ TesseraError::InvalidInstructionsSysvar)]
    pub instructions: UncheckedAccount<'info>,

    /// CHECK: the epoch's PDA, by seeds; created on first use and read as an `Epoch`.
    #[account(
        mut,
        seeds = [Epoch::SEED, network.key().as_ref(), &args.epoch.to_le_bytes()],
        bump,
    )]
    pub epoch: UncheckedAccount<'info>,

    /// CHECK: the provider's work-record PDA for the epoch, by seeds; created on first use and read as a `WorkRecord`.
    #[account(
        mut,
        seeds = [WorkRecord::SEED, provider.key().as_ref(), &args.epoch.to_le_bytes()],
        bump,
    )]
    pub work_record: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

/// Records service (bandwidth relayed, uptime served) that no client pays for: the receipt's
/// subject is the provider itself, the attestor quorum must co-sign, and it earns emission units only.
pub(crate) fn handler(ctx: Context<SettleService>, args: ReceiptArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.network.require_settlements_open()?;
    require_current_epoch(&ctx.accounts.network, args.epoch, now)?;
    let instructions = ctx.accounts.instructions.to_account_info();
    verify_receipt(
        &ReceiptContext {
            instructions_sysvar: &instructions,
            network: &ctx.accounts.network,
            network_key: ctx.accounts.network.key(),
            provider: &ctx.accounts.provider,
            provider_key: ctx.accounts.provider.key(),
            subject: ctx.accounts.provider.key(),
            subject_nonce: ctx.accounts.provider.nonce,
            client: None,
            unit_kind: None,
        },
        &args,
        now,
    )?;

    let provider = &mut ctx.accounts.provider;
    require!(
        args.cumulative_units > provider.service_units,
        TesseraError::ReceiptNotNewer
    );
    let units = args.cumulative_units - provider.service_units;
    provider.service_units = args.cumulative_units;
    let network = &mut ctx.accounts.network;
    network.totals.service_units = network.totals.service_units.saturating_add(units as u128);

    let payer = ctx.accounts.submitter.to_account_info();
    let weighted_units = record_work(
        &WorkAccounts {
            epoch: &ctx.accounts.epoch.to_account_info(),
            epoch_bump: ctx.bumps.epoch,
            work_record: &ctx.accounts.work_record.to_account_info(),
            work_bump: ctx.bumps.work_record,
            payer: &payer,
            system_program: &ctx.accounts.system_program,
        },
        &ctx.accounts.network,
        ctx.accounts.network.key(),
        &ctx.accounts.provider,
        ctx.accounts.provider.key(),
        args.epoch,
        units,
    )?;
    emit!(ServiceSettled {
        provider: ctx.accounts.provider.key(),
        cumulative_units: args.cumulative_units,
        units,
        epoch: args.epoch,
        weighted_units,
    });
    Ok(())
}
