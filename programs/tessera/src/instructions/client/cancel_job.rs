use crate::errors::TesseraError;
use crate::events::JobCancelled;
use crate::state::{Job, JobStatus, Provider};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct CancelJob<'info> {
    pub client: Signer<'info>,

    #[account(mut, has_one = client @ TesseraError::NotJobClient)]
    pub job: Account<'info, Job>,

    /// The job's provider; required once a provider has accepted, to release its job slot.
    #[account(mut)]
    pub provider: Option<Account<'info, Provider>>,
}

impl CancelJob<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        let job = &self.job;
        match job.status {
            JobStatus::Open => require!(now > job.accept_by, TesseraError::CancelTooEarly),
            JobStatus::Running => {
                require!(now > job.deadline, TesseraError::CancelTooEarly);
                let provider_key = self.provider.as_ref().map(|provider| provider.key());
                require!(
                    provider_key == Some(job.provider),
                    TesseraError::NotJobProvider
                );
            }
            JobStatus::Completed | JobStatus::Cancelled => {
                return err!(TesseraError::JobNotActive);
            }
        }
        Ok(())
    }
}

/// Ends an Open job past its accept-by time, or a Running job past its deadline. The escrow
/// stays in the vault until `close_job` (after the dispute window, if a provider had accepted).
pub(crate) fn handler(ctx: Context<CancelJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let was_running = ctx.accounts.job.status == JobStatus::Running;
    if was_running {
        if let Some(provider) = ctx.accounts.provider.as_mut() {
            provider.active_jobs = provider
                .active_jobs
                .checked_sub(1)
                .ok_or_else(|| error!(TesseraError::InvariantViolated))?;
        }
    }
    let job = &mut ctx.accounts.job;
    job.status = JobStatus::Cancelled;
    job.ended_at = now;
    emit!(JobCancelled {
        job: job.key(),
        was_running,
        ended_at: now,
    });
    Ok(())
}
