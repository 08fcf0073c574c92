use crate::errors::TesseraError;
use crate::events::UnstakeRequested;
use crate::math;
use crate::state::{Network, Provider};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct RequestUnstake<'info> {
    pub owner: Signer<'info>,

    #[account(mut)]
    pub network: Account<'info, Network>,

    #[account(
        mut,
        has_one = owner @ TesseraError::NotProviderOwner,
        has_one = network,
    )]
    pub provider: Account<'info, Provider>,
}

impl RequestUnstake<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        let provider = &self.provider;
        require!(amount > 0, TesseraError::ZeroAmount);
        provider.require_no_open_dispute()?;
        require!(amount <= provider.stake, TesseraError::UnstakeExceedsStake);
        let needed = self
            .network
            .params
            .class(provider.class)
            .stake_for_jobs(provider.active_jobs)?;
        require!(
            provider.active_jobs == 0 || provider.stake - amount >= needed,
            TesseraError::StakeLockedByActiveJobs
        );
        Ok(())
    }
}

/// Moves `amount` from stake to unbonding. Unbonding more while some is already unbonding
/// restarts the period for the whole unbonding amount.
pub(crate) fn handler(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
    ctx.accounts.validate(amount)?;
    let now = Clock::get()?.unix_timestamp;
    let network = &mut ctx.accounts.network;
    let provider = &mut ctx.accounts.provider;

    provider.stake = math::sub(provider.stake, amount)?;
    provider.unbonding_amount = math::add(provider.unbonding_amount, amount)?;
    provider.unbonding_ends_at = math::add_secs(now, network.params.unbonding_period_secs)?;
    network.totals.staked = math::sub(network.totals.staked, amount)?;
    network.totals.unbonding = math::add(network.totals.unbonding, amount)?;

    crate::events::emit(UnstakeRequested {
        provider: provider.key(),
        amount,
        stake: provider.stake,
        unbonding_amount: provider.unbonding_amount,
        unbonding_ends_at: provider.unbonding_ends_at,
    });
    Ok(())
}
