use crate::errors::TesseraError;
use crate::events::WorkerKeyRotated;
use crate::state::Provider;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct RotateWorkerKey<'info> {
    pub owner: Signer<'info>,

    #[account(mut, has_one = owner @ TesseraError::NotProviderOwner)]
    pub provider: Account<'info, Provider>,
}

/// Receipts signed by the old key stop settling at once; the worker re-signs its latest
/// cumulative receipt with the new key.
pub(crate) fn handler(ctx: Context<RotateWorkerKey>, worker_key: Pubkey) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    require!(worker_key != Pubkey::default(), TesseraError::InvalidKey);
    require!(
        worker_key != provider.worker_key,
        TesseraError::SameWorkerKey
    );
    let previous_worker_key = provider.worker_key;
    provider.worker_key = worker_key;
    crate::events::emit(WorkerKeyRotated {
        provider: provider.key(),
        previous_worker_key,
        worker_key,
    });
    Ok(())
}
