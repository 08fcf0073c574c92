use crate::errors::TesseraError;
use anchor_lang::prelude::*;

/// Most attestors a network can name.
pub const MAX_ATTESTORS: usize = 8;

/// The network's attestors: independent verifiers whose ed25519 signatures vouch for receipts.
/// Kept inside `Network`, so that settlement needs no account of its own for it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct AttestorSet {
    /// Bumped on every change; receipts name the version they were attested under.
    pub version: u32,
    /// Distinct attestor signatures a receipt needs (0 only while the set is empty).
    pub threshold: u8,
    /// Number of keys in use at the front of `keys`.
    pub count: u8,
    /// Attestor ed25519 keys; entries past `count` are the default pubkey.
    pub keys: [Pubkey; MAX_ATTESTORS],
}

impl Default for AttestorSet {
    /// The empty set: version 0, attestation disabled.
    fn default() -> Self {
        Self {
            version: 0,
            threshold: 0,
            count: 0,
            keys: [Pubkey::default(); MAX_ATTESTORS],
        }
    }
}

impl AttestorSet {
    /// Checks a proposed set: at most 8 distinct, non-default keys, 1 <= threshold <= count
    /// (threshold 0 only for an empty set, which disables attestation).
    pub fn validate_members(keys: &[Pubkey], threshold: u8) -> Result<()> {
        require!(keys.len() <= MAX_ATTESTORS, TesseraError::TooManyAttestors);
        for (i, key) in keys.iter().enumerate() {
            require!(*key != Pubkey::default(), TesseraError::InvalidKey);
            require!(!keys[..i].contains(key), TesseraError::DuplicateAttestor);
        }
        let valid_threshold = if keys.is_empty() {
            threshold == 0
        } else {
            threshold >= 1 && threshold as usize <= keys.len()
        };
        require!(valid_threshold, TesseraError::InvalidThreshold);
        Ok(())
    }

    /// Whether `key` is one of the attestors in use.
    pub fn contains(&self, key: &Pubkey) -> bool {
        self.members().contains(key)
    }

    /// The keys in use.
    pub fn members(&self) -> &[Pubkey] {
        &self.keys[..self.count as usize]
    }

    /// The set is well formed and unused slots are empty.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.count as usize <= MAX_ATTESTORS,
            TesseraError::TooManyAttestors
        );
        Self::validate_members(self.members(), self.threshold)?;
        require!(
            self.keys[self.count as usize..]
                .iter()
                .all(|key| *key == Pubkey::default()),
            TesseraError::InvalidKey
        );
        Ok(())
    }
}
