//! Tessera client library: the one place off-chain code learns the program's addresses and
//! instruction layouts. The CLI, the worker, the tests and the migrations all build their
//! transactions through [`pda`] and [`instructions`], each shared flow (a receipt, its
//! settlement, a claim) through [`flows`], and list accounts by the keys they hold through
//! [`filters`]; [`events`] reads the program's events from a transaction's log, and [`errors`]
//! names the program's error numbers.

pub mod codec_checks;
pub mod errors;
pub mod events;
pub mod filters;
pub mod flows;
pub mod instructions;
pub mod pda;
pub mod receipt;
pub mod relay;
pub mod rules;
pub mod settles;

pub use tessera;
pub use tessera::ID as PROGRAM_ID;

use anchor_lang::prelude::Pubkey;
use std::sync::OnceLock;

static DEPLOYED_AT: OnceLock<Pubkey> = OnceLock::new();

/// The address of the Tessera program the builders and PDAs speak to: [`PROGRAM_ID`] unless
/// [`use_program_id`] chose another deployment.
pub fn program_id() -> Pubkey {
    DEPLOYED_AT.get().copied().unwrap_or(PROGRAM_ID)
}

/// Points every builder and PDA of this process at a program deployed at `id` (a build of
/// Tessera whose `declare_id!` is `id`). Call it once, before building anything; a second call
/// with a different address is refused, so one process never mixes deployments.
pub fn use_program_id(id: Pubkey) -> Result<(), Pubkey> {
    let chosen = *DEPLOYED_AT.get_or_init(|| id);
    if chosen == id {
        Ok(())
    } else {
        Err(chosen)
    }
}
