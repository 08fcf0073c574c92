//! Checked integer arithmetic. Every function fails with `TesseraError::MathOverflow`
//! instead of wrapping; products that may exceed u64 go through u128; rounding is explicit.

use crate::errors::TesseraError;
use anchor_lang::prelude::*;

/// Basis points: 10,000 bps = 100%.
pub const BPS_DENOMINATOR: u64 = 10_000;

/// `a + b`, or `MathOverflow`.
pub fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

/// `a - b`, or `MathOverflow` when `b > a`.
pub fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

/// `a * b`, or `MathOverflow`.
pub fn mul(a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

/// `floor(a * b / denominator)` computed in u128; `MathOverflow` if the denominator is zero
/// or the result does not fit in u64.
pub fn mul_div_floor(a: u64, b: u64, denominator: u64) -> Result<u64> {
    let product = (a as u128)
        .checked_mul(b as u128)
        .ok_or_else(|| error!(TesseraError::MathOverflow))?;
    let quotient = product
        .checked_div(denominator as u128)
        .ok_or_else(|| error!(TesseraError::MathOverflow))?;
    u64::try_from(quotient).map_err(|_| error!(TesseraError::MathOverflow))
}

/// `floor(amount * bps / 10_000)`: the share of `amount` that a fee of `bps` takes, rounded
/// down so that the payer never loses a fraction of a token to rounding.
pub fn bps_of_floor(amount: u64, bps: u16) -> Result<u64> {
    mul_div_floor(amount, bps as u64, BPS_DENOMINATOR)
}

/// `timestamp + seconds`, or `MathOverflow`.
pub fn add_secs(timestamp: i64, seconds: i64) -> Result<i64> {
    timestamp
        .checked_add(seconds)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sub_mul_refuse_overflow() {
        assert_eq!(add(u64::MAX - 1, 1).unwrap(), u64::MAX);
        assert!(add(u64::MAX, 1).is_err());
        assert_eq!(sub(5, 5).unwrap(), 0);
        assert!(sub(4, 5).is_err());
        assert_eq!(mul(u32::MAX as u64, 2).unwrap(), 2 * u32::MAX as u64);
        assert!(mul(u64::MAX, 2).is_err());
        assert!(add_secs(i64::MAX, 1).is_err());
    }

    #[test]
    fn mul_div_uses_u128_and_floors() {
        assert_eq!(
            mul_div_floor(u64::MAX, u64::MAX, u64::MAX).unwrap(),
            u64::MAX
        );
        assert_eq!(mul_div_floor(10, 1, 3).unwrap(), 3);
        assert!(mul_div_floor(1, 1, 0).is_err());
        assert!(mul_div_floor(u64::MAX, 2, 1).is_err());
        assert_eq!(bps_of_floor(999, 100).unwrap(), 9);
        assert_eq!(bps_of_floor(u64::MAX, 10_000).unwrap(), u64::MAX);
    }
}
