//! Permissionless instructions anyone may send once their time has come.

pub mod claim_emission;
pub mod close_job;
pub mod tally_work;

pub use claim_emission::*;
pub use close_job::*;
pub use tally_work::*;
