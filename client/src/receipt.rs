//! Signing receipts and building the Ed25519 instruction that carries their signatures.
//!
//! The receipt type and its bytes live in the program crate ([`tessera::receipt`]); this module
//! signs those bytes with any Solana signer, verifies signatures off-chain, and lays them out
//! the one way the program accepts ([`tessera::ed25519`]).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};
use solana_signer::{Signer, SignerError};
use tessera::ed25519::{canonical_offsets, MAX_SIGNERS, OFFSETS_START, PUBKEY_LEN, SIGNATURE_LEN};
pub use tessera::receipt::{Receipt, RECEIPT_DOMAIN, RECEIPT_LEN};

/// The Ed25519 signature-verification precompile.
pub const ED25519_PROGRAM_ID: Pubkey = solana_sdk_ids::ed25519_program::ID;

/// What can go wrong with a receipt's signatures.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The signer refused or failed (hardware wallet unplugged, wrong passphrase, ...).
    #[error("the signer could not sign the receipt: {0}")]
    Signer(#[from] SignerError),
    /// A key signed twice.
    #[error("{0} has already signed this receipt")]
    AlreadySigned(Pubkey),
    /// More signatures than one Ed25519 instruction may carry for Tessera.
    #[error("a receipt carries at most {MAX_SIGNERS} signatures (the worker and 8 attestors)")]
    TooManySignatures,
    /// A signature does not verify.
    #[error("the signature of {0} does not verify against the receipt bytes")]
    BadSignature(Pubkey),
}

/// A receipt and the signatures collected on it, worker first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedReceipt {
    pub receipt: Receipt,
    /// `(public key, signature)` in signing order; the worker's comes first.
    pub signatures: Vec<(Pubkey, [u8; SIGNATURE_LEN])>,
}

impl SignedReceipt {
    /// A receipt with no signatures yet.
    pub fn new(receipt: Receipt) -> Self {
        Self {
            receipt,
            signatures: Vec::new(),
        }
    }

    /// Adds `signer`'s signature over the receipt bytes.
    pub fn sign(&mut self, signer: &dyn Signer) -> Result<&mut Self, ReceiptError> {
        let key = signer.try_pubkey()?;
        if self.signatures.iter().any(|(signed, _)| *signed == key) {
            return Err(ReceiptError::AlreadySigned(key));
        }
        if self.signatures.len() == MAX_SIGNERS {
            return Err(ReceiptError::TooManySignatures);
        }
        let signature = signer.try_sign_message(&self.receipt.to_bytes())?;
        self.signatures.push((key, signature.into()));
        Ok(self)
    }

    /// Checks every signature off-chain with ed25519-dalek's strict verification (the rules
    /// the precompile applies).
    pub fn verify(&self) -> Result<(), ReceiptError> {
        let message = self.receipt.to_bytes();
        for (key, signature) in &self.signatures {
            let verifying_key = VerifyingKey::from_bytes(&key.to_bytes())
                .map_err(|_| ReceiptError::BadSignature(*key))?;
            verifying_key
                .verify_strict(&message, &DalekSignature::from_bytes(signature))
                .map_err(|_| ReceiptError::BadSignature(*key))?;
        }
        Ok(())
    }

    /// The Ed25519 instruction that makes the runtime verify every signature, in the layout the
    /// program accepts. It must come right before the settle instruction.
    pub fn ed25519_instruction(&self) -> Instruction {
        ed25519_instruction(&self.receipt.to_bytes(), &self.signatures)
    }
}

/// An Ed25519 precompile instruction in Tessera's layout: every signature entry over the one
/// `message`, stored once at the end.
pub fn ed25519_instruction(
    message: &[u8],
    signatures: &[(Pubkey, [u8; SIGNATURE_LEN])],
) -> Instruction {
    let count = signatures.len();
    let mut data = Vec::with_capacity(
        OFFSETS_START + count * (14 + PUBKEY_LEN + SIGNATURE_LEN) + message.len(),
    );
    data.extend_from_slice(&[count as u8, 0]);
    for entry in 0..count {
        for field in canonical_offsets(entry, count, message.len()) {
            data.extend_from_slice(&field.to_le_bytes());
        }
    }
    for (key, signature) in signatures {
        data.extend_from_slice(key.as_ref());
        data.extend_from_slice(signature);
    }
    data.extend_from_slice(message);
    Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: Vec::new(),
        data,
    }
}
