use crate::errors::TesseraError;
use crate::events::JobCompleted;
use crate::math;
use crate::state::{Job, JobStatus, Network, Provider};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct CompleteJob<'info> {
    pub owner: Signer<'info>,

    /// Read for the settlement-pause clock.
    pub network: Account<'info, Network>,

    #[account(mut, has_one = owner @ TesseraError::NotProviderOwner, has_one = network)]
    pub provider: Account<'info, Provider>,

    #[account(mut, has_one = network)]
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

/// Marks the work done with a digest of its results. Receipts issued until now may settle
/// within the job's dispute window from now.
pub(crate) fn handler(ctx: Context<CompleteJob>, result_hash: [u8; 32]) -> Result<()> {
    ctx.accounts.validate()?;
    let now = Clock::get()?.unix_timestamp;
    let provider = &mut ctx.accounts.provider;
    provider.active_jobs = provider
        .active_jobs
        .checked_sub(1)
        .ok_or_else(|| error!(TesseraError::InvariantViolated))?;
    provider.jobs_completed = math::add(provider.jobs_completed, 1)?;
    let paused_secs = ctx.accounts.network.settlement_pauses.paused_secs_at(now)?;
    let job = &mut ctx.accounts.job;
    job.end(JobStatus::Completed, now, paused_secs);
    job.result_hash = result_hash;
    crate::events::emit(JobCompleted {
        job: job.key(),
        provider: provider.key(),
        result_hash,
        settled_units: job.settled_units,
        ended_at: now,
    });
    Ok(())
}
