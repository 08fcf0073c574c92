//! Instructions of clients: funding, topping up and cancelling jobs, disputing work.

pub mod cancel_job;
pub mod create_job;
pub mod open_dispute;
pub mod top_up;

pub use cancel_job::*;
pub use create_job::*;
pub use open_dispute::*;
pub use top_up::*;
