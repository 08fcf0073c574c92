use anchor_lang::prelude::*;

/// A client's challenge of attested work on its job, resolved by the authority.
/// Seeds: `["dispute", job]`; at most one open per job.
#[account]
#[derive(InitSpace, Debug, Default)]
pub struct Dispute {
    /// The disputed job.
    pub job: Pubkey,
    /// The job's client, who opened it and gets the rent back.
    pub client: Pubkey,
    /// The job's provider account.
    pub provider: Pubkey,
    /// SHA-256 of the client's evidence.
    pub evidence_hash: [u8; 32],
    /// Job units settled when the dispute was opened.
    pub settled_units: u64,
    /// When it was opened, unix seconds.
    pub opened_at: i64,
    /// Bump of this PDA.
    pub bump: u8,
}

impl Dispute {
    /// Seed prefix of `Dispute`.
    pub const SEED: &'static [u8] = b"dispute";
}
