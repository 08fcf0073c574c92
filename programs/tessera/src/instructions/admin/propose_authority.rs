use crate::errors::TesseraError;
use crate::events::AuthorityProposed;
use crate::state::Network;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct ProposeAuthority<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ TesseraError::NotAuthority)]
    pub network: Account<'info, Network>,
}

/// `new_authority` must then call `accept_authority`; the default pubkey withdraws a proposal.
pub(crate) fn handler(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
    let network = &mut ctx.accounts.network;
    network.pending_authority = new_authority;
    crate::events::emit(AuthorityProposed {
        network: network.key(),
        authority: network.authority,
        pending_authority: new_authority,
    });
    Ok(())
}
