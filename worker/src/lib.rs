//! What a Tessera worker runs, apart from the ledger: the job spec document a job's
//! `spec_hash` commits to, the built-in workload, whose result anyone can check far faster
//! than it was computed, and the durable record of its jobs and receipts.
//!
//! The `tessera worker` command (accepting, metering, receipts, settlement, claims) is built on
//! this crate and on `tessera-client`'s flows.

pub mod matmul;
pub mod publish;
pub mod spec;
pub mod store;
