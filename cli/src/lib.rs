//! The `tessera` command line: every role's commands ([`commands`]), the auditor ([`audit`]),
//! the quickstart and the localnet. The connection to a ledger is `tessera-ledger`'s; the
//! co-signing service and its coordinator are `tessera-attest`'s; what a job's work is,
//! `tessera-work`'s.

pub mod audit;
pub mod commands;
pub mod progress;
pub mod quickstart;
pub mod view;
