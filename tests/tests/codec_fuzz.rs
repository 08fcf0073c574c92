//! The fuzz targets' properties (`tessera_client::codec_checks`), run by proptest for a bounded
//! number of cases in CI: arbitrary bytes, and valid receipts and Ed25519 layouts with bytes
//! flipped, inserted and cut. `PROPTEST_CASES` raises the count; `cargo fuzz` (see `fuzz/`)
//! runs the same properties coverage-guided.

use proptest::prelude::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_client::codec_checks::{ed25519_parse, receipt_codec, sample_receipt as receipt};
use tessera_client::receipt::SignedReceipt;

/// A valid Ed25519 instruction of `signers` real signatures over a receipt.
fn valid_layout(seed: u8, units: u64, signers: usize) -> Vec<u8> {
    let mut signed = SignedReceipt::new(receipt(seed, units));
    for _ in 0..signers {
        signed.sign(&Keypair::new()).unwrap();
    }
    signed.ed25519_instruction().data
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..1_400), own_index in prop_oneof![Just(u16::MAX), 0u16..4]) {
        receipt_codec(&data);
        ed25519_parse(&data, own_index);
    }

    #[test]
    fn receipt_sized_bytes(data in proptest::collection::vec(any::<u8>(), 238)) {
        receipt_codec(&data);
    }

    #[test]
    fn mutated_valid_layouts(
        seed in any::<u8>(),
        units in any::<u64>(),
        signers in 1usize..=9,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..4),
    ) {
        let mut data = valid_layout(seed, units, signers);
        ed25519_parse(&data, 0);
        prop_assert!(tessera::ed25519::parse(&data, 0).is_ok());
        for (at, byte, kind) in edits {
            let i = at.index(data.len());
            match kind {
                0 => data[i] ^= byte | 1,
                1 => data.insert(i, byte),
                _ => { data.remove(i); }
            }
            ed25519_parse(&data, 0);
        }
        receipt_codec(&receipt(seed, units).to_bytes());
    }
}

#[test]
fn the_same_key_signs_in_both_codecs() {
    let worker = Keypair::new();
    let mut signed = SignedReceipt::new(receipt(1, 2));
    signed.sign(&worker).unwrap();
    assert_eq!(signed.signatures[0].0, worker.pubkey());
    signed.verify().unwrap();
    signed.signatures[0].1[0] ^= 1;
    assert!(
        signed.verify().is_err(),
        "a flipped signature bit must not verify"
    );
}

/// Writes the fuzzers' seed corpus (valid receipts and layouts) into `fuzz/corpus/`.
#[test]
#[ignore = "writes files; run by hand to refresh fuzz/corpus"]
fn write_fuzz_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for seed in 0..4u8 {
        let bytes = receipt(seed, 1_000 * seed as u64 + 1).to_bytes();
        std::fs::write(root.join(format!("receipt_codec/receipt-{seed}")), bytes).unwrap();
    }
    for signers in 1..=9 {
        let mut input = u16::MAX.to_le_bytes().to_vec();
        input.extend(valid_layout(signers as u8, signers as u64 * 7, signers));
        std::fs::write(
            root.join(format!("ed25519_parse/layout-{signers}-signers")),
            input,
        )
        .unwrap();
    }
}
