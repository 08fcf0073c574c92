use crate::errors::TesseraError;
use anchor_lang::prelude::*;

/// Most attestors a network can name.
pub const MAX_ATTESTORS: usize = 8;

/// How the attestors of a set sign.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace, Default,
)]
pub enum AttestorMode {
    /// Each attestor signs with its own key; a receipt needs `threshold` distinct signatures.
    #[default]
    Keys,
    /// The attestors hold FROST(Ed25519, SHA-512) shares of one group key (RFC 9591): any
    /// `threshold` of the `count` members produce one ordinary Ed25519 signature under
    /// `keys[0]`, which is all a receipt carries.
    Group,
}

/// The network's attestors: independent verifiers whose ed25519 signatures vouch for receipts.
/// Kept inside `Network`, so that settlement needs no account of its own for it. A set is one
/// mode or the other: up to 8 keys that sign one by one, or one group key the members sign
/// under together.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct AttestorSet {
    /// Bumped on every change; receipts name the version they were attested under.
    pub version: u32,
    /// Keys mode: distinct attestor signatures a receipt needs (0 only while the set is empty).
    /// Group mode: members whose shares it takes to sign under the group key (1..=count).
    pub threshold: u8,
    /// Keys mode: number of keys in use at the front of `keys`. Group mode: number of members
    /// holding a share of the group key (1..=255), not the number of keys stored.
    pub count: u8,
    /// Keys mode: the attestors' ed25519 keys. Group mode: the group key in `keys[0]`. Entries
    /// not in use are the default pubkey.
    pub keys: [Pubkey; MAX_ATTESTORS],
    /// Whether the attestors sign one by one or as one group key.
    pub mode: AttestorMode,
}

impl Default for AttestorSet {
    /// The empty set: version 0, attestation disabled.
    fn default() -> Self {
        Self {
            version: 0,
            threshold: 0,
            count: 0,
            keys: [Pubkey::default(); MAX_ATTESTORS],
            mode: AttestorMode::Keys,
        }
    }
}

impl AttestorSet {
    /// Checks a proposed set of keys: at most 8 distinct, non-default keys, 1 <= threshold <=
    /// count (threshold 0 only for an empty set, which disables attestation).
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

    /// Checks a proposed group: a non-default group key, 1 <= threshold <= members.
    pub fn validate_group(group_key: &Pubkey, threshold: u8, members: u8) -> Result<()> {
        require!(*group_key != Pubkey::default(), TesseraError::InvalidKey);
        require!(
            threshold >= 1 && threshold <= members,
            TesseraError::InvalidThreshold
        );
        Ok(())
    }

    /// Whether `key` signs for the set: one of its attestors, or its group key.
    pub fn contains(&self, key: &Pubkey) -> bool {
        self.members().contains(key)
    }

    /// The keys that sign for the set: the attestors' keys, or the group key alone.
    pub fn members(&self) -> &[Pubkey] {
        match self.mode {
            AttestorMode::Keys => &self.keys[..(self.count as usize).min(MAX_ATTESTORS)],
            AttestorMode::Group => &self.keys[..1],
        }
    }

    /// The group key, in group mode.
    pub fn group_key(&self) -> Option<Pubkey> {
        match self.mode {
            AttestorMode::Keys => None,
            AttestorMode::Group => Some(self.keys[0]),
        }
    }

    /// The set is well formed and unused slots are empty.
    pub fn invariant(&self) -> Result<()> {
        let in_use = match self.mode {
            AttestorMode::Keys => {
                require!(
                    self.count as usize <= MAX_ATTESTORS,
                    TesseraError::TooManyAttestors
                );
                Self::validate_members(self.members(), self.threshold)?;
                self.count as usize
            }
            AttestorMode::Group => {
                Self::validate_group(&self.keys[0], self.threshold, self.count)?;
                1
            }
        };
        require!(
            self.keys[in_use..]
                .iter()
                .all(|key| *key == Pubkey::default()),
            TesseraError::InvalidKey
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(threshold: u8, members: u8) -> AttestorSet {
        let mut keys = [Pubkey::default(); MAX_ATTESTORS];
        keys[0] = Pubkey::new_unique();
        AttestorSet {
            version: 1,
            threshold,
            count: members,
            keys,
            mode: AttestorMode::Group,
        }
    }

    #[test]
    fn a_group_signs_with_its_group_key_alone() {
        let set = group(3, 200);
        assert!(set.invariant().is_ok(), "200 members fit, though 8 keys do");
        assert_eq!(set.members(), &set.keys[..1]);
        assert_eq!(set.group_key(), Some(set.keys[0]));
        assert!(set.contains(&set.keys[0]));
        assert!(!set.contains(&Pubkey::default()));
        assert_eq!(AttestorSet::default().group_key(), None);
    }

    #[test]
    fn a_group_needs_a_key_a_threshold_within_its_members_and_nothing_else() {
        assert!(group(1, 1).invariant().is_ok());
        assert!(group(255, 255).invariant().is_ok());
        assert!(group(0, 5).invariant().is_err());
        assert!(group(6, 5).invariant().is_err());
        let mut no_key = group(1, 1);
        no_key.keys[0] = Pubkey::default();
        assert!(no_key.invariant().is_err());
        let mut second_key = group(1, 1);
        second_key.keys[1] = Pubkey::new_unique();
        assert!(second_key.invariant().is_err());
    }
}
