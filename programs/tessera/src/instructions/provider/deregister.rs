use crate::errors::TesseraError;
use crate::events::ProviderDeregistered;
use crate::math;
use crate::state::{Network, Provider, ProviderStatus};
use crate::token::{close_vault, transfer_from_vault};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct Deregister<'info> {
    /// Receives the rent of both accounts and any tokens left in the vault.
    #[account(mut)]
    pub owner: Signer<'info>,

    #[account(mut, has_one = reward_mint @ TesseraError::WrongMint)]
    pub network: Account<'info, Network>,

    #[account(
        mut,
        close = owner,
        has_one = owner @ TesseraError::NotProviderOwner,
        has_one = network,
    )]
    pub provider: Account<'info, Provider>,

    #[account(
        mut,
        seeds = [Provider::VAULT_SEED, provider.key().as_ref()],
        bump = provider.vault_bump,
    )]
    pub stake_vault: InterfaceAccount<'info, TokenAccount>,

    /// Receives tokens that third parties sent to the stake vault, if any.
    #[account(mut, constraint = destination.mint == reward_mint.key() @ TesseraError::WrongMint)]
    pub destination: InterfaceAccount<'info, TokenAccount>,

    pub reward_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Deregister<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        let provider = &self.provider;
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

    let provider = &ctx.accounts.provider;
    let network_key = provider.network;
    let owner_key = provider.owner;
    let seeds: &[&[u8]] = &[
        Provider::SEED,
        network_key.as_ref(),
        owner_key.as_ref(),
        &[provider.bump],
    ];
    // A token account can only be closed empty; tokens sent to it by others go to the owner.
    let surplus = ctx.accounts.stake_vault.amount;
    if surplus > 0 {
        transfer_from_vault(
            &ctx.accounts.token_program,
            &ctx.accounts.stake_vault,
            &ctx.accounts.destination,
            &ctx.accounts.reward_mint,
            ctx.accounts.provider.to_account_info(),
            seeds,
            surplus,
        )?;
    }
    close_vault(
        &ctx.accounts.token_program,
        &ctx.accounts.stake_vault,
        ctx.accounts.owner.to_account_info(),
        ctx.accounts.provider.to_account_info(),
        seeds,
    )?;

    let network = &mut ctx.accounts.network;
    network.totals.providers = math::sub(network.totals.providers, 1)?;
    emit!(ProviderDeregistered {
        network: network.key(),
        provider: ctx.accounts.provider.key(),
        owner: owner_key,
        surplus_returned: surplus,
    });
    Ok(())
}
