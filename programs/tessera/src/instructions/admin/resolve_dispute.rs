use crate::errors::TesseraError;
use crate::events::DisputeResolved;
use crate::math;
use crate::state::{Dispute, Job, Network, Provider, ProviderStatus, Slash};
use crate::token::transfer_from_vault;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        has_one = authority @ TesseraError::NotAuthority,
        has_one = reward_mint @ TesseraError::WrongMint,
    )]
    pub network: Box<Account<'info, Network>>,

    #[account(mut, close = client, has_one = job, has_one = client, has_one = provider)]
    pub dispute: Box<Account<'info, Dispute>>,

    #[account(mut, has_one = network)]
    pub job: Box<Account<'info, Job>>,

    /// CHECK: receives the dispute's rent; `has_one = client` on `dispute` checks its address.
    #[account(mut)]
    pub client: UncheckedAccount<'info>,

    #[account(mut, has_one = network)]
    pub provider: Box<Account<'info, Provider>>,

    #[account(
        mut,
        seeds = [Provider::VAULT_SEED, provider.key().as_ref()],
        bump = provider.vault_bump,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The client's reward-token account; receives the slash.
    #[account(
        mut,
        constraint = client_reward_token.mint == reward_mint.key() @ TesseraError::WrongMint,
        constraint = client_reward_token.owner == client.key() @ TesseraError::WrongTokenAccountOwner,
    )]
    pub client_reward_token: Box<InterfaceAccount<'info, TokenAccount>>,

    pub reward_mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// Ends a dispute. `slash_amount > 0` upholds it: that much of the provider's stake (its
/// active stake first, then its unbonding stake, so unbonding is no escape) goes to the client,
/// and the provider is jailed once its lost disputes and no-shows reach `jail_after_lost_disputes`.
/// `slash_amount == 0` dismisses it.
pub(crate) fn handler(ctx: Context<ResolveDispute>, slash_amount: u64) -> Result<()> {
    let provider = &ctx.accounts.provider;
    let slashable = provider.vault_liability()?;
    require!(slash_amount <= slashable, TesseraError::SlashExceedsStake);

    if slash_amount > 0 {
        let seeds = provider.signer_seeds();
        transfer_from_vault(
            &ctx.accounts.token_program,
            &ctx.accounts.stake_vault,
            &ctx.accounts.client_reward_token,
            &ctx.accounts.reward_mint,
            ctx.accounts.provider.to_account_info(),
            &seeds.as_seeds(),
            slash_amount,
        )?;
        let jail_after = ctx.accounts.network.params.jail_after_lost_disputes;
        let Slash {
            from_stake,
            from_unbonding,
        } = ctx.accounts.provider.slash(slash_amount, jail_after)?;
        let totals = &mut ctx.accounts.network.totals;
        totals.staked = math::sub(totals.staked, from_stake)?;
        totals.unbonding = math::sub(totals.unbonding, from_unbonding)?;
        totals.slashed = math::add(totals.slashed, slash_amount)?;
    }

    let provider = &mut ctx.accounts.provider;
    provider.open_disputes = provider
        .open_disputes
        .checked_sub(1)
        .ok_or_else(|| error!(TesseraError::InvariantViolated))?;
    let network = &mut ctx.accounts.network;
    network.totals.open_disputes = math::sub(network.totals.open_disputes, 1)?;
    ctx.accounts.job.dispute_open = false;
    ctx.accounts.stake_vault.reload()?;
    ctx.accounts
        .provider
        .invariant(ctx.accounts.stake_vault.amount)?;
    let provider = &ctx.accounts.provider;
    crate::events::emit(DisputeResolved {
        job: ctx.accounts.job.key(),
        provider: provider.key(),
        slashed: slash_amount,
        lost_disputes: provider.lost_disputes,
        jailed: provider.status == ProviderStatus::Jailed,
    });
    Ok(())
}
