//! The entrypoint for the program compiled for the host and run inside a Solana runtime (the
//! embedded ledger). Anchor's `entry` logs a failure with `msg!`, which a host build prints to
//! the process's stdout; this one writes the same lines into the transaction's log through the
//! syscall stubs, so that a failed transaction's log reads as a deployed program's would.

use anchor_lang::error::{ComparedValues, Error, ErrorOrigin};
use anchor_lang::prelude::*;
use anchor_lang::solana_program::entrypoint::ProgramResult;

/// `entry`, with the error of a failed instruction logged into the transaction's log.
pub fn entry<'info>(
    program_id: &'info Pubkey,
    accounts: &'info [AccountInfo<'info>],
    data: &'info [u8],
) -> ProgramResult {
    crate::try_entry(program_id, accounts, data).map_err(|error| {
        for line in error_log(&error) {
            solana_sysvar::program_stubs::sol_log(&line);
        }
        error.into()
    })
}

/// The lines Anchor's `Error::log` writes for `error`, word for word.
pub fn error_log(error: &Error) -> Vec<String> {
    let (kind, origin, code, compared) = match error {
        Error::AnchorError(error) => (
            "AnchorError",
            &error.error_origin,
            format!(
                "Error Code: {}. Error Number: {}. Error Message: {}.",
                error.error_name, error.error_code_number, error.error_msg
            ),
            &error.compared_values,
        ),
        Error::ProgramError(error) => (
            "ProgramError",
            &error.error_origin,
            format!(
                "Error Code: {:?}. Error Number: {}. Error Message: {}.",
                error.program_error,
                u64::from(error.program_error.clone()),
                error.program_error
            ),
            &error.compared_values,
        ),
    };
    let mut lines = vec![match origin {
        None => format!("{kind} occurred. {code}"),
        Some(ErrorOrigin::Source(source)) => {
            format!(
                "{kind} thrown in {}:{}. {code}",
                source.filename, source.line
            )
        }
        Some(ErrorOrigin::AccountName(account)) => {
            format!("{kind} caused by account: {account}. {code}")
        }
    }];
    match compared {
        Some(ComparedValues::Pubkeys((left, right))) => {
            lines.extend([
                "Left:".into(),
                left.to_string(),
                "Right:".into(),
                right.to_string(),
            ]);
        }
        Some(ComparedValues::Values((left, right))) => {
            lines.extend([format!("Left: {left}"), format!("Right: {right}")]);
        }
        None => {}
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TesseraError;

    #[test]
    fn an_error_logs_the_lines_anchor_writes() {
        let error: Error = error!(TesseraError::InvariantViolated);
        let lines = error_log(&error);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with("AnchorError thrown in programs/tessera/src/host.rs:")
                || lines[0].starts_with("AnchorError thrown in src/host.rs:"),
            "{lines:?}"
        );
        assert!(
            lines[0].contains("Error Code: InvariantViolated."),
            "{lines:?}"
        );

        let keys = (Pubkey::new_unique(), Pubkey::new_unique());
        let error = Error::from(anchor_lang::error::ErrorCode::ConstraintHasOne)
            .with_account_name("network")
            .with_pubkeys(keys);
        assert_eq!(
            error_log(&error),
            vec![
                "AnchorError caused by account: network. Error Code: ConstraintHasOne. Error \
                 Number: 2001. Error Message: A has one constraint was violated."
                    .to_string(),
                "Left:".into(),
                keys.0.to_string(),
                "Right:".into(),
                keys.1.to_string(),
            ]
        );
    }
}
