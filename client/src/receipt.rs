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
pub use tessera::receipt::{
    batch_message, Receipt, BATCH_DOMAIN, BATCH_MESSAGE_LEN, RECEIPT_DOMAIN, RECEIPT_LEN,
};
use tessera::state::UnitKind;

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
        add_signature(&mut self.signatures, signer, &self.receipt.to_bytes())?;
        Ok(self)
    }

    /// Checks every signature off-chain with ed25519-dalek's strict verification (the rules
    /// the precompile applies).
    pub fn verify(&self) -> Result<(), ReceiptError> {
        verify_all(&self.receipt.to_bytes(), &self.signatures)
    }

    /// The Ed25519 instruction that makes the runtime verify every signature, in the layout the
    /// program accepts. It must come right before the settle instruction.
    pub fn ed25519_instruction(&self) -> Instruction {
        ed25519_instruction(&self.receipt.to_bytes(), &self.signatures)
    }
}

/// Receipts on several jobs of one provider and the signatures collected over them together
/// (over [`batch_message`]), worker first: what `settle_batch` settles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedBatch {
    /// In the order the batch settles them; all for one network, provider and worker key,
    /// under one attestor set version.
    pub receipts: Vec<Receipt>,
    /// `(public key, signature)` in signing order; the worker's comes first.
    pub signatures: Vec<(Pubkey, [u8; SIGNATURE_LEN])>,
}

impl SignedBatch {
    /// A batch of `receipts` with no signatures yet.
    pub fn new(receipts: Vec<Receipt>) -> Self {
        Self {
            receipts,
            signatures: Vec::new(),
        }
    }

    /// The bytes every signer of the batch signs.
    pub fn message(&self) -> [u8; BATCH_MESSAGE_LEN] {
        let bytes: Vec<[u8; RECEIPT_LEN]> = self.receipts.iter().map(Receipt::to_bytes).collect();
        let slices: Vec<&[u8]> = bytes.iter().map(|receipt| receipt.as_slice()).collect();
        batch_message(&slices)
    }

    /// Adds `signer`'s signature over the batch message.
    pub fn sign(&mut self, signer: &dyn Signer) -> Result<&mut Self, ReceiptError> {
        let message = self.message();
        add_signature(&mut self.signatures, signer, &message)?;
        Ok(self)
    }

    /// Checks every signature off-chain, as [`SignedReceipt::verify`] does.
    pub fn verify(&self) -> Result<(), ReceiptError> {
        verify_all(&self.message(), &self.signatures)
    }

    /// The Ed25519 instruction that carries the batch's signatures; it must come right before
    /// the `settle_batch` instruction.
    pub fn ed25519_instruction(&self) -> Instruction {
        ed25519_instruction(&self.message(), &self.signatures)
    }
}

/// Adds `signer`'s signature over `message` unless it already signed or the list is full.
fn add_signature(
    signatures: &mut Vec<(Pubkey, [u8; SIGNATURE_LEN])>,
    signer: &dyn Signer,
    message: &[u8],
) -> Result<(), ReceiptError> {
    let key = signer.try_pubkey()?;
    if signatures.iter().any(|(signed, _)| *signed == key) {
        return Err(ReceiptError::AlreadySigned(key));
    }
    if signatures.len() == MAX_SIGNERS {
        return Err(ReceiptError::TooManySignatures);
    }
    let signature = signer.try_sign_message(message)?;
    signatures.push((key, signature.into()));
    Ok(())
}

/// Checks every signature over `message` with ed25519-dalek's strict verification.
fn verify_all(
    message: &[u8],
    signatures: &[(Pubkey, [u8; SIGNATURE_LEN])],
) -> Result<(), ReceiptError> {
    for (key, signature) in signatures {
        let verifying_key = VerifyingKey::from_bytes(&key.to_bytes())
            .map_err(|_| ReceiptError::BadSignature(*key))?;
        verifying_key
            .verify_strict(message, &DalekSignature::from_bytes(signature))
            .map_err(|_| ReceiptError::BadSignature(*key))?;
    }
    Ok(())
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

/// A signed receipt as a file: what `tessera receipt sign` writes, `cosign` adds to, and
/// `submit` sends. Keys are base58, hashes and signatures hex; the bytes signed are rebuilt
/// from these fields, so an edited field makes every signature fail to verify.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptFile {
    /// Always [`ReceiptFile::FORMAT`].
    pub format: String,
    pub program_id: String,
    pub network: String,
    pub subject: String,
    pub subject_nonce: u64,
    pub provider: String,
    pub worker_key: String,
    pub cumulative_units: u64,
    /// `gpu-seconds`, `cpu-seconds` or `bytes` (see [`unit_kind_name`]).
    pub unit_kind: String,
    pub result_hash: String,
    pub attestor_set_version: u32,
    pub issued_at: i64,
    pub expires_at: i64,
    /// Worker first, then co-signers in signing order.
    pub signatures: Vec<FileSignature>,
}

/// One signature of a [`ReceiptFile`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileSignature {
    pub key: String,
    pub signature: String,
}

/// Why a receipt file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptFileError {
    #[error("the file is not a Tessera receipt (format {0:?}, expected {f:?})", f = ReceiptFile::FORMAT)]
    Format(String),
    #[error("field {field}: {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
}

impl ReceiptFile {
    /// The format tag of version 2 files (receipts that state their unit kind).
    pub const FORMAT: &'static str = "tessera-receipt/v2";

    /// The file form of `signed`.
    pub fn from_signed(signed: &SignedReceipt) -> Self {
        let r = &signed.receipt;
        Self {
            format: Self::FORMAT.into(),
            program_id: r.program_id.to_string(),
            network: r.network.to_string(),
            subject: r.subject.to_string(),
            subject_nonce: r.subject_nonce,
            provider: r.provider.to_string(),
            worker_key: r.worker_key.to_string(),
            cumulative_units: r.cumulative_units,
            unit_kind: unit_kind_name(r.unit_kind).into(),
            result_hash: hex::encode(r.result_hash),
            attestor_set_version: r.attestor_set_version,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            signatures: signed
                .signatures
                .iter()
                .map(|(key, signature)| FileSignature {
                    key: key.to_string(),
                    signature: hex::encode(signature),
                })
                .collect(),
        }
    }

    /// The receipt and signatures this file holds (signatures not yet verified).
    pub fn to_signed(&self) -> Result<SignedReceipt, ReceiptFileError> {
        if self.format != Self::FORMAT {
            return Err(ReceiptFileError::Format(self.format.clone()));
        }
        let receipt = Receipt {
            domain: RECEIPT_DOMAIN,
            program_id: key("program_id", &self.program_id)?,
            network: key("network", &self.network)?,
            subject: key("subject", &self.subject)?,
            subject_nonce: self.subject_nonce,
            provider: key("provider", &self.provider)?,
            worker_key: key("worker_key", &self.worker_key)?,
            cumulative_units: self.cumulative_units,
            unit_kind: parse_unit_kind(&self.unit_kind).ok_or_else(|| ReceiptFileError::Field {
                field: "unit_kind",
                problem: format!(
                    "{:?} is not a unit kind: use gpu-seconds, cpu-seconds or bytes",
                    self.unit_kind
                ),
            })?,
            result_hash: bytes("result_hash", &self.result_hash)?,
            attestor_set_version: self.attestor_set_version,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        };
        let signatures = self
            .signatures
            .iter()
            .map(|entry| {
                Ok((
                    key("signatures.key", &entry.key)?,
                    bytes("signatures.signature", &entry.signature)?,
                ))
            })
            .collect::<Result<_, ReceiptFileError>>()?;
        Ok(SignedReceipt {
            receipt,
            signatures,
        })
    }
}

/// The name of a unit kind in receipt files and on the command line.
pub fn unit_kind_name(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::GpuSeconds => "gpu-seconds",
        UnitKind::CpuSeconds => "cpu-seconds",
        UnitKind::Bytes => "bytes",
    }
}

/// The unit kind named `name` (see [`unit_kind_name`]), if any.
pub fn parse_unit_kind(name: &str) -> Option<UnitKind> {
    [UnitKind::GpuSeconds, UnitKind::CpuSeconds, UnitKind::Bytes]
        .into_iter()
        .find(|kind| unit_kind_name(*kind) == name)
}

fn key(field: &'static str, text: &str) -> Result<Pubkey, ReceiptFileError> {
    text.parse().map_err(|_| ReceiptFileError::Field {
        field,
        problem: format!("{text:?} is not a base58 public key"),
    })
}

fn bytes<const N: usize>(field: &'static str, text: &str) -> Result<[u8; N], ReceiptFileError> {
    let problem = || ReceiptFileError::Field {
        field,
        problem: format!("{text:?} is not {N} bytes of hex"),
    };
    hex::decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(problem)
}
