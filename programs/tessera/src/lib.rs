//! # Tessera
//!
//! Settlement for decentralized compute and bandwidth: providers register and stake, clients
//! lock payment for jobs in escrow, workers sign receipts for what they delivered, the program
//! pays from escrow against attested receipts and mints epoch emissions pro rata to attested work.
//!
//! ## Accounts and their lifecycle
//! - `Network` (`["network", id]`): created by `initialize_network`, signed by the reward mint's
//!   mint authority, which the same instruction hands to the PDA `["mint", network]`; its
//!   `authority` signer becomes the network authority. Parameters, pause flags and the attestor
//!   set are the authority's. Authority and treasury move in two steps: `propose_*`, `accept_*`.
//! - `Provider` (`["provider", network, owner]`) and its stake vault (`["stake", provider]`):
//!   created by `register_provider`, funded by `stake`, drained by `request_unstake` then
//!   `withdraw_unstaked` after the unbonding period and once no dispute window of its attested
//!   work is open (`slashable_until`), closed by `deregister` once empty. Each running job ties
//!   up `stake_per_job` of its stake.
//! - `Job` (`["job", network, client, job_id]`) and its escrow vault (`["vault", job]`):
//!   `create_job` (client) → `accept_job` (provider) → `complete_job` (provider) or
//!   `cancel_job` (client, after accept-by, the deadline, or the start timeout when nothing
//!   settled: a no-show) → `close_job` (anyone, once receipts issued before the end can no longer
//!   settle and the dispute window is over) returns the unspent escrow and the rent to the client.
//! - `Epoch` (`["epoch", network, index]`) and `WorkRecord` (`["work", provider, index]`):
//!   created by the first attested settlement in an epoch (the record by the provider's
//!   first); once the epoch is over `tally_work` (anyone) adds each record to the epoch's
//!   total, then `claim_emission` pays and closes the record, with or without the provider
//!   still registered.
//!
//! ## Who may do what
//! Authority: parameters, attestors (keys that sign one by one, or one group key that a
//! threshold of members signs under together), pauses. Provider owner: its registration, stake
//! and the jobs it accepted. Client: its jobs' funding and cancellation. Anyone: `close_job`,
//! `tally_work` and `claim_emission` when their time has come. Pausing new jobs never blocks an exit: withdrawals, cancellations and
//! closes stay open.

use anchor_lang::prelude::*;

pub mod ed25519;
pub mod errors;
pub mod events;
#[cfg(not(target_os = "solana"))]
pub mod host;
pub mod instructions;
pub mod math;
pub mod pda_account;
pub mod receipt;
pub mod settlement;
pub mod state;
pub mod token;

pub use errors::TesseraError;
use instructions::*;
use state::{NetworkParams, PauseFlags, ProviderSpec};

declare_id!("TsAjZV4bpDuTJS8LPK8VxicakwYJnUU914RrVj5bHY8");

// Who to tell about a vulnerability, embedded in the deployed program (`solana-verify`, the
// explorers and `query-security-txt` read it).
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "Tessera",
    project_url: "https://github.com/tessera-network/tessera",
    contacts: "link:https://github.com/tessera-network/tessera/security/advisories/new",
    policy: "https://github.com/tessera-network/tessera/blob/main/SECURITY.md",
    preferred_languages: "en",
    source_code: "https://github.com/tessera-network/tessera"
}

#[cfg(all(test, not(feature = "no-entrypoint")))]
mod security_txt_tests {
    #[test]
    fn the_program_says_where_to_report_a_vulnerability() {
        let fields: Vec<&str> = super::SECURITY_TXT.split('\0').collect();
        let value = |name: &str| {
            let at = fields.iter().position(|field| *field == name);
            at.and_then(|at| fields.get(at + 1)).copied()
        };
        assert_eq!(value("name"), Some("Tessera"));
        assert!(value("policy").is_some_and(|policy| policy.ends_with("SECURITY.md")));
        assert!(value("contacts").is_some_and(|contacts| contacts.starts_with("link:")));
    }
}

#[program]
pub mod tessera {
    use super::*;

    /// Anyone holding a mint's mint authority: creates a network on that mint (which must have no
    /// freeze authority) and hands the mint authority to the network's PDA in the same step;
    /// `authority` becomes the network's authority.
    pub fn initialize_network(
        ctx: Context<InitializeNetwork>,
        args: InitializeNetworkArgs,
    ) -> Result<()> {
        instructions::admin::initialize_network::handler(ctx, args)
    }

    /// Authority: replaces the network parameters (validated).
    pub fn update_parameters(ctx: Context<UpdateParameters>, params: NetworkParams) -> Result<()> {
        instructions::admin::update_parameters::handler(ctx, params)
    }

    /// Authority: proposes a successor, who must accept; the default pubkey withdraws a proposal.
    pub fn propose_authority(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
        instructions::admin::propose_authority::handler(ctx, new_authority)
    }

    /// Proposed authority: takes over the network.
    pub fn accept_authority(ctx: Context<AcceptAuthority>) -> Result<()> {
        instructions::admin::accept_authority::handler(ctx)
    }

    /// Authority: proposes a new treasury, which must accept; the default pubkey withdraws a proposal.
    pub fn propose_treasury(ctx: Context<ProposeTreasury>, new_treasury: Pubkey) -> Result<()> {
        instructions::admin::propose_treasury::handler(ctx, new_treasury)
    }

    /// Proposed treasury: becomes the owner of the token accounts that receive protocol fees.
    pub fn accept_treasury(ctx: Context<AcceptTreasury>) -> Result<()> {
        instructions::admin::accept_treasury::handler(ctx)
    }

    /// Authority: sets the pause flags (new jobs, settlements, claims).
    pub fn set_pause(ctx: Context<SetPause>, pause: PauseFlags) -> Result<()> {
        instructions::admin::set_pause::handler(ctx, pause)
    }

    /// Authority: sets, per provider class, the least price per unit (in the reward mint) of
    /// a job whose attested units earn emission (0: every job earns).
    pub fn set_emission_floors(ctx: Context<SetEmissionFloors>, floors: [u64; 4]) -> Result<()> {
        instructions::admin::set_emission_floors::handler(ctx, floors)
    }

    /// Authority: replaces the attestor set with up to 8 keys that sign one by one, and bumps its
    /// version.
    pub fn set_attestors(ctx: Context<SetAttestors>, args: SetAttestorsArgs) -> Result<()> {
        instructions::admin::set_attestors::handler(ctx, args)
    }

    /// Authority: replaces the attestor set with a group whose members sign as one key (a
    /// threshold signature), and bumps its version.
    pub fn set_attestor_group(
        ctx: Context<SetAttestorGroup>,
        args: SetAttestorGroupArgs,
    ) -> Result<()> {
        instructions::admin::set_attestor_group::handler(ctx, args)
    }

    /// Anyone, while new jobs are not paused: registers the signer as a provider and opens its stake vault.
    pub fn register_provider(
        ctx: Context<RegisterProvider>,
        args: RegisterProviderArgs,
    ) -> Result<()> {
        instructions::provider::register_provider::handler(ctx, args)
    }

    /// Provider owner: replaces its spec.
    pub fn update_provider(ctx: Context<UpdateProvider>, spec: ProviderSpec) -> Result<()> {
        instructions::provider::update_provider::handler(ctx, spec)
    }

    /// Provider owner: names a new worker key for receipts.
    pub fn rotate_worker_key(ctx: Context<RotateWorkerKey>, worker_key: Pubkey) -> Result<()> {
        instructions::provider::rotate_worker_key::handler(ctx, worker_key)
    }

    /// Provider owner, while new jobs are not paused: adds reward tokens to its stake.
    pub fn stake(ctx: Context<Stake>, amount: u64) -> Result<()> {
        instructions::provider::stake::handler(ctx, amount)
    }

    /// Provider owner: starts unbonding part of its stake.
    pub fn request_unstake(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
        instructions::provider::request_unstake::handler(ctx, amount)
    }

    /// Provider owner, after the unbonding period and `slashable_until`: withdraws the unbonded stake.
    pub fn withdraw_unstaked(ctx: Context<WithdrawUnstaked>) -> Result<()> {
        instructions::provider::withdraw_unstaked::handler(ctx)
    }

    /// Provider owner, with no stake, no unbonding, no running job and no open dispute window:
    /// closes its accounts.
    pub fn deregister(ctx: Context<Deregister>) -> Result<()> {
        instructions::provider::deregister::handler(ctx)
    }

    /// Client, while new jobs are not paused: creates a job and deposits its escrow.
    pub fn create_job(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
        instructions::client::create_job::handler(ctx, args)
    }

    /// Provider owner, while the job is Open and before accept-by: takes the job.
    pub fn accept_job(ctx: Context<AcceptJob>) -> Result<()> {
        instructions::provider::accept_job::handler(ctx)
    }

    /// Client, while the job is Open or Running: raises max units and the deposit.
    pub fn top_up(ctx: Context<TopUp>, additional_units: u64) -> Result<()> {
        instructions::client::top_up::handler(ctx, additional_units)
    }

    /// The job's provider, while the job is Running: marks it done with a result hash.
    pub fn complete_job(ctx: Context<CompleteJob>, result_hash: [u8; 32]) -> Result<()> {
        instructions::provider::complete_job::handler(ctx, result_hash)
    }

    /// Client: cancels an Open job past accept-by, a Running job past its deadline, or a Running
    /// job that settled nothing within its start timeout (a no-show, a strike toward jailing).
    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        instructions::client::cancel_job::handler(ctx)
    }

    /// Anyone with a receipt signed by the worker and the client or the attestor quorum
    /// (verified by the Ed25519 instruction right before this one): pays the new units. On an
    /// ended job, only receipts issued before the end, within its dispute window.
    pub fn settle_receipt(ctx: Context<SettleReceipt>, args: ReceiptArgs) -> Result<()> {
        instructions::settle::settle_receipt::handler(ctx, args)
    }

    /// Anyone with a batch of receipts on several jobs of one provider, signed together by the
    /// worker and one co-signer (the attestors, or a client for its own jobs) in the Ed25519
    /// instruction right before this one: settles each as `settle_receipt` would alone. The
    /// remaining accounts are each receipt's job and vault.
    pub fn settle_batch<'info>(
        ctx: Context<'info, SettleBatch<'info>>,
        args: SettleBatchArgs,
    ) -> Result<()> {
        instructions::settle::settle_batch::handler(ctx, args)
    }

    /// Anyone with a service receipt signed by the worker and the attestor quorum: records
    /// bandwidth or uptime served without a job, for emissions only.
    pub fn settle_service(ctx: Context<SettleService>, args: ReceiptArgs) -> Result<()> {
        instructions::settle::settle_service::handler(ctx, args)
    }

    /// Client, within the dispute window of a settlement it did not co-sign: disputes the work.
    pub fn open_dispute(ctx: Context<OpenDispute>, evidence_hash: [u8; 32]) -> Result<()> {
        instructions::client::open_dispute::handler(ctx, evidence_hash)
    }

    /// Authority: upholds a dispute by slashing the provider's stake to the client, or dismisses it.
    pub fn resolve_dispute(ctx: Context<ResolveDispute>, slash_amount: u64) -> Result<()> {
        instructions::admin::resolve_dispute::handler(ctx, slash_amount)
    }

    /// Anyone, once the epoch is over, once per work record: adds the record's units to the
    /// epoch's total, which claims divide by.
    pub fn tally_work(ctx: Context<TallyWork>, epoch_index: u64) -> Result<()> {
        instructions::crank::tally_work::handler(ctx, epoch_index)
    }

    /// Anyone, once every work record of the epoch is tallied: mints the provider's share of
    /// the epoch's emission to its owner's associated token account and closes the work
    /// record.
    pub fn claim_emission(ctx: Context<ClaimEmission>, epoch_index: u64) -> Result<()> {
        instructions::crank::claim_emission::handler(ctx, epoch_index)
    }

    /// Anyone, once the job ended and its dispute window passed: pays the fees to the treasury,
    /// refunds the rest to the client and closes the job.
    pub fn close_job(ctx: Context<CloseJob>) -> Result<()> {
        instructions::crank::close_job::handler(ctx)
    }
}
