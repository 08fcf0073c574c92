//! One builder per program instruction. Each takes the keys a caller knows (wallets, mints,
//! token accounts) and derives every program address itself.

use crate::pda;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use tessera::instructions::{
    BatchReceipt, CreateJobArgs, InitializeNetworkArgs, ReceiptArgs, RegisterProviderArgs,
    SetAttestorGroupArgs, SetAttestorsArgs, SettleBatchArgs,
};
use tessera::state::{NetworkParams, PauseFlags, ProviderSpec};
use tessera::{accounts, instruction};

/// A mint and the token program that owns it (SPL Token or Token-2022).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MintRef {
    pub mint: Pubkey,
    pub token_program: Pubkey,
}

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: crate::program_id(),
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `initialize_network`: `authority` signs, pays and becomes the authority;
/// `reward_mint_authority` (the mint's current mint authority, often the same key) signs too
/// and hands the mint authority to the network in the same instruction.
pub fn initialize_network(
    authority: &Pubkey,
    reward_mint_authority: &Pubkey,
    reward_mint: MintRef,
    args: InitializeNetworkArgs,
) -> Instruction {
    let network = pda::network(args.network_id);
    build(
        accounts::InitializeNetwork {
            authority: *authority,
            network,
            mint_authority: pda::mint_authority(&network),
            reward_mint_authority: *reward_mint_authority,
            reward_mint: reward_mint.mint,
            token_program: reward_mint.token_program,
            system_program: system_program::ID,
        },
        instruction::InitializeNetwork { args },
    )
}

/// `update_parameters`, signed by the authority.
pub fn update_parameters(
    authority: &Pubkey,
    network: &Pubkey,
    params: NetworkParams,
) -> Instruction {
    build(
        accounts::UpdateParameters {
            authority: *authority,
            network: *network,
        },
        instruction::UpdateParameters { params },
    )
}

/// `propose_authority`, signed by the authority.
pub fn propose_authority(
    authority: &Pubkey,
    network: &Pubkey,
    new_authority: &Pubkey,
) -> Instruction {
    build(
        accounts::ProposeAuthority {
            authority: *authority,
            network: *network,
        },
        instruction::ProposeAuthority {
            new_authority: *new_authority,
        },
    )
}

/// `propose_treasury`, signed by the authority; the default pubkey withdraws a proposal.
pub fn propose_treasury(
    authority: &Pubkey,
    network: &Pubkey,
    new_treasury: &Pubkey,
) -> Instruction {
    build(
        accounts::ProposeTreasury {
            authority: *authority,
            network: *network,
        },
        instruction::ProposeTreasury {
            new_treasury: *new_treasury,
        },
    )
}

/// `accept_treasury`, signed by the proposed treasury.
pub fn accept_treasury(pending_treasury: &Pubkey, network: &Pubkey) -> Instruction {
    build(
        accounts::AcceptTreasury {
            pending_treasury: *pending_treasury,
            network: *network,
        },
        instruction::AcceptTreasury {},
    )
}

/// `accept_authority`, signed by the proposed authority.
pub fn accept_authority(pending_authority: &Pubkey, network: &Pubkey) -> Instruction {
    build(
        accounts::AcceptAuthority {
            pending_authority: *pending_authority,
            network: *network,
        },
        instruction::AcceptAuthority {},
    )
}

/// `set_pause`, signed by the authority.
pub fn set_pause(authority: &Pubkey, network: &Pubkey, pause: PauseFlags) -> Instruction {
    build(
        accounts::SetPause {
            authority: *authority,
            network: *network,
        },
        instruction::SetPause { pause },
    )
}

/// `set_emission_floors`, signed by the authority: per class (`ProviderClass::index()`), the
/// least price per unit, in reward-mint base units, of a job whose attested units earn
/// emission (0: no floor).
pub fn set_emission_floors(authority: &Pubkey, network: &Pubkey, floors: [u64; 4]) -> Instruction {
    build(
        accounts::SetEmissionFloors {
            authority: *authority,
            network: *network,
        },
        instruction::SetEmissionFloors { floors },
    )
}

/// `set_attestors`, signed by the authority: attestors who sign one by one, `threshold` of
/// `keys` on each receipt.
pub fn set_attestors(
    authority: &Pubkey,
    network: &Pubkey,
    keys: Vec<Pubkey>,
    threshold: u8,
) -> Instruction {
    build(
        accounts::SetAttestors {
            authority: *authority,
            network: *network,
        },
        instruction::SetAttestors {
            args: SetAttestorsArgs { keys, threshold },
        },
    )
}

/// `set_attestor_group`, signed by the authority: `members` attestors who sign as one
/// `group_key`, any `threshold` of them together.
pub fn set_attestor_group(
    authority: &Pubkey,
    network: &Pubkey,
    group_key: Pubkey,
    threshold: u8,
    members: u8,
) -> Instruction {
    build(
        accounts::SetAttestorGroup {
            authority: *authority,
            network: *network,
        },
        instruction::SetAttestorGroup {
            args: SetAttestorGroupArgs {
                group_key,
                threshold,
                members,
            },
        },
    )
}

/// `register_provider`, signed by the owner, who pays rent.
pub fn register_provider(
    owner: &Pubkey,
    network: &Pubkey,
    reward_mint: MintRef,
    args: RegisterProviderArgs,
) -> Instruction {
    let provider = pda::provider(network, owner);
    build(
        accounts::RegisterProvider {
            owner: *owner,
            network: *network,
            provider,
            stake_vault: pda::stake_vault(&provider),
            reward_mint: reward_mint.mint,
            token_program: reward_mint.token_program,
            system_program: system_program::ID,
        },
        instruction::RegisterProvider { args },
    )
}

/// `update_provider`, signed by the owner.
pub fn update_provider(owner: &Pubkey, network: &Pubkey, spec: ProviderSpec) -> Instruction {
    build(
        accounts::UpdateProvider {
            owner: *owner,
            provider: pda::provider(network, owner),
        },
        instruction::UpdateProvider { spec },
    )
}

/// `rotate_worker_key`, signed by the owner.
pub fn rotate_worker_key(owner: &Pubkey, network: &Pubkey, worker_key: &Pubkey) -> Instruction {
    build(
        accounts::RotateWorkerKey {
            owner: *owner,
            provider: pda::provider(network, owner),
        },
        instruction::RotateWorkerKey {
            worker_key: *worker_key,
        },
    )
}

/// The accounts of a provider's stake movements, for `owner`'s provider on `network`.
fn stake_vault(owner: &Pubkey, network: &Pubkey, reward_mint: MintRef) -> accounts::StakeVault {
    let provider = pda::provider(network, owner);
    accounts::StakeVault {
        owner: *owner,
        network: *network,
        provider,
        stake_vault: pda::stake_vault(&provider),
        reward_mint: reward_mint.mint,
        token_program: reward_mint.token_program,
    }
}

/// `stake` `amount` reward-token base units from `source`, signed by the owner.
pub fn stake(
    owner: &Pubkey,
    network: &Pubkey,
    reward_mint: MintRef,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::Stake {
            staking: stake_vault(owner, network, reward_mint),
            source: *source,
        },
        instruction::Stake { amount },
    )
}

/// `request_unstake` of `amount` reward-token base units, signed by the owner.
pub fn request_unstake(owner: &Pubkey, network: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::RequestUnstake {
            owner: *owner,
            network: *network,
            provider: pda::provider(network, owner),
        },
        instruction::RequestUnstake { amount },
    )
}

/// `withdraw_unstaked` into `destination`, signed by the owner.
pub fn withdraw_unstaked(
    owner: &Pubkey,
    network: &Pubkey,
    reward_mint: MintRef,
    destination: &Pubkey,
) -> Instruction {
    build(
        accounts::WithdrawUnstaked {
            staking: stake_vault(owner, network, reward_mint),
            destination: *destination,
        },
        instruction::WithdrawUnstaked {},
    )
}

/// `deregister`, signed by the owner; stray vault tokens go to `destination`.
pub fn deregister(
    owner: &Pubkey,
    network: &Pubkey,
    reward_mint: MintRef,
    destination: &Pubkey,
) -> Instruction {
    build(
        accounts::Deregister {
            staking: stake_vault(owner, network, reward_mint),
            destination: *destination,
        },
        instruction::Deregister {},
    )
}

/// `create_job`, signed by the client, who pays the deposit from `source` and the rent.
pub fn create_job(
    client: &Pubkey,
    network: &Pubkey,
    payment_mint: MintRef,
    source: &Pubkey,
    args: CreateJobArgs,
) -> Instruction {
    let job = pda::job(network, client, args.job_id);
    build(
        accounts::CreateJob {
            client: *client,
            network: *network,
            job,
            vault: pda::job_vault(&job),
            payment_mint: payment_mint.mint,
            source: *source,
            token_program: payment_mint.token_program,
            system_program: system_program::ID,
        },
        instruction::CreateJob { args },
    )
}

/// `accept_job`, signed by the provider's owner.
pub fn accept_job(owner: &Pubkey, network: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::AcceptJob {
            owner: *owner,
            network: *network,
            provider: pda::provider(network, owner),
            job: *job,
        },
        instruction::AcceptJob {},
    )
}

/// `top_up` by `additional_units`, signed by the client, paid from `source`.
pub fn top_up(
    client: &Pubkey,
    job: &Pubkey,
    payment_mint: MintRef,
    source: &Pubkey,
    additional_units: u64,
) -> Instruction {
    build(
        accounts::TopUp {
            client: *client,
            job: *job,
            vault: pda::job_vault(job),
            payment_mint: payment_mint.mint,
            source: *source,
            token_program: payment_mint.token_program,
        },
        instruction::TopUp { additional_units },
    )
}

/// `complete_job`, signed by the provider's owner.
pub fn complete_job(
    owner: &Pubkey,
    network: &Pubkey,
    job: &Pubkey,
    result_hash: [u8; 32],
) -> Instruction {
    build(
        accounts::CompleteJob {
            owner: *owner,
            network: *network,
            provider: pda::provider(network, owner),
            job: *job,
        },
        instruction::CompleteJob { result_hash },
    )
}

/// `cancel_job`, signed by the client; `provider` is the job's provider account once one accepted.
pub fn cancel_job(
    client: &Pubkey,
    network: &Pubkey,
    job: &Pubkey,
    provider: Option<Pubkey>,
) -> Instruction {
    build(
        accounts::CancelJob {
            client: *client,
            network: *network,
            job: *job,
            provider,
        },
        instruction::CancelJob {},
    )
}

/// The accounts of `close_job` that are not derived.
#[derive(Clone, Copy, Debug)]
pub struct CloseJobAccounts {
    /// Signs and pays the fee; anyone.
    pub cranker: Pubkey,
    pub network: Pubkey,
    pub job: Pubkey,
    /// The job's client; receives the rent.
    pub client: Pubkey,
    /// The client's token account in the payment mint; receives the unspent escrow.
    pub client_token: Pubkey,
    /// The treasury's token account in the payment mint; needed when the job accrued fees.
    pub treasury_token: Option<Pubkey>,
    pub payment_mint: MintRef,
}

/// `close_job`: refunds the unspent escrow and closes the job; anyone may send it.
pub fn close_job(keys: CloseJobAccounts) -> Instruction {
    build(
        accounts::CloseJob {
            cranker: keys.cranker,
            network: keys.network,
            job: keys.job,
            client: keys.client,
            vault: pda::job_vault(&keys.job),
            client_token: keys.client_token,
            treasury_token: keys.treasury_token,
            payment_mint: keys.payment_mint.mint,
            token_program: keys.payment_mint.token_program,
        },
        instruction::CloseJob {},
    )
}

/// The accounts of `settle_receipt` that are not derived.
#[derive(Clone, Copy, Debug)]
pub struct SettleReceiptAccounts {
    /// Signs and pays rent for a new epoch or work record; anyone.
    pub submitter: Pubkey,
    pub network: Pubkey,
    pub job: Pubkey,
    /// The job's provider account.
    pub provider: Pubkey,
    /// The provider owner's token account in the payment mint; receives the payment.
    pub provider_token: Pubkey,
    pub payment_mint: MintRef,
    /// Which of the epoch's accounts the settlement names (see [`EpochAccounts`]).
    pub epoch_accounts: EpochAccounts,
}

/// Which of an epoch's accounts a settlement names, and so may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochAccounts {
    /// Neither: the work earns no emission units (only the job's client co-signed it).
    None,
    /// The provider's work record for the epoch, which exists already: the settlement adds to
    /// it alone and shares no write lock with other providers' settlements.
    Record,
    /// The work record and the epoch: a new record is counted in the epoch. Never wrong for
    /// attested work, only a wider write lock than needed once the record exists.
    RecordAndEpoch,
}

/// The accounts of a settlement both settle instructions name, with the epoch's accounts
/// `named` for epoch `epoch`.
fn receipt_accounts(
    submitter: &Pubkey,
    network: &Pubkey,
    provider: &Pubkey,
    (epoch, named): (u64, EpochAccounts),
) -> accounts::ReceiptAccounts {
    accounts::ReceiptAccounts {
        submitter: *submitter,
        network: *network,
        provider: *provider,
        instructions: solana_sdk_ids::sysvar::instructions::ID,
        epoch: (named == EpochAccounts::RecordAndEpoch).then(|| pda::epoch(network, epoch)),
        work_record: (named != EpochAccounts::None).then(|| pda::work_record(provider, epoch)),
        system_program: system_program::ID,
    }
}

/// `settle_receipt`. Send it right after the receipt's Ed25519 instruction
/// ([`crate::receipt::SignedReceipt::ed25519_instruction`]).
pub fn settle_receipt(keys: SettleReceiptAccounts, args: ReceiptArgs) -> Instruction {
    build(
        accounts::SettleReceipt {
            settlement: receipt_accounts(
                &keys.submitter,
                &keys.network,
                &keys.provider,
                (args.epoch, keys.epoch_accounts),
            ),
            job: keys.job,
            vault: pda::job_vault(&keys.job),
            provider_token: keys.provider_token,
            payment_mint: keys.payment_mint.mint,
            token_program: keys.payment_mint.token_program,
        },
        instruction::SettleReceipt { args },
    )
}

/// The accounts of a `settle_batch` besides its jobs (see [`settle_batch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettleBatchAccounts {
    /// Signs and pays rent for a new epoch or work record; anyone.
    pub submitter: Pubkey,
    pub network: Pubkey,
    /// The provider account of every job in the batch.
    pub provider: Pubkey,
    /// The provider owner's token account in the payment mint; receives every payment.
    pub provider_token: Pubkey,
    /// The payment mint of every job in the batch.
    pub payment_mint: MintRef,
    /// Which of the epoch's accounts the settlement names (see [`EpochAccounts`]).
    pub epoch_accounts: EpochAccounts,
}

/// `settle_batch` for the receipts of `jobs` (one per job, in the same order as
/// `args.receipts`): each job and its vault follow the fixed accounts, writable. Send it right
/// after the batch's Ed25519 instruction ([`crate::receipt::SignedBatch::ed25519_instruction`]).
pub fn settle_batch(
    keys: SettleBatchAccounts,
    jobs: &[Pubkey],
    args: SettleBatchArgs,
) -> Instruction {
    let mut instruction = build(
        accounts::SettleBatch {
            settlement: receipt_accounts(
                &keys.submitter,
                &keys.network,
                &keys.provider,
                (args.epoch, keys.epoch_accounts),
            ),
            provider_token: keys.provider_token,
            payment_mint: keys.payment_mint.mint,
            token_program: keys.payment_mint.token_program,
        },
        instruction::SettleBatch { args },
    );
    for job in jobs {
        instruction.accounts.push(AccountMeta::new(*job, false));
        instruction
            .accounts
            .push(AccountMeta::new(pda::job_vault(job), false));
    }
    instruction
}

/// The `settle_batch` arguments that describe `receipts` (all signed under one attestor set
/// version), for the current `epoch`.
pub fn batch_args(receipts: &[crate::receipt::Receipt], epoch: u64) -> SettleBatchArgs {
    SettleBatchArgs {
        epoch,
        attestor_set_version: receipts
            .first()
            .map_or(0, |receipt| receipt.attestor_set_version),
        receipts: receipts
            .iter()
            .map(|receipt| BatchReceipt {
                cumulative_units: receipt.cumulative_units,
                result_hash: receipt.result_hash,
                issued_at: receipt.issued_at,
                expires_at: receipt.expires_at,
            })
            .collect(),
    }
}

/// `settle_service`, for a service receipt whose subject is `provider`, naming the provider's
/// work record and, unless `record_open`, the epoch. Send it right after the receipt's Ed25519
/// instruction.
pub fn settle_service(
    submitter: &Pubkey,
    network: &Pubkey,
    provider: &Pubkey,
    args: ReceiptArgs,
    record_open: bool,
) -> Instruction {
    let named = if record_open {
        EpochAccounts::Record
    } else {
        EpochAccounts::RecordAndEpoch
    };
    build(
        accounts::SettleService {
            settlement: receipt_accounts(submitter, network, provider, (args.epoch, named)),
        },
        instruction::SettleService { args },
    )
}

/// The settlement arguments that describe `receipt`, for the current `epoch`.
pub fn receipt_args(receipt: &crate::receipt::Receipt, epoch: u64) -> ReceiptArgs {
    ReceiptArgs {
        epoch,
        cumulative_units: receipt.cumulative_units,
        result_hash: receipt.result_hash,
        issued_at: receipt.issued_at,
        expires_at: receipt.expires_at,
    }
}

/// `open_dispute` against the job's `provider` account, signed by the job's client.
pub fn open_dispute(
    client: &Pubkey,
    network: &Pubkey,
    job: &Pubkey,
    provider: &Pubkey,
    evidence_hash: [u8; 32],
) -> Instruction {
    build(
        accounts::OpenDispute {
            client: *client,
            network: *network,
            job: *job,
            provider: *provider,
            dispute: pda::dispute(job),
            system_program: system_program::ID,
        },
        instruction::OpenDispute { evidence_hash },
    )
}

/// The accounts of `resolve_dispute` that are not derived.
#[derive(Clone, Copy, Debug)]
pub struct ResolveDisputeAccounts {
    pub authority: Pubkey,
    pub network: Pubkey,
    pub job: Pubkey,
    pub client: Pubkey,
    /// The job's provider account.
    pub provider: Pubkey,
    /// The client's token account in the reward mint; receives any slash.
    pub client_reward_token: Pubkey,
    pub reward_mint: MintRef,
}

/// `resolve_dispute`: `slash_amount` reward-token base units to the client, or 0 to dismiss.
pub fn resolve_dispute(keys: ResolveDisputeAccounts, slash_amount: u64) -> Instruction {
    build(
        accounts::ResolveDispute {
            authority: keys.authority,
            network: keys.network,
            dispute: pda::dispute(&keys.job),
            job: keys.job,
            client: keys.client,
            provider: keys.provider,
            stake_vault: pda::stake_vault(&keys.provider),
            client_reward_token: keys.client_reward_token,
            reward_mint: keys.reward_mint.mint,
            token_program: keys.reward_mint.token_program,
        },
        instruction::ResolveDispute { slash_amount },
    )
}

/// The accounts of `claim_emission` that are not derived.
#[derive(Clone, Copy, Debug)]
pub struct ClaimEmissionAccounts {
    /// Signs and pays the fee; anyone.
    pub cranker: Pubkey,
    pub network: Pubkey,
    /// The provider account.
    pub provider: Pubkey,
    /// The provider's owner; the reward goes to its associated token account.
    pub provider_owner: Pubkey,
    /// Who paid the work record's rent (see `WorkRecord::rent_payer`); gets it back.
    pub rent_payer: Pubkey,
    pub reward_mint: MintRef,
}

/// `claim_emission` for `epoch`: mints the provider's share to its owner's associated token account.
pub fn claim_emission(keys: ClaimEmissionAccounts, epoch: u64) -> Instruction {
    build(
        accounts::ClaimEmission {
            cranker: keys.cranker,
            network: keys.network,
            provider: keys.provider,
            epoch: pda::epoch(&keys.network, epoch),
            work_record: pda::work_record(&keys.provider, epoch),
            rent_payer: keys.rent_payer,
            owner_reward_token: pda::associated_token(
                &keys.provider_owner,
                &keys.reward_mint.mint,
                &keys.reward_mint.token_program,
            ),
            reward_mint: keys.reward_mint.mint,
            mint_authority: pda::mint_authority(&keys.network),
            token_program: keys.reward_mint.token_program,
        },
        instruction::ClaimEmission { epoch_index: epoch },
    )
}

/// `tally_work` for `provider`'s work record of `epoch` on `network`: adds its units to the
/// epoch's total. Anyone may send it once the epoch is over.
pub fn tally_work(network: &Pubkey, provider: &Pubkey, epoch: u64) -> Instruction {
    build(
        accounts::TallyWork {
            network: *network,
            provider: *provider,
            epoch: pda::epoch(network, epoch),
            work_record: pda::work_record(provider, epoch),
        },
        instruction::TallyWork { epoch_index: epoch },
    )
}

/// Creates `owner`'s associated token account for `mint` unless it exists; paid by `payer`.
pub fn create_associated_token_account(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: MintRef,
) -> Instruction {
    spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
        payer,
        owner,
        &mint.mint,
        &mint.token_program,
    )
}
