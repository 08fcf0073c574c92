//! The `tessera` command line: one path for every ledger. Real clusters are reached over
//! JSON-RPC; the default, embedded ledger is surfpool started in this process and reached over
//! the very same JSON-RPC client.

pub mod attest;
pub mod audit;
pub mod commands;
pub mod decode;
pub mod embedded;
pub mod errors;
pub mod ledger;
pub mod localnet;
pub mod progress;
pub mod quickstart;
pub mod signals;
pub mod stdio;
pub mod tokens;
pub mod view;
pub mod worker;
