//! Properties the receipt codec and the Ed25519 instruction parser must hold for any input.
//! The fuzz targets (`fuzz/`) and the CI harness (`tests/tests/codec_fuzz.rs`) both call these,
//! so a fuzzer's findings and CI check the same thing. Each panics when a property breaks.

use crate::receipt::{ed25519_instruction, Receipt, RECEIPT_DOMAIN, RECEIPT_LEN};
use anchor_lang::prelude::Pubkey;
use tessera::ed25519::{
    parse, OFFSETS_LEN, OFFSETS_START, PUBKEY_LEN, SIGNATURE_LEN, THIS_INSTRUCTION,
};

/// Where the unit kind sits in a receipt: after the domain, five keys, the subject nonce and
/// the cumulative units. It is the one byte of a receipt that not every value of is valid.
const UNIT_KIND_AT: usize = 18 + 5 * 32 + 8 + 8;

/// Number of unit kinds (`GpuSeconds`, `CpuSeconds`, `Bytes`).
const UNIT_KINDS: u8 = 3;

/// A well-formed receipt whose every field follows from `seed` and `units`, for harnesses that
/// need many distinct valid receipts (keys `seed + 1 ..= seed + 4`, one of the three unit kinds).
pub fn sample_receipt(seed: u8, units: u64) -> Receipt {
    let key = |n: u8| Pubkey::new_from_array([seed.wrapping_add(n); 32]);
    let kinds = [
        tessera::state::UnitKind::GpuSeconds,
        tessera::state::UnitKind::CpuSeconds,
        tessera::state::UnitKind::Bytes,
    ];
    Receipt {
        domain: RECEIPT_DOMAIN,
        program_id: tessera::ID,
        network: key(1),
        subject: key(2),
        subject_nonce: units / 3,
        provider: key(3),
        worker_key: key(4),
        cumulative_units: units,
        unit_kind: kinds[seed as usize % kinds.len()],
        result_hash: [seed; 32],
        attestor_set_version: seed as u32,
        issued_at: units as i64,
        expires_at: units as i64 + 600,
    }
}

/// Any bytes: a receipt decodes exactly from `RECEIPT_LEN` bytes with a valid unit kind and
/// re-encodes to the same bytes.
pub fn receipt_codec(data: &[u8]) {
    match Receipt::from_bytes(data) {
        Some(receipt) => {
            assert_eq!(data.len(), RECEIPT_LEN);
            assert_eq!(receipt.to_bytes().as_slice(), data, "decoding is canonical");
        }
        None => assert!(
            data.len() != RECEIPT_LEN || data[UNIT_KIND_AT] >= UNIT_KINDS,
            "every {RECEIPT_LEN}-byte string with a unit kind below {UNIT_KINDS} is a receipt"
        ),
    }
}

/// Any bytes, as an Ed25519 instruction at index `own_index`: the parser never panics, and what
/// it accepts is exactly Tessera's layout, rebuilt byte for byte from the signers, their
/// signatures and the message it returns.
pub fn ed25519_parse(data: &[u8], own_index: u16) {
    let Ok(signed) = parse(data, own_index) else {
        return;
    };
    let count = signed.signers().len();
    assert!(count >= 1 && data.ends_with(signed.message));
    let keys_start = OFFSETS_START + count * OFFSETS_LEN;
    let signatures: Vec<(Pubkey, [u8; SIGNATURE_LEN])> = signed
        .signers()
        .iter()
        .enumerate()
        .map(|(entry, key)| {
            let at = keys_start + entry * (PUBKEY_LEN + SIGNATURE_LEN) + PUBKEY_LEN;
            let mut signature = [0u8; SIGNATURE_LEN];
            signature.copy_from_slice(&data[at..at + SIGNATURE_LEN]);
            (*key, signature)
        })
        .collect();
    let rebuilt = ed25519_instruction(signed.message, &signatures).data;
    // The builder names "this instruction" as u16::MAX; the parser also accepts the explicit index.
    let mut normalized = data.to_vec();
    for entry in 0..count {
        for field in [1, 3, 6] {
            let at = OFFSETS_START + entry * OFFSETS_LEN + 2 * field;
            let index = u16::from_le_bytes([data[at], data[at + 1]]);
            assert!(index == THIS_INSTRUCTION || index == own_index);
            normalized[at..at + 2].copy_from_slice(&THIS_INSTRUCTION.to_le_bytes());
        }
    }
    assert_eq!(
        rebuilt, normalized,
        "accepted bytes are the canonical layout"
    );
}
