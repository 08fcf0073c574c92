use crate::errors::TesseraError;
use crate::math;
use crate::state::{Provider, ProviderClass};
use anchor_lang::prelude::*;

/// Lifecycle of a job. A closed job has no account.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum JobStatus {
    /// Escrow funded, waiting for a provider to accept.
    Open,
    /// A provider accepted; receipts settle against the escrow.
    Running,
    /// The provider marked the work done.
    Completed,
    /// The client cancelled (Open past accept-by, or Running past the deadline).
    Cancelled,
}

/// What one unit of a job is.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum UnitKind {
    /// One GPU busy for one second.
    GpuSeconds,
    /// One CPU core busy for one second.
    CpuSeconds,
    /// One byte relayed.
    Bytes,
}

/// Which providers may accept an unnamed job.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct JobRequirement {
    /// The class the provider must be registered in.
    pub class: ProviderClass,
    /// Least number of GPUs.
    pub min_gpu_count: u16,
    /// Least memory per GPU, in GiB.
    pub min_vram_gib: u16,
    /// Least bandwidth, in megabits per second.
    pub min_bandwidth_mbps: u32,
}

impl JobRequirement {
    /// Whether a provider's class and spec satisfy this requirement; the error says which does not.
    pub fn check(&self, provider: &Provider) -> Result<()> {
        require!(
            provider.class == self.class,
            TesseraError::ProviderClassMismatch
        );
        let spec = &provider.spec;
        require!(
            spec.gpu_count >= self.min_gpu_count
                && spec.vram_gib >= self.min_vram_gib
                && spec.bandwidth_mbps >= self.min_bandwidth_mbps,
            TesseraError::ProviderSpecTooLow
        );
        Ok(())
    }
}

/// A funded job: the client's escrow and the work settled against it.
/// Seeds: `["job", network, client, job_id (u64 little endian)]`; its escrow is the token
/// account `["vault", job]`, owned by the job PDA, one per job.
#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    /// The network this job belongs to.
    pub network: Pubkey,
    /// Wallet that funded the job and receives refunds.
    pub client: Pubkey,
    /// Chosen by the client; distinguishes the client's jobs.
    pub job_id: u64,
    /// Job number on the network (`NetworkTotals::jobs_created` at creation); receipts name it,
    /// so a receipt for a closed job cannot pay from a new job at the same address.
    pub nonce: u64,
    /// Provider account doing the work; the default pubkey while an unnamed job is Open.
    pub provider: Pubkey,
    /// Which providers may accept it when no provider is named.
    pub requirement: JobRequirement,
    /// Mint the client pays in (SPL Token or Token-2022).
    pub payment_mint: Pubkey,
    /// The job's escrow token account.
    pub vault: Pubkey,
    /// What a unit is.
    pub unit_kind: UnitKind,
    /// Price of one unit, in payment-mint base units.
    pub price_per_unit: u64,
    /// Most units the escrow pays for.
    pub max_units: u64,
    /// Protocol fee on this job, in basis points of each payment; the network's fee when the job was created.
    pub fee_bps: u16,
    /// Dispute window of this job, in seconds; the network's when the job was created.
    pub dispute_window_secs: i64,
    /// Tokens put into escrow over the job's life (= price_per_unit * max_units), in payment-mint base units.
    pub deposited: u64,
    /// High-water mark of settled cumulative units.
    pub settled_units: u64,
    /// Tokens paid to the provider, in payment-mint base units.
    pub paid_out: u64,
    /// Protocol fees charged on settlements: floor(settled_units × price × fee_bps / 10⁴), in
    /// payment-mint base units. They stay in the vault until `close_job` pays them to the treasury.
    pub fees_accrued: u64,
    /// Protocol fees paid to the treasury (0 until `close_job`), in payment-mint base units.
    pub fees_paid: u64,
    /// Tokens returned to the client, in payment-mint base units.
    pub refunded: u64,
    /// SHA-256 of the job specification (workload, inputs).
    pub spec_hash: [u8; 32],
    /// SHA-256 of the results, set by the provider on completion.
    pub result_hash: [u8; 32],
    /// Where the job is in its lifecycle.
    pub status: JobStatus,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Latest time a provider may accept, unix seconds.
    pub accept_by: i64,
    /// Time by which the work should be done; after it the client may cancel, unix seconds.
    pub deadline: i64,
    /// Time a provider accepted, unix seconds (0 before).
    pub accepted_at: i64,
    /// Time of the last settlement, unix seconds (0 before).
    pub last_settled_at: i64,
    /// Time of the last settlement the client did not co-sign (attested by attestors), unix
    /// seconds (0 before); the client may dispute until it is `dispute_window_secs` old.
    pub last_attested_at: i64,
    /// Whether a dispute is open; the job cannot close until it is resolved.
    pub dispute_open: bool,
    /// Time the job was completed or cancelled, unix seconds (0 before); starts the dispute window.
    pub ended_at: i64,
    /// Bump of this PDA.
    pub bump: u8,
    /// Bump of the vault PDA.
    pub vault_bump: u8,
    /// Time the provider has after accepting to settle a first receipt, in seconds; the
    /// network's `start_timeout_secs` when the job was created.
    pub start_timeout_secs: i64,
    /// The network's settlement-pause seconds when the job ended (0 before): pauses after the
    /// end lengthen its settlement window by as much.
    pub paused_secs_at_end: i64,
    /// Cancelled because the provider settled nothing within the start timeout: nothing can
    /// settle on it afterwards and it may close at once.
    pub no_show: bool,
    /// The network's settlement-pause seconds when a provider accepted the job (0 before):
    /// pauses after that lengthen its start timeout by as much, as they do its other windows.
    pub paused_secs_at_accept: i64,
    /// Room for later fields.
    pub reserved: [u8; 39],
}

/// The seeds a job account signs with (for its escrow vault), owning their bytes so that they
/// outlive any borrow of the account.
pub struct JobSeeds {
    network: Pubkey,
    client: Pubkey,
    job_id: [u8; 8],
    bump: [u8; 1],
}

impl JobSeeds {
    /// `["job", network, client, job_id, bump]`.
    pub fn as_seeds(&self) -> [&[u8]; 5] {
        [
            Job::SEED,
            self.network.as_ref(),
            self.client.as_ref(),
            &self.job_id,
            &self.bump,
        ]
    }
}

/// What a receipt's new high-water mark is worth, in payment-mint base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    /// Units the receipt adds.
    pub units: u64,
    /// Paid to the provider now.
    pub payment: u64,
    /// Protocol fee accrued for the treasury, paid when the job closes.
    pub fee: u64,
}

impl Job {
    /// Seed prefix of `Job`.
    pub const SEED: &'static [u8] = b"job";
    /// Seed prefix of a job's escrow vault.
    pub const VAULT_SEED: &'static [u8] = b"vault";

    /// The seeds this account signs its escrow vault's transfers with.
    pub fn signer_seeds(&self) -> JobSeeds {
        JobSeeds {
            network: self.network,
            client: self.client,
            job_id: self.job_id.to_le_bytes(),
            bump: [self.bump],
        }
    }

    /// Moves the job's high-water mark to `cumulative_units` and books what that is worth:
    /// the units it adds, the provider's payment and the fee, all rounded so that their sum
    /// over any sequence of receipts equals the gross of the final mark. The caller moves the
    /// payment out of the vault.
    pub fn settle(&mut self, cumulative_units: u64) -> Result<Settlement> {
        require!(
            cumulative_units <= self.max_units,
            TesseraError::UnitsExceedMax
        );
        require!(
            cumulative_units > self.settled_units,
            TesseraError::ReceiptNotNewer
        );
        let units = cumulative_units - self.settled_units;
        let fees_accrued = self.fees_on(cumulative_units)?;
        let fee = math::sub(fees_accrued, self.fees_accrued)?;
        let payment = math::sub(self.gross(units)?, fee)?;
        self.settled_units = cumulative_units;
        self.fees_accrued = fees_accrued;
        self.paid_out = math::add(self.paid_out, payment)?;
        Ok(Settlement {
            units,
            payment,
            fee,
        })
    }

    /// Whether a provider has ever been bound to this job.
    pub fn has_provider(&self) -> bool {
        self.provider != Pubkey::default()
    }

    /// Whether a provider accepted it (a named job nobody accepted was never started).
    pub fn was_accepted(&self) -> bool {
        self.accepted_at != 0
    }

    /// Whether the job ended (Completed or Cancelled).
    pub fn has_ended(&self) -> bool {
        matches!(self.status, JobStatus::Completed | JobStatus::Cancelled)
    }

    /// When the provider's time to settle a first receipt ends: `start_timeout_secs` after it
    /// accepted, plus every second settlements were paused since (`paused_secs_now`, the
    /// network's pause seconds now): a provider cannot settle during a pause, so a pause cannot
    /// make it a no-show.
    pub fn start_timeout_ends(&self, paused_secs_now: i64) -> Result<i64> {
        let paused_since_accept = paused_secs_now
            .checked_sub(self.paused_secs_at_accept)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        math::add_secs(
            math::add_secs(self.accepted_at, self.start_timeout_secs)?,
            paused_since_accept,
        )
    }

    /// Whether the client may cancel a Running job now as a no-show: nothing settled and the
    /// start timeout since acceptance, pauses not counted, is over.
    pub fn is_no_show_at(&self, now: i64, paused_secs_now: i64) -> Result<bool> {
        Ok(self.status == JobStatus::Running
            && self.settled_units == 0
            && now > self.start_timeout_ends(paused_secs_now)?)
    }

    /// Marks the job ended at `now`, when the network had been paused `paused_secs` seconds.
    pub fn end(&mut self, status: JobStatus, now: i64, paused_secs: i64) {
        self.status = status;
        self.ended_at = now;
        self.paused_secs_at_end = paused_secs;
    }

    /// Until when receipts issued before the job ended may still settle on it: its end plus
    /// its dispute window plus every settlement pause since the end (`paused_secs_now`, the
    /// network's pause seconds now). A no-show job settles nothing after its end.
    pub fn settlement_window_ends(&self, paused_secs_now: i64) -> Result<i64> {
        if self.no_show {
            return Ok(self.ended_at);
        }
        let paused_since_end = paused_secs_now
            .checked_sub(self.paused_secs_at_end)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        math::add_secs(
            math::add_secs(self.ended_at, self.dispute_window_secs)?,
            paused_since_end,
        )
    }

    /// Tokens the vault must still hold: deposited - paid out - fees paid - refunded.
    pub fn escrow_balance(&self) -> Result<u64> {
        math::sub(
            math::sub(math::sub(self.deposited, self.paid_out)?, self.fees_paid)?,
            self.refunded,
        )
    }

    /// Gross value of `units` units: units × price, in payment-mint base units.
    pub fn gross(&self, units: u64) -> Result<u64> {
        math::mul(units, self.price_per_unit)
    }

    /// Fees owed on the first `units` units: floor(units × price × fee_bps / 10⁴). Computed on the
    /// cumulative total, so splitting a settlement into many small ones saves no fee.
    pub fn fees_on(&self, units: u64) -> Result<u64> {
        math::bps_of_floor(self.gross(units)?, self.fee_bps)
    }

    /// When the client's right to dispute the last attested settlement ends (meaningful once
    /// one happened): `dispute_window_secs` after it.
    pub fn dispute_window_ends(&self) -> Result<i64> {
        math::add_secs(self.last_attested_at, self.dispute_window_secs)
    }

    /// When an ended job may close: once receipts can no longer settle on it and the client
    /// can no longer dispute. A job no provider accepted, or a no-show, may close at once
    /// (nothing settled, so nothing to dispute).
    pub fn closes_at(&self, paused_secs_now: i64) -> Result<i64> {
        if !self.was_accepted() || self.no_show {
            return Ok(self.ended_at);
        }
        let settled_until = self.settlement_window_ends(paused_secs_now)?;
        if self.last_attested_at == 0 {
            return Ok(settled_until);
        }
        Ok(settled_until.max(self.dispute_window_ends()?))
    }

    /// Invariant 1 of docs/design.md. The vault may hold more than the escrow balance (anyone can
    /// send tokens to a token account); `close_job` returns the whole vault to the client.
    pub fn invariant(&self, vault_balance: u64) -> Result<()> {
        require!(
            self.deposited == math::mul(self.price_per_unit, self.max_units)?,
            TesseraError::InvariantViolated
        );
        require!(
            self.settled_units <= self.max_units,
            TesseraError::InvariantViolated
        );
        require!(
            math::add(self.paid_out, self.fees_accrued)? == self.gross(self.settled_units)?
                && self.fees_accrued == self.fees_on(self.settled_units)?
                && self.fees_paid <= self.fees_accrued,
            TesseraError::InvariantViolated
        );
        require!(
            vault_balance >= self.escrow_balance()?,
            TesseraError::InvariantViolated
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running_job() -> Job {
        Job {
            network: Pubkey::new_unique(),
            client: Pubkey::new_unique(),
            job_id: 1,
            nonce: 1,
            provider: Pubkey::new_unique(),
            requirement: JobRequirement {
                class: ProviderClass::Inference,
                min_gpu_count: 1,
                min_vram_gib: 0,
                min_bandwidth_mbps: 0,
            },
            payment_mint: Pubkey::new_unique(),
            vault: Pubkey::new_unique(),
            unit_kind: UnitKind::GpuSeconds,
            price_per_unit: 10,
            max_units: 100,
            fee_bps: 250,
            dispute_window_secs: 60,
            deposited: 1_000,
            settled_units: 40,
            paid_out: 390,
            fees_accrued: 10,
            fees_paid: 0,
            refunded: 0,
            spec_hash: [0; 32],
            result_hash: [0; 32],
            status: JobStatus::Running,
            created_at: 0,
            accept_by: 1,
            deadline: 2,
            accepted_at: 1,
            last_settled_at: 1,
            last_attested_at: 0,
            dispute_open: false,
            ended_at: 0,
            bump: 255,
            vault_bump: 255,
            start_timeout_secs: 3_600,
            paused_secs_at_end: 0,
            no_show: false,
            paused_secs_at_accept: 0,
            reserved: [0; 39],
        }
    }

    fn violated() -> Error {
        TesseraError::InvariantViolated.into()
    }

    #[test]
    fn invariant_holds_for_consistent_books_and_tolerates_gifts() {
        let job = running_job();
        // The 10 of fees stay in the vault until close_job.
        assert_eq!(job.escrow_balance().unwrap(), 610);
        job.invariant(610).unwrap();
        job.invariant(611).unwrap();
    }

    #[test]
    fn invariant_catches_each_broken_book() {
        let job = running_job();
        assert_eq!(job.invariant(609).unwrap_err(), violated());

        let mut over_settled = running_job();
        over_settled.settled_units = 101;
        over_settled.paid_out = 985;
        over_settled.fees_accrued = 25;
        assert_eq!(over_settled.invariant(0).unwrap_err(), violated());

        let mut underfunded = running_job();
        underfunded.deposited = 999;
        assert_eq!(underfunded.invariant(610).unwrap_err(), violated());

        let mut unpaid = running_job();
        unpaid.paid_out = 380;
        assert_eq!(unpaid.invariant(610).unwrap_err(), violated());

        let mut fee_dodged = running_job();
        fee_dodged.paid_out = 400;
        fee_dodged.fees_accrued = 0;
        assert_eq!(fee_dodged.invariant(610).unwrap_err(), violated());
    }

    #[test]
    fn a_settlement_books_units_payment_and_fee_and_refuses_old_or_excess_marks() {
        let mut job = running_job();
        let before = (job.paid_out, job.fees_accrued);
        let settled = job.settle(60).unwrap();
        assert_eq!(settled.units, 20);
        assert_eq!(settled.payment + settled.fee, job.gross(20).unwrap());
        assert_eq!(job.settled_units, 60);
        assert_eq!(job.paid_out, before.0 + settled.payment);
        assert_eq!(job.fees_accrued, before.1 + settled.fee);
        assert_eq!(job.fees_accrued, job.fees_on(60).unwrap());

        let error = job.settle(60).unwrap_err();
        assert_eq!(error, TesseraError::ReceiptNotNewer.into());
        let error = job.settle(job.max_units + 1).unwrap_err();
        assert_eq!(error, TesseraError::UnitsExceedMax.into());
        assert_eq!(job.settled_units, 60, "a refused mark changes nothing");
    }

    #[test]
    fn signer_seeds_derive_the_job_address() {
        let mut job = running_job();
        let (address, bump) = Pubkey::find_program_address(
            &[
                Job::SEED,
                job.network.as_ref(),
                job.client.as_ref(),
                &job.job_id.to_le_bytes(),
            ],
            &crate::ID,
        );
        job.bump = bump;
        let seeds = job.signer_seeds();
        assert_eq!(
            Pubkey::create_program_address(&seeds.as_seeds(), &crate::ID).unwrap(),
            address
        );
    }
}
