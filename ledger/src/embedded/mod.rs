//! The embedded ledger: surfpool (LiteSVM with Solana's JSON-RPC on top, state in sqlite)
//! started in this process on 127.0.0.1, with the Tessera program registered natively and the
//! SPL Token, Token-2022 and Associated Token programs that surfpool loads. Commands talk to it
//! through the same RPC client as to a real cluster.

pub mod builtin;
pub mod folder;
pub mod index;
pub mod ledger;
pub mod store;

pub use folder::{Claim, Folder};
pub use ledger::EmbeddedLedger;
pub use store::Store;
