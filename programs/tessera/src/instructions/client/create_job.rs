use crate::errors::TesseraError;
use crate::events::JobCreated;
use crate::math;
use crate::state::{Job, JobRequirement, JobStatus, Network, UnitKind};
use crate::token::{require_supported_mint, transfer_from_wallet};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateJobArgs {
    /// Chosen by the client; the job's PDA is `["job", network, client, job_id]`.
    pub job_id: u64,
    /// A provider account that alone may accept, or `None` for any provider meeting `requirement`.
    pub provider: Option<Pubkey>,
    /// For a named job, `requirement.class` must still measure `unit_kind`.
    pub requirement: JobRequirement,
    /// Must be a kind `requirement.class` measures (see `ProviderClass::measures`).
    pub unit_kind: UnitKind,
    /// Payment-mint base units per unit.
    pub price_per_unit: u64,
    /// Units the deposit pays for; the deposit is `price_per_unit * max_units`.
    pub max_units: u64,
    /// SHA-256 of the job specification.
    pub spec_hash: [u8; 32],
    /// Latest acceptance time, unix seconds; must be in the future.
    pub accept_by: i64,
    /// Time the work should be done by, unix seconds; must be after `accept_by`.
    pub deadline: i64,
}

// `dup` leaves the network and the source out of Anchor's duplicate check (a hash set, about
// 700 CU a key on SBF): they are of different types, and the job and vault are new accounts.
#[derive(Accounts)]
#[instruction(args: CreateJobArgs)]
pub struct CreateJob<'info> {
    /// Funds the escrow and pays rent for the job and its vault.
    #[account(mut)]
    pub client: Signer<'info>,

    // Boxed (on the heap): deserialized in place, the network and the job made this block's
    // `try_accounts` need a 6.2 KB stack frame on SBF, past the VM's 4 KB per frame.
    #[account(mut, dup)]
    pub network: Box<Account<'info, Network>>,

    #[account(
        init,
        payer = client,
        space = 8 + Job::INIT_SPACE,
        seeds = [Job::SEED, network.key().as_ref(), client.key().as_ref(), &args.job_id.to_le_bytes()],
        bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        init,
        payer = client,
        seeds = [Job::VAULT_SEED, job.key().as_ref()],
        bump,
        token::mint = payment_mint,
        token::authority = job,
        token::token_program = token_program,
    )]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(mint::token_program = token_program)]
    pub payment_mint: InterfaceAccount<'info, Mint>,

    /// The client's token account the deposit comes from.
    #[account(mut, dup, constraint = source.mint == payment_mint.key() @ TesseraError::WrongMint)]
    pub source: InterfaceAccount<'info, TokenAccount>,

    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl CreateJob<'_> {
    fn validate(&self, args: &CreateJobArgs, now: i64) -> Result<()> {
        self.network.require_new_jobs_open()?;
        require_supported_mint(&self.payment_mint)?;
        require!(
            args.price_per_unit > 0 && args.max_units > 0,
            TesseraError::ZeroAmount
        );
        require!(
            now < args.accept_by && args.accept_by < args.deadline,
            TesseraError::InvalidJobTimes
        );
        // A named job is checked against its provider's class again at accept_job.
        require!(
            args.requirement.class.measures(args.unit_kind),
            TesseraError::UnitKindMismatch
        );
        Ok(())
    }
}

pub(crate) fn handler(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(&args, now)?;
    let deposit = math::mul(args.price_per_unit, args.max_units)?;

    transfer_from_wallet(
        &ctx.accounts.token_program,
        &ctx.accounts.source,
        &ctx.accounts.vault,
        &ctx.accounts.payment_mint,
        &ctx.accounts.client,
        deposit,
    )?;

    let network = &mut ctx.accounts.network;
    network.totals.open_jobs = math::add(network.totals.open_jobs, 1)?;
    network.totals.jobs_created = math::add(network.totals.jobs_created, 1)?;

    let job = &mut ctx.accounts.job;
    job.set_inner(Job {
        network: network.key(),
        client: ctx.accounts.client.key(),
        job_id: args.job_id,
        nonce: network.totals.jobs_created,
        provider: args.provider.unwrap_or_default(),
        requirement: args.requirement,
        payment_mint: ctx.accounts.payment_mint.key(),
        vault: ctx.accounts.vault.key(),
        unit_kind: args.unit_kind,
        price_per_unit: args.price_per_unit,
        max_units: args.max_units,
        fee_bps: network.params.protocol_fee_bps,
        dispute_window_secs: network.params.dispute_window_secs,
        deposited: deposit,
        settled_units: 0,
        paid_out: 0,
        fees_accrued: 0,
        fees_paid: 0,
        refunded: 0,
        spec_hash: args.spec_hash,
        result_hash: [0; 32],
        status: JobStatus::Open,
        created_at: now,
        accept_by: args.accept_by,
        deadline: args.deadline,
        accepted_at: 0,
        last_settled_at: 0,
        last_attested_at: 0,
        dispute_open: false,
        ended_at: 0,
        bump: ctx.bumps.job,
        vault_bump: ctx.bumps.vault,
        start_timeout_secs: network.params.start_timeout_secs,
        paused_secs_at_end: 0,
        no_show: false,
        paused_secs_at_accept: 0,
        reserved: [0; 39],
    });

    ctx.accounts.vault.reload()?;
    ctx.accounts.job.invariant(ctx.accounts.vault.amount)?;
    let job = &ctx.accounts.job;
    crate::events::emit(JobCreated {
        network: job.network,
        job: job.key(),
        client: job.client,
        job_id: job.job_id,
        provider: job.provider,
        payment_mint: job.payment_mint,
        price_per_unit: job.price_per_unit,
        max_units: job.max_units,
        deposited: deposit,
        accept_by: job.accept_by,
        deadline: job.deadline,
    });
    Ok(())
}
