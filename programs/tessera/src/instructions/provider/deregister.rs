// The glob brings the composite's generated client and bump types, which `#[derive(Accounts)]` names.
use super::stake_vault::*;
use crate::errors::TesseraError;
use crate::events::ProviderDeregistered;
use crate::math;
use crate::state::ProviderStatus;
use crate::token::close_vault;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

#[derive(Accounts)]
pub struct Deregister<'info> {
    /// The provider account and its stake vault are closed to `staking.owner`.
    pub staking: StakeVault<'info>,

    /// Receives tokens that third parties sent to the stake vault, if any.
    #[account(
        mut,
        constraint = destination.mint == staking.reward_mint.key() @ TesseraError::WrongMint,
    )]
    pub destination: InterfaceAccount<'info, TokenAccount>,
}

impl Deregister<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        let provider = &self.staking.provider;
        require!(
            provider.status != ProviderStatus::Jailed,
            TesseraError::ProviderJailed
        );
        provider.require_no_open_dispute()?;
        require!(provider.stake == 0, TesseraError::DeregisterWithStake);
        require!(
            provider.unbonding_amount == 0,
            TesseraError::DeregisterWithUnbonding
        );
        require!(
            provider.active_jobs == 0,
            TesseraError::DeregisterWithActiveJobs
        );
        provider.require_not_slashable(now)
    }
}

/// Closes the provider and its stake vault; rent goes back to the owner. Unclaimed work records
/// stay claimable: claims need no provider account.
pub(crate) fn handler(ctx: Context<Deregister>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let accounts = &mut ctx.accounts.staking;

    // A token account can only be closed empty; tokens sent to it by others go to the owner.
    let surplus = accounts.stake_vault.amount;
    if surplus > 0 {
        accounts.pay_out(&ctx.accounts.destination, surplus)?;
    }
    let seeds = accounts.provider.signer_seeds();
    close_vault(
        &accounts.token_program,
        &accounts.stake_vault,
        accounts.owner.to_account_info(),
        accounts.provider.to_account_info(),
        &seeds.as_seeds(),
    )?;
    accounts.provider.close(accounts.owner.to_account_info())?;

    let provider = &accounts.provider;
    let network = &mut accounts.network;
    network.totals.providers = math::sub(network.totals.providers, 1)?;
    // The provider's units stay in the network's totals (see `NetworkTotals::deregistered_settled_units`).
    let totals = &mut network.totals;
    totals.deregistered_settled_units = totals
        .deregistered_settled_units
        .saturating_add(provider.settled_units as u128);
    totals.deregistered_service_units = totals
        .deregistered_service_units
        .saturating_add(provider.service_units as u128);
    crate::events::emit(ProviderDeregistered {
        network: network.key(),
        provider: accounts.provider.key(),
        owner: accounts.owner.key(),
        surplus_returned: surplus,
    });
    Ok(())
}
