use crate::errors::TesseraError;
use crate::events::NetworkInitialized;
use crate::state::{
    AttestorSet, EmissionSchedule, Network, NetworkParams, NetworkTotals, PauseFlags,
    MINT_AUTHORITY_SEED,
};
use crate::token::require_supported_mint;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeNetworkArgs {
    /// Chosen by the creator; the network's PDA is `["network", network_id]`.
    pub network_id: u64,
    /// Owner of the token accounts that receive protocol fees.
    pub treasury: Pubkey,
    pub params: NetworkParams,
    /// Fixed for the network's life.
    pub emission: EmissionSchedule,
}

#[derive(Accounts)]
#[instruction(args: InitializeNetworkArgs)]
pub struct InitializeNetwork<'info> {
    /// Becomes the network authority and pays for the accounts.
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        init,
        payer = authority,
        space = 8 + Network::INIT_SPACE,
        seeds = [Network::SEED, &args.network_id.to_le_bytes()],
        bump,
    )]
    pub network: Account<'info, Network>,

    /// CHECK: holds no data; only its address matters, checked by the seeds, and it signs mints.
    #[account(seeds = [MINT_AUTHORITY_SEED, network.key().as_ref()], bump)]
    pub mint_authority: UncheckedAccount<'info>,

    /// Created beforehand with `mint_authority` as its mint authority and no freeze authority.
    #[account(
        mint::token_program = token_program,
        constraint = reward_mint.mint_authority == Some(mint_authority.key()).into()
            @ TesseraError::RewardMintAuthorityMismatch,
        constraint = reward_mint.freeze_authority.is_none() @ TesseraError::RewardMintFreezable,
    )]
    pub reward_mint: InterfaceAccount<'info, Mint>,

    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitializeNetwork<'_> {
    fn validate(&self, args: &InitializeNetworkArgs) -> Result<()> {
        args.params.validate()?;
        args.emission.validate()?;
        require!(
            args.treasury != Pubkey::default(),
            TesseraError::InvalidTreasury
        );
        require_supported_mint(&self.reward_mint)
    }
}

pub(crate) fn handler(ctx: Context<InitializeNetwork>, args: InitializeNetworkArgs) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let now = Clock::get()?.unix_timestamp;

    let network = &mut ctx.accounts.network;
    network.set_inner(Network {
        network_id: args.network_id,
        authority: ctx.accounts.authority.key(),
        pending_authority: Pubkey::default(),
        reward_mint: ctx.accounts.reward_mint.key(),
        treasury: args.treasury,
        params: args.params,
        emission: args.emission,
        genesis_at: now,
        genesis_supply: ctx.accounts.reward_mint.supply,
        attestors: AttestorSet::default(),
        pause: PauseFlags::default(),
        totals: NetworkTotals::default(),
        version: Network::VERSION,
        bump: ctx.bumps.network,
        mint_authority_bump: ctx.bumps.mint_authority,
        reserved: [0; 64],
    });
    network.invariant()?;

    emit!(NetworkInitialized {
        network: network.key(),
        network_id: args.network_id,
        authority: network.authority,
        reward_mint: network.reward_mint,
        treasury: network.treasury,
        genesis_at: now,
    });
    Ok(())
}
