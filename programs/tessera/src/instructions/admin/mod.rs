//! Instructions of the network authority (and `initialize_network`, which makes one).

pub mod accept_authority;
pub mod accept_treasury;
pub mod initialize_network;
pub mod propose_authority;
pub mod propose_treasury;
pub mod resolve_dispute;
pub mod set_attestor_group;
pub mod set_attestors;
pub mod set_emission_floors;
pub mod set_pause;
pub mod update_parameters;

pub use accept_authority::*;
pub use accept_treasury::*;
pub use initialize_network::*;
pub use propose_authority::*;
pub use propose_treasury::*;
pub use resolve_dispute::*;
pub use set_attestor_group::*;
pub use set_attestors::*;
pub use set_emission_floors::*;
pub use set_pause::*;
pub use update_parameters::*;
