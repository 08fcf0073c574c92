use crate::errors::TesseraError;
use crate::events::NetworkInitialized;
use crate::state::{
    AttestorSet, EmissionSchedule, Network, NetworkParams, NetworkTotals, PauseFlags,
    ProviderClass, SettlementPauses, MINT_AUTHORITY_SEED,
};
use crate::token::require_supported_mint;
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::instruction::AuthorityType;
use anchor_spl::token_interface::{self, Mint, SetAuthority, TokenInterface};

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

    /// The reward mint's current mint authority (often the same key as `authority`): it hands
    /// the mint authority to `mint_authority` in this instruction, so nobody else can adopt
    /// the mint between a handover and the network's creation.
    pub reward_mint_authority: Signer<'info>,

    /// An existing mint with no freeze authority; its mint authority moves to the network here.
    #[account(
        mut,
        mint::token_program = token_program,
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
        let current = Option::<Pubkey>::from(self.reward_mint.mint_authority);
        require!(
            current != Some(self.mint_authority.key()),
            TesseraError::RewardMintAlreadyHandedOver
        );
        require!(
            current == Some(self.reward_mint_authority.key()),
            TesseraError::RewardMintAuthorityMismatch
        );
        require_supported_mint(&self.reward_mint)
    }

    /// Moves the mint authority from its current holder (a signer here) to the network's PDA.
    fn take_mint_authority(&self) -> Result<()> {
        token_interface::set_authority(
            CpiContext::new(
                self.token_program.key(),
                SetAuthority {
                    current_authority: self.reward_mint_authority.to_account_info(),
                    account_or_mint: self.reward_mint.to_account_info(),
                },
            ),
            AuthorityType::MintTokens,
            Some(self.mint_authority.key()),
        )
    }
}

pub(crate) fn handler(ctx: Context<InitializeNetwork>, args: InitializeNetworkArgs) -> Result<()> {
    ctx.accounts.validate(&args)?;
    ctx.accounts.take_mint_authority()?;
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
        pending_treasury: Pubkey::default(),
        settlement_pauses: SettlementPauses::default(),
        emission_price_floors: [0; ProviderClass::COUNT],
        reserved: [0; 32],
    });
    network.invariant()?;

    crate::events::emit(NetworkInitialized {
        network: network.key(),
        network_id: args.network_id,
        authority: network.authority,
        reward_mint: network.reward_mint,
        treasury: network.treasury,
        genesis_at: now,
    });
    Ok(())
}
