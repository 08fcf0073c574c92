//! Tessera's connection to a ledger, shared by the `tessera` command line, the worker and the
//! co-signing service: one path for every ledger. A real cluster is reached over JSON-RPC; the
//! default, embedded ledger is surfpool started in this process on 127.0.0.1 and reached over
//! the very same JSON-RPC client ([`embedded`]).
//!
//! [`Ledger`] is the connection (reads, sends, the program's refusals typed as
//! [`ProgramRefused`] and [`Unconfirmed`]); [`session::Session`] adds the network a caller is
//! about and who signs; [`args::Connection`] is the flags every command and service shares.
//! Nothing here prints.

pub mod actions;
pub mod args;
pub mod config;
mod connection;
pub mod decode;
pub mod embedded;
pub mod localnet;
pub mod logs;
pub mod session;
pub mod signals;
pub mod stdio;
pub mod tokens;

pub use connection::*;
