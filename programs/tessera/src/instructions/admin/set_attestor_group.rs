use crate::errors::TesseraError;
use crate::events::AttestorGroupSet;
use crate::state::{AttestorMode, AttestorSet, Network, MAX_ATTESTORS};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct SetAttestorGroupArgs {
    /// The FROST(Ed25519, SHA-512) group verifying key, as an ed25519 public key.
    pub group_key: Pubkey,
    /// Members whose shares it takes to sign under the group key: 1..=members.
    pub threshold: u8,
    /// Members holding a share of the group key: 1..=255.
    pub members: u8,
}

#[derive(Accounts)]
pub struct SetAttestorGroup<'info> {
    pub authority: Signer<'info>,

    #[account(mut, has_one = authority @ TesseraError::NotAuthority)]
    pub network: Account<'info, Network>,
}

/// Replaces the whole set with a group that signs as one key and bumps its version, so
/// receipts attested under the old set (or an older group key) stop settling. The program
/// cannot see the threshold behind a group signature: `threshold` and `members` are recorded
/// for auditors, as the members' key generation made them.
pub(crate) fn handler(ctx: Context<SetAttestorGroup>, args: SetAttestorGroupArgs) -> Result<()> {
    AttestorSet::validate_group(&args.group_key, args.threshold, args.members)?;
    let network = &mut ctx.accounts.network;
    let set = &mut network.attestors;
    let mut keys = [Pubkey::default(); MAX_ATTESTORS];
    keys[0] = args.group_key;
    set.keys = keys;
    set.count = args.members;
    set.threshold = args.threshold;
    set.mode = AttestorMode::Group;
    set.version = set
        .version
        .checked_add(1)
        .ok_or_else(|| error!(TesseraError::MathOverflow))?;
    let version = set.version;
    network.invariant()?;
    crate::events::emit(AttestorGroupSet {
        network: network.key(),
        version,
        group_key: args.group_key,
        threshold: args.threshold,
        members: args.members,
    });
    Ok(())
}
