use crate::errors::TesseraError;
use crate::events::JobToppedUp;
use crate::math;
use crate::state::{Job, JobStatus};
use crate::token::transfer_from_wallet;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct TopUp<'info> {
    pub client: Signer<'info>,

    #[account(
        mut,
        has_one = client @ TesseraError::NotJobClient,
        has_one = vault,
        has_one = payment_mint @ TesseraError::WrongMint,
    )]
    pub job: Account<'info, Job>,

    #[account(mut)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    pub payment_mint: InterfaceAccount<'info, Mint>,

    #[account(mut, constraint = source.mint == payment_mint.key() @ TesseraError::WrongMint)]
    pub source: InterfaceAccount<'info, TokenAccount>,

    pub token_program: Interface<'info, TokenInterface>,
}

impl TopUp<'_> {
    fn validate(&self, additional_units: u64) -> Result<()> {
        require!(
            matches!(self.job.status, JobStatus::Open | JobStatus::Running),
            TesseraError::JobNotActive
        );
        require!(additional_units > 0, TesseraError::ZeroAmount);
        Ok(())
    }
}

/// Raises `max_units` by `additional_units` and deposits `price_per_unit * additional_units`.
pub(crate) fn handler(ctx: Context<TopUp>, additional_units: u64) -> Result<()> {
    ctx.accounts.validate(additional_units)?;
    let job = &ctx.accounts.job;
    let amount = math::mul(job.price_per_unit, additional_units)?;
    let max_units = math::add(job.max_units, additional_units)?;
    let deposited = math::add(job.deposited, amount)?;

    transfer_from_wallet(
        &ctx.accounts.token_program,
        &ctx.accounts.source,
        &ctx.accounts.vault,
        &ctx.accounts.payment_mint,
        &ctx.accounts.client,
        amount,
    )?;

    let job = &mut ctx.accounts.job;
    job.max_units = max_units;
    job.deposited = deposited;
    ctx.accounts.vault.reload()?;
    ctx.accounts.job.invariant(ctx.accounts.vault.amount)?;
    crate::events::emit(JobToppedUp {
        job: ctx.accounts.job.key(),
        additional_units,
        amount,
        max_units,
        deposited,
    });
    Ok(())
}
