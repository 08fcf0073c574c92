use crate::errors::TesseraError;
use crate::events::JobCompleted;
use crate::math;
use crate::state::{Job, JobStatus, Provider};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct CompleteJob<'info> {
    pub owner: Signer<'info>,

    #[account(mut, has_one = owner @ TesseraError::NotProviderOwner)]
    pub provider: Account<'info, Provider>,

    #[account(mut)]
    pub job: Account<'info, Job>,
}

impl CompleteJob<'_> {
    fn validate(&self) -> Result<()> {
        require!(
            self.job.status == JobStatus::Running,
            TesseraError::JobNotRunning
        );
        require_keys_eq!(
            self.job.provider,
            self.provider.key(),
            TesseraError::NotJobProvider
        );
        Ok(())
    }
}

/// Marks the work done with a digest of its results; the dispute window starts now.
pub(crate) fn handler(ctx: Context<CompleteJob>, result_hash: [u8; 32]) -> Result<()> {
    ctx.accounts.validate()?;
    let now = Clock::get()?.unix_timestamp;
    let provider = &mut ctx.accounts.provider;
    provider.active_jobs = provider
        .active_jobs
        .checked_sub(1)
        .ok_or_else(|| error!(TesseraError::InvariantViolated))?;
    provider.jobs_completed = math::add(provider.jobs_completed, 1)?;
    let job = &mut ctx.accounts.job;
    job.status = JobStatus::Completed;
    job.result_hash = result_hash;
    job.ended_at = now;
    emit!(JobCompleted {
        job: job.key(),
        provider: provider.key(),
        result_hash,
        settled_units: job.settled_units,
        ended_at: now,
    });
    Ok(())
}
