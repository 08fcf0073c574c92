use crate::errors::TesseraError;
use crate::events::UnstakeWithdrawn;
use crate::math;
use crate::state::{Network, Provider};
use crate::token::transfer_from_vault;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct WithdrawUnstaked<'info> {
    pub owner: Signer<'info>,

    #[account(mut, has_one = reward_mint @ TesseraError::WrongMint)]
    pub network: Account<'info, Network>,

    #[account(
        mut,
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

    /// Any reward-token account the owner chooses.
    #[account(mut, constraint = destination.mint == reward_mint.key() @ TesseraError::WrongMint)]
    pub destination: InterfaceAccount<'info, TokenAccount>,

    pub reward_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawUnstaked<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        require!(
            self.provider.unbonding_amount > 0,
            TesseraError::NothingToWithdraw
        );
        self.provider.require_no_open_dispute()?;
        require!(
            now >= self.provider.unbonding_ends_at,
            TesseraError::UnbondingNotFinished
        );
        self.provider.require_not_slashable(now)?;
        Ok(())
    }
}

/// Sends the whole unbonded amount to `destination`, once no dispute window of the provider's
/// attested work is open.
pub(crate) fn handler(ctx: Context<WithdrawUnstaked>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let amount = ctx.accounts.provider.unbonding_amount;

    let provider = &ctx.accounts.provider;
    let network_key = provider.network;
    let owner_key = provider.owner;
    let seeds: &[&[u8]] = &[
        Provider::SEED,
        network_key.as_ref(),
        owner_key.as_ref(),
        &[provider.bump],
    ];
    transfer_from_vault(
        &ctx.accounts.token_program,
        &ctx.accounts.stake_vault,
        &ctx.accounts.destination,
        &ctx.accounts.reward_mint,
        ctx.accounts.provider.to_account_info(),
        seeds,
        amount,
    )?;

    let provider = &mut ctx.accounts.provider;
    provider.unbonding_amount = 0;
    provider.unbonding_ends_at = 0;
    let network = &mut ctx.accounts.network;
    network.totals.unbonding = math::sub(network.totals.unbonding, amount)?;

    ctx.accounts.stake_vault.reload()?;
    ctx.accounts
        .provider
        .invariant(ctx.accounts.stake_vault.amount)?;
    emit!(UnstakeWithdrawn {
        provider: ctx.accounts.provider.key(),
        amount,
        destination: ctx.accounts.destination.key(),
    });
    Ok(())
}
