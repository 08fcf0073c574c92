//! Attestation off the ledger: the co-signing service attestors and clients run
//! ([`server`]), and the coordinator that gets a receipt co-signed by such services
//! ([`coordinator`]), for `tessera receipt cosign --attestors` and the worker.

pub mod coordinator;
pub mod far_end;
pub mod server;
