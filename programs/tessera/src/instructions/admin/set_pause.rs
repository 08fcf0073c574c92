use crate::errors::TesseraError;
use crate::events::PauseSet;
use crate::state::{Network, PauseFlags};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SetPause<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ TesseraError::NotAuthority)]
    pub network: Account<'info, Network>,
}

pub(crate) fn handler(ctx: Context<SetPause>, pause: PauseFlags) -> Result<()> {
    let network = &mut ctx.accounts.network;
    network.pause = pause;
    emit!(PauseSet {
        network: network.key(),
        pause,
    });
    Ok(())
}
