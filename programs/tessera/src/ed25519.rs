//! Reading signatures that the Ed25519 precompile checked earlier in the same transaction.
//!
//! The precompile verifies every signature entry of its instruction before any program runs,
//! but it verifies whatever the entries point at. Tessera therefore accepts one layout only,
//! and rejects everything else before trusting a signer:
//!
//! ```text
//! [count u8][0u8] [offsets; count × 14 bytes] [pubkey 32][signature 64] × count [message]
//! ```
//! Every entry's three instruction indices name the Ed25519 instruction itself, every entry
//! signs the one message at the end, and the data ends with the message.

use crate::errors::TesseraError;
use crate::state::MAX_ATTESTORS;
use anchor_lang::prelude::*;

/// Most signatures a receipt can carry: the worker and every attestor.
pub const MAX_SIGNERS: usize = 1 + MAX_ATTESTORS;
/// Bytes before the first offsets entry: the count and one byte of padding.
pub const OFFSETS_START: usize = 2;
/// Bytes of one offsets entry: seven little-endian u16.
pub const OFFSETS_LEN: usize = 14;
/// Bytes of an ed25519 public key.
pub const PUBKEY_LEN: usize = 32;
/// Bytes of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// The precompile's index meaning "this instruction".
pub const THIS_INSTRUCTION: u16 = u16::MAX;

/// Where the parts of signature entry `entry` of `count` sit in Tessera's layout, as the seven
/// u16 of an offsets entry: signature offset and instruction index, public key offset and
/// index, message offset, size and index. Shared with the client library that builds them.
pub fn canonical_offsets(entry: usize, count: usize, message_len: usize) -> [u16; 7] {
    let keys_start = OFFSETS_START + count * OFFSETS_LEN;
    let public_key = keys_start + entry * (PUBKEY_LEN + SIGNATURE_LEN);
    let message = keys_start + count * (PUBKEY_LEN + SIGNATURE_LEN);
    [
        (public_key + PUBKEY_LEN) as u16,
        THIS_INSTRUCTION,
        public_key as u16,
        THIS_INSTRUCTION,
        message as u16,
        message_len as u16,
        THIS_INSTRUCTION,
    ]
}

/// The signers of one message, in the order of their entries.
#[derive(Debug, PartialEq, Eq)]
pub struct SignedMessage<'a> {
    signers: [Pubkey; MAX_SIGNERS],
    count: usize,
    /// The bytes every signer signed.
    pub message: &'a [u8],
}

impl SignedMessage<'_> {
    /// The public keys whose signatures the precompile verified, first entry first.
    pub fn signers(&self) -> &[Pubkey] {
        &self.signers[..self.count]
    }
}

fn read_u16(data: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([data[at], data[at + 1]])
}

/// Parses the data of the Ed25519 instruction at transaction index `own_index`, accepting
/// only Tessera's layout. Pure, so that the fuzz targets and the program run the same code.
pub fn parse(data: &[u8], own_index: u16) -> Result<SignedMessage<'_>> {
    require!(
        data.len() >= OFFSETS_START,
        TesseraError::MalformedEd25519Instruction
    );
    let count = data[0] as usize;
    require!(
        (1..=MAX_SIGNERS).contains(&count) && data[1] == 0,
        TesseraError::MalformedEd25519Instruction
    );
    let message_start = OFFSETS_START + count * (OFFSETS_LEN + PUBKEY_LEN + SIGNATURE_LEN);
    require!(
        data.len() > message_start && data.len() <= u16::MAX as usize,
        TesseraError::MalformedEd25519Instruction
    );
    let message_len = data.len() - message_start;

    let mut signers = [Pubkey::default(); MAX_SIGNERS];
    for (entry, signer) in signers.iter_mut().enumerate().take(count) {
        let at = OFFSETS_START + entry * OFFSETS_LEN;
        let offsets: [u16; 7] = core::array::from_fn(|field| read_u16(data, at + 2 * field));
        for index in [offsets[1], offsets[3], offsets[6]] {
            require!(
                index == THIS_INSTRUCTION || index == own_index,
                TesseraError::Ed25519OffsetsOutsideInstruction
            );
        }
        let mut expected = canonical_offsets(entry, count, message_len);
        // Either way of naming this instruction is the same instruction.
        for field in [1, 3, 6] {
            expected[field] = offsets[field];
        }
        require!(
            offsets == expected,
            TesseraError::MalformedEd25519Instruction
        );
        let key_at = offsets[2] as usize;
        let mut key = [0u8; PUBKEY_LEN];
        key.copy_from_slice(&data[key_at..key_at + PUBKEY_LEN]);
        *signer = Pubkey::new_from_array(key);
    }
    Ok(SignedMessage {
        signers,
        count,
        message: &data[message_start..],
    })
}

/// Loads the instruction right before the current one, which must be an Ed25519 program
/// instruction, and returns its index and data. `instructions_sysvar` must already be
/// address-checked.
pub fn load_previous_ed25519(instructions_sysvar: &AccountInfo) -> Result<(u16, Vec<u8>)> {
    use solana_instructions_sysvar::{load_current_index_checked, load_instruction_at_checked};
    let current = load_current_index_checked(instructions_sysvar)
        .map_err(|_| error!(TesseraError::InvalidInstructionsSysvar))?;
    require!(current > 0, TesseraError::MissingEd25519Instruction);
    let index = current - 1;
    let instruction = load_instruction_at_checked(index as usize, instructions_sysvar)
        .map_err(|_| error!(TesseraError::MissingEd25519Instruction))?;
    require!(
        instruction.program_id == solana_sdk_ids::ed25519_program::ID,
        TesseraError::MissingEd25519Instruction
    );
    Ok((index, instruction.data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tessera's layout for `keys` over `message`, with zero signatures (parse never reads them).
    fn layout(keys: &[Pubkey], message: &[u8]) -> Vec<u8> {
        let mut data = vec![keys.len() as u8, 0];
        for entry in 0..keys.len() {
            for field in canonical_offsets(entry, keys.len(), message.len()) {
                data.extend_from_slice(&field.to_le_bytes());
            }
        }
        for key in keys {
            data.extend_from_slice(key.as_ref());
            data.extend_from_slice(&[0; SIGNATURE_LEN]);
        }
        data.extend_from_slice(message);
        data
    }

    fn error_of(result: Result<SignedMessage<'_>>) -> Error {
        result.map(|_| ()).unwrap_err()
    }

    #[test]
    fn parses_the_canonical_layout() {
        let keys = [
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        ];
        let data = layout(&keys, b"receipt");
        let signed = parse(&data, 0).unwrap();
        assert_eq!(signed.signers(), &keys);
        assert_eq!(signed.message, b"receipt");
    }

    #[test]
    fn accepts_the_explicit_own_index() {
        let keys = [Pubkey::new_unique()];
        let mut data = layout(&keys, b"m");
        data[OFFSETS_START + 2..OFFSETS_START + 4].copy_from_slice(&3u16.to_le_bytes());
        assert!(parse(&data, 3).is_ok());
        assert_eq!(
            error_of(parse(&data, 2)),
            TesseraError::Ed25519OffsetsOutsideInstruction.into()
        );
    }

    #[test]
    fn refuses_other_layouts() {
        let keys = [Pubkey::new_unique(), Pubkey::new_unique()];
        let good = layout(&keys, b"message");
        let malformed: Error = TesseraError::MalformedEd25519Instruction.into();

        assert_eq!(error_of(parse(&[], 0)), malformed);
        assert_eq!(
            error_of(parse(&good[..good.len() - 7], 0)),
            malformed,
            "no message"
        );
        let mut zero = good.clone();
        zero[0] = 0;
        assert_eq!(error_of(parse(&zero, 0)), malformed);
        let mut too_many = good.clone();
        too_many[0] = (MAX_SIGNERS + 1) as u8;
        assert_eq!(error_of(parse(&too_many, 0)), malformed);
        let mut padded = good.clone();
        padded[1] = 1;
        assert_eq!(error_of(parse(&padded, 0)), malformed);
        let mut count_lies = good.clone();
        count_lies[0] = 1;
        assert_eq!(error_of(parse(&count_lies, 0)), malformed);

        // Each offset field moved by one byte.
        for field in [0, 2, 4, 5] {
            let mut moved = good.clone();
            let at = OFFSETS_START + OFFSETS_LEN + 2 * field;
            let value = read_u16(&moved, at).wrapping_add(1);
            moved[at..at + 2].copy_from_slice(&value.to_le_bytes());
            assert_eq!(error_of(parse(&moved, 0)), malformed, "field {field}");
        }
        // Each instruction index pointed at instruction 1.
        for field in [1, 3, 6] {
            let mut elsewhere = good.clone();
            let at = OFFSETS_START + 2 * field;
            elsewhere[at..at + 2].copy_from_slice(&1u16.to_le_bytes());
            assert_eq!(
                error_of(parse(&elsewhere, 0)),
                TesseraError::Ed25519OffsetsOutsideInstruction.into()
            );
        }
    }
}
