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

/// Sets the flags; pausing or resuming settlements is timed, so that windows can make up for it.
pub(crate) fn handler(ctx: Context<SetPause>, pause: PauseFlags) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let network = &mut ctx.accounts.network;
    network.settlement_pauses.record(pause.settlements, now)?;
    network.pause = pause;
    network.invariant()?;
    crate::events::emit(PauseSet {
        network: network.key(),
        pause,
    });
    Ok(())
}
