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
    /// Weighted units of eligible, attested work in the work records tallied so far
    /// (`tally_work`, once the epoch is over): the epoch's total once `tallied_records`
    /// reaches `work_records`. Settlements write their units to their work records only.
    pub total_units: u128,
    /// Reward tokens minted by claims on this epoch so far, in base units.
    pub claimed: u64,
    /// Work records not yet claimed.
    pub open_work_records: u64,
    /// Bump of this PDA.
    pub bump: u8,
    /// Work records opened in this epoch, claimed ones included.
    pub work_records: u64,
    /// Work records whose units are in `total_units`. Claims wait until it reaches
    /// `work_records`.
    pub tallied_records: u64,
    /// Room for later fields.
    pub reserved: [u8; 16],
}

impl Epoch {
    /// Seed prefix of `Epoch`.
    pub const SEED: &'static [u8] = b"epoch";

    /// Invariant 3 of docs/design.md: claims never exceed the emission, and no more records
    /// are tallied or open than were opened.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.claimed <= self.emission
                && self.tallied_records <= self.work_records
                && self.open_work_records <= self.work_records,
            TesseraError::InvariantViolated
        );
        Ok(())
    }

    /// Whether every work record of the epoch is in its total, so that claims may divide by it.
    pub fn tallied(&self) -> bool {
        self.tallied_records == self.work_records
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
    /// Whether `units` is in the epoch's total (`tally_work`).
    pub tallied: bool,
}

impl WorkRecord {
    /// Seed prefix of `WorkRecord`.
    pub const SEED: &'static [u8] = b"work";
}
