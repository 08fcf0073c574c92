//! Checks shared by `settle_receipt` and `settle_service`: who signed the receipt, whether it
//! is the receipt the accounts and arguments describe, whether it is still valid; and the
//! bookkeeping of emission units.

use crate::ed25519::{load_previous_ed25519, parse};
use crate::errors::TesseraError;
use crate::math;
use crate::pda_account::{open_or_create, store};
use crate::receipt::{Receipt, RECEIPT_DOMAIN};
use crate::state::{AttestorSet, Epoch, Network, Provider, ProviderStatus, UnitKind, WorkRecord};
use anchor_lang::prelude::*;

/// What the submitter says the receipt contains, besides what the accounts already fix.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptArgs {
    /// The current epoch (where the work's emission units go); must match the clock.
    pub epoch: u64,
    /// Units delivered on the subject since it began.
    pub cumulative_units: u64,
    /// Digest of the outputs or evidence so far.
    pub result_hash: [u8; 32],
    /// When the worker issued the receipt, unix seconds.
    pub issued_at: i64,
    /// When the receipt stops being valid, unix seconds.
    pub expires_at: i64,
}

/// Who vouched for a receipt besides the worker.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attestation {
    /// `threshold` distinct attestors of the current set signed, or its group key did: the work
    /// earns emission units.
    pub by_attestors: bool,
    /// The job's client signed (alone, or as one of the attestors): it cannot dispute the work.
    pub by_client: bool,
}

/// The accounts a receipt must be bound to.
pub struct ReceiptContext<'a, 'info> {
    pub instructions_sysvar: &'a AccountInfo<'info>,
    pub network: &'a Network,
    pub network_key: Pubkey,
    pub provider: &'a Provider,
    pub provider_key: Pubkey,
    /// The job, or the provider itself for service receipts.
    pub subject: Pubkey,
    /// The subject's nonce (`Job::nonce`, or `Provider::nonce` for service receipts).
    pub subject_nonce: u64,
    /// The job's client, who may co-sign in place of the attestors; `None` for service receipts.
    pub client: Option<Pubkey>,
    /// The job's unit kind; `None` for service receipts, whose signed kind must be one the
    /// provider's class measures.
    pub unit_kind: Option<UnitKind>,
}

/// Verifies the receipt signed in the Ed25519 instruction right before this one against the
/// accounts in `context` and the submitter's `args`. Each way a receipt can be wrong has its
/// own error, checked in this order: layout, binding (program, network, subject, provider,
/// worker key, unit kind), signers and attestor set version (in group mode the version first),
/// the exact bytes, then time ([`require_receipt_live`]).
pub fn verify_receipt(
    context: &ReceiptContext<'_, '_>,
    args: &ReceiptArgs,
    now: i64,
) -> Result<Attestation> {
    let (own_index, data) = load_previous_ed25519(context.instructions_sysvar)?;
    let signed = parse(&data, own_index)?;
    let receipt =
        Receipt::from_bytes(signed.message).ok_or_else(|| error!(TesseraError::ReceiptMismatch))?;
    require!(
        receipt.domain == RECEIPT_DOMAIN,
        TesseraError::ReceiptMismatch
    );
    require_keys_eq!(
        receipt.program_id,
        crate::ID,
        TesseraError::ReceiptWrongProgram
    );
    require_keys_eq!(
        receipt.network,
        context.network_key,
        TesseraError::ReceiptWrongNetwork
    );
    require!(
        receipt.subject == context.subject && receipt.subject_nonce == context.subject_nonce,
        TesseraError::ReceiptWrongJob
    );
    require_keys_eq!(
        receipt.provider,
        context.provider_key,
        TesseraError::ReceiptWrongProvider
    );
    let worker_key = context.provider.worker_key;
    require_keys_eq!(receipt.worker_key, worker_key, TesseraError::WrongWorkerKey);
    let unit_kind = context.unit_kind.unwrap_or(receipt.unit_kind);
    require!(
        receipt.unit_kind == unit_kind && context.provider.class.measures(unit_kind),
        TesseraError::UnitKindMismatch
    );

    let cosigners = cosigners_after_worker(signed.signers(), worker_key)?;
    let attestation = attestation_of(
        context.network,
        cosigners,
        context.client,
        receipt.attestor_set_version,
    )?;

    let rebuilt = Receipt {
        domain: RECEIPT_DOMAIN,
        program_id: crate::ID,
        network: context.network_key,
        subject: context.subject,
        subject_nonce: context.subject_nonce,
        provider: context.provider_key,
        worker_key,
        cumulative_units: args.cumulative_units,
        unit_kind,
        result_hash: args.result_hash,
        attestor_set_version: receipt.attestor_set_version,
        issued_at: args.issued_at,
        expires_at: args.expires_at,
    };
    require!(
        rebuilt.to_bytes().as_slice() == signed.message,
        TesseraError::ReceiptMismatch
    );

    require_receipt_live(context.network, args.issued_at, args.expires_at, now)?;
    Ok(attestation)
}

/// The co-signers of a message whose first signer must be the worker: at least one, and not
/// the worker again.
#[inline(always)]
pub fn cosigners_after_worker(signers: &[Pubkey], worker_key: Pubkey) -> Result<&[Pubkey]> {
    require_keys_eq!(signers[0], worker_key, TesseraError::WrongWorkerKey);
    let cosigners = &signers[1..];
    require!(!cosigners.is_empty(), TesseraError::MissingCosignature);
    require!(
        !cosigners.contains(&worker_key),
        TesseraError::WorkerSignedAsCosigner
    );
    Ok(cosigners)
}

/// Who `cosigners` make a receipt's vouchers: the subject's `client` alone, or the network's
/// attestor set (its threshold of keys, or its group key), with or without the client.
#[inline(always)]
pub fn attestation_of(
    network: &Network,
    cosigners: &[Pubkey],
    client: Option<Pubkey>,
    attestor_set_version: u32,
) -> Result<Attestation> {
    let by_client = client.is_some_and(|client| cosigners.contains(&client));
    if by_client && cosigners.len() == 1 {
        return Ok(Attestation {
            by_attestors: false,
            by_client: true,
        });
    }
    let attestors = &network.attestors;
    match attestors.group_key() {
        None => verify_attestor_keys(attestors, cosigners, attestor_set_version)?,
        Some(group_key) => verify_group_key(
            attestors,
            group_key,
            cosigners,
            client,
            attestor_set_version,
        )?,
    }
    Ok(Attestation {
        by_attestors: true,
        by_client,
    })
}

/// A receipt issued at `issued_at` and valid until `expires_at` may settle at `now`: issued
/// in the past, living no longer than the network allows, and not expired. A settlement pause
/// does not eat a receipt's life: the latest pause it lived through is added to its expiry.
#[inline(always)]
pub fn require_receipt_live(
    network: &Network,
    issued_at: i64,
    expires_at: i64,
    now: i64,
) -> Result<()> {
    let lifetime = expires_at
        .checked_sub(issued_at)
        .ok_or_else(|| error!(TesseraError::InvalidReceiptTimes))?;
    require!(
        issued_at <= now && (0..=network.params.receipt_max_age_secs).contains(&lifetime),
        TesseraError::InvalidReceiptTimes
    );
    let paused = network
        .settlement_pauses
        .latest_extension(issued_at, expires_at);
    require!(
        now <= math::add_secs(expires_at, paused)?,
        TesseraError::ReceiptExpired
    );
    Ok(())
}

/// Keys mode: the co-signers are exactly `threshold` distinct attestors of the current set (the
/// client counts only if it is one of them).
fn verify_attestor_keys(
    attestors: &AttestorSet,
    cosigners: &[Pubkey],
    attestor_set_version: u32,
) -> Result<()> {
    for (i, key) in cosigners.iter().enumerate() {
        require!(attestors.contains(key), TesseraError::UnknownAttestor);
        require!(
            !cosigners[..i].contains(key),
            TesseraError::DuplicateAttestorSignature
        );
    }
    require!(
        attestors.threshold >= 1 && cosigners.len() == attestors.threshold as usize,
        TesseraError::SignatureCountMismatch
    );
    require!(
        attestor_set_version == attestors.version,
        TesseraError::StaleAttestorSet
    );
    Ok(())
}

/// Group mode: besides the client, the one co-signer is the current group key. The version
/// comes first, so that a receipt signed under a group key since rotated away reads as stale
/// rather than as signed by a stranger.
fn verify_group_key(
    attestors: &AttestorSet,
    group_key: Pubkey,
    cosigners: &[Pubkey],
    client: Option<Pubkey>,
    attestor_set_version: u32,
) -> Result<()> {
    require!(
        attestor_set_version == attestors.version,
        TesseraError::StaleAttestorSet
    );
    let others = || cosigners.iter().filter(move |key| Some(**key) != client);
    require!(
        others().any(|key| *key == group_key),
        TesseraError::UnknownAttestor
    );
    require!(others().count() == 1, TesseraError::SignatureCountMismatch);
    Ok(())
}

/// Fails with `WrongEpoch` unless `epoch` is the epoch of `now`.
pub fn require_current_epoch(network: &Network, epoch: u64, now: i64) -> Result<()> {
    require!(network.epoch_at(now)? == epoch, TesseraError::WrongEpoch);
    Ok(())
}

/// The epoch and work-record accounts a settlement writes its emission units to, created on
/// first use (see [`crate::pda_account`] for why not with Anchor's `init`).
pub struct WorkAccounts<'a, 'info> {
    /// The epoch, written only when the work record is new (it counts the epoch's records):
    /// settlements into an open record leave it out, and share no write lock with other
    /// providers' settlements.
    pub epoch: Option<&'a AccountInfo<'info>>,
    pub work_record: &'a AccountInfo<'info>,
    /// Pays the rent of whichever account is new.
    pub payer: &'a AccountInfo<'info>,
    pub system_program: &'a Program<'info, System>,
}

/// Amounts of work to record, one per receipt, and where the class-weighted units each adds go.
pub struct WorkAmounts<'a> {
    pub units: &'a [u64],
    /// As long as `units`.
    pub weighted: &'a mut [u128],
}

/// Adds each of `units` (one amount per receipt) of a provider's work, weighted by its class,
/// to the provider's work record for epoch `epoch_index`, creating it on first use, and the epoch with the epoch's first record;
/// a new record needs the epoch account (`WorkAccountsMissing` without it), which counts it.
/// The epoch's total is the sum of its records, tallied once the epoch is over (`tally_work`).
/// Work done while the provider is jailed or below its class minimum is recorded apart and
/// earns nothing. Only attested work counts: a job's client and provider could otherwise mint
/// emissions by trading units of a worthless token between themselves. Each amount is weighted
/// and rounded down on its own, as if settled alone.
pub fn record_work(
    accounts: &WorkAccounts,
    network: &Network,
    network_key: Pubkey,
    provider: &Provider,
    provider_key: Pubkey,
    epoch_index: u64,
    amounts: WorkAmounts,
) -> Result<()> {
    let epoch_bytes = epoch_index.to_le_bytes();
    let (mut work, new_record) = open_or_create(
        accounts.work_record,
        accounts.payer,
        accounts.system_program,
        (
            8 + WorkRecord::INIT_SPACE,
            [WorkRecord::SEED, provider_key.as_ref(), &epoch_bytes],
        ),
        |work: &WorkRecord| work.provider == provider_key && work.epoch == epoch_index,
    )?;
    if let Some(work_bump) = new_record {
        let Some(epoch_account) = accounts.epoch else {
            return err!(TesseraError::WorkAccountsMissing);
        };
        let (mut epoch, epoch_bump) = open_or_create(
            epoch_account,
            accounts.payer,
            accounts.system_program,
            (
                8 + Epoch::INIT_SPACE,
                [Epoch::SEED, network_key.as_ref(), &epoch_bytes],
            ),
            |epoch: &Epoch| epoch.network == network_key && epoch.index == epoch_index,
        )?;
        if let Some(bump) = epoch_bump {
            epoch.network = network_key;
            epoch.index = epoch_index;
            epoch.emission = network.emission.emission_for_epoch(epoch_index);
            epoch.bump = bump;
        }
        work.provider = provider_key;
        work.network = network_key;
        work.owner = provider.owner;
        work.epoch = epoch_index;
        work.rent_payer = accounts.payer.key();
        work.bump = work_bump;
        epoch.work_records = math::add(epoch.work_records, 1)?;
        epoch.open_work_records = math::add(epoch.open_work_records, 1)?;
        epoch.invariant()?;
        store(epoch_account, &epoch)?;
    }
    for (units, weighted) in amounts.units.iter().zip(amounts.weighted) {
        *weighted = add_work(&mut work, network, provider, *units);
    }
    store(accounts.work_record, &work)
}

/// Adds `units`, weighted by the provider's class, to `work`: to its units while the provider
/// is eligible (active, at least its class minimum staked), else to its ineligible units.
/// Returns the weighted units.
fn add_work(work: &mut WorkRecord, network: &Network, provider: &Provider, units: u64) -> u128 {
    let class = network.params.class(provider.class);
    // u64 units × a weight of at most 10⁶ bps fits u128 with room to spare; sums saturate,
    // which claims treat as "all of the epoch" and can never turn into more than the emission.
    let weighted =
        units as u128 * class.emission_weight_bps as u128 / math::BPS_DENOMINATOR as u128;
    let eligible = provider.status == ProviderStatus::Active && provider.meets_min_stake(class);
    if eligible {
        work.units = work.units.saturating_add(weighted);
    } else {
        work.ineligible_units = work.ineligible_units.saturating_add(weighted);
    }
    weighted
}
