//! Any bytes as an Ed25519 instruction: no panic, and what is accepted is Tessera's layout.
//! The first two bytes choose the instruction's own index; the rest is the instruction data.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let own_index = u16::from_le_bytes([data[0], data[1]]);
    tessera_client::codec_checks::ed25519_parse(&data[2..], own_index);
});
