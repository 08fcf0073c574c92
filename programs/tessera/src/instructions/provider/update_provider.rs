use crate::errors::TesseraError;
use crate::events::ProviderUpdated;
use crate::state::{Provider, ProviderSpec};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct UpdateProvider<'info> {
    pub owner: Signer<'info>,

    #[account(mut, has_one = owner @ TesseraError::NotProviderOwner)]
    pub provider: Account<'info, Provider>,
}

/// Replaces the spec. The class stays: a provider that changes class deregisters and registers again.
pub(crate) fn handler(ctx: Context<UpdateProvider>, spec: ProviderSpec) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    spec.validate(provider.class)?;
    provider.spec = spec;
    crate::events::emit(ProviderUpdated {
        provider: provider.key(),
        spec,
    });
    Ok(())
}
