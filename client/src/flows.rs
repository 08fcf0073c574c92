//! The flows every front end shares: the CLI commands, the quickstart, the worker and the test
//! fixture call these, so that each receipt and each settlement is built one way.
//!
//! They are pure: they take the accounts as read from a ledger and return what to sign or
//! send, and never read or send themselves.

use crate::instructions::{
    self as ix, ClaimEmissionAccounts, EpochAccounts, MintRef, SettleBatchAccounts,
    SettleReceiptAccounts,
};
use crate::receipt::{Receipt, SignedBatch, SignedReceipt, RECEIPT_DOMAIN};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use tessera::state::{ClassParams, Job, Network, NetworkParams, Provider, UnitKind, WorkRecord};

/// Seconds a provider has, after accepting a job, to settle a first receipt, unless the
/// network says otherwise.
pub const DEFAULT_START_TIMEOUT_SECS: i64 = 3_600;

/// Default stake per running job: a quarter of the class minimum (at least one base unit), so a
/// provider at the minimum runs four jobs at once.
pub fn default_stake_per_job(min_stake: u64) -> u64 {
    (min_stake / 4).max(1)
}

/// The parameters of a new network whose reward mint has `reward_decimals`: daily epochs, a
/// week of unbonding, two days to dispute, an hour to start, a 2.5% fee, jail after three lost
/// disputes; class minimums of 1,000 (Training), 500 (Inference) and 100 (Edge, Bandwidth)
/// tokens, Training work weighted double and Bandwidth's counted per byte at 1 bps.
pub fn new_network_params(reward_decimals: u8) -> NetworkParams {
    let whole = 10u64.pow(reward_decimals as u32);
    let class = |min: u64, weight| ClassParams {
        min_stake: min * whole,
        emission_weight_bps: weight,
        stake_per_job: default_stake_per_job(min * whole),
    };
    NetworkParams {
        epoch_length_secs: 86_400,
        unbonding_period_secs: 7 * 86_400,
        dispute_window_secs: 2 * 86_400,
        receipt_max_age_secs: 3_600,
        protocol_fee_bps: 250,
        jail_after_lost_disputes: 3,
        classes: [
            class(1_000, 20_000),
            class(500, 10_000),
            class(100, 10_000),
            class(100, 1),
        ],
        start_timeout_secs: DEFAULT_START_TIMEOUT_SECS,
    }
}

/// What a worker metered, as it goes into a receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metered {
    /// Units since the subject began (receipts are cumulative: the newest one settles).
    pub cumulative_units: u64,
    /// Hash of the output or log the units stand for.
    pub result_hash: [u8; 32],
    /// When the worker signs, ledger unix seconds.
    pub issued_at: i64,
    /// How long the receipt may be settled, in seconds; at most the network's
    /// `receipt_max_age_secs`.
    pub valid_for_secs: i64,
}

/// A network account with its address.
#[derive(Clone, Copy)]
pub struct NetworkRef<'a> {
    pub address: Pubkey,
    pub state: &'a Network,
}

/// The receipt a provider's worker issues for work on the job at `job_address`: in the job's
/// unit kind, bound to its nonce and to the current attestor set.
pub fn job_receipt(
    network: NetworkRef,
    job_address: Pubkey,
    job: &Job,
    worker_key: Pubkey,
    metered: Metered,
) -> Receipt {
    receipt(
        network,
        (job_address, job.nonce),
        job.provider,
        worker_key,
        job.unit_kind,
        metered,
    )
}

/// The receipt a provider's worker issues for service without a job (bandwidth relayed,
/// inference served), counted in `unit_kind`; the provider account is its own subject.
pub fn service_receipt(
    network: NetworkRef,
    provider_address: Pubkey,
    provider: &Provider,
    unit_kind: UnitKind,
    metered: Metered,
) -> Receipt {
    receipt(
        network,
        (provider_address, provider.nonce),
        provider_address,
        provider.worker_key,
        unit_kind,
        metered,
    )
}

fn receipt(
    network: NetworkRef,
    (subject, subject_nonce): (Pubkey, u64),
    provider: Pubkey,
    worker_key: Pubkey,
    unit_kind: UnitKind,
    metered: Metered,
) -> Receipt {
    receipt_for(
        Binding {
            network: network.address,
            subject,
            subject_nonce,
            provider,
            worker_key,
            unit_kind,
            attestor_set_version: network.state.attestors.version,
        },
        metered,
    )
}

/// What a receipt is bound to, for callers that keep these values themselves rather than
/// read the accounts (a worker between ledger reads, a benchmark).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    pub network: Pubkey,
    /// The job account, or the provider account for a service receipt.
    pub subject: Pubkey,
    /// `Job::nonce`, or `Provider::nonce` for a service receipt.
    pub subject_nonce: u64,
    /// The provider account.
    pub provider: Pubkey,
    pub worker_key: Pubkey,
    pub unit_kind: UnitKind,
    /// The network's current attestor set version.
    pub attestor_set_version: u32,
}

/// The receipt for `metered` work under `binding`, for the configured program.
pub fn receipt_for(binding: Binding, metered: Metered) -> Receipt {
    Receipt {
        domain: RECEIPT_DOMAIN,
        program_id: crate::program_id(),
        network: binding.network,
        subject: binding.subject,
        subject_nonce: binding.subject_nonce,
        provider: binding.provider,
        worker_key: binding.worker_key,
        cumulative_units: metered.cumulative_units,
        unit_kind: binding.unit_kind,
        result_hash: metered.result_hash,
        attestor_set_version: binding.attestor_set_version,
        issued_at: metered.issued_at,
        expires_at: metered.issued_at.saturating_add(metered.valid_for_secs),
    }
}

/// The job's side of a settlement: where the payment goes, and who may co-sign for the client.
#[derive(Clone, Copy, Debug)]
pub struct Payee {
    /// The job's payment mint.
    pub payment_mint: MintRef,
    /// The provider owner's token account in it.
    pub provider_token: Pubkey,
    /// The job's client. A receipt it alone co-signed earns no emission units, so its
    /// settlement names no epoch accounts (and takes no write lock on them).
    pub client: Pubkey,
}

impl Payee {
    /// Whether anyone besides the job's client co-signed `signed`: attestors, whose receipt may
    /// earn emission units.
    pub fn attested(&self, signed: &SignedReceipt) -> bool {
        let cosigners = signed.signatures.get(1..).unwrap_or_default();
        !matches!(cosigners, [(only, _)] if *only == self.client)
    }
}

/// The epoch a settlement's work goes into, and whether the provider's work record for it is
/// open already: then an attested settlement names the record alone, not the epoch, and
/// shares no write lock with other providers' settlements. From an epoch's index alone,
/// `record_open` is false, which is never wrong (the epoch is only written when the record is
/// new).
#[derive(Clone, Copy, Debug)]
pub struct WorkEpoch {
    pub index: u64,
    pub record_open: bool,
}

impl From<u64> for WorkEpoch {
    fn from(index: u64) -> Self {
        Self {
            index,
            record_open: false,
        }
    }
}

/// The `[ed25519, settle_receipt]` pair that settles `signed` (a job receipt) in `epoch`,
/// submitted and paid for by `submitter`, against the job and provider the receipt names.
pub fn settle_job(
    submitter: Pubkey,
    signed: &SignedReceipt,
    payee: Payee,
    epoch: impl Into<WorkEpoch>,
) -> [Instruction; 2] {
    let receipt = &signed.receipt;
    let epoch = epoch.into();
    let on = SettleOn {
        network: receipt.network,
        job: receipt.subject,
        provider: receipt.provider,
        record_open: epoch.record_open,
    };
    settle_job_with(
        submitter,
        signed,
        on,
        payee,
        ix::receipt_args(receipt, epoch.index),
    )
}

/// The accounts a job settlement is sent against; [`settle_job`] takes them from the receipt.
#[derive(Clone, Copy, Debug)]
pub struct SettleOn {
    pub network: Pubkey,
    pub job: Pubkey,
    /// The provider account.
    pub provider: Pubkey,
    /// Whether the provider's work record for the settlement's epoch exists (see
    /// [`WorkEpoch`]).
    pub record_open: bool,
}

/// [`settle_job`] against the accounts given and with the settlement
/// arguments given, as they are: for callers that check how the program treats a receipt sent
/// against other accounts, or arguments that do not match it.
pub fn settle_job_with(
    submitter: Pubkey,
    signed: &SignedReceipt,
    on: SettleOn,
    payee: Payee,
    args: tessera::instructions::ReceiptArgs,
) -> [Instruction; 2] {
    let settle = ix::settle_receipt(
        SettleReceiptAccounts {
            submitter,
            network: on.network,
            job: on.job,
            provider: on.provider,
            provider_token: payee.provider_token,
            payment_mint: payee.payment_mint,
            epoch_accounts: match (payee.attested(signed), on.record_open) {
                (false, _) => EpochAccounts::None,
                (true, true) => EpochAccounts::Record,
                (true, false) => EpochAccounts::RecordAndEpoch,
            },
        },
        args,
    );
    [signed.ed25519_instruction(), settle]
}

/// The `[ed25519, settle_batch]` pair that settles `signed` (receipts on jobs of one provider,
/// all paying in `payee.payment_mint`) in `epoch`, against the jobs the receipts name, in
/// order. `payee.client` is the co-signing client of a batch of that client's jobs; for a
/// batch of several clients' jobs any of them will do (attestors must co-sign it anyway).
pub fn settle_batch(
    submitter: Pubkey,
    signed: &SignedBatch,
    payee: Payee,
    epoch: impl Into<WorkEpoch>,
) -> Result<[Instruction; 2], EmptyBatch> {
    let first = signed.receipts.first().ok_or(EmptyBatch)?;
    let epoch = epoch.into();
    let cosigners = signed.signatures.get(1..).unwrap_or_default();
    let by_client_alone = matches!(cosigners, [(only, _)] if *only == payee.client);
    let jobs: Vec<Pubkey> = signed
        .receipts
        .iter()
        .map(|receipt| receipt.subject)
        .collect();
    let settle = ix::settle_batch(
        SettleBatchAccounts {
            submitter,
            network: first.network,
            provider: first.provider,
            provider_token: payee.provider_token,
            payment_mint: payee.payment_mint,
            epoch_accounts: match (by_client_alone, epoch.record_open) {
                (true, _) => EpochAccounts::None,
                (false, true) => EpochAccounts::Record,
                (false, false) => EpochAccounts::RecordAndEpoch,
            },
        },
        &jobs,
        ix::batch_args(&signed.receipts, epoch.index),
    );
    Ok([signed.ed25519_instruction(), settle])
}

/// A batch needs at least one receipt.
#[derive(Debug, thiserror::Error)]
#[error("a batch needs at least one receipt")]
pub struct EmptyBatch;

/// The `[ed25519, settle_service]` pair that settles `signed` (a service receipt) in `epoch`.
pub fn settle_service(
    submitter: Pubkey,
    signed: &SignedReceipt,
    epoch: impl Into<WorkEpoch>,
) -> [Instruction; 2] {
    let receipt = &signed.receipt;
    let epoch = epoch.into();
    let settle = ix::settle_service(
        &submitter,
        &receipt.network,
        &receipt.provider,
        ix::receipt_args(receipt, epoch.index),
        epoch.record_open,
    );
    [signed.ed25519_instruction(), settle]
}

/// The instructions that claim the emission a provider earned in `epoch` (its `work` record):
/// the associated reward-token account of the owner the record names, created unless it
/// exists, then the claim. `cranker` signs and pays; anyone may.
pub fn claim(
    cranker: Pubkey,
    network: Pubkey,
    reward_mint: MintRef,
    provider: Pubkey,
    work: &WorkRecord,
    epoch: u64,
) -> [Instruction; 2] {
    let create = ix::create_associated_token_account(&cranker, &work.owner, reward_mint);
    let claim = ix::claim_emission(
        ClaimEmissionAccounts {
            cranker,
            network,
            provider,
            provider_owner: work.owner,
            rent_payer: work.rent_payer,
            reward_mint,
        },
        epoch,
    );
    [create, claim]
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::{AccountDeserialize, Space};

    /// An account of type `T` decoded from zeroed bytes: every number 0, every list empty.
    fn zeroed<T: AccountDeserialize + Space>() -> T {
        let bytes = vec![0; 8 + T::INIT_SPACE];
        T::try_deserialize_unchecked(&mut bytes.as_slice()).expect("zeroes decode")
    }

    #[test]
    fn a_job_receipt_carries_the_job_and_the_network_it_was_read_from() {
        let network: Network = zeroed();
        let mut job: Job = zeroed();
        job.nonce = 7;
        job.provider = Pubkey::new_unique();
        job.unit_kind = UnitKind::GpuSeconds;
        let (network_address, job_address, worker) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let metered = Metered {
            cumulative_units: 90,
            result_hash: [3; 32],
            issued_at: 1_000,
            valid_for_secs: 60,
        };
        let receipt = job_receipt(
            NetworkRef {
                address: network_address,
                state: &network,
            },
            job_address,
            &job,
            worker,
            metered,
        );
        assert_eq!(
            (receipt.network, receipt.subject, receipt.subject_nonce),
            (network_address, job_address, 7)
        );
        assert_eq!(
            (receipt.provider, receipt.worker_key),
            (job.provider, worker)
        );
        assert_eq!(receipt.unit_kind, UnitKind::GpuSeconds);
        assert_eq!((receipt.issued_at, receipt.expires_at), (1_000, 1_060));
        assert_eq!(receipt.program_id, crate::program_id());
    }
}
