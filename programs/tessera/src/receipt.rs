//! The receipt: what a worker (and its client or attestors) sign about delivered work.
//!
//! One codec for everyone: the program rebuilds these bytes to check signatures, and the
//! client library, the CLI, the worker and the tests sign and read them through this type
//! (with the `no-entrypoint` feature). The bytes are borsh, fixed length, little endian.

use crate::state::UnitKind;
use anchor_lang::prelude::*;
use borsh::{BorshDeserialize, BorshSerialize};

/// Domain separator at the front of every receipt; a signature over a receipt can never be
/// mistaken for a signature over anything else.
///
/// Version 2 added `unit_kind`; a version-1 receipt no longer settles.
pub const RECEIPT_DOMAIN: [u8; 18] = *b"tessera/receipt/v2";

/// Length of a serialized receipt, in bytes.
pub const RECEIPT_LEN: usize = 18 + 5 * 32 + 8 + 8 + 1 + 32 + 4 + 8 + 8;

/// Domain separator of a batch message: the worker and its co-signer sign the receipts of
/// several jobs at once (`settle_batch`) by signing `BATCH_DOMAIN || SHA-256(receipt bytes, in
/// order)`, so that neither the message nor a signature over it can pass for one receipt.
pub const BATCH_DOMAIN: [u8; 16] = *b"tessera/batch/v1";

/// Length of a batch message, in bytes.
pub const BATCH_MESSAGE_LEN: usize = 16 + 32;

/// The message signed for a batch of receipts: [`BATCH_DOMAIN`], then the SHA-256 of the
/// receipts' bytes concatenated in the batch's order.
pub fn batch_message(receipts: &[&[u8]]) -> [u8; BATCH_MESSAGE_LEN] {
    let digest = solana_sha256_hasher::hashv(receipts);
    let mut message = [0u8; BATCH_MESSAGE_LEN];
    message[..BATCH_DOMAIN.len()].copy_from_slice(&BATCH_DOMAIN);
    message[BATCH_DOMAIN.len()..].copy_from_slice(digest.as_ref());
    message
}

/// A statement about cumulative work: "on `subject`, `provider`'s worker has delivered
/// `cumulative_units` units in total". Settlement pays the increase over what was already
/// settled, so receipts can be resubmitted, reordered or lost without harm.
#[derive(BorshSerialize, BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Always `RECEIPT_DOMAIN`.
    pub domain: [u8; 18],
    /// The Tessera program the receipt is for.
    pub program_id: Pubkey,
    /// The network.
    pub network: Pubkey,
    /// The job account, or the provider account itself for a service receipt (no job).
    pub subject: Pubkey,
    /// The subject's number (`Job::nonce`, or `Provider::nonce` for a service receipt): an
    /// account closed and created again at the same address gets a new one.
    pub subject_nonce: u64,
    /// The provider account.
    pub provider: Pubkey,
    /// The provider's worker key, which signs first.
    pub worker_key: Pubkey,
    /// Units delivered on `subject` since it began (GPU-seconds, CPU-seconds or bytes).
    pub cumulative_units: u64,
    /// What one unit is: the job's unit kind, or for a service receipt a kind the provider's
    /// class measures. Emission weights are per class, so the signers state it.
    pub unit_kind: UnitKind,
    /// Digest of the outputs or evidence so far.
    pub result_hash: [u8; 32],
    /// Version of the attestor set the attestors signed under.
    pub attestor_set_version: u32,
    /// When the worker issued it, unix seconds.
    pub issued_at: i64,
    /// Settlement refuses it after this time, unix seconds.
    pub expires_at: i64,
}

impl Receipt {
    /// The canonical bytes that are signed.
    pub fn to_bytes(&self) -> [u8; RECEIPT_LEN] {
        let mut bytes = [0u8; RECEIPT_LEN];
        let mut writer: &mut [u8] = &mut bytes;
        // Writing a fixed-size struct into a buffer of exactly its size cannot fail.
        let _ = BorshSerialize::serialize(self, &mut writer);
        bytes
    }

    /// Reads a receipt; `None` unless `bytes` is exactly one receipt.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != RECEIPT_LEN {
            return None;
        }
        Self::try_from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Receipt {
        Receipt {
            domain: RECEIPT_DOMAIN,
            program_id: Pubkey::new_from_array([1; 32]),
            network: Pubkey::new_from_array([2; 32]),
            subject: Pubkey::new_from_array([3; 32]),
            subject_nonce: 9,
            provider: Pubkey::new_from_array([4; 32]),
            worker_key: Pubkey::new_from_array([5; 32]),
            cumulative_units: 0x0102_0304_0506_0708,
            unit_kind: UnitKind::Bytes,
            result_hash: [6; 32],
            attestor_set_version: 7,
            issued_at: 1_767_225_600,
            expires_at: 1_767_229_200,
        }
    }

    /// The fixed test vector other clients match their encoders against (fields in docs/design.md).
    pub const SAMPLE_HEX: &str = concat!(
        "746573736572612f726563656970742f7632",
        "0101010101010101010101010101010101010101010101010101010101010101",
        "0202020202020202020202020202020202020202020202020202020202020202",
        "0303030303030303030303030303030303030303030303030303030303030303",
        "0900000000000000",
        "0404040404040404040404040404040404040404040404040404040404040404",
        "0505050505050505050505050505050505050505050505050505050505050505",
        "0807060504030201",
        "02",
        "0606060606060606060606060606060606060606060606060606060606060606",
        "07000000",
        "00b9556900000000",
        "10c7556900000000",
    );

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[test]
    fn encoding_matches_the_test_vector() {
        let bytes = sample().to_bytes();
        assert_eq!(bytes.len(), RECEIPT_LEN);
        assert_eq!(RECEIPT_LEN, 247);
        assert_eq!(hex(&bytes), SAMPLE_HEX);
    }

    #[test]
    fn a_batch_message_is_the_domain_and_the_digest_of_its_receipts_in_order() {
        let first = sample().to_bytes();
        let second = Receipt {
            cumulative_units: 1,
            ..sample()
        }
        .to_bytes();
        let message = batch_message(&[&first, &second]);
        assert_eq!(&message[..16], b"tessera/batch/v1");
        let mut both = first.to_vec();
        both.extend_from_slice(&second);
        assert_eq!(
            message[16..],
            solana_sha256_hasher::hash(&both).to_bytes()[..]
        );
        assert_ne!(message, batch_message(&[&second, &first]));
        assert_ne!(message, batch_message(&[&first]));
    }

    #[test]
    fn decoding_round_trips_and_refuses_other_lengths() {
        let bytes = sample().to_bytes();
        assert_eq!(Receipt::from_bytes(&bytes), Some(sample()));
        assert_eq!(Receipt::from_bytes(&bytes[..RECEIPT_LEN - 1]), None);
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert_eq!(Receipt::from_bytes(&longer), None);
    }
}
