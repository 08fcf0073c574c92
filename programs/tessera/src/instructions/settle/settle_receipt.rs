use crate::errors::TesseraError;
use crate::events::ReceiptSettled;
// The glob brings the composite's generated client and bump types, which `#[derive(Accounts)]` names.
use super::receipt_accounts::*;
use crate::settlement::{require_current_epoch, Attestation, ReceiptArgs};
use crate::state::{Job, JobStatus, Settlement};
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

impl SettleReceipt<'_> {
    /// Running jobs settle any receipt; an ended job (not a no-show) settles receipts issued
    /// before its end, until its settlement window closes, so that neither a cancellation nor
    /// a settlement pause can void receipts the client already co-signed.
    fn validate(&self, args: &ReceiptArgs, now: i64) -> Result<()> {
        let job = &self.job;
        let network = &self.settlement.network;
        network.require_settlements_open()?;
        match job.status {
            JobStatus::Running => {}
            JobStatus::Completed | JobStatus::Cancelled if !job.no_show => {
                require!(
                    args.issued_at <= job.ended_at,
                    TesseraError::ReceiptIssuedAfterJobEnded
                );
                let paused_secs = network.settlement_pauses.paused_secs_at(now)?;
                require!(
                    now < job.settlement_window_ends(paused_secs)?,
                    TesseraError::SettlementWindowClosed
                );
            }
            _ => return err!(TesseraError::JobNotSettleable),
        }
        require_current_epoch(network, args.epoch, now)
    }

    /// A disputable settlement after the job ended must find stake to slash: a provider that
    /// already withdrew could otherwise settle and leave nothing behind.
    fn require_slashable_stake(&self, attestation: &Attestation) -> Result<()> {
        if attestation.by_client || !self.job.has_ended() {
            return Ok(());
        }
        let provider = &self.settlement.provider;
        let class = self.settlement.network.params.class(provider.class);
        require!(
            provider.vault_liability()? >= class.min_stake,
            TesseraError::StakeBelowMinimum
        );
        Ok(())
    }

    /// Moves `payment` from the job's vault to the provider, signed by the job account.
    fn pay(&self, payment: u64) -> Result<()> {
        if payment == 0 {
            return Ok(());
        }
        let seeds = self.job.signer_seeds();
        transfer_from_vault(
            &self.token_program,
            &self.vault,
            &self.provider_token,
            &self.payment_mint,
            self.job.to_account_info(),
            &seeds.as_seeds(),
            payment,
        )
    }
}

/// Pays the provider for the units the receipt adds over the job's high-water mark, less the
/// protocol fee (which stays in the vault for the treasury), and records the units for emissions.
pub(crate) fn handler(ctx: Context<SettleReceipt>, args: ReceiptArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(&args, now)?;
    let job = &ctx.accounts.job;
    let subject = Subject {
        key: job.key(),
        nonce: job.nonce,
        client: Some(job.client),
        unit_kind: Some(job.unit_kind),
    };
    let attestation = ctx.accounts.settlement.verify(subject, &args, now)?;
    ctx.accounts.require_slashable_stake(&attestation)?;
    let Settlement {
        units,
        payment,
        fee,
    } = ctx.accounts.job.settle(args.cumulative_units)?;
    ctx.accounts.pay(payment)?;

    let job = &mut ctx.accounts.job;
    job.last_settled_at = now;
    let provider = &mut ctx.accounts.settlement.provider;
    if !attestation.by_client {
        // The client may dispute this settlement for the job's window; the stake stays until then.
        job.last_attested_at = now;
        provider.extend_slashable(job.dispute_window_ends()?);
    }
    // The network's total is the sum over its providers (see `NetworkTotals::deregistered_settled_units`).
    provider.settled_units = provider.settled_units.saturating_add(units);

    // Only work the attestors vouched for earns emissions (see `record_work`), and only on a
    // job priced at the class's emission floor or above (see `Network::job_earns_emission`).
    let earns = ctx.accounts.settlement.network.job_earns_emission(
        ctx.accounts.settlement.provider.class,
        &ctx.accounts.job.payment_mint,
        ctx.accounts.job.price_per_unit,
    );
    let weighted_units = if attestation.by_attestors && earns {
        ctx.accounts.settlement.record(args.epoch, units)?
    } else {
        0
    };

    ctx.accounts.vault.reload()?;
    ctx.accounts.job.invariant(ctx.accounts.vault.amount)?;
    crate::events::emit(ReceiptSettled {
        job: ctx.accounts.job.key(),
        provider: ctx.accounts.settlement.provider.key(),
        attestation,
        cumulative_units: args.cumulative_units,
        units,
        payment,
        fee,
        epoch: args.epoch,
        weighted_units,
    });
    Ok(())
}
