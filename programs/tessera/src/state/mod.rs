//! Account types. One file per account; each names its seeds, derives its size with
//! `InitSpace`, keeps reserved bytes for later fields, and states its `invariant()`.

pub mod attestor_set;
pub mod dispute;
pub mod epoch;
pub mod job;
pub mod network;
pub mod provider;

pub use attestor_set::*;
pub use dispute::*;
pub use epoch::*;
pub use job::*;
pub use network::*;
pub use provider::*;
