use crate::errors::TesseraError;
use crate::events::DisputeOpened;
use crate::math;
use crate::pda_account::{create_if_needed, store};
use crate::state::{Dispute, Job, Network, Provider};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct OpenDispute<'info> {
    /// The job's client; pays the dispute account's rent and gets it back on resolution.
    #[account(mut)]
    pub client: Signer<'info>,

    #[account(mut)]
    pub network: Account<'info, Network>,

    #[account(mut, has_one = client @ TesseraError::NotJobClient, has_one = network)]
    pub job: Account<'info, Job>,

    /// The job's provider: its stake stays put until the dispute is resolved.
    #[account(mut, address = job.provider @ TesseraError::NotJobProvider)]
    pub provider: Account<'info, Provider>,

    /// CHECK: the job's dispute PDA, by seeds; created here (see `crate::pda_account`).
    #[account(mut, seeds = [Dispute::SEED, job.key().as_ref()], bump)]
    pub dispute: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

impl OpenDispute<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        let job = &self.job;
        require!(!job.dispute_open, TesseraError::DisputeOpen);
        require!(job.last_attested_at != 0, TesseraError::NothingToDispute);
        // Strictly before the end: from `window_ends` on, the job may close instead.
        require!(
            now < job.dispute_window_ends()?,
            TesseraError::DisputeWindowClosed
        );
        Ok(())
    }
}

/// Challenges work settled on attestors' word alone. The job cannot close until the authority
/// resolves the dispute.
pub(crate) fn handler(ctx: Context<OpenDispute>, evidence_hash: [u8; 32]) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let provider = &mut ctx.accounts.provider;
    provider.open_disputes = provider
        .open_disputes
        .checked_add(1)
        .ok_or_else(|| error!(TesseraError::MathOverflow))?;
    let job = &mut ctx.accounts.job;
    job.dispute_open = true;
    let network = &mut ctx.accounts.network;
    network.totals.open_disputes = math::add(network.totals.open_disputes, 1)?;
    let job_key = job.key();
    let dispute = ctx.accounts.dispute.to_account_info();
    let created = create_if_needed(
        &dispute,
        &ctx.accounts.client.to_account_info(),
        &ctx.accounts.system_program,
        8 + Dispute::INIT_SPACE,
        &[Dispute::SEED, job_key.as_ref(), &[ctx.bumps.dispute]],
    )?;
    require!(created, TesseraError::DisputeOpen);
    store(
        &dispute,
        &Dispute {
            job: job_key,
            client: job.client,
            provider: job.provider,
            evidence_hash,
            settled_units: job.settled_units,
            opened_at: now,
            bump: ctx.bumps.dispute,
        },
    )?;
    crate::events::emit(DisputeOpened {
        job: job.key(),
        client: job.client,
        provider: job.provider,
        evidence_hash,
        settled_units: job.settled_units,
    });
    Ok(())
}
