use crate::ed25519::{load_previous_ed25519, parse};
use crate::errors::TesseraError;
use crate::events::ReceiptSettled;
// The glob brings the composite's generated client and bump types, which `#[derive(Accounts)]` names.
use super::receipt_accounts::*;
use super::settle_receipt::{require_job_settleable, settle_job, JobSettled, Payout};
use crate::receipt::{batch_message, Receipt, RECEIPT_DOMAIN, RECEIPT_LEN};
use crate::settlement::{
    attestation_of, cosigners_after_worker, require_current_epoch, require_receipt_live,
    Attestation,
};
use crate::state::Job;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// Most receipts one batch settles. A legacy transaction holds far fewer; a v0 transaction
/// whose jobs and vaults sit in an address lookup table about ten (docs/benchmarks.md).
pub const MAX_BATCH_RECEIPTS: usize = 16;

/// What the submitter says each receipt of a batch contains, besides what its job fixes.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchReceipt {
    /// Units delivered on the job since it began.
    pub cumulative_units: u64,
    /// Digest of the outputs or evidence so far.
    pub result_hash: [u8; 32],
    /// When the worker issued the receipt, unix seconds.
    pub issued_at: i64,
    /// When the receipt stops being valid, unix seconds.
    pub expires_at: i64,
}

/// A batch: receipts on several jobs of one provider, signed together.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct SettleBatchArgs {
    /// The current epoch (where the work's emission units go); must match the clock.
    pub epoch: u64,
    /// Version of the attestor set the co-signers signed under (every receipt states it).
    pub attestor_set_version: u32,
    /// One entry per job, in the order of the jobs in the remaining accounts.
    pub receipts: Vec<BatchReceipt>,
}

/// The remaining accounts name, for each receipt in order, its job then the job's vault, both
/// writable. Every job pays in `payment_mint` to `provider_token`.
#[derive(Accounts)]
pub struct SettleBatch<'info> {
    pub settlement: ReceiptAccounts<'info>,

    /// The provider owner's token account in the payment mint.
    #[account(
        mut,
        dup,
        constraint = provider_token.mint == payment_mint.key() @ TesseraError::WrongMint,
        constraint = provider_token.owner == settlement.provider.owner @ TesseraError::WrongTokenAccountOwner,
    )]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,

    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// One job of a batch, loaded and checked against the fixed accounts.
struct BatchJob<'info> {
    job: Account<'info, Job>,
    vault: InterfaceAccount<'info, TokenAccount>,
    attestation: Attestation,
}

impl<'info> SettleBatch<'info> {
    /// Loads the job and vault of receipt `entry` and checks them as `settle_receipt` checks
    /// its own: the network's and provider's job, its vault, the batch's payment mint, both
    /// writable, the job named once, and settleable now.
    fn load_job(
        &self,
        remaining: &'info [AccountInfo<'info>],
        entry: usize,
        receipt: &BatchReceipt,
        now: i64,
    ) -> Result<(Account<'info, Job>, InterfaceAccount<'info, TokenAccount>)> {
        let (job_info, vault_info) = (&remaining[2 * entry], &remaining[2 * entry + 1]);
        require!(
            job_info.is_writable && vault_info.is_writable,
            ErrorCode::ConstraintMut
        );
        require!(
            remaining[..2 * entry]
                .iter()
                .step_by(2)
                .all(|earlier| earlier.key != job_info.key),
            ErrorCode::ConstraintDuplicateMutableAccount
        );
        let job = Account::<Job>::try_from(job_info)?;
        let vault = InterfaceAccount::<TokenAccount>::try_from(vault_info)?;
        let network = &self.settlement.network;
        require_keys_eq!(job.network, network.key(), ErrorCode::ConstraintHasOne);
        require_keys_eq!(job.vault, vault.key(), ErrorCode::ConstraintHasOne);
        require_keys_eq!(
            job.payment_mint,
            self.payment_mint.key(),
            TesseraError::WrongMint
        );
        require_keys_eq!(
            job.provider,
            self.settlement.provider.key(),
            TesseraError::NotJobProvider
        );
        require_keys_neq!(
            vault.key(),
            self.provider_token.key(),
            ErrorCode::ConstraintDuplicateMutableAccount
        );
        require_job_settleable(&job, network, receipt.issued_at, now)?;
        Ok((job, vault))
    }

    /// The receipt `settle_receipt` would rebuild for `job` from `receipt`.
    fn receipt_bytes(
        &self,
        job: &Job,
        job_key: Pubkey,
        receipt: &BatchReceipt,
        attestor_set_version: u32,
    ) -> [u8; RECEIPT_LEN] {
        Receipt {
            domain: RECEIPT_DOMAIN,
            program_id: crate::ID,
            network: self.settlement.network.key(),
            subject: job_key,
            subject_nonce: job.nonce,
            provider: self.settlement.provider.key(),
            worker_key: self.settlement.provider.worker_key,
            cumulative_units: receipt.cumulative_units,
            unit_kind: job.unit_kind,
            result_hash: receipt.result_hash,
            attestor_set_version,
            issued_at: receipt.issued_at,
            expires_at: receipt.expires_at,
        }
        .to_bytes()
    }
}

/// Settles the receipts of several jobs of one provider, signed once by its worker and once by
/// the co-signer (the attestors' group key or threshold of keys, or a client for its own jobs)
/// over [`batch_message`]. Every job is checked, paid and recorded exactly as `settle_receipt`
/// would settle its receipt alone, each receipt's replay (the job's high-water mark) and
/// expiry on its own; one bad receipt fails the whole batch.
pub(crate) fn handler<'info>(
    ctx: Context<'info, SettleBatch<'info>>,
    args: SettleBatchArgs,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let count = args.receipts.len();
    require!(
        (1..=MAX_BATCH_RECEIPTS).contains(&count),
        TesseraError::InvalidBatchSize
    );
    require!(
        ctx.remaining_accounts.len() == 2 * count,
        TesseraError::BatchAccountsMismatch
    );
    let accounts = &mut *ctx.accounts;
    accounts.settlement.network.require_settlements_open()?;
    require_current_epoch(&accounts.settlement.network, args.epoch, now)?;

    let instructions = accounts.settlement.instructions.to_account_info();
    let (own_index, data) = load_previous_ed25519(&instructions)?;
    let signed = parse(&data, own_index)?;
    let worker_key = accounts.settlement.provider.worker_key;
    let cosigners = cosigners_after_worker(signed.signers(), worker_key)?;

    let mut jobs = Vec::with_capacity(count);
    let mut receipts = Vec::with_capacity(count);
    for (entry, receipt) in args.receipts.iter().enumerate() {
        let (job, vault) = accounts.load_job(ctx.remaining_accounts, entry, receipt, now)?;
        require!(
            accounts.settlement.provider.class.measures(job.unit_kind),
            TesseraError::UnitKindMismatch
        );
        let attestation = attestation_of(
            &accounts.settlement.network,
            cosigners,
            Some(job.client),
            args.attestor_set_version,
        )?;
        receipts.push(accounts.receipt_bytes(&job, job.key(), receipt, args.attestor_set_version));
        jobs.push(BatchJob {
            job,
            vault,
            attestation,
        });
    }
    let receipt_slices: Vec<&[u8]> = receipts.iter().map(|bytes| bytes.as_slice()).collect();
    require!(
        batch_message(&receipt_slices) == signed.message,
        TesseraError::ReceiptMismatch
    );
    for receipt in &args.receipts {
        require_receipt_live(
            &accounts.settlement.network,
            receipt.issued_at,
            receipt.expires_at,
            now,
        )?;
    }

    let payout = Payout {
        provider_token: &accounts.provider_token,
        payment_mint: &accounts.payment_mint,
        token_program: &accounts.token_program,
    };
    let mut settled = Vec::with_capacity(count);
    for (batch_job, receipt) in jobs.iter_mut().zip(&args.receipts) {
        let outcome = settle_job(
            &mut accounts.settlement,
            &mut batch_job.job,
            &mut batch_job.vault,
            &payout,
            batch_job.attestation,
            receipt.cumulative_units,
            now,
        )?;
        batch_job.job.exit(&crate::ID)?;
        settled.push(outcome);
    }

    let earning: Vec<u64> = settled
        .iter()
        .filter(|outcome| outcome.earns)
        .map(|outcome| outcome.settlement.units)
        .collect();
    let mut weighted = [0u128; MAX_BATCH_RECEIPTS];
    if !earning.is_empty() {
        accounts
            .settlement
            .record(args.epoch, &earning, &mut weighted)?;
    }
    let mut weighted = weighted.into_iter();
    for ((batch_job, receipt), JobSettled { settlement, earns }) in
        jobs.iter().zip(&args.receipts).zip(settled)
    {
        let weighted_units = if earns {
            weighted.next().unwrap_or_default()
        } else {
            0
        };
        crate::events::emit(ReceiptSettled {
            job: batch_job.job.key(),
            provider: accounts.settlement.provider.key(),
            attestation: batch_job.attestation,
            cumulative_units: receipt.cumulative_units,
            units: settlement.units,
            payment: settlement.payment,
            fee: settlement.fee,
            epoch: args.epoch,
            weighted_units,
        });
    }
    Ok(())
}
