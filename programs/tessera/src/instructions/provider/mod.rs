//! Instructions of providers: registration, spec, worker key, stake, and taking and finishing jobs.

pub mod accept_job;
pub mod complete_job;
pub mod deregister;
pub mod register_provider;
pub mod request_unstake;
pub mod rotate_worker_key;
pub mod stake;
pub mod stake_vault;
pub mod update_provider;
pub mod withdraw_unstaked;

pub use accept_job::*;
pub use complete_job::*;
pub use deregister::*;
pub use register_provider::*;
pub use request_unstake::*;
pub use rotate_worker_key::*;
pub use stake::*;
pub use stake_vault::*;
pub use update_provider::*;
pub use withdraw_unstaked::*;
