use crate::errors::TesseraError;
use crate::events::JobCancelled;
use crate::state::{Job, JobStatus, Network, Provider};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct CancelJob<'info> {
    pub client: Signer<'info>,

    /// Read for the settlement-pause clock and the jail threshold.
    pub network: Account<'info, Network>,

    #[account(mut, has_one = client @ TesseraError::NotJobClient, has_one = network)]
    pub job: Account<'info, Job>,

    /// The job's provider; required once a provider has accepted, to release its job slot.
    #[account(mut)]
    pub provider: Option<Account<'info, Provider>>,
}

impl CancelJob<'_> {
    /// Returns whether the cancellation is a no-show: a Running job on which nothing settled
    /// within the start timeout.
    fn validate(&self, now: i64) -> Result<bool> {
        let job = &self.job;
        match job.status {
            JobStatus::Open => {
                require!(now > job.accept_by, TesseraError::CancelTooEarly);
                Ok(false)
            }
            JobStatus::Running => {
                let paused_secs = self.network.settlement_pauses.paused_secs_at(now)?;
                let no_show = job.is_no_show_at(now, paused_secs)?;
                require!(now > job.deadline || no_show, TesseraError::CancelTooEarly);
                let provider_key = self.provider.as_ref().map(|provider| provider.key());
                require!(
                    provider_key == Some(job.provider),
                    TesseraError::NotJobProvider
                );
                Ok(no_show)
            }
            JobStatus::Completed | JobStatus::Cancelled => err!(TesseraError::JobNotActive),
        }
    }
}

/// Ends an Open job past its accept-by time, or a Running job past its deadline or, when
/// nothing settled, past its start timeout. A no-show counts toward jailing the provider,
/// settles nothing more and may close at once; otherwise receipts issued before now may still
/// settle within the job's dispute window, and the escrow stays in the vault until `close_job`.
pub(crate) fn handler(ctx: Context<CancelJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let no_show = ctx.accounts.validate(now)?;
    let was_running = ctx.accounts.job.status == JobStatus::Running;
    let jail_after = ctx.accounts.network.params.jail_after_lost_disputes;
    if was_running {
        if let Some(provider) = ctx.accounts.provider.as_mut() {
            provider.active_jobs = provider
                .active_jobs
                .checked_sub(1)
                .ok_or_else(|| error!(TesseraError::InvariantViolated))?;
            if no_show {
                provider.no_shows = provider.no_shows.saturating_add(1);
                provider.jail_if_struck_out(jail_after);
            }
        }
    }
    let paused_secs = ctx.accounts.network.settlement_pauses.paused_secs_at(now)?;
    let job = &mut ctx.accounts.job;
    job.end(JobStatus::Cancelled, now, paused_secs);
    job.no_show = no_show;
    crate::events::emit(JobCancelled {
        job: job.key(),
        was_running,
        no_show,
        ended_at: now,
    });
    Ok(())
}
