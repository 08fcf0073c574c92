//! Turning signed receipts into payment and emission units.

pub mod receipt_accounts;
pub mod settle_batch;
pub mod settle_receipt;
pub mod settle_service;

pub use crate::settlement::{Attestation, ReceiptArgs};
pub use receipt_accounts::*;
pub use settle_batch::*;
pub use settle_receipt::*;
pub use settle_service::*;
