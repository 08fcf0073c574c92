//! A bandwidth job's relay token: before anything else, each connection to a provider's relay
//! sends the job client's Ed25519 signature of [`token_message`] (64 bytes). The relay carries
//! nothing for a connection without it, so only the client (and whoever it gives the token
//! to) spends the bytes it paid for.

use anchor_lang::prelude::Pubkey;
use ed25519_dalek::{Signature, VerifyingKey};

/// Bytes of a token.
pub const TOKEN_LEN: usize = 64;

/// What the job's client signs to make the relay token of the job at `job`.
pub fn token_message(job: &Pubkey) -> Vec<u8> {
    let mut message = b"tessera relay v1\n".to_vec();
    message.extend_from_slice(job.as_ref());
    message
}

/// Whether `token` is `client`'s signature of the job's [`token_message`].
pub fn token_admits(client: &Pubkey, job: &Pubkey, token: &[u8; TOKEN_LEN]) -> bool {
    VerifyingKey::from_bytes(&client.to_bytes()).is_ok_and(|key| {
        key.verify_strict(&token_message(job), &Signature::from_bytes(token))
            .is_ok()
    })
}
