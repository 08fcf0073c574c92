use crate::errors::TesseraError;
use crate::events::ProviderRegistered;
use crate::math;
use crate::state::{Network, Provider, ProviderClass, ProviderSpec, ProviderStatus};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterProviderArgs {
    /// Fixed for the provider's life.
    pub class: ProviderClass,
    pub spec: ProviderSpec,
    /// Ed25519 key the worker signs receipts with (may be the owner's own key).
    pub worker_key: Pubkey,
}

#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    /// The provider's wallet; pays rent for the provider account and its stake vault.
    #[account(mut)]
    pub owner: Signer<'info>,

    // Boxed (on the heap): deserialized in place, the network made this block's
    // `try_accounts` need a 5.0 KB stack frame on SBF, past the VM's 4 KB per frame.
    #[account(mut, has_one = reward_mint @ TesseraError::WrongMint)]
    pub network: Box<Account<'info, Network>>,

    #[account(
        init,
        payer = owner,
        space = 8 + Provider::INIT_SPACE,
        seeds = [Provider::SEED, network.key().as_ref(), owner.key().as_ref()],
        bump,
    )]
    pub provider: Account<'info, Provider>,

    #[account(
        init,
        payer = owner,
        seeds = [Provider::VAULT_SEED, provider.key().as_ref()],
        bump,
        token::mint = reward_mint,
        token::authority = provider,
        token::token_program = token_program,
    )]
    pub stake_vault: InterfaceAccount<'info, TokenAccount>,

    #[account(mint::token_program = token_program)]
    pub reward_mint: InterfaceAccount<'info, Mint>,

    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl RegisterProvider<'_> {
    fn validate(&self, args: &RegisterProviderArgs) -> Result<()> {
        self.network.require_new_jobs_open()?;
        args.spec.validate(args.class)?;
        require!(
            args.worker_key != Pubkey::default(),
            TesseraError::InvalidKey
        );
        Ok(())
    }
}

pub(crate) fn handler(ctx: Context<RegisterProvider>, args: RegisterProviderArgs) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let now = Clock::get()?.unix_timestamp;

    let network = &mut ctx.accounts.network;
    network.totals.providers = math::add(network.totals.providers, 1)?;
    network.totals.registrations = math::add(network.totals.registrations, 1)?;

    let provider = &mut ctx.accounts.provider;
    provider.set_inner(Provider {
        network: network.key(),
        owner: ctx.accounts.owner.key(),
        worker_key: args.worker_key,
        class: args.class,
        status: ProviderStatus::Active,
        spec: args.spec,
        stake: 0,
        unbonding_amount: 0,
        unbonding_ends_at: 0,
        slashed_total: 0,
        settled_units: 0,
        service_units: 0,
        active_jobs: 0,
        jobs_completed: 0,
        lost_disputes: 0,
        open_disputes: 0,
        nonce: network.totals.registrations,
        registered_at: now,
        bump: ctx.bumps.provider,
        vault_bump: ctx.bumps.stake_vault,
        slashable_until: 0,
        no_shows: 0,
        reserved: [0; 54],
    });
    provider.invariant(ctx.accounts.stake_vault.amount)?;

    crate::events::emit(ProviderRegistered {
        network: network.key(),
        provider: provider.key(),
        owner: provider.owner,
        worker_key: provider.worker_key,
        class: provider.class,
        spec: provider.spec,
    });
    Ok(())
}
