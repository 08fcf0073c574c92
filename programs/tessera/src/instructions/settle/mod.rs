//! Turning signed receipts into payment and emission units.

pub mod settle_receipt;
pub mod settle_service;
pub mod verify;

pub use settle_receipt::*;
pub use settle_service::*;
pub use verify::*;
