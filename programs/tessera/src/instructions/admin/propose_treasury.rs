use crate::errors::TesseraError;
use crate::events::TreasuryProposed;
use crate::state::Network;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct ProposeTreasury<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ TesseraError::NotAuthority)]
    pub network: Account<'info, Network>,
}

/// `new_treasury` must then call `accept_treasury`, which proves the key is held (fees sent to
/// a mistyped key would be lost); the default pubkey withdraws a proposal.
pub(crate) fn handler(ctx: Context<ProposeTreasury>, new_treasury: Pubkey) -> Result<()> {
    let network = &mut ctx.accounts.network;
    network.pending_treasury = new_treasury;
    crate::events::emit(TreasuryProposed {
        network: network.key(),
        treasury: network.treasury,
        pending_treasury: new_treasury,
    });
    Ok(())
}
