//! Hands the program's syscalls to solana-program-test.
//!
//! A natively run program reaches the runtime (CPI, sysvars, logs, return data) through the
//! syscall stubs of the `solana-sysvar` it was built with. Anchor 1.2.2 builds on 3.x;
//! solana-program-test 4.2 installs its stubs, which serve every call from the running
//! instruction's invoke context, into 4.x. Without a bridge, `Clock::get` fails with
//! `UnsupportedSysvar` and a CPI silently does nothing. The bridge takes the test bank's stubs
//! out of 4.x once and serves both versions from them.
//!
//! The test bank's stubs leave one syscall to solana-sysvar's default, which prints to stdout:
//! `sol_log_data`, through which the program emits its events. The fixture registers the
//! program with [`tessera_builtin`] instead of solana-program-test's `processor!`: the same
//! builtin, which also keeps the running instruction's log collector at hand, so that an event
//! becomes a `Program data: <base64>` line of the transaction's log, as on a cluster.

use anchor_lang::solana_program::account_info::AccountInfo;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::pubkey::Pubkey;
use solana_program_runtime::invoke_context::BuiltinFunctionRegisterer;
use solana_program_runtime::stable_log;
use solana_program_test::{
    invoke_builtin_function, BuiltinFunctionDefinition, EbpfError, EncryptedHostAddressToEbpfVm,
    InvokeContext,
};
use solana_sysvar::program_stubs::SyscallStubs as StubsV3;
use solana_sysvar_v4::program_stubs::SyscallStubs as StubsV4;
use std::cell::RefCell;
use std::sync::{Arc, Once};

/// Writes one `Program data:` line to the running instruction's log.
type DataLog = Box<dyn Fn(&[&[u8]])>;

thread_local! {
    /// The log of the instruction the program is running on this thread, if it runs one.
    static DATA_LOG: RefCell<Option<DataLog>> = const { RefCell::new(None) };
}

/// Runs `body` with `log` as the running instruction's data log.
fn with_data_log<T>(log: DataLog, body: impl FnOnce() -> T) -> T {
    DATA_LOG.with(|slot| *slot.borrow_mut() = Some(log));
    let result = body();
    DATA_LOG.with(|slot| *slot.borrow_mut() = None);
    result
}

/// Writes `fields` to the running instruction's log; false outside an instruction.
fn log_data(fields: &[&[u8]]) -> bool {
    DATA_LOG.with(|slot| match slot.borrow().as_ref() {
        Some(log) => {
            log(fields);
            true
        }
        None => false,
    })
}

/// The program as the test bank's builtin: what solana-program-test's `processor!` makes of
/// Tessera's entry, keeping the instruction's log collector for `sol_log_data` while it runs.
pub fn tessera_builtin() -> Option<BuiltinFunctionRegisterer> {
    struct Builtin;
    impl BuiltinFunctionDefinition<InvokeContext<'_, '_>> for Builtin {
        type Error = Box<dyn std::error::Error>;
        fn rust(
            _: &mut InvokeContext<'_, '_>,
            _: u64,
            _: u64,
            _: u64,
            _: u64,
            _: u64,
        ) -> Result<u64, Box<dyn std::error::Error>> {
            unreachable!("registered as a VM builtin")
        }
        fn vm(
            mut vm: EncryptedHostAddressToEbpfVm<InvokeContext>,
            _: u64,
            _: u64,
            _: u64,
            _: u64,
            _: u64,
        ) {
            // SAFETY: as in solana-program-test's `processor!`: the VM is the one the runtime
            // hands this builtin, used only inside this call.
            unsafe {
                vm.with_vm(|vm| {
                    let collector = vm.context().get_log_collector();
                    let log: DataLog = Box::new(move |fields: &[&[u8]]| {
                        stable_log::program_data(&collector, fields)
                    });
                    let result = with_data_log(log, || {
                        invoke_builtin_function(crate::tessera_processor, vm.context())
                    });
                    vm.program_result = result.map_err(EbpfError::SyscallError).into();
                });
            }
        }
    }
    Some(<Builtin as BuiltinFunctionDefinition<_>>::register)
}

/// The test bank's stubs, shared by both versions' entries.
struct Bank(Arc<dyn StubsV4>);

/// Installs the bridge; call after a `ProgramTest` has started (which installs its stubs).
pub fn bridge_syscalls() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        struct Placeholder;
        impl StubsV4 for Placeholder {}
        let bank: Arc<dyn StubsV4> = Arc::from(solana_sysvar_v4::program_stubs::set_syscall_stubs(
            Box::new(Placeholder),
        ));
        solana_sysvar_v4::program_stubs::set_syscall_stubs(Box::new(Bank(bank.clone())));
        solana_sysvar::program_stubs::set_syscall_stubs(Box::new(Bank(bank)));
    });
}

/// Forwards every syscall of one stubs trait to the bank's stubs.
macro_rules! forward {
    ($trait:ident) => {
        impl $trait for Bank {
            fn sol_log(&self, message: &str) {
                self.0.sol_log(message)
            }
            fn sol_log_compute_units(&self) {
                self.0.sol_log_compute_units()
            }
            fn sol_remaining_compute_units(&self) -> u64 {
                self.0.sol_remaining_compute_units()
            }
            fn sol_invoke_signed(
                &self,
                instruction: &Instruction,
                account_infos: &[AccountInfo],
                signers_seeds: &[&[&[u8]]],
            ) -> ProgramResult {
                self.0
                    .sol_invoke_signed(instruction, account_infos, signers_seeds)
            }
            fn sol_get_sysvar(
                &self,
                sysvar_id_addr: *const u8,
                var_addr: *mut u8,
                offset: u64,
                length: u64,
            ) -> u64 {
                self.0
                    .sol_get_sysvar(sysvar_id_addr, var_addr, offset, length)
            }
            fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_clock_sysvar(var_addr)
            }
            fn sol_get_epoch_schedule_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_epoch_schedule_sysvar(var_addr)
            }
            fn sol_get_fees_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_fees_sysvar(var_addr)
            }
            fn sol_get_rent_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_rent_sysvar(var_addr)
            }
            fn sol_get_epoch_rewards_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_epoch_rewards_sysvar(var_addr)
            }
            fn sol_get_last_restart_slot(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_last_restart_slot(var_addr)
            }
            fn sol_get_epoch_stake(&self, vote_address: *const u8) -> u64 {
                self.0.sol_get_epoch_stake(vote_address)
            }
            unsafe fn sol_memcpy(&self, dst: *mut u8, src: *const u8, n: usize) {
                // SAFETY: the caller's contract, passed on unchanged.
                unsafe { self.0.sol_memcpy(dst, src, n) }
            }
            unsafe fn sol_memmove(&self, dst: *mut u8, src: *const u8, n: usize) {
                // SAFETY: the caller's contract, passed on unchanged.
                unsafe { self.0.sol_memmove(dst, src, n) }
            }
            unsafe fn sol_memcmp(&self, s1: *const u8, s2: *const u8, n: usize, result: *mut i32) {
                // SAFETY: the caller's contract, passed on unchanged.
                unsafe { self.0.sol_memcmp(s1, s2, n, result) }
            }
            unsafe fn sol_memset(&self, s: *mut u8, c: u8, n: usize) {
                // SAFETY: the caller's contract, passed on unchanged.
                unsafe { self.0.sol_memset(s, c, n) }
            }
            fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
                self.0.sol_get_return_data()
            }
            fn sol_set_return_data(&self, data: &[u8]) {
                self.0.sol_set_return_data(data)
            }
            fn sol_log_data(&self, fields: &[&[u8]]) {
                if !log_data(fields) {
                    self.0.sol_log_data(fields)
                }
            }
            fn sol_get_processed_sibling_instruction(&self, index: usize) -> Option<Instruction> {
                self.0.sol_get_processed_sibling_instruction(index)
            }
            fn sol_get_stack_height(&self) -> u64 {
                self.0.sol_get_stack_height()
            }
        }
    };
}

forward!(StubsV3);
forward!(StubsV4);
