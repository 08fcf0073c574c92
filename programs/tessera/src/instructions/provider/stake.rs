// The glob brings the composite's generated client and bump types, which `#[derive(Accounts)]` names.
use super::stake_vault::*;
use crate::errors::TesseraError;
use crate::events::Staked;
use crate::math;
use crate::token::transfer_from_wallet;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

#[derive(Accounts)]
pub struct Stake<'info> {
    pub staking: StakeVault<'info>,

    /// The owner's reward-token account the stake comes from.
    #[account(
        mut,
        constraint = source.mint == staking.reward_mint.key() @ TesseraError::WrongMint,
    )]
    pub source: InterfaceAccount<'info, TokenAccount>,
}

pub(crate) fn handler(ctx: Context<Stake>, amount: u64) -> Result<()> {
    require!(amount > 0, TesseraError::ZeroAmount);
    let accounts = &mut ctx.accounts.staking;
    accounts.network.require_new_jobs_open()?;

    transfer_from_wallet(
        &accounts.token_program,
        &ctx.accounts.source,
        &accounts.stake_vault,
        &accounts.reward_mint,
        &accounts.owner,
        amount,
    )?;

    let provider = &mut accounts.provider;
    provider.stake = math::add(provider.stake, amount)?;
    let network = &mut accounts.network;
    network.totals.staked = math::add(network.totals.staked, amount)?;

    accounts.check_balance()?;
    crate::events::emit(Staked {
        provider: accounts.provider.key(),
        amount,
        stake: accounts.provider.stake,
    });
    Ok(())
}
