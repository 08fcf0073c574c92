//! The `tessera` subcommands, one file per group. Each group parses its own flags (clap) and
//! runs against a [`Session`]: an open ledger, the chosen network and the signer.
//!
//! Every subcommand is one function, `fn create(session, args) -> Result<JobReport>`, that
//! returns one view: a struct that is both the command's JSON (`Serialize`) and its text
//! (`Display`), see [`crate::view`]. A group's `run` only matches the subcommand to its
//! function. The quickstart calls the same functions, so each flow has one code path.
//!
//! A command checks what it can before it sends anything (the account exists, the network is
//! not paused, the balance covers the amount), so bad input is refused with a message that
//! says what to fix, and it sends each change as one transaction, so a refusal by the program
//! leaves the ledger as it was.

pub mod attest;
pub mod claim;
pub mod emissions;
pub mod history;
pub mod inspect;
pub mod job;
pub mod key;
pub mod ledger;
pub mod migrate;
pub mod network;
pub mod provider;
pub mod receipt;
pub mod token;
pub mod worker;

pub use crate::view::Outcome;
pub use tessera_ledger::actions::{default_unit, ensure_measures, CLASSES};
pub use tessera_ledger::args::{ClassArg, UnitArg};
pub use tessera_ledger::session::{ensure_open, when, Activity, Foreseen, Session};

/// A 32-byte hash typed as 64 hex digits (clap value parser).
pub fn parse_hash(text: &str) -> Result<[u8; 32], String> {
    hex::decode(text.trim_start_matches("0x"))
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| format!("{text:?} is not 32 bytes written as 64 hex digits"))
}
