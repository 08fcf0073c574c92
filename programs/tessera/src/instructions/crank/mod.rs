//! Permissionless instructions anyone may send once their time has come.

pub mod close_job;

pub use close_job::*;
