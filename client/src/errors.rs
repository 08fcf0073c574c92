//! Program error numbers in words. Tessera's own errors come from the committed IDL (the same
//! table TypeScript and Python clients get); Anchor's framework errors from anchor-lang.

use anchor_lang::error::ErrorCode;
use std::sync::OnceLock;

/// The committed IDL; `tests/tests/idl.rs` fails when it no longer matches the program.
const IDL: &str = include_str!("../../idl/tessera.json");

/// One error: number, name and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramError {
    pub code: u32,
    pub name: String,
    pub message: String,
}

fn tessera_errors() -> &'static [ProgramError] {
    static ERRORS: OnceLock<Vec<ProgramError>> = OnceLock::new();
    ERRORS.get_or_init(|| {
        let idl: serde_json::Value = serde_json::from_str(IDL).unwrap_or_default();
        idl["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|error| {
                        Some(ProgramError {
                            code: error["code"].as_u64()? as u32,
                            name: error["name"].as_str()?.to_string(),
                            message: error["msg"].as_str().unwrap_or_default().to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// The Anchor errors a Tessera instruction can hit (account checks before the handler runs).
const FRAMEWORK: [ErrorCode; 22] = [
    ErrorCode::InstructionMissing,
    ErrorCode::InstructionFallbackNotFound,
    ErrorCode::InstructionDidNotDeserialize,
    ErrorCode::ConstraintMut,
    ErrorCode::ConstraintHasOne,
    ErrorCode::ConstraintSigner,
    ErrorCode::ConstraintRaw,
    ErrorCode::ConstraintOwner,
    ErrorCode::ConstraintSeeds,
    ErrorCode::ConstraintAddress,
    ErrorCode::ConstraintTokenMint,
    ErrorCode::ConstraintTokenOwner,
    ErrorCode::ConstraintMintTokenProgram,
    ErrorCode::ConstraintTokenTokenProgram,
    ErrorCode::AccountDiscriminatorNotFound,
    ErrorCode::AccountDiscriminatorMismatch,
    ErrorCode::AccountDidNotDeserialize,
    ErrorCode::AccountNotEnoughKeys,
    ErrorCode::AccountNotMutable,
    ErrorCode::AccountOwnedByWrongProgram,
    ErrorCode::AccountNotInitialized,
    ErrorCode::AccountNotSigner,
];

/// The error with number `code`, when the program (or Anchor on its behalf) defines it.
pub fn lookup(code: u32) -> Option<ProgramError> {
    if let Some(error) = tessera_errors().iter().find(|error| error.code == code) {
        return Some(error.clone());
    }
    FRAMEWORK
        .iter()
        .find(|error| u32::from(**error) == code)
        .map(|error| ProgramError {
            code,
            name: format!("{error:?}"),
            message: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera::errors::TesseraError;

    #[test]
    fn every_tessera_error_is_in_the_committed_idl() {
        for (error, name) in [
            (TesseraError::MathOverflow, "MathOverflow"),
            (
                TesseraError::SignatureCountMismatch,
                "SignatureCountMismatch",
            ),
            (TesseraError::InvalidReceiptTimes, "InvalidReceiptTimes"),
        ] {
            let code = u32::from(error);
            let found = lookup(code).expect("in the IDL");
            assert_eq!(found.name, name);
            assert_eq!(found.message, error.to_string());
        }
        assert!(tessera_errors().len() >= 79);
        assert_eq!(lookup(2001).unwrap().name, "ConstraintHasOne");
        assert!(lookup(5).is_none());
    }
}
