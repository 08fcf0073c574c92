//! Attestation: what a co-signer (an attestor, or a job's client) checks before it signs a
//! receipt ([`review`]), the JSON a co-signing service and its callers exchange ([`wire`]),
//! and attestor groups ([`group`]): `n` attestors holding FROST(Ed25519, SHA-512) shares of one
//! group key, any `t` of whom produce one standard Ed25519 signature that the Ed25519
//! precompile verifies like any other.
//!
//! The service itself ([`server`], run by `tessera attest serve`) reads the ledger through
//! `tessera-ledger`; the [`coordinator`] collects signatures from such services for `tessera
//! receipt cosign --attestor` and the worker.

pub mod coordinator;
pub mod far_end;
pub mod gate;
pub mod group;
pub mod http;
pub mod metrics;
pub mod review;
pub mod server;
pub mod service;
pub mod wire;

/// The random number generators a review draws its samples and Freivalds vectors from.
pub use rand;
