use crate::errors::TesseraError;
use crate::events::ReceiptSettled;
// The glob brings the composite's generated client and bump types, which `#[derive(Accounts)]` names.
use super::receipt_accounts::*;
use crate::settlement::{require_current_epoch, Attestation, ReceiptArgs};
use crate::state::{Job, JobStatus, Network, Provider, Settlement};
use crate::token::transfer_from_vault;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

// `dup` leaves the writable accounts out of Anchor's duplicate check (a hash set, about 700 CU
// a key on SBF): the job's discriminator keeps it from standing in for another account, the
// token accounts are the token program's (this program never writes them back), and the one
// pair of the same type is kept apart by an explicit constraint.
#[derive(Accounts)]
pub struct SettleReceipt<'info> {
    pub settlement: ReceiptAccounts<'info>,

    #[account(
        mut,
        dup,
        constraint = job.network == settlement.network.key() @ ErrorCode::ConstraintHasOne,
        has_one = vault,
        has_one = payment_mint @ TesseraError::WrongMint,
        constraint = job.provider == settlement.provider.key() @ TesseraError::NotJobProvider,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(mut, dup)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The provider owner's token account in the payment mint.
    #[account(
        mut,
        dup,
        constraint = provider_token.key() != vault.key() @ ErrorCode::ConstraintDuplicateMutableAccount,
        constraint = provider_token.mint == payment_mint.key() @ TesseraError::WrongMint,
        constraint = provider_token.owner == settlement.provider.owner @ TesseraError::WrongTokenAccountOwner,
    )]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,

    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// Where a job settlement's payment goes, and the token accounts it moves through.
pub(crate) struct Payout<'a, 'info> {
    pub provider_token: &'a InterfaceAccount<'info, TokenAccount>,
    pub payment_mint: &'a InterfaceAccount<'info, Mint>,
    pub token_program: &'a Interface<'info, TokenInterface>,
}

/// Running jobs settle any receipt; an ended job (not a no-show) settles receipts issued
/// before its end, until its settlement window closes, so that neither a cancellation nor
/// a settlement pause can void receipts the client already co-signed.
pub(crate) fn require_job_settleable(
    job: &Job,
    network: &Network,
    issued_at: i64,
    now: i64,
) -> Result<()> {
    match job.status {
        JobStatus::Running => Ok(()),
        JobStatus::Completed | JobStatus::Cancelled if !job.no_show => {
            require!(
                issued_at <= job.ended_at,
                TesseraError::ReceiptIssuedAfterJobEnded
            );
            let paused_secs = network.settlement_pauses.paused_secs_at(now)?;
            require!(
                now < job.settlement_window_ends(paused_secs)?,
                TesseraError::SettlementWindowClosed
            );
            Ok(())
        }
        _ => err!(TesseraError::JobNotSettleable),
    }
}

/// A disputable settlement after the job ended must find stake to slash: a provider that
/// already withdrew could otherwise settle and leave nothing behind.
fn require_slashable_stake(
    job: &Job,
    provider: &Provider,
    network: &Network,
    attestation: &Attestation,
) -> Result<()> {
    if attestation.by_client || !job.has_ended() {
        return Ok(());
    }
    let class = network.params.class(provider.class);
    require!(
        provider.vault_liability()? >= class.min_stake,
        TesseraError::StakeBelowMinimum
    );
    Ok(())
}

/// What settling one receipt on a job did.
pub(crate) struct JobSettled {
    pub settlement: Settlement,
    /// The units earn emission units: attested, on a job priced at or above the class's floor.
    pub earns: bool,
}

/// Settles a verified receipt on `job`: pays the provider for the units it adds over the job's
/// high-water mark, less the protocol fee (which stays in the vault for the treasury), opens
/// the dispute window of attested work, and adds the units to the provider's total. The
/// caller records emission units when `earns`.
pub(crate) fn settle_job<'info>(
    accounts: &mut ReceiptAccounts<'info>,
    job: &mut Account<'info, Job>,
    vault: &mut InterfaceAccount<'info, TokenAccount>,
    payout: &Payout<'_, 'info>,
    attestation: Attestation,
    cumulative_units: u64,
    now: i64,
) -> Result<JobSettled> {
    require_slashable_stake(job, &accounts.provider, &accounts.network, &attestation)?;
    let settlement = job.settle(cumulative_units)?;
    if settlement.payment > 0 {
        let seeds = job.signer_seeds();
        transfer_from_vault(
            payout.token_program,
            vault,
            payout.provider_token,
            payout.payment_mint,
            job.to_account_info(),
            &seeds.as_seeds(),
            settlement.payment,
        )?;
    }

    job.last_settled_at = now;
    let provider = &mut accounts.provider;
    if !attestation.by_client {
        // The client may dispute this settlement for the job's window; the stake stays until then.
        job.last_attested_at = now;
        provider.extend_slashable(job.dispute_window_ends()?);
    }
    // The network's total is the sum over its providers (see `NetworkTotals::deregistered_settled_units`).
    provider.settled_units = provider.settled_units.saturating_add(settlement.units);

    // Only work the attestors vouched for earns emissions (see `record_work`), and only on a
    // job priced at the class's emission floor or above (see `Network::job_earns_emission`).
    let earns = attestation.by_attestors
        && accounts.network.job_earns_emission(
            provider.class,
            &job.payment_mint,
            job.price_per_unit,
        );
    vault.reload()?;
    job.invariant(vault.amount)?;
    Ok(JobSettled { settlement, earns })
}

/// Pays the provider for the units the receipt adds over the job's high-water mark, less the
/// protocol fee (which stays in the vault for the treasury), and records the units for emissions.
pub(crate) fn handler(ctx: Context<SettleReceipt>, args: ReceiptArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = &mut *ctx.accounts;
    let network = &accounts.settlement.network;
    network.require_settlements_open()?;
    require_job_settleable(&accounts.job, network, args.issued_at, now)?;
    require_current_epoch(network, args.epoch, now)?;
    let job = &accounts.job;
    let subject = Subject {
        key: job.key(),
        nonce: job.nonce,
        client: Some(job.client),
        unit_kind: Some(job.unit_kind),
    };
    let attestation = accounts.settlement.verify(subject, &args, now)?;
    let payout = Payout {
        provider_token: &accounts.provider_token,
        payment_mint: &accounts.payment_mint,
        token_program: &accounts.token_program,
    };
    let JobSettled { settlement, earns } = settle_job(
        &mut accounts.settlement,
        &mut accounts.job,
        &mut accounts.vault,
        &payout,
        attestation,
        args.cumulative_units,
        now,
    )?;
    let mut weighted = [0u128];
    if earns {
        accounts
            .settlement
            .record(args.epoch, &[settlement.units], &mut weighted)?;
    }
    let [weighted_units] = weighted;
    crate::events::emit(ReceiptSettled {
        job: accounts.job.key(),
        provider: accounts.settlement.provider.key(),
        attestation,
        cumulative_units: args.cumulative_units,
        units: settlement.units,
        payment: settlement.payment,
        fee: settlement.fee,
        epoch: args.epoch,
        weighted_units,
    });
    Ok(())
}
