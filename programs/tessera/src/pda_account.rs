//! Creating program accounts at addresses anyone can predict.
//!
//! Anyone can send lamports to an address before it holds an account. Anchor 1.2.2's `init`
//! then creates the account with the system program's `CreateAccountAllowPrefund`, which
//! runtimes without that instruction (Agave 3.1) refuse, so one lamport sent to a future
//! epoch's address would block every settlement in that epoch. The accounts whose addresses
//! are shared or predictable by others (epochs, work records, disputes) are therefore created
//! here with transfer, allocate and assign, which every runtime has, prefunded or not.

use crate::errors::TesseraError;
use anchor_lang::prelude::*;
use anchor_lang::system_program::{self, Allocate, Assign, Transfer};

/// Creates the program account at `account` (a PDA of `seeds`, bump included) with `space`
/// bytes unless it already exists; returns whether it created it. Tops up whatever rent the
/// address already holds from `payer`.
pub fn create_if_needed<'info>(
    account: &AccountInfo<'info>,
    payer: &AccountInfo<'info>,
    system: &Program<'info, System>,
    space: usize,
    seeds: &[&[u8]],
) -> Result<bool> {
    if *account.owner == crate::ID {
        return Ok(false);
    }
    require_keys_eq!(
        *account.owner,
        system_program::ID,
        TesseraError::InvariantViolated
    );
    let rent = Rent::get()?.minimum_balance(space);
    let shortfall = rent.saturating_sub(account.lamports());
    if shortfall > 0 {
        system_program::transfer(
            CpiContext::new(
                system.key(),
                Transfer {
                    from: payer.clone(),
                    to: account.clone(),
                },
            ),
            shortfall,
        )?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(
            system.key(),
            Allocate {
                account_to_allocate: account.clone(),
            },
            &[seeds],
        ),
        space as u64,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(
            system.key(),
            Assign {
                account_to_assign: account.clone(),
            },
            &[seeds],
        ),
        &crate::ID,
    )?;
    Ok(true)
}

/// Opens the account of type `T` at `account`, or creates it there with `space` bytes when the
/// address holds none; returns it and, when it is new, the bump of its address. The address is
/// checked either way, without a seed search for an account that exists: only this program
/// creates a `T`, and only at the canonical PDA of the seeds its fields hold, so an existing
/// `T` whose fields `belongs` accepts sits at the PDA of `seeds`. A new one must sit there,
/// found by search. Either mismatch fails with `ConstraintSeeds`.
pub fn open_or_create<'info, T>(
    account: &AccountInfo<'info>,
    payer: &AccountInfo<'info>,
    system: &Program<'info, System>,
    (space, seeds): (usize, [&[u8]; 3]),
    belongs: impl Fn(&T) -> bool,
) -> Result<(T, Option<u8>)>
where
    T: AccountDeserialize + Default,
{
    if *account.owner == crate::ID {
        let value = T::try_deserialize(&mut &account.try_borrow_data()?[..])?;
        require!(belongs(&value), ErrorCode::ConstraintSeeds);
        return Ok((value, None));
    }
    let (address, bump) = Pubkey::find_program_address(&seeds, &crate::ID);
    require_keys_eq!(*account.key, address, ErrorCode::ConstraintSeeds);
    let bump_seed = [bump];
    let [prefix, first, second] = seeds;
    create_if_needed(
        account,
        payer,
        system,
        space,
        &[prefix, first, second, &bump_seed],
    )?;
    Ok((T::default(), Some(bump)))
}

/// Writes `value` (discriminator first) into `account`.
pub fn store<T: AccountSerialize>(account: &AccountInfo, value: &T) -> Result<()> {
    let mut data = account.try_borrow_mut_data()?;
    let mut writer: &mut [u8] = &mut data;
    value.try_serialize(&mut writer)
}
