use crate::errors::TesseraError;
use crate::events::Staked;
use crate::math;
use crate::state::{Network, Provider};
use crate::token::transfer_from_wallet;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct Stake<'info> {
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

    /// The owner's reward-token account the stake comes from.
    #[account(mut, constraint = source.mint == reward_mint.key() @ TesseraError::WrongMint)]
    pub source: InterfaceAccount<'info, TokenAccount>,

    pub reward_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub(crate) fn handler(ctx: Context<Stake>, amount: u64) -> Result<()> {
    require!(amount > 0, TesseraError::ZeroAmount);
    ctx.accounts.network.require_new_jobs_open()?;

    transfer_from_wallet(
        &ctx.accounts.token_program,
        &ctx.accounts.source,
        &ctx.accounts.stake_vault,
        &ctx.accounts.reward_mint,
        &ctx.accounts.owner,
        amount,
    )?;

    let provider = &mut ctx.accounts.provider;
    provider.stake = math::add(provider.stake, amount)?;
    let network = &mut ctx.accounts.network;
    network.totals.staked = math::add(network.totals.staked, amount)?;

    ctx.accounts.stake_vault.reload()?;
    ctx.accounts
        .provider
        .invariant(ctx.accounts.stake_vault.amount)?;
    emit!(Staked {
        provider: ctx.accounts.provider.key(),
        amount,
        stake: ctx.accounts.provider.stake,
    });
    Ok(())
}
