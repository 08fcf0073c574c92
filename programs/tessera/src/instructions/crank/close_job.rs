use crate::errors::TesseraError;
use crate::events::JobClosed;
use crate::math;
use crate::state::{Job, JobStatus, Network};
use crate::token::{close_vault, transfer_from_vault};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct CloseJob<'info> {
    /// Anyone may close an ended job; the refund and rent go to the client either way.
    pub cranker: Signer<'info>,

    // Boxed (on the heap): deserialized in place, the network and the job made this block's
    // `try_accounts` need a 6.3 KB stack frame on SBF, past the VM's 4 KB per frame.
    #[account(mut)]
    pub network: Box<Account<'info, Network>>,

    #[account(
        mut,
        close = client,
        has_one = network,
        has_one = client,
        has_one = vault,
        has_one = payment_mint @ TesseraError::WrongMint,
    )]
    pub job: Box<Account<'info, Job>>,

    /// CHECK: receives rent only; `has_one = client` on `job` checks its address.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,

    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    /// The client's token account that receives the unspent escrow.
    #[account(
        mut,
        constraint = client_token.mint == payment_mint.key() @ TesseraError::WrongMint,
        constraint = client_token.owner == client.key() @ TesseraError::WrongTokenAccountOwner,
    )]
    pub client_token: InterfaceAccount<'info, TokenAccount>,

    /// The treasury's token account in the payment mint; needed only when the job owes fees.
    #[account(
        mut,
        constraint = treasury_token.mint == payment_mint.key() @ TesseraError::WrongMint,
        constraint = treasury_token.owner == network.treasury @ TesseraError::WrongTokenAccountOwner,
    )]
    pub treasury_token: Option<InterfaceAccount<'info, TokenAccount>>,

    pub payment_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl CloseJob<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        let job = &self.job;
        require!(
            matches!(job.status, JobStatus::Completed | JobStatus::Cancelled),
            TesseraError::JobNotEnded
        );
        require!(!job.dispute_open, TesseraError::DisputeOpen);
        let paused_secs = self.network.settlement_pauses.paused_secs_at(now)?;
        require!(
            now >= job.closes_at(paused_secs)?,
            TesseraError::DisputeWindowOpen
        );
        let owes_fees = job.fees_accrued > job.fees_paid;
        require!(
            !owes_fees || self.treasury_token.is_some(),
            TesseraError::TreasuryAccountRequired
        );
        Ok(())
    }
}

/// Pays the accrued protocol fees to the treasury, returns everything else in the vault to the
/// client, and closes the vault and the job. A job nobody accepted, or cancelled as a no-show,
/// closes at once; others once receipts can no longer settle and disputes can no longer open.
pub(crate) fn handler(ctx: Context<CloseJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    ctx.accounts.job.invariant(ctx.accounts.vault.amount)?;

    let job = &ctx.accounts.job;
    let seeds = job.signer_seeds();
    let fees = math::sub(job.fees_accrued, job.fees_paid)?;
    if let (true, Some(treasury_token)) = (fees > 0, ctx.accounts.treasury_token.as_ref()) {
        transfer_from_vault(
            &ctx.accounts.token_program,
            &ctx.accounts.vault,
            treasury_token,
            &ctx.accounts.payment_mint,
            ctx.accounts.job.to_account_info(),
            &seeds.as_seeds(),
            fees,
        )?;
    }
    // Everything else in the vault, including tokens others sent to it, goes back to the client.
    let refund = math::sub(ctx.accounts.vault.amount, fees)?;
    if refund > 0 {
        transfer_from_vault(
            &ctx.accounts.token_program,
            &ctx.accounts.vault,
            &ctx.accounts.client_token,
            &ctx.accounts.payment_mint,
            ctx.accounts.job.to_account_info(),
            &seeds.as_seeds(),
            refund,
        )?;
    }
    close_vault(
        &ctx.accounts.token_program,
        &ctx.accounts.vault,
        ctx.accounts.client.to_account_info(),
        ctx.accounts.job.to_account_info(),
        &seeds.as_seeds(),
    )?;

    let job = &mut ctx.accounts.job;
    job.fees_paid = math::add(job.fees_paid, fees)?;
    job.refunded = math::add(job.refunded, refund)?;
    let network = &mut ctx.accounts.network;
    network.totals.open_jobs = math::sub(network.totals.open_jobs, 1)?;
    crate::events::emit(JobClosed {
        job: job.key(),
        client: job.client,
        refunded: job.refunded,
        paid_out: job.paid_out,
        fees: job.fees_paid,
    });
    Ok(())
}
