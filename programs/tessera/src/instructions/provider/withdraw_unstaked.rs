// The glob brings the composite's generated client and bump types, which `#[derive(Accounts)]` names.
use super::stake_vault::*;
use crate::errors::TesseraError;
use crate::events::UnstakeWithdrawn;
use crate::math;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

#[derive(Accounts)]
pub struct WithdrawUnstaked<'info> {
    pub staking: StakeVault<'info>,

    /// Any reward-token account the owner chooses.
    #[account(
        mut,
        constraint = destination.mint == staking.reward_mint.key() @ TesseraError::WrongMint,
    )]
    pub destination: InterfaceAccount<'info, TokenAccount>,
}

impl WithdrawUnstaked<'_> {
    fn validate(&self, now: i64) -> Result<()> {
        let provider = &self.staking.provider;
        require!(
            provider.unbonding_amount > 0,
            TesseraError::NothingToWithdraw
        );
        provider.require_no_open_dispute()?;
        require!(
            now >= provider.unbonding_ends_at,
            TesseraError::UnbondingNotFinished
        );
        provider.require_not_slashable(now)?;
        Ok(())
    }
}

/// Sends the whole unbonded amount to `destination`, once no dispute window of the provider's
/// attested work is open.
pub(crate) fn handler(ctx: Context<WithdrawUnstaked>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let accounts = &mut ctx.accounts.staking;
    let amount = accounts.provider.unbonding_amount;
    accounts.pay_out(&ctx.accounts.destination, amount)?;

    let provider = &mut accounts.provider;
    provider.unbonding_amount = 0;
    provider.unbonding_ends_at = 0;
    let network = &mut accounts.network;
    network.totals.unbonding = math::sub(network.totals.unbonding, amount)?;

    accounts.check_balance()?;
    crate::events::emit(UnstakeWithdrawn {
        provider: accounts.provider.key(),
        amount,
        destination: ctx.accounts.destination.key(),
    });
    Ok(())
}
