//! The Tessera worker, the provider's off-chain half (`tessera worker run`, or the
//! `tessera-worker` binary). It takes the jobs named for its
//! provider (and, by policy, open ones), runs the work their spec documents describe, meters
//! it, signs cumulative receipts, gets them co-signed, settles them, completes each job when
//! its work is done, and claims the emissions of finished epochs.
//!
//! Each pass looks at the ledger and takes, for every job, the one next step it allows (settle
//! a co-signed receipt, sign a due one, run a round of work, complete), until no job can move;
//! then it waits and looks again. Every step is recorded in the worker's store (a redb file)
//! in one committed transaction before anything leaves the machine, so a worker killed at any
//! point resumes from the store and the ledger. Receipts are cumulative, so a receipt sent
//! twice never pays twice.

//!
//! [`run`] is the loop; [`store`] the durable record; [`events`] what it tells its operator;
//! [`args::RunArgs`] its flags, shared by `tessera worker run` and the `tessera-worker` binary.
//! It acts on the ledger through `tessera-ledger`'s actions, the same functions `tessera`'s
//! commands call, and asks co-signing services through `tessera-attest`'s coordinator.

pub mod args;
mod command;
mod cosign;
pub mod events;
mod gpu_time;
pub mod metrics;
mod relay;
mod run;
pub mod store;

pub use run::{run, Config, Device, Paths, Policy, SettleEvery};
