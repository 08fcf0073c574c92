use crate::errors::TesseraError;
use crate::events::ReceiptSettled;
use crate::instructions::settle::verify::{
    record_work, require_current_epoch, verify_receipt, ReceiptArgs, ReceiptContext, WorkAccounts,
};
use crate::math;
use crate::state::{Epoch, Job, JobStatus, Network, Provider, WorkRecord};
use crate::token::transfer_from_vault;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
#[instruction(args: ReceiptArgs)]
pub struct SettleReceipt<'info> {
    /// Anyone holding the signed receipt; pays rent for a new epoch or work record.
    #[account(mut)]
    pub submitter: Signer<'info>,

    #[account(mut)]
    pub network: Box<Account<'info, Network>>,

    #[account(mut, has_one = network)]
    pub provider: Box<Account<'info, Provider>>,

    #[account(
        mut,
        has_one = network,
        has_one = vault,
        has_one = payment_mint @ TesseraError::WrongMint,
        constraint = job.provider == provider.key() @ TesseraError::NotJobProvider,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The provider owner's token account in the payment mint.
    #[account(
        mut,
        constraint = provider_token.mint == payment_mint.key() @ TesseraError::WrongMint,
        constraint = provider_token.owner == provider.owner @ TesseraError::WrongTokenAccountOwner,
    )]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,

    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,

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

impl SettleReceipt<'_> {
    /// Running jobs settle any receipt; an ended job (not a no-show) settles receipts issued
    /// before its end, until its settlement window closes, so that neither a cancellation nor
    /// a settlement pause can void receipts the client already co-signed.
    fn validate(&self, args: &ReceiptArgs, now: i64) -> Result<()> {
        let job = &self.job;
        self.network.require_settlements_open()?;
        match job.status {
            JobStatus::Running => {}
            JobStatus::Completed | JobStatus::Cancelled if !job.no_show => {
                require!(
                    args.issued_at <= job.ended_at,
                    TesseraError::ReceiptIssuedAfterJobEnded
                );
                let paused_secs = self.network.settlement_pauses.paused_secs_at(now)?;
                require!(
                    now < job.settlement_window_ends(paused_secs)?,
                    TesseraError::SettlementWindowClosed
                );
            }
            _ => return err!(TesseraError::JobNotSettleable),
        }
        require_current_epoch(&self.network, args.epoch, now)
    }
}

/// Pays the provider for the units the receipt adds over the job's high-water mark, less the
/// protocol fee (which stays in the vault for the treasury), and records the units for emissions.
pub(crate) fn handler(ctx: Context<SettleReceipt>, args: ReceiptArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(&args, now)?;
    let instructions = ctx.accounts.instructions.to_account_info();
    let attestation = verify_receipt(
        &ReceiptContext {
            instructions_sysvar: &instructions,
            network: &ctx.accounts.network,
            network_key: ctx.accounts.network.key(),
            provider: &ctx.accounts.provider,
            provider_key: ctx.accounts.provider.key(),
            subject: ctx.accounts.job.key(),
            subject_nonce: ctx.accounts.job.nonce,
            client: Some(ctx.accounts.job.client),
            unit_kind: Some(ctx.accounts.job.unit_kind),
        },
        &args,
        now,
    )?;

    let job = &ctx.accounts.job;
    if !attestation.by_client && job.has_ended() {
        // A disputable settlement after the job ended must find stake to slash: a provider
        // that already withdrew could otherwise settle and leave nothing behind.
        let class = ctx
            .accounts
            .network
            .params
            .class(ctx.accounts.provider.class);
        require!(
            ctx.accounts.provider.vault_liability()? >= class.min_stake,
            TesseraError::StakeBelowMinimum
        );
    }
    require!(
        args.cumulative_units <= job.max_units,
        TesseraError::UnitsExceedMax
    );
    require!(
        args.cumulative_units > job.settled_units,
        TesseraError::ReceiptNotNewer
    );
    let units = args.cumulative_units - job.settled_units;
    let fees_accrued = job.fees_on(args.cumulative_units)?;
    let fee = math::sub(fees_accrued, job.fees_accrued)?;
    let payment = math::sub(job.gross(units)?, fee)?;

    if payment > 0 {
        let (network_key, client_key) = (job.network, job.client);
        let job_id = job.job_id.to_le_bytes();
        let seeds: &[&[u8]] = &[
            Job::SEED,
            network_key.as_ref(),
            client_key.as_ref(),
            &job_id,
            &[job.bump],
        ];
        transfer_from_vault(
            &ctx.accounts.token_program,
            &ctx.accounts.vault,
            &ctx.accounts.provider_token,
            &ctx.accounts.payment_mint,
            ctx.accounts.job.to_account_info(),
            seeds,
            payment,
        )?;
    }

    let job = &mut ctx.accounts.job;
    job.settled_units = args.cumulative_units;
    job.paid_out = math::add(job.paid_out, payment)?;
    job.fees_accrued = fees_accrued;
    job.last_settled_at = now;
    let provider = &mut ctx.accounts.provider;
    if !attestation.by_client {
        // The client may dispute this settlement for the job's window; the stake stays until then.
        job.last_attested_at = now;
        provider.extend_slashable(job.dispute_window_ends()?);
    }
    provider.settled_units = provider.settled_units.saturating_add(units);
    let network = &mut ctx.accounts.network;
    network.totals.settled_units = network.totals.settled_units.saturating_add(units as u128);

    // Only work the attestors vouched for earns emissions (see `record_work`).
    let weighted_units = if attestation.by_attestors {
        let payer = ctx.accounts.submitter.to_account_info();
        record_work(
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
        )?
    } else {
        0
    };

    ctx.accounts.vault.reload()?;
    ctx.accounts.job.invariant(ctx.accounts.vault.amount)?;
    emit!(ReceiptSettled {
        job: ctx.accounts.job.key(),
        provider: ctx.accounts.provider.key(),
        attestation,
        cumulative_units: args.cumulative_units,
        units,
        payment,
        fee,
        epoch: args.epoch,
        weighted_units,
    });
    Ok(())
}
