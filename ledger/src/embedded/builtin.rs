//! Runs the natively compiled Tessera program as a LiteSVM builtin.
//!
//! The program is host code, not SBF, so the runtime cannot give it a VM. Instead this adapter
//! does what the SBF loader and VM would: it serializes the instruction's accounts in the SBF
//! input format, lets the program's own entrypoint deserialize them into `AccountInfo`s, runs
//! it, and writes the changes back. What an SBF program reaches through syscalls (cross-program
//! invocations, sysvars, logs, return data) a host program reaches through
//! `solana_sysvar::program_stubs`; the stubs installed here serve them from the runtime's
//! invoke context. Without them a CPI would print a warning and do nothing. Logs and events
//! go into the transaction's log collector, as `Program log: ...` and `Program data: ...`
//! lines, exactly as a deployed program's do: the instruction's name first, its events, and
//! when it fails Anchor's error lines (`tessera::host::entry`).

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_error::ProgramError;
use solana_program_runtime::invoke_context::InvokeContext;
use solana_program_runtime::serialization::serialize_parameters;
use solana_program_runtime::solana_sbpf::program::BuiltinFunctionDefinition;
use solana_program_runtime::stable_log;
use solana_transaction_context::IndexOfAccount;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Once;

solana_program_runtime::declare_process_instruction!(TesseraBuiltin, 1, |invoke_context| {
    run(tessera::host::entry, invoke_context)
});

/// The function LiteSVM's `add_builtin` takes for the Tessera program.
pub fn registerer() -> solana_program_runtime::invoke_context::BuiltinFunctionRegisterer {
    install_stubs();
    TesseraBuiltin::register
}

/// The program's entrypoint with the lifetimes the host calling convention hands out.
type HostEntrypoint = for<'a> fn(&'a Pubkey, &'a [AccountInfo<'a>], &'a [u8]) -> ProgramResult;

thread_local! {
    /// The invoke context of the instruction running on this thread (null when none is).
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// Makes `invoke_context` the one the stubs serve for the duration of `body`, restoring the
/// caller's afterwards (a CPI into Tessera nests).
fn with_current<R>(invoke_context: &mut InvokeContext, body: impl FnOnce() -> R) -> R {
    let previous =
        CURRENT.with(|current| current.replace(invoke_context as *mut InvokeContext as usize));
    let result = body();
    CURRENT.with(|current| current.set(previous));
    result
}

/// The invoke context of the running instruction.
///
/// # Safety
/// Only valid while `with_current` runs on this thread; the stubs are only called from the
/// program, which only runs inside it.
unsafe fn current<'a>() -> &'a mut InvokeContext<'static, 'static> {
    let pointer = CURRENT.with(Cell::get);
    assert!(
        pointer != 0,
        "a Tessera syscall stub ran outside a Tessera instruction"
    );
    &mut *(pointer as *mut InvokeContext<'static, 'static>)
}

fn run(
    entrypoint: HostEntrypoint,
    invoke_context: &mut InvokeContext,
) -> Result<(), anchor_lang::solana_program::instruction::error::InstructionError> {
    use anchor_lang::solana_program::instruction::error::InstructionError;
    let instruction_context = invoke_context
        .transaction_context
        .get_current_instruction_context()?;
    let indices: HashSet<IndexOfAccount> =
        (0..instruction_context.get_number_of_instruction_accounts()).collect();
    // The classic input layout, the one the program's (v3) entrypoint deserializer reads.
    let (mut input, _regions, _metadata, _instruction_data_offset) =
        serialize_parameters(&instruction_context, false, false, false)?;
    // SAFETY: `input` is a freshly serialized SBF input buffer that outlives the call below.
    let (program_id, accounts, data) = unsafe {
        anchor_lang::solana_program::entrypoint::deserialize(input.as_slice_mut().as_mut_ptr())
    };

    // SAFETY: Anchor's entrypoint wants one lifetime for the id, the accounts and the data;
    // all three live in (or, for the Vec, beside) `input` until after the call returns.
    let accounts_for_call = unsafe { one_lifetime(&accounts) };
    // What a deployed Anchor program logs first (this build leaves it out: `no-log-ix-name`
    // keeps it off stdout).
    if let Some(name) = crate::decode::idl().instruction_name(data) {
        stable_log::program_log(
            &invoke_context.get_log_collector(),
            &format!("Instruction: {name}"),
        );
    }
    let outcome = with_current(invoke_context, || {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            entrypoint(program_id, accounts_for_call, data)
        }))
    });
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(InstructionError::from(u64::from(error))),
        Err(_) => return Err(InstructionError::ProgramFailedToComplete),
    }

    // Write every writable account back; the owner last, so that the runtime allows the rest.
    let by_key: HashMap<Pubkey, &AccountInfo> =
        accounts.iter().map(|info| (*info.key, info)).collect();
    let instruction_context = invoke_context
        .transaction_context
        .get_current_instruction_context()?;
    for index in indices {
        let mut account = instruction_context.try_borrow_instruction_account(index)?;
        if !account.is_writable() {
            continue;
        }
        let Some(info) = by_key.get(account.get_key()) else {
            continue;
        };
        if account.get_lamports() != info.lamports() {
            account.set_lamports(info.lamports())?;
        }
        let data = info
            .try_borrow_data()
            .map_err(|_| InstructionError::AccountBorrowFailed)?;
        if account.get_data() != &data[..] {
            account.set_data_from_slice(&data)?;
        }
        if account.get_owner() != info.owner {
            account.set_owner(info.owner.as_ref())?;
        }
    }
    Ok(())
}

/// Stretches a borrow of the accounts to the accounts' own lifetime.
///
/// # Safety
/// The caller keeps the slice alive for as long as the result is used.
unsafe fn one_lifetime<'a>(accounts: &[AccountInfo<'a>]) -> &'a [AccountInfo<'a>] {
    std::mem::transmute::<&[AccountInfo<'a>], &'a [AccountInfo<'a>]>(accounts)
}

fn install_stubs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        solana_sysvar::program_stubs::set_syscall_stubs(Box::new(Stubs));
    });
}

struct Stubs;

/// Copies a sysvar from the runtime's cache into the program's buffer, byte for byte (sysvars
/// are `repr(C)` and laid out alike in every SDK version).
fn copy_sysvar<T>(
    sysvar: Result<
        std::sync::Arc<T>,
        anchor_lang::solana_program::instruction::error::InstructionError,
    >,
    into: *mut u8,
) -> u64 {
    match sysvar {
        Ok(value) => {
            // SAFETY: the program passes a buffer of the sysvar's own size.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    &*value as *const T as *const u8,
                    into,
                    std::mem::size_of::<T>(),
                )
            };
            0
        }
        Err(_) => u64::from(ProgramError::UnsupportedSysvar),
    }
}

impl solana_sysvar::program_stubs::SyscallStubs for Stubs {
    fn sol_log(&self, message: &str) {
        // SAFETY: called by the program while it runs.
        let invoke_context = unsafe { current() };
        stable_log::program_log(&invoke_context.get_log_collector(), message);
    }

    /// An event (`tessera::events::emit`): `Program data: <base64>` in the transaction's log,
    /// the line a deployed program's `sol_log_data` writes.
    fn sol_log_data(&self, fields: &[&[u8]]) {
        // SAFETY: called by the program while it runs.
        let invoke_context = unsafe { current() };
        stable_log::program_data(&invoke_context.get_log_collector(), fields);
    }

    fn sol_invoke_signed(
        &self,
        instruction: &Instruction,
        accounts: &[AccountInfo],
        signer_seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        // SAFETY: called by the program while it runs.
        let invoke_context = unsafe { current() };
        invoke(invoke_context, instruction, accounts, signer_seeds)
    }

    fn sol_get_clock_sysvar(&self, into: *mut u8) -> u64 {
        copy_sysvar(
            unsafe { current() }
                .environment_config
                .sysvar_cache()
                .get_clock(),
            into,
        )
    }

    fn sol_get_rent_sysvar(&self, into: *mut u8) -> u64 {
        copy_sysvar(
            unsafe { current() }
                .environment_config
                .sysvar_cache()
                .get_rent(),
            into,
        )
    }

    fn sol_get_epoch_schedule_sysvar(&self, into: *mut u8) -> u64 {
        copy_sysvar(
            unsafe { current() }
                .environment_config
                .sysvar_cache()
                .get_epoch_schedule(),
            into,
        )
    }

    fn sol_get_epoch_rewards_sysvar(&self, into: *mut u8) -> u64 {
        copy_sysvar(
            unsafe { current() }
                .environment_config
                .sysvar_cache()
                .get_epoch_rewards(),
            into,
        )
    }

    fn sol_get_last_restart_slot(&self, into: *mut u8) -> u64 {
        copy_sysvar(
            unsafe { current() }
                .environment_config
                .sysvar_cache()
                .get_last_restart_slot(),
            into,
        )
    }

    fn sol_get_stack_height(&self) -> u64 {
        unsafe { current() }.get_stack_height() as u64
    }

    fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
        let (program_id, data) = unsafe { current() }.transaction_context.get_return_data();
        (!data.is_empty()).then(|| (*program_id, data.to_vec()))
    }

    fn sol_set_return_data(&self, data: &[u8]) {
        let invoke_context = unsafe { current() };
        if let Ok(program_id) = invoke_context
            .transaction_context
            .get_current_instruction_context()
            .and_then(|context| context.get_program_key().copied())
        {
            let _ = invoke_context
                .transaction_context
                .set_return_data(program_id, data.to_vec());
        }
    }
}

/// Maps a runtime error to the closest program error.
fn program_error(
    error: anchor_lang::solana_program::instruction::error::InstructionError,
) -> ProgramError {
    ProgramError::try_from(error).unwrap_or(ProgramError::Custom(u32::MAX))
}

/// A cross-program invocation from the host program: hand the caller's view of the accounts to
/// the runtime, run the callee, and hand the results back to the caller's `AccountInfo`s.
fn invoke(
    invoke_context: &mut InvokeContext<'static, 'static>,
    instruction: &Instruction,
    accounts: &[AccountInfo],
    signer_seeds: &[&[&[u8]]],
) -> ProgramResult {
    let caller = invoke_context
        .transaction_context
        .get_current_instruction_context()
        .and_then(|context| context.get_program_key().copied())
        .map_err(program_error)?;
    let signers = signer_seeds
        .iter()
        .map(|seeds| {
            Pubkey::create_program_address(seeds, &caller).map_err(|_| ProgramError::InvalidSeeds)
        })
        .collect::<Result<Vec<_>, _>>()?;
    invoke_context
        .prepare_next_cpi_instruction(instruction.clone(), &signers)
        .map_err(program_error)?;
    let written_back = hand_to_callee(invoke_context, accounts)?;
    let mut units = 0;
    invoke_context
        .process_instruction(&mut units, &mut Default::default())
        .map_err(program_error)?;
    hand_back_to_caller(invoke_context, accounts, &written_back)
}

/// Copies the caller's changes so far into the runtime's accounts before the callee sees them;
/// returns the writable ones as `(index in the transaction, index in accounts)`.
fn hand_to_callee(
    invoke_context: &InvokeContext<'static, 'static>,
    accounts: &[AccountInfo],
) -> Result<Vec<(u16, usize)>, ProgramError> {
    let transaction_context = &invoke_context.transaction_context;
    let caller_context = transaction_context
        .get_current_instruction_context()
        .map_err(program_error)?;
    let callee_context = transaction_context
        .get_next_instruction_context()
        .map_err(program_error)?;
    let mut written_back = Vec::new();
    for callee_account in callee_context.instruction_accounts().iter() {
        let key = transaction_context
            .get_key_of_account_at_index(callee_account.index_in_transaction)
            .map_err(program_error)?;
        let info_index = accounts
            .iter()
            .position(|info| info.key == key)
            .ok_or(ProgramError::NotEnoughAccountKeys)?;
        let info = &accounts[info_index];
        let index_in_caller = caller_context
            .get_index_of_account_in_instruction(callee_account.index_in_transaction)
            .map_err(program_error)?;
        let mut account = caller_context
            .try_borrow_instruction_account(index_in_caller)
            .map_err(program_error)?;
        if account.get_lamports() != info.lamports() {
            account
                .set_lamports(info.lamports())
                .map_err(program_error)?;
        }
        let data = info.try_borrow_data()?;
        if account.get_data() != &data[..] {
            account.set_data_from_slice(&data).map_err(program_error)?;
        }
        if account.get_owner() != info.owner {
            account
                .set_owner(info.owner.as_ref())
                .map_err(program_error)?;
        }
        if callee_account.is_writable() {
            written_back.push((callee_account.index_in_transaction, info_index));
        }
    }
    Ok(written_back)
}

/// Copies the callee's results back into the caller's `AccountInfo`s.
fn hand_back_to_caller(
    invoke_context: &InvokeContext<'static, 'static>,
    accounts: &[AccountInfo],
    written_back: &[(u16, usize)],
) -> ProgramResult {
    let transaction_context = &invoke_context.transaction_context;
    let caller_context = transaction_context
        .get_current_instruction_context()
        .map_err(program_error)?;
    for &(index_in_transaction, info_index) in written_back {
        let index_in_caller = caller_context
            .get_index_of_account_in_instruction(index_in_transaction)
            .map_err(program_error)?;
        let account = caller_context
            .try_borrow_instruction_account(index_in_caller)
            .map_err(program_error)?;
        let info = &accounts[info_index];
        **info.try_borrow_mut_lamports()? = account.get_lamports();
        if info.owner != account.get_owner() {
            // SAFETY: the owner field of an `AccountInfo` points into the serialized input
            // buffer this adapter owns for the whole instruction; the SBF loader lets the
            // runtime change it the same way (the system program assigning an account).
            #[allow(invalid_reference_casting)]
            unsafe {
                let owner = info.owner as *const Pubkey as *mut Pubkey;
                *owner = *account.get_owner();
            }
        }
        let data = account.get_data();
        if info.data_len() != data.len() {
            info.resize(data.len())?;
        }
        info.try_borrow_mut_data()?.copy_from_slice(data);
    }
    Ok(())
}
