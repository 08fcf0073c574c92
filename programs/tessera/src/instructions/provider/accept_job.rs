use crate::errors::TesseraError;
use crate::events::JobAccepted;
use crate::state::{Job, JobStatus, Network, Provider, ProviderStatus};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct AcceptJob<'info> {
    pub owner: Signer<'info>,

    pub network: Account<'info, Network>,

    #[account(
        mut,
        has_one = owner @ TesseraError::NotProviderOwner,
        has_one = network,
    )]
    pub provider: Account<'info, Provider>,

    #[account(mut, has_one = network)]
    pub job: Account<'info, Job>,
}

impl AcceptJob<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        let (job, provider) = (&self.job, &self.provider);
        self.network.require_new_jobs_open()?;
        require!(job.status == JobStatus::Open, TesseraError::JobNotOpen);
        require!(now <= job.accept_by, TesseraError::AcceptWindowClosed);
        if job.has_provider() {
            require_keys_eq!(job.provider, provider.key(), TesseraError::NotNamedProvider);
        } else {
            job.requirement.check(provider)?;
        }
        require!(
            provider.status == ProviderStatus::Active,
            TesseraError::ProviderJailed
        );
        require!(
            provider.class.measures(job.unit_kind),
            TesseraError::UnitKindMismatch
        );
        let class = self.network.params.class(provider.class);
        require!(
            provider.meets_min_stake(class),
            TesseraError::StakeBelowMinimum
        );
        let running_after = provider
            .active_jobs
            .checked_add(1)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        require!(
            provider.stake >= class.stake_for_jobs(running_after)?,
            TesseraError::JobLimitReached
        );
        Ok(())
    }
}

/// Binds the job to this provider for good and starts it; its start timeout runs from now,
/// settlement pauses not counted.
pub(crate) fn handler(ctx: Context<AcceptJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let paused_secs = ctx.accounts.network.settlement_pauses.paused_secs_at(now)?;
    let provider = &mut ctx.accounts.provider;
    provider.active_jobs = provider
        .active_jobs
        .checked_add(1)
        .ok_or_else(|| error!(TesseraError::MathOverflow))?;
    let job = &mut ctx.accounts.job;
    job.provider = provider.key();
    job.status = JobStatus::Running;
    job.accepted_at = now;
    job.paused_secs_at_accept = paused_secs;
    crate::events::emit(JobAccepted {
        job: job.key(),
        provider: provider.key(),
        accepted_at: now,
    });
    Ok(())
}
