use crate::errors::TesseraError;
use crate::events::TreasuryAccepted;
use crate::state::Network;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct AcceptTreasury<'info> {
    /// The key named by `propose_treasury`. The default pubkey (no proposal) cannot sign.
    pub pending_treasury: Signer<'info>,

    #[account(mut, has_one = pending_treasury @ TesseraError::NotPendingTreasury)]
    pub network: Account<'info, Network>,
}

/// Fees of jobs closed from now on go to the new treasury's token accounts.
pub(crate) fn handler(ctx: Context<AcceptTreasury>) -> Result<()> {
    let network = &mut ctx.accounts.network;
    let previous_treasury = network.treasury;
    network.treasury = network.pending_treasury;
    network.pending_treasury = Pubkey::default();
    crate::events::emit(TreasuryAccepted {
        network: network.key(),
        previous_treasury,
        treasury: network.treasury,
    });
    Ok(())
}
