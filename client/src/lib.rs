//! Tessera client library: the one place off-chain code learns the program's addresses and
//! instruction layouts. The CLI, the worker, the tests and the migrations all build their
//! transactions through [`pda`] and [`instructions`].

pub mod codec_checks;
pub mod instructions;
pub mod pda;
pub mod receipt;

pub use tessera;
pub use tessera::ID as PROGRAM_ID;
