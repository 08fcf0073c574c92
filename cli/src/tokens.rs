//! Token amounts written with decimals, parsed exactly, and the client-side token instructions
//! the commands need (through the SPL interface crates).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{anyhow, bail, Result};
use tessera_client::instructions::MintRef;

/// Size of a mint account without extensions.
pub const MINT_LEN: usize = 82;

/// `amount` base units as a decimal with `decimals` places, exactly.
pub fn format_amount(amount: u64, decimals: u8) -> String {
    if decimals == 0 {
        return amount.to_string();
    }
    let scale = 10u128.pow(decimals as u32);
    let (whole, fraction) = (amount as u128 / scale, amount as u128 % scale);
    format!("{whole}.{fraction:0width$}", width = decimals as usize)
}

/// Parses a decimal amount into base units with `decimals` places, exactly: no floats, no
/// rounding; more decimals than the mint has, a sign, or an overflow are errors.
pub fn parse_amount(text: &str, decimals: u8) -> Result<u64> {
    let text = text.trim();
    if text.starts_with('-') {
        bail!("amount {text:?} is negative: amounts are at least 0");
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        bail!("amount {text:?} is not a number like 12 or 12.5");
    }
    if fraction.len() > decimals as usize {
        bail!(
            "amount {text:?} has {} decimals but the mint has {decimals}",
            fraction.len()
        );
    }
    let scale = 10u128.pow(decimals as u32);
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| anyhow!("amount {text:?} is too large"))?
    };
    let padded = format!("{fraction:0<width$}", width = decimals as usize);
    let fraction: u128 = if padded.is_empty() {
        0
    } else {
        padded.parse()?
    };
    let total = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| anyhow!("amount {text:?} is too large"))?;
    u64::try_from(total).map_err(|_| anyhow!("amount {text:?} is too large for a token amount"))
}

/// The `amount` field of a token account's data (SPL Token or Token-2022).
pub fn amount(data: &[u8]) -> Result<u64> {
    let bytes: [u8; 8] = data
        .get(64..72)
        .and_then(|slice| slice.try_into().ok())
        .ok_or_else(|| anyhow!("not a token account"))?;
    Ok(u64::from_le_bytes(bytes))
}

/// A mint as the commands use it: address, token program and decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mint {
    pub key: MintRef,
    pub decimals: u8,
}

impl Mint {
    /// Reads a mint account owned by SPL Token or Token-2022.
    pub fn parse(address: &Pubkey, owner: &Pubkey, data: &[u8]) -> Result<Self> {
        if *owner != spl_token_interface::ID && *owner != spl_token_2022_interface::ID {
            bail!("{address} is not a mint: it belongs to {owner}, not to a token program");
        }
        // Both programs: a base mint is 82 bytes (decimals at 44, initialized at 45); a
        // Token-2022 mint with extensions marks byte 165 with account type 1.
        let is_mint = data.len() == MINT_LEN || data.len() > 165 && data[165] == 1;
        match (data.get(44), data.get(45)) {
            (Some(decimals), Some(1)) if is_mint => Ok(Self {
                key: MintRef {
                    mint: *address,
                    token_program: *owner,
                },
                decimals: *decimals,
            }),
            _ => bail!("{address} is a token account, not a mint: pass the mint's address"),
        }
    }

    /// Parses `text` as an amount of this mint, exactly.
    pub fn parse_amount(&self, text: &str) -> Result<u64> {
        parse_amount(text, self.decimals)
    }

    /// `amount` base units of this mint as a decimal.
    pub fn format(&self, amount: u64) -> String {
        format_amount(amount, self.decimals)
    }

    /// `owner`'s associated token account for this mint.
    pub fn associated(&self, owner: &Pubkey) -> Pubkey {
        tessera_client::pda::associated_token(owner, &self.key.mint, &self.key.token_program)
    }
}

/// Instructions that create a mint at `mint` with `decimals`, minted by `authority`.
pub fn create_mint(
    payer: &Pubkey,
    mint: MintRef,
    authority: &Pubkey,
    decimals: u8,
    rent: u64,
) -> Result<Vec<Instruction>> {
    Ok(vec![
        solana_system_interface::instruction::create_account(
            payer,
            &mint.mint,
            rent,
            MINT_LEN as u64,
            &mint.token_program,
        ),
        spl_token_2022_interface::instruction::initialize_mint2(
            &mint.token_program,
            &mint.mint,
            authority,
            None,
            decimals,
        )?,
    ])
}

/// `owner`'s associated token account for `mint`, created unless it exists.
pub fn associated_account(payer: &Pubkey, owner: &Pubkey, mint: MintRef) -> (Pubkey, Instruction) {
    let address = tessera_client::pda::associated_token(owner, &mint.mint, &mint.token_program);
    (
        address,
        tessera_client::instructions::create_associated_token_account(payer, owner, mint),
    )
}

/// Mints `amount` to `destination`, signed by `authority`.
pub fn mint_to(
    mint: MintRef,
    destination: &Pubkey,
    authority: &Pubkey,
    amount: u64,
) -> Result<Instruction> {
    Ok(spl_token_2022_interface::instruction::mint_to(
        &mint.token_program,
        &mint.mint,
        destination,
        authority,
        &[],
        amount,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(parse_amount("12", 6).unwrap(), 12_000_000);
        assert_eq!(parse_amount("12.5", 6).unwrap(), 12_500_000);
        assert_eq!(parse_amount(".000001", 6).unwrap(), 1);
        assert_eq!(parse_amount("18446744073709.551615", 6).unwrap(), u64::MAX);
        for bad in [
            "-1",
            "1.0000001",
            "abc",
            "",
            ".",
            "18446744073709.551616",
            "1e3",
        ] {
            assert!(parse_amount(bad, 6).is_err(), "{bad}");
        }
        assert_eq!(format_amount(12_500_000, 6), "12.500000");
        assert_eq!(format_amount(7, 0), "7");
    }
}
