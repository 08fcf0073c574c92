//! Hands the program's syscalls to solana-program-test.
//!
//! A natively run program reaches the runtime (CPI, sysvars, logs, return data) through the
//! syscall stubs of the `solana-sysvar` it was built with. Anchor 1.2.2 builds on 3.x;
//! solana-program-test 4.2 installs its stubs, which serve every call from the running
//! instruction's invoke context, into 4.x. Without a bridge, `Clock::get` fails with
//! `UnsupportedSysvar` and a CPI silently does nothing. The bridge takes the test bank's stubs
//! out of 4.x once and serves both versions from them.

use anchor_lang::solana_program::account_info::AccountInfo;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::pubkey::Pubkey;
use solana_sysvar::program_stubs::SyscallStubs as StubsV3;
use solana_sysvar_v4::program_stubs::SyscallStubs as StubsV4;
use std::sync::{Arc, Once};

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
                self.0.sol_log_data(fields)
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
