use crate::errors::TesseraError;
use crate::events::EmissionFloorsSet;
use crate::state::{Network, ProviderClass};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct SetEmissionFloors<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ TesseraError::NotAuthority)]
    pub network: Account<'info, Network>,
}

/// Sets, per class, the least price per unit (reward-mint base units) of a job whose attested
/// units earn emission. Settlements after it follow the new floors; work already recorded
/// keeps what it earned.
pub(crate) fn handler(
    ctx: Context<SetEmissionFloors>,
    floors: [u64; ProviderClass::COUNT],
) -> Result<()> {
    let network = &mut ctx.accounts.network;
    network.emission_price_floors = floors;
    network.invariant()?;
    crate::events::emit(EmissionFloorsSet {
        network: network.key(),
        floors,
    });
    Ok(())
}
