//! One event per state change. Token amounts are in base units of the mint named beside them;
//! times are unix seconds.

use crate::settlement::Attestation;
use crate::state::{NetworkParams, PauseFlags, ProviderClass, ProviderSpec};
use anchor_lang::prelude::*;

/// Writes `event` to the transaction's log as `Program data: <base64>`, as Anchor's `emit!`
/// does. Compiled for the host (the embedded ledger, the tests), `emit!` drops the event
/// silently; this hands it to the runtime through the syscall stubs instead, so that Anchor's
/// event parser, web3.js and `tessera history` read the same events on every ledger.
pub fn emit<E: anchor_lang::Event>(event: E) {
    let data = event.data();
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log_data(&[&data]);
    #[cfg(not(target_os = "solana"))]
    solana_sysvar::program_stubs::sol_log_data(&[&data]);
}

/// A network was created.
#[event]
pub struct NetworkInitialized {
    pub network: Pubkey,
    pub network_id: u64,
    pub authority: Pubkey,
    pub reward_mint: Pubkey,
    pub treasury: Pubkey,
    /// Start of epoch 0, unix seconds.
    pub genesis_at: i64,
}

/// The authority replaced the network parameters.
#[event]
pub struct ParametersUpdated {
    pub network: Pubkey,
    pub params: NetworkParams,
}

/// The authority proposed a successor (the default pubkey withdraws a proposal).
#[event]
pub struct AuthorityProposed {
    pub network: Pubkey,
    pub authority: Pubkey,
    pub pending_authority: Pubkey,
}

/// The proposed authority took over.
#[event]
pub struct AuthorityAccepted {
    pub network: Pubkey,
    pub previous_authority: Pubkey,
    pub authority: Pubkey,
}

/// The authority proposed a new treasury (the default pubkey withdraws a proposal).
#[event]
pub struct TreasuryProposed {
    pub network: Pubkey,
    pub treasury: Pubkey,
    pub pending_treasury: Pubkey,
}

/// The proposed treasury took over; fees of jobs closed from now on go to it.
#[event]
pub struct TreasuryAccepted {
    pub network: Pubkey,
    pub previous_treasury: Pubkey,
    pub treasury: Pubkey,
}

/// The pause flags changed.
#[event]
pub struct PauseSet {
    pub network: Pubkey,
    pub pause: PauseFlags,
}

/// The emission price floors changed.
#[event]
pub struct EmissionFloorsSet {
    pub network: Pubkey,
    /// Per class (`ProviderClass::index()`), the least price per unit of a job whose attested
    /// units earn emission, in reward-mint base units; 0 is no floor.
    pub floors: [u64; 4],
}

/// The attestor set was replaced by attestors that sign one by one.
#[event]
pub struct AttestorsSet {
    pub network: Pubkey,
    /// Version of the new set.
    pub version: u32,
    pub threshold: u8,
    pub keys: Vec<Pubkey>,
}

/// The attestor set was replaced by a group that signs as one key.
#[event]
pub struct AttestorGroupSet {
    pub network: Pubkey,
    /// Version of the new set.
    pub version: u32,
    /// The group's ed25519 key, the only attestor key receipts may carry.
    pub group_key: Pubkey,
    /// Members whose shares it takes to sign.
    pub threshold: u8,
    /// Members holding a share.
    pub members: u8,
}

/// A provider registered.
#[event]
pub struct ProviderRegistered {
    pub network: Pubkey,
    pub provider: Pubkey,
    pub owner: Pubkey,
    pub worker_key: Pubkey,
    pub class: ProviderClass,
    pub spec: ProviderSpec,
}

/// A provider changed its spec.
#[event]
pub struct ProviderUpdated {
    pub provider: Pubkey,
    pub spec: ProviderSpec,
}

/// A provider named a new worker key.
#[event]
pub struct WorkerKeyRotated {
    pub provider: Pubkey,
    pub previous_worker_key: Pubkey,
    pub worker_key: Pubkey,
}

/// Stake was added.
#[event]
pub struct Staked {
    pub provider: Pubkey,
    /// Reward-mint base units added.
    pub amount: u64,
    /// Active stake after, reward-mint base units.
    pub stake: u64,
}

/// Stake started unbonding.
#[event]
pub struct UnstakeRequested {
    pub provider: Pubkey,
    /// Reward-mint base units moved from stake to unbonding.
    pub amount: u64,
    /// Active stake after, reward-mint base units.
    pub stake: u64,
    /// Unbonding amount after, reward-mint base units.
    pub unbonding_amount: u64,
    /// When it can be withdrawn, unix seconds.
    pub unbonding_ends_at: i64,
}

/// Unbonded stake left the vault.
#[event]
pub struct UnstakeWithdrawn {
    pub provider: Pubkey,
    /// Reward-mint base units sent to `destination`.
    pub amount: u64,
    pub destination: Pubkey,
}

/// A provider left the network; its accounts were closed.
#[event]
pub struct ProviderDeregistered {
    pub network: Pubkey,
    pub provider: Pubkey,
    pub owner: Pubkey,
    /// Tokens found in the stake vault beyond stake (sent by third parties) and returned to the owner, reward-mint base units.
    pub surplus_returned: u64,
}

/// A client funded a job.
#[event]
pub struct JobCreated {
    pub network: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    pub job_id: u64,
    /// Named provider account, or the default pubkey for an open offer.
    pub provider: Pubkey,
    pub payment_mint: Pubkey,
    /// Payment-mint base units per unit.
    pub price_per_unit: u64,
    pub max_units: u64,
    /// Payment-mint base units moved into escrow.
    pub deposited: u64,
    pub accept_by: i64,
    pub deadline: i64,
}

/// A provider accepted a job.
#[event]
pub struct JobAccepted {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub accepted_at: i64,
}

/// The client raised a job's budget.
#[event]
pub struct JobToppedUp {
    pub job: Pubkey,
    pub additional_units: u64,
    /// Payment-mint base units added to escrow.
    pub amount: u64,
    pub max_units: u64,
    /// Payment-mint base units deposited over the job's life.
    pub deposited: u64,
}

/// The provider marked a job done.
#[event]
pub struct JobCompleted {
    pub job: Pubkey,
    pub provider: Pubkey,
    pub result_hash: [u8; 32],
    pub settled_units: u64,
    pub ended_at: i64,
}

/// The client cancelled a job.
#[event]
pub struct JobCancelled {
    pub job: Pubkey,
    /// Whether a provider had accepted it.
    pub was_running: bool,
    /// Whether the provider settled nothing within the start timeout: a strike toward jailing.
    pub no_show: bool,
    pub ended_at: i64,
}

/// A job's escrow was returned and its accounts closed.
#[event]
pub struct JobClosed {
    pub job: Pubkey,
    pub client: Pubkey,
    /// Payment-mint base units returned to the client.
    pub refunded: u64,
    /// Payment-mint base units paid to the provider over the job's life.
    pub paid_out: u64,
    /// Payment-mint base units paid to the treasury as protocol fees.
    pub fees: u64,
}

/// A job receipt was settled.
#[event]
pub struct ReceiptSettled {
    pub job: Pubkey,
    pub provider: Pubkey,
    /// Who vouched for the receipt besides the worker.
    pub attestation: Attestation,
    /// The job's new high-water mark, units.
    pub cumulative_units: u64,
    /// Units this settlement added.
    pub units: u64,
    /// Payment-mint base units paid to the provider.
    pub payment: u64,
    /// Payment-mint base units of protocol fee accrued for the treasury.
    pub fee: u64,
    /// Epoch the emission units went to.
    pub epoch: u64,
    /// Class-weighted units added to the epoch (0 unless attested).
    pub weighted_units: u128,
}

/// A service receipt was settled (emission units only).
#[event]
pub struct ServiceSettled {
    pub provider: Pubkey,
    /// The provider's new service high-water mark, units.
    pub cumulative_units: u64,
    /// Units this settlement added.
    pub units: u64,
    /// Epoch the emission units went to.
    pub epoch: u64,
    /// Class-weighted units added to the epoch (0 unless attested).
    pub weighted_units: u128,
}

/// A client disputed attested work.
#[event]
pub struct DisputeOpened {
    pub job: Pubkey,
    pub client: Pubkey,
    pub provider: Pubkey,
    pub evidence_hash: [u8; 32],
    /// Job units settled when the dispute opened.
    pub settled_units: u64,
}

/// The authority resolved a dispute.
#[event]
pub struct DisputeResolved {
    pub job: Pubkey,
    pub provider: Pubkey,
    /// Reward-mint base units taken from the provider's stake and given to the client (0: dismissed).
    pub slashed: u64,
    /// Disputes the provider has lost, after this one.
    pub lost_disputes: u16,
    /// Whether the provider is now jailed.
    pub jailed: bool,
}

/// A work record's units were added to its epoch's total.
#[event]
pub struct WorkTallied {
    pub provider: Pubkey,
    pub epoch: u64,
    /// Weighted units of the record.
    pub units: u128,
    /// Weighted units of the records tallied so far.
    pub epoch_units: u128,
    /// Records tallied so far, and opened in the epoch: claims open when they are equal.
    pub tallied_records: u64,
    pub work_records: u64,
}

/// A provider's emission for one epoch was minted.
#[event]
pub struct EmissionClaimed {
    pub provider: Pubkey,
    pub epoch: u64,
    /// Weighted units the provider settled in the epoch.
    pub units: u128,
    /// Weighted units everyone settled in the epoch.
    pub epoch_units: u128,
    /// Reward-mint base units minted to the provider owner.
    pub amount: u64,
    /// Reward-mint base units minted on this epoch so far.
    pub epoch_claimed: u64,
}
