//! Instructions of the network authority (and `initialize_network`, which makes one).

pub mod accept_authority;
pub mod initialize_network;
pub mod propose_authority;
pub mod resolve_dispute;
pub mod set_attestors;
pub mod set_pause;
pub mod update_parameters;

pub use accept_authority::*;
pub use initialize_network::*;
pub use propose_authority::*;
pub use resolve_dispute::*;
pub use set_attestors::*;
pub use set_pause::*;
pub use update_parameters::*;
