//! Every error the program returns. Append-only: variant numbers are part of the interface
//! (clients match on them), so new variants go at the end and none is ever removed or reordered.

use anchor_lang::prelude::*;

#[error_code]
pub enum TesseraError {
    #[msg(
        "Arithmetic overflowed: the amounts involved are too large; use smaller prices or units"
    )]
    MathOverflow,
    #[msg("Only the network authority may do this: sign with the authority key")]
    NotAuthority,
    #[msg("Only the proposed authority may accept: sign with the key named by propose_authority")]
    NotPendingAuthority,
    #[msg("protocol_fee_bps must be at most 10000 (100%)")]
    InvalidFeeBps,
    #[msg("Epoch length, unbonding period, dispute window and receipt max age must each be between 1 second and 10 years, and the unbonding period at least the dispute window")]
    InvalidPeriod,
    #[msg(
        "Each class's emission weight must be between 1 and 1000000 basis points (0.0001x to 100x)"
    )]
    InvalidClassWeight,
    #[msg("jail_after_lost_disputes must be at least 1")]
    InvalidJailThreshold,
    #[msg("Emission schedule invalid: decay_bps at most 10000, decay_every_epochs at least 1, initial_per_epoch at most supply_cap")]
    InvalidEmissionSchedule,
    #[msg("The reward_mint_authority signer is not the reward mint's mint authority: the mint's current mint authority must sign initialize_network, which hands it to the network")]
    RewardMintAuthorityMismatch,
    #[msg("The reward mint must have no freeze authority: a frozen stake vault could never be withdrawn")]
    RewardMintFreezable,
    #[msg("The treasury must be a real owner key, not the default (all zero) pubkey")]
    InvalidTreasury,
    #[msg("An attestor set holds at most 8 keys")]
    TooManyAttestors,
    #[msg("The attestor set lists the same key twice: list each attestor once")]
    DuplicateAttestor,
    #[msg("Attestor threshold must be between 1 and the number of attestors (0 only for an empty set)")]
    InvalidThreshold,
    #[msg("The default (all zero) pubkey cannot be an attestor or worker key")]
    InvalidKey,
    #[msg("New jobs, registrations and stake are paused on this network; try again after the authority unpauses")]
    NewJobsPaused,
    #[msg("Only the provider's owner may do this: sign with the owner key it registered with")]
    NotProviderOwner,
    #[msg("Provider spec invalid: Training and Inference need at least one GPU, Bandwidth needs a bandwidth above zero")]
    InvalidSpec,
    #[msg("The new worker key equals the current one: pass a different key")]
    SameWorkerKey,
    #[msg("The token account or mint is not the one this account expects (wrong mint)")]
    WrongMint,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Cannot unstake more than the provider's active stake")]
    UnstakeExceedsStake,
    #[msg("Stake would fall below what the provider's running jobs need (the class minimum, and stake_per_job for each running job): complete them first")]
    StakeLockedByActiveJobs,
    #[msg("Nothing is unbonding: call request_unstake first")]
    NothingToWithdraw,
    #[msg("The unbonding period has not ended yet: withdraw after unbonding_ends_at")]
    UnbondingNotFinished,
    #[msg("Withdraw all stake before deregistering: request_unstake, wait, withdraw_unstaked")]
    DeregisterWithStake,
    #[msg("Stake is still unbonding: withdraw it with withdraw_unstaked before deregistering")]
    DeregisterWithUnbonding,
    #[msg("The provider still has running jobs: complete or let them be cancelled first")]
    DeregisterWithActiveJobs,
    #[msg("The provider is jailed after lost disputes and cannot take work or leave")]
    ProviderJailed,
    #[msg("The provider's stake is below its class minimum: stake more before accepting work or settling attested receipts on an ended job")]
    StakeBelowMinimum,
    #[msg("Only the job's client may do this: sign with the client key that created the job")]
    NotJobClient,
    #[msg("Job times invalid: need now < accept_by < deadline")]
    InvalidJobTimes,
    #[msg("The payment mint has a Token-2022 extension Tessera cannot account for (transfer fee, hook, permanent delegate, ...): use a plain mint")]
    UnsupportedMintExtension,
    #[msg("The job is not Open (waiting for a provider)")]
    JobNotOpen,
    #[msg("The job is not Running")]
    JobNotRunning,
    #[msg("The job has ended (Completed or Cancelled): it only accepts close_job")]
    JobNotActive,
    #[msg("The job has not ended: it must be Completed or Cancelled before close_job")]
    JobNotEnded,
    #[msg("The job's accept-by time has passed: it can only be cancelled")]
    AcceptWindowClosed,
    #[msg("This job names another provider")]
    NotNamedProvider,
    #[msg("The provider's class differs from the class the job requires")]
    ProviderClassMismatch,
    #[msg("The provider's spec (GPUs, VRAM or bandwidth) is below the job's minimum")]
    ProviderSpecTooLow,
    #[msg("This provider is not the job's provider (pass the provider that accepted the job)")]
    NotJobProvider,
    #[msg("Too early to cancel: an Open job after accept_by, a Running job after its deadline, or after its start timeout if nothing was settled")]
    CancelTooEarly,
    #[msg("Receipts may still settle or the client may still dispute: close the job after ended_at + dispute_window_secs (+ any settlement pause since) and last_attested_at + dispute_window_secs")]
    DisputeWindowOpen,
    #[msg(
        "The token account is not owned by the expected wallet (refunds go to the job's client)"
    )]
    WrongTokenAccountOwner,
    #[msg("An account invariant does not hold after this instruction; nothing was changed. Please report this as a bug")]
    InvariantViolated,
    #[msg("Settlement is paused on this network; try again after the authority unpauses")]
    SettlementsPaused,
    #[msg("The epoch length is fixed at genesis: epochs already numbered would move")]
    EpochLengthFixed,
    #[msg("The instructions sysvar account is not Sysvar1nstructions1111111111111111111111111")]
    InvalidInstructionsSysvar,
    #[msg("No Ed25519 signature instruction right before this one: put the Ed25519 program instruction first")]
    MissingEd25519Instruction,
    #[msg("The Ed25519 instruction is not in Tessera's layout: header, offsets, then each public key and signature, then the message once")]
    MalformedEd25519Instruction,
    #[msg("An Ed25519 signature entry points into another instruction: every offset must point at the Ed25519 instruction itself")]
    Ed25519OffsetsOutsideInstruction,
    #[msg("The number of signatures differs from what this receipt needs: worker + client, worker + exactly `threshold` attestors, or worker + the group key (and the client, if it co-signs)")]
    SignatureCountMismatch,
    #[msg(
        "The signed receipt bytes differ from the receipt rebuilt from the accounts and arguments"
    )]
    ReceiptMismatch,
    #[msg("The receipt was signed for another program id")]
    ReceiptWrongProgram,
    #[msg("The receipt was signed for another network")]
    ReceiptWrongNetwork,
    #[msg("The receipt was signed for another job (or another provider's service)")]
    ReceiptWrongJob,
    #[msg("The receipt was signed for another provider")]
    ReceiptWrongProvider,
    #[msg("The receipt is not signed by the provider's current worker key (first signature)")]
    WrongWorkerKey,
    #[msg(
        "The receipt has only the worker's signature: it needs the client's or the attestors' too"
    )]
    MissingCosignature,
    #[msg("A co-signer is not an attestor of the network's current set (in group mode: the group key did not co-sign)")]
    UnknownAttestor,
    #[msg("The same attestor signed twice; each attestor counts once")]
    DuplicateAttestorSignature,
    #[msg("The receipt names an older attestor set version: attestors must re-sign under the current set")]
    StaleAttestorSet,
    #[msg("The receipt has expired (past expires_at or older than receipt_max_age_secs): sign a fresh one")]
    ReceiptExpired,
    #[msg(
        "The receipt's cumulative units are not above the units already settled; nothing to pay"
    )]
    ReceiptNotNewer,
    #[msg("The receipt's cumulative units exceed the job's max units: top up the job first")]
    UnitsExceedMax,
    #[msg("Receipts settle only on Running jobs, or on Completed and Cancelled jobs that were not cancelled as a no-show")]
    JobNotSettleable,
    #[msg("The epoch argument is not the current epoch: rebuild the transaction")]
    WrongEpoch,
    #[msg("No settlement the client did not co-sign: there is nothing to dispute")]
    NothingToDispute,
    #[msg("The dispute window has closed")]
    DisputeWindowClosed,
    #[msg("A dispute is open on this job: the authority must resolve it first")]
    DisputeOpen,
    #[msg("The slash exceeds the provider's stake and unbonding stake together")]
    SlashExceedsStake,
    #[msg(
        "The treasury's token account in the payment mint is required when the job has fees to pay"
    )]
    TreasuryAccountRequired,
    #[msg("Emission claims are paused on this network; try again after the authority unpauses")]
    ClaimsPaused,
    #[msg("The epoch is not over yet: claim after it ends")]
    EpochNotOver,
    #[msg("The provider was jailed or below its class minimum stake whenever it worked in this epoch: that work earns no emission")]
    IneligibleWork,
    #[msg("The provider has an open dispute: its stake stays until the authority resolves it")]
    DisputePending,
    #[msg(
        "The worker key signed again as a co-signer: the client or other attestors must co-sign"
    )]
    WorkerSignedAsCosigner,
    #[msg("Receipt times invalid: issued_at must not be in the future, and expires_at - issued_at at most receipt_max_age_secs")]
    InvalidReceiptTimes,
    #[msg("The reward mint's mint authority is already this network's PDA: only the mint's own authority can hand it over, inside initialize_network; use a new mint")]
    RewardMintAlreadyHandedOver,
    #[msg("The provider's stake backs attested work whose dispute window is still open: withdraw or deregister after slashable_until")]
    StakeStillSlashable,
    #[msg("The receipt was issued after the job ended: only work done before complete_job or cancel_job can settle on it")]
    ReceiptIssuedAfterJobEnded,
    #[msg("The job ended longer ago than its dispute window (plus any settlement pause since): its receipts can no longer settle")]
    SettlementWindowClosed,
    #[msg("The provider's stake covers no more running jobs: each running job needs stake_per_job of stake; stake more or finish a job")]
    JobLimitReached,
    #[msg("Each class's stake_per_job must be at least 1 base unit: with 0, one stake could hold any number of jobs")]
    InvalidStakePerJob,
    #[msg("The unit kind does not fit the provider class: Training and Inference count GpuSeconds, Edge CpuSeconds or GpuSeconds, Bandwidth Bytes")]
    UnitKindMismatch,
    #[msg("Only the proposed treasury may accept: sign with the key named by propose_treasury")]
    NotPendingTreasury,
    #[msg("Attested work earns emission units: name the provider's work record (its PDA for the receipt's epoch) in the settlement, and the epoch's PDA too while the record does not exist")]
    WorkAccountsMissing,
    #[msg("This work record is already in its epoch's total: each record is tallied once")]
    WorkAlreadyTallied,
    #[msg("Not every work record of this epoch is tallied yet: tally the rest (tally_work, or `tessera claim`, which tallies them) before claiming")]
    EpochNotTallied,
    #[msg("A batch settles 1 to 16 receipts: split a larger batch, and send one receipt with settle_receipt if you like")]
    InvalidBatchSize,
    #[msg("A batch names two remaining accounts per receipt, in the receipts' order: the job, then its vault, both writable")]
    BatchAccountsMismatch,
}
