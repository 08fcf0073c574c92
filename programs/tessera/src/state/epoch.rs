use crate::errors::TesseraError;
use anchor_lang::prelude::*;

/// One emission epoch of a network, created by the first settlement in it.
/// Seeds: `["epoch", network, index (u64 little endian)]`.
#[account]
#[derive(InitSpace, Debug, Default)]
pub struct Epoch {
    /// The network this epoch belongs to.
    pub network: Pubkey,
    /// Epoch number: (time - genesis) / epoch length.
    pub index: u64,
    /// Reward tokens this epoch emits, from the schedule, in base units.
    pub emission: u64,
    /// Weighted units of eligible, attested work settled in this epoch.
    pub total_units: u128,
    /// Reward tokens minted by claims on this epoch so far, in base units.
    pub claimed: u64,
    /// Work records not yet claimed.
    pub open_work_records: u64,
    /// Bump of this PDA.
    pub bump: u8,
    /// Room for later fields.
    pub reserved: [u8; 32],
}

impl Epoch {
    /// Seed prefix of `Epoch`.
    pub const SEED: &'static [u8] = b"epoch";

    /// Invariant 3 of docs/design.md: claims never exceed the emission.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.claimed <= self.emission,
            TesseraError::InvariantViolated
        );
        Ok(())
    }
}

/// A provider's work in one epoch, created by its first settlement in that epoch and closed
/// when the emission for it is claimed. Seeds: `["work", provider, epoch index (u64 little endian)]`.
#[account]
#[derive(InitSpace, Debug, Default)]
pub struct WorkRecord {
    /// The provider that did the work.
    pub provider: Pubkey,
    /// The epoch it was settled in.
    pub epoch: u64,
    /// Weighted units settled while the provider was eligible (active, at least its class minimum staked).
    pub units: u128,
    /// Weighted units settled while the provider was not eligible; they earn nothing.
    pub ineligible_units: u128,
    /// Who paid this account's rent; gets it back when the record is claimed.
    pub rent_payer: Pubkey,
    /// Bump of this PDA.
    pub bump: u8,
    /// The network of the provider and epoch; claims check it, since they need no provider
    /// account (a provider that deregistered can still be paid for its work).
    pub network: Pubkey,
    /// The provider's owner, who receives the emission.
    pub owner: Pubkey,
}

impl WorkRecord {
    /// Seed prefix of `WorkRecord`.
    pub const SEED: &'static [u8] = b"work";
}
