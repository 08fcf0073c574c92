//! Token amounts written with decimals, parsed exactly, and the client-side token instructions
//! the commands need (through the SPL interface crates).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anyhow::{anyhow, bail, Result};
use spl_token_2022_interface::extension::StateWithExtensions;
use spl_token_2022_interface::state::{Account as TokenAccount, Mint as MintState, PackedSizeOf};
use tessera_client::instructions::MintRef;

/// Size of a mint account without extensions.
pub const MINT_LEN: usize = MintState::SIZE_OF;

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

/// The balance of a token account, in base units, from its data (SPL Token, or Token-2022
/// with or without extensions).
pub fn amount(data: &[u8]) -> Result<u64> {
    let account = StateWithExtensions::<TokenAccount>::unpack(data)
        .map_err(|_| anyhow!("not a token account"))?;
    Ok(account.base.amount)
}

/// The mint and the owner of a token account, from its data.
pub fn mint_and_owner(data: &[u8]) -> Result<(Pubkey, Pubkey)> {
    let account = StateWithExtensions::<TokenAccount>::unpack(data)
        .map_err(|_| anyhow!("not a token account"))?;
    Ok((account.base.mint, account.base.owner))
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
        Ok(Self::unpack(address, owner, data)?.0)
    }

    /// Reads a mint account owned by SPL Token or Token-2022, with its state: supply, mint and
    /// freeze authorities.
    pub fn unpack(address: &Pubkey, owner: &Pubkey, data: &[u8]) -> Result<(Self, MintState)> {
        if *owner != spl_token_interface::ID && *owner != spl_token_2022_interface::ID {
            bail!("{address} is not a mint: it belongs to {owner}, not to a token program");
        }
        let Ok(state) = StateWithExtensions::<MintState>::unpack(data) else {
            bail!("{address} is a token account, not a mint: pass the mint's address")
        };
        let mint = Self {
            key: MintRef {
                mint: *address,
                token_program: *owner,
            },
            decimals: state.base.decimals,
        };
        Ok((mint, state.base))
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
    use spl_token_2022_interface::extension::mint_close_authority::MintCloseAuthority;
    use spl_token_2022_interface::extension::{
        BaseStateWithExtensionsMut, ExtensionType, StateWithExtensionsMut,
    };

    /// The data of a mint of `decimals` and `supply` whose mint authority is `authority`, with
    /// a Token-2022 extension when `extended`.
    fn mint_data(decimals: u8, supply: u64, authority: Pubkey, extended: bool) -> Vec<u8> {
        let extensions: &[ExtensionType] = if extended {
            &[ExtensionType::MintCloseAuthority]
        } else {
            &[]
        };
        let len = ExtensionType::try_calculate_account_len::<MintState>(extensions).unwrap();
        let mut data = vec![0; len];
        let mut state =
            StateWithExtensionsMut::<MintState>::unpack_uninitialized(&mut data).unwrap();
        if extended {
            state.init_extension::<MintCloseAuthority>(true).unwrap();
            state.init_account_type().unwrap();
        }
        state.base = MintState {
            mint_authority: authority.into(),
            supply,
            decimals,
            is_initialized: true,
            freeze_authority: Default::default(),
        };
        state.pack_base();
        data
    }

    /// The data of an initialized token account holding `amount`.
    fn token_account_data(amount: u64) -> Vec<u8> {
        let mut data = vec![0; TokenAccount::SIZE_OF];
        let mut state =
            StateWithExtensionsMut::<TokenAccount>::unpack_uninitialized(&mut data).unwrap();
        state.base = TokenAccount {
            mint: Pubkey::new_unique(),
            owner: Pubkey::new_unique(),
            amount,
            state: spl_token_2022_interface::state::AccountState::Initialized,
            ..TokenAccount::default()
        };
        state.pack_base();
        data
    }

    #[test]
    fn mints_and_token_accounts_read_through_their_state() {
        let (address, authority) = (Pubkey::new_unique(), Pubkey::new_unique());
        for (program, extended) in [
            (spl_token_interface::ID, false),
            (spl_token_2022_interface::ID, false),
            (spl_token_2022_interface::ID, true),
        ] {
            let data = mint_data(9, 1_234, authority, extended);
            let (mint, state) = Mint::unpack(&address, &program, &data).unwrap();
            assert_eq!((mint.decimals, mint.key.token_program), (9, program));
            assert_eq!(state.supply, 1_234);
            assert_eq!(
                Option::<Pubkey>::from(state.mint_authority),
                Some(authority)
            );
            assert!(state.freeze_authority.is_none());
        }
        let account = token_account_data(77);
        assert_eq!(amount(&account).unwrap(), 77);
        let error = Mint::parse(&address, &spl_token_interface::ID, &account).unwrap_err();
        assert!(
            error.to_string().contains("is a token account, not a mint"),
            "{error}"
        );
        let error = Mint::parse(
            &address,
            &Pubkey::new_unique(),
            &mint_data(6, 0, authority, false),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("not to a token program"),
            "{error}"
        );
        assert!(amount(&mint_data(6, 0, authority, false)).is_err());
    }

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
