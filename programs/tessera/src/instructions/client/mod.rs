//! Instructions of clients: funding, topping up and cancelling jobs.

pub mod cancel_job;
pub mod create_job;
pub mod top_up;

pub use cancel_job::*;
pub use create_job::*;
pub use top_up::*;
