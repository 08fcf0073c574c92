//! The accounts both settle instructions name: who submits, the network and provider the
//! receipt is bound to, the instructions sysvar its signatures are read from, and the epoch and
//! work record its emission units go to.
//!
//! The network is only read; the work record is named only by settlements whose work earns
//! emission units, and the epoch only by those that open the provider's work record for the
//! epoch. So settlements of different providers write no account in common, except the
//! first attested one of each provider in each epoch, which writes the epoch (see
//! `docs/design.md`, "Settling in parallel").

use crate::errors::TesseraError;
use crate::settlement::{
    record_work, verify_receipt, Attestation, ReceiptArgs, ReceiptContext, WorkAccounts,
    WorkAmounts,
};
use crate::state::{Network, Provider, UnitKind};
use anchor_lang::prelude::*;

// `dup` leaves an account out of Anchor's duplicate check (a hash set of the writable typed
// accounts, about 700 CU a key on SBF): the provider's discriminator already keeps it from
// standing in for any other account of a settlement.
#[derive(Accounts)]
pub struct ReceiptAccounts<'info> {
    /// Anyone holding the signed receipt; pays rent for a new epoch or work record.
    #[account(mut)]
    pub submitter: Signer<'info>,

    /// Read only: settlements of different providers share no writable account.
    pub network: Box<Account<'info, Network>>,

    #[account(mut, dup, has_one = network)]
    pub provider: Box<Account<'info, Provider>>,

    /// CHECK: the instructions sysvar, by address; the Ed25519 instruction is read from it.
    #[account(address = solana_sdk_ids::sysvar::instructions::ID @ TesseraError::InvalidInstructionsSysvar)]
    pub instructions: UncheckedAccount<'info>,

    /// CHECK: the epoch's PDA `["epoch", network, epoch]`, created on first use. Required when
    /// the work earns emission units (attestors co-signed) and the provider's work record for
    /// the epoch does not exist yet; leave it out (null) otherwise, so that the settlement
    /// takes no write lock on it. Checked where it is written (`record_work`).
    #[account(mut)]
    pub epoch: Option<UncheckedAccount<'info>>,

    /// CHECK: the provider's work-record PDA `["work", provider, epoch]`, created on first use;
    /// required when the work earns emission units, else left out (null). Checked where it is
    /// written.
    #[account(mut)]
    pub work_record: Option<UncheckedAccount<'info>>,

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

    /// Adds each of `units` (one amount per receipt) of attested work to the provider's work
    /// record, opening it (and the epoch) on first use (see [`record_work`]), and sets
    /// `weighted` to the class-weighted units each added. Fails with `WorkAccountsMissing`
    /// unless the settlement named the work record, and the epoch while the record does not
    /// exist.
    pub fn record(&self, epoch: u64, units: &[u64], weighted: &mut [u128]) -> Result<()> {
        let Some(work_record) = &self.work_record else {
            return err!(TesseraError::WorkAccountsMissing);
        };
        let payer = self.submitter.to_account_info();
        let epoch_account = self.epoch.as_ref().map(|epoch| epoch.to_account_info());
        record_work(
            &WorkAccounts {
                epoch: epoch_account.as_ref(),
                work_record: &work_record.to_account_info(),
                payer: &payer,
                system_program: &self.system_program,
            },
            &self.network,
            self.network.key(),
            &self.provider,
            self.provider.key(),
            epoch,
            WorkAmounts { units, weighted },
        )
    }
}
