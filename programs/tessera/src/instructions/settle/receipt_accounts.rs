//! The accounts both settle instructions name: who submits, the network and provider the
//! receipt is bound to, the instructions sysvar its signatures are read from, and the epoch and
//! work record its emission units go to.

use crate::errors::TesseraError;
use crate::settlement::{
    record_work, verify_receipt, Attestation, ReceiptArgs, ReceiptContext, WorkAccounts,
};
use crate::state::{Epoch, Network, Provider, UnitKind, WorkRecord};
use anchor_lang::prelude::*;

#[derive(Accounts)]
#[instruction(args: ReceiptArgs)]
pub struct ReceiptAccounts<'info> {
    /// Anyone holding the signed receipt; pays rent for a new epoch or work record.
    #[account(mut)]
    pub submitter: Signer<'info>,

    #[account(mut)]
    pub network: Box<Account<'info, Network>>,

    #[account(mut, has_one = network)]
    pub provider: Box<Account<'info, Provider>>,

    /// CHECK: the instructions sysvar, by address; the Ed25519 instruction is read from it.
    #[account(address = solana_sdk_ids::sysvar::instructions::ID @ TesseraError::InvalidInstructionsSysvar)]
    pub instructions: UncheckedAccount<'info>,

    /// CHECK: the epoch's PDA, by seeds; created on first use and read as an `Epoch`.
    #[account(
        mut,
        seeds = [Epoch::SEED, network.key().as_ref(), &args.epoch.to_le_bytes()],
        bump,
    )]
    pub epoch: UncheckedAccount<'info>,

    /// CHECK: the provider's work-record PDA for the epoch, by seeds; created on first use and read as a `WorkRecord`.
    #[account(
        mut,
        seeds = [WorkRecord::SEED, provider.key().as_ref(), &args.epoch.to_le_bytes()],
        bump,
    )]
    pub work_record: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

/// What a receipt is about, besides the network and provider: a job, or the provider itself.
pub struct Subject {
    pub key: Pubkey,
    /// `Job::nonce`, or `Provider::nonce` for a service receipt.
    pub nonce: u64,
    /// The job's client, who may co-sign in place of the attestors; `None` for service.
    pub client: Option<Pubkey>,
    /// The job's unit kind; `None` for service (the signed kind must be one the class measures).
    pub unit_kind: Option<UnitKind>,
}

impl ReceiptAccounts<'_> {
    /// Verifies the receipt in the Ed25519 instruction before this one against these accounts,
    /// `subject` and `args` (see [`verify_receipt`]); returns who vouched for it.
    pub fn verify(&self, subject: Subject, args: &ReceiptArgs, now: i64) -> Result<Attestation> {
        let instructions = self.instructions.to_account_info();
        verify_receipt(
            &ReceiptContext {
                instructions_sysvar: &instructions,
                network: &self.network,
                network_key: self.network.key(),
                provider: &self.provider,
                provider_key: self.provider.key(),
                subject: subject.key,
                subject_nonce: subject.nonce,
                client: subject.client,
                unit_kind: subject.unit_kind,
            },
            args,
            now,
        )
    }

    /// Adds `units` of attested work to the epoch and the provider's work record (see
    /// [`record_work`]); returns the class-weighted units added.
    pub fn record(&self, bumps: &ReceiptAccountsBumps, epoch: u64, units: u64) -> Result<u128> {
        let payer = self.submitter.to_account_info();
        record_work(
            &WorkAccounts {
                epoch: &self.epoch.to_account_info(),
                epoch_bump: bumps.epoch,
                work_record: &self.work_record.to_account_info(),
                work_bump: bumps.work_record,
                payer: &payer,
                system_program: &self.system_program,
            },
            &self.network,
            self.network.key(),
            &self.provider,
            self.provider.key(),
            epoch,
            units,
        )
    }
}
