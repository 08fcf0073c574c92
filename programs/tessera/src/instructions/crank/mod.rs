//! Permissionless instructions anyone may send once their time has come.

pub mod claim_emission;
pub mod close_job;

pub use claim_emission::*;
pub use close_job::*;
