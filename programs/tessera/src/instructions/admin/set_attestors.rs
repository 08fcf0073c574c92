use crate::errors::TesseraError;
use crate::events::AttestorsSet;
use crate::state::{AttestorMode, AttestorSet, Network, MAX_ATTESTORS};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SetAttestorsArgs {
    /// Up to 8 distinct ed25519 keys; empty disables attestation.
    pub keys: Vec<Pubkey>,
    /// Distinct attestor signatures a receipt needs: 1..=keys.len(), or 0 for an empty set.
    pub threshold: u8,
}

#[derive(Accounts)]
pub struct SetAttestors<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ TesseraError::NotAuthority)]
    pub network: Account<'info, Network>,
}

/// Replaces the whole set (a group set too: the set is per-key from now on) and bumps its
/// version, so receipts attested under the old set stop settling.
pub(crate) fn handler(ctx: Context<SetAttestors>, args: SetAttestorsArgs) -> Result<()> {
    AttestorSet::validate_members(&args.keys, args.threshold)?;
    let network = &mut ctx.accounts.network;
    let set = &mut network.attestors;
    let mut keys = [Pubkey::default(); MAX_ATTESTORS];
    keys[..args.keys.len()].copy_from_slice(&args.keys);
    set.keys = keys;
    set.count = args.keys.len() as u8;
    set.threshold = args.threshold;
    set.mode = AttestorMode::Keys;
    set.version = set
        .version
        .checked_add(1)
        .ok_or_else(|| error!(TesseraError::MathOverflow))?;
    let (version, threshold) = (set.version, set.threshold);
    network.invariant()?;
    crate::events::emit(AttestorsSet {
        network: network.key(),
        version,
        threshold,
        keys: args.keys,
    });
    Ok(())
}
