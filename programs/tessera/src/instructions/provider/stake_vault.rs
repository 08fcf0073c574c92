//! The accounts every movement of a provider's stake names: the owner who signs, the network
//! and its reward mint, the provider and its stake vault. `stake`, `withdraw_unstaked` and
//! `deregister` take them as one block.

use crate::errors::TesseraError;
use crate::state::{Network, Provider};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(Accounts)]
pub struct StakeVault<'info> {
    /// The provider's owner; receives the rent of both accounts when the provider deregisters.
    #[account(mut)]
    pub owner: Signer<'info>,

    // Boxed (on the heap): deserialized in place, the network made the `try_accounts` of
    // `stake`, `withdraw_unstaked` and `deregister` need 5.1 KB stack frames on SBF, past the
    // VM's 4 KB per frame.
    #[account(mut, has_one = reward_mint @ TesseraError::WrongMint)]
    pub network: Box<Account<'info, Network>>,

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

    pub reward_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> StakeVault<'info> {
    /// Moves `amount` out of the stake vault to `to`, signed by the provider account.
    pub fn pay_out(&self, to: &InterfaceAccount<'info, TokenAccount>, amount: u64) -> Result<()> {
        let seeds = self.provider.signer_seeds();
        crate::token::transfer_from_vault(
            &self.token_program,
            &self.stake_vault,
            to,
            &self.reward_mint,
            self.provider.to_account_info(),
            &seeds.as_seeds(),
            amount,
        )
    }

    /// Re-reads the vault after a transfer and checks that it holds exactly what the provider
    /// account says it owes.
    pub fn check_balance(&mut self) -> Result<()> {
        self.stake_vault.reload()?;
        self.provider.invariant(self.stake_vault.amount)
    }
}
