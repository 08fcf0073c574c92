use crate::errors::TesseraError;
use crate::events::ParametersUpdated;
use crate::state::{Network, NetworkParams};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct UpdateParameters<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ TesseraError::NotAuthority)]
    pub network: Account<'info, Network>,
}

pub(crate) fn handler(ctx: Context<UpdateParameters>, params: NetworkParams) -> Result<()> {
    params.validate()?;
    let network = &mut ctx.accounts.network;
    require!(
        params.epoch_length_secs == network.params.epoch_length_secs,
        TesseraError::EpochLengthFixed
    );
    network.params = params;
    network.invariant()?;
    crate::events::emit(ParametersUpdated {
        network: network.key(),
        params,
    });
    Ok(())
}
