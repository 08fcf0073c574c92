//! Token movements through the token interface (SPL Token and Token-2022) and the mint checks
//! that keep escrow accounting exact.

use crate::errors::TesseraError;
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
use anchor_spl::token_interface::{
    self, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked,
};

/// Refuses Token-2022 mints with extensions that would break escrow accounting or let a third
/// party move escrowed tokens: transfer fees (the vault would receive less than deposited),
/// transfer hooks (arbitrary code on every move), permanent delegates (could drain a vault),
/// non-transferable, confidential or pausable tokens, default-frozen accounts and mint close
/// authorities. Metadata and group extensions change nothing about balances and are allowed.
pub fn require_supported_mint(mint: &InterfaceAccount<Mint>) -> Result<()> {
    let info = mint.to_account_info();
    if *info.owner != anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = info.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    for extension in state.get_extension_types()? {
        let harmless = matches!(
            extension,
            ExtensionType::MetadataPointer
                | ExtensionType::TokenMetadata
                | ExtensionType::GroupPointer
                | ExtensionType::TokenGroup
                | ExtensionType::GroupMemberPointer
                | ExtensionType::TokenGroupMember
        );
        require!(harmless, TesseraError::UnsupportedMintExtension);
    }
    Ok(())
}

/// Moves `amount` from a wallet's token account, signed by the wallet.
pub fn transfer_from_wallet<'info>(
    token_program: &Interface<'info, TokenInterface>,
    from: &InterfaceAccount<'info, TokenAccount>,
    to: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    authority: &Signer<'info>,
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: from.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority: authority.to_account_info(),
    };
    token_interface::transfer_checked(
        CpiContext::new(token_program.key(), accounts),
        amount,
        mint.decimals,
    )
}

/// Moves `amount` out of a program-owned vault, signed by the PDA that owns it.
pub fn transfer_from_vault<'info>(
    token_program: &Interface<'info, TokenInterface>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    to: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    vault_authority: AccountInfo<'info>,
    authority_seeds: &[&[u8]],
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: vault.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority: vault_authority,
    };
    token_interface::transfer_checked(
        CpiContext::new_with_signer(token_program.key(), accounts, &[authority_seeds]),
        amount,
        mint.decimals,
    )
}

/// Closes an empty program-owned vault, sending its rent to `rent_destination`.
pub fn close_vault<'info>(
    token_program: &Interface<'info, TokenInterface>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    rent_destination: AccountInfo<'info>,
    vault_authority: AccountInfo<'info>,
    authority_seeds: &[&[u8]],
) -> Result<()> {
    let accounts = CloseAccount {
        account: vault.to_account_info(),
        destination: rent_destination,
        authority: vault_authority,
    };
    token_interface::close_account(CpiContext::new_with_signer(
        token_program.key(),
        accounts,
        &[authority_seeds],
    ))
}
