//! Any bytes through the receipt codec: exact length, canonical re-encoding.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tessera_client::codec_checks::receipt_codec(data);
});
