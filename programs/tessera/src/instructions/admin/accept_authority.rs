use crate::errors::TesseraError;
use crate::events::AuthorityAccepted;
use crate::state::Network;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    /// The key named by `propose_authority`. The default pubkey (no proposal) cannot sign.
    pub pending_authority: Signer<'info>,

    #[account(mut, has_one = pending_authority @ TesseraError::NotPendingAuthority)]
    pub network: Account<'info, Network>,
}

pub(crate) fn handler(ctx: Context<AcceptAuthority>) -> Result<()> {
    let network = &mut ctx.accounts.network;
    let previous_authority = network.authority;
    network.authority = network.pending_authority;
    network.pending_authority = Pubkey::default();
    crate::events::emit(AuthorityAccepted {
        network: network.key(),
        previous_authority,
        authority: network.authority,
    });
    Ok(())
}
