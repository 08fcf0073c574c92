use crate::errors::TesseraError;
use crate::math;
use crate::state::{AttestorSet, UnitKind};
use anchor_lang::prelude::*;

/// Seed of the PDA that is the reward mint's mint authority: `["mint", network]`.
pub const MINT_AUTHORITY_SEED: &[u8] = b"mint";

/// Longest period any time parameter may take: ten years of seconds.
pub const MAX_PERIOD_SECS: i64 = 10 * 365 * 24 * 60 * 60;

/// Largest class emission weight: 100x, in basis points.
pub const MAX_CLASS_WEIGHT_BPS: u32 = 1_000_000;

/// What kind of work a provider sells. Each class has its own minimum stake and emission weight.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ProviderClass {
    /// Large-model training on high-end GPUs; units are GPU-seconds.
    Training,
    /// Model inference; units are GPU-seconds.
    Inference,
    /// Small models on ordinary devices and laptops; units are CPU- or GPU-seconds.
    Edge,
    /// Idle network bandwidth; units are bytes.
    Bandwidth,
}

impl ProviderClass {
    /// Number of classes; the length of `NetworkParams::classes`.
    pub const COUNT: usize = 4;

    /// Whether jobs and service receipts of this class may count units of `kind`: GPU classes
    /// count GPU-seconds, Edge counts CPU- or GPU-seconds, Bandwidth counts bytes. Emission
    /// weights are per class, so a unit must be what the class sells.
    pub fn measures(self, kind: UnitKind) -> bool {
        matches!(
            (self, kind),
            (
                ProviderClass::Training | ProviderClass::Inference,
                UnitKind::GpuSeconds
            ) | (
                ProviderClass::Edge,
                UnitKind::CpuSeconds | UnitKind::GpuSeconds
            ) | (ProviderClass::Bandwidth, UnitKind::Bytes)
        )
    }

    /// Position of this class in `NetworkParams::classes`.
    pub fn index(self) -> usize {
        match self {
            ProviderClass::Training => 0,
            ProviderClass::Inference => 1,
            ProviderClass::Edge => 2,
            ProviderClass::Bandwidth => 3,
        }
    }
}

/// Per-class parameters.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct ClassParams {
    /// Stake a provider of this class needs to accept jobs and earn emissions, in reward-mint base units.
    pub min_stake: u64,
    /// Emission weight applied to each settled unit, in basis points (10,000 = 1.0x).
    pub emission_weight_bps: u32,
    /// Stake each running job ties up, in reward-mint base units: a provider may hold at most
    /// `stake / stake_per_job` running jobs, so one minimum stake cannot hoard every open job.
    pub stake_per_job: u64,
}

impl ClassParams {
    /// Stake a provider of this class needs to hold `running_jobs` jobs at once: its class
    /// minimum, and `stake_per_job` for each job.
    pub fn stake_for_jobs(&self, running_jobs: u32) -> Result<u64> {
        Ok(math::mul(self.stake_per_job, running_jobs as u64)?.max(self.min_stake))
    }
}

/// Parameters the authority may change with `update_parameters`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct NetworkParams {
    /// Length of an emission epoch, in seconds.
    pub epoch_length_secs: i64,
    /// Time between `request_unstake` and the earliest `withdraw_unstaked`, in seconds.
    pub unbonding_period_secs: i64,
    /// Time after a job ends during which its client may dispute, in seconds.
    pub dispute_window_secs: i64,
    /// Longest time a receipt stays valid after it was issued, in seconds.
    pub receipt_max_age_secs: i64,
    /// Share of every settlement paid to the treasury, in basis points.
    pub protocol_fee_bps: u16,
    /// Number of lost disputes after which a provider is jailed.
    pub jail_after_lost_disputes: u8,
    /// Per-class parameters, indexed by `ProviderClass::index()`.
    pub classes: [ClassParams; ProviderClass::COUNT],
    /// Time a provider has after accepting a job to settle its first receipt, in seconds; after
    /// it, the client may cancel the job as a no-show, which counts toward jailing.
    pub start_timeout_secs: i64,
}

impl NetworkParams {
    /// Checks every field; the error names the first field that is out of range.
    pub fn validate(&self) -> Result<()> {
        require!(
            self.protocol_fee_bps as u64 <= math::BPS_DENOMINATOR,
            TesseraError::InvalidFeeBps
        );
        for period in [
            self.epoch_length_secs,
            self.unbonding_period_secs,
            self.dispute_window_secs,
            self.receipt_max_age_secs,
            self.start_timeout_secs,
        ] {
            require!(
                (1..=MAX_PERIOD_SECS).contains(&period),
                TesseraError::InvalidPeriod
            );
        }
        // A provider must not be able to leave before its clients can dispute its work.
        require!(
            self.unbonding_period_secs >= self.dispute_window_secs,
            TesseraError::InvalidPeriod
        );
        require!(
            self.jail_after_lost_disputes >= 1,
            TesseraError::InvalidJailThreshold
        );
        for class in &self.classes {
            require!(
                (1..=MAX_CLASS_WEIGHT_BPS).contains(&class.emission_weight_bps),
                TesseraError::InvalidClassWeight
            );
            require!(class.stake_per_job >= 1, TesseraError::InvalidStakePerJob);
        }
        Ok(())
    }

    /// The parameters of one provider class.
    pub fn class(&self, class: ProviderClass) -> &ClassParams {
        &self.classes[class.index()]
    }
}

/// The emission curve, fixed at genesis so that no authority can inflate the supply later.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct EmissionSchedule {
    /// Reward tokens emitted in each of the first `decay_every_epochs` epochs, in base units.
    pub initial_per_epoch: u64,
    /// Cut applied to the per-epoch emission every `decay_every_epochs` epochs, in basis points (5,000 = halving).
    pub decay_bps: u16,
    /// Number of epochs between two decay steps.
    pub decay_every_epochs: u32,
    /// Most reward tokens the network may ever emit, in base units.
    pub supply_cap: u64,
}

/// Decay steps the schedule takes at most; from step `MAX_DECAY_STEPS` on, epochs emit nothing.
/// This bounds the work of `emission_for_epoch` (a halving schedule reaches zero within 64 steps).
pub const MAX_DECAY_STEPS: u64 = 256;

impl EmissionSchedule {
    /// Per-epoch emission in decay step `step + 1`, given step `step`'s: floor(amount × (10⁴ − decay_bps) / 10⁴).
    fn decayed(&self, amount: u64) -> u64 {
        let kept = math::BPS_DENOMINATOR - self.decay_bps as u64;
        // amount × kept / 10⁴ <= amount, so it always fits.
        ((amount as u128 * kept as u128) / math::BPS_DENOMINATOR as u128) as u64
    }

    /// Reward tokens epoch `epoch` emits, in base units.
    ///
    /// Epochs come in decay steps of `decay_every_epochs` epochs. Every epoch of step 0 emits
    /// `initial_per_epoch`; every epoch of step k + 1 emits floor(step k's amount × (10⁴ −
    /// decay_bps) / 10⁴); a decaying schedule emits nothing from step `MAX_DECAY_STEPS` on. The cap then applies to the
    /// running sum over all epochs, worked or not: the epoch that reaches `supply_cap` emits what
    /// is left of it, and every later epoch emits zero. Integers only; at most `MAX_DECAY_STEPS`
    /// loop iterations.
    pub fn emission_for_epoch(&self, epoch: u64) -> u64 {
        let every = self.decay_every_epochs.max(1) as u64;
        let step = epoch / every;
        let mut amount = self.initial_per_epoch;
        // Sum of the emissions of every epoch before `epoch`, before the cap.
        let mut before: u128 = 0;
        if self.decay_bps == 0 {
            before = epoch as u128 * amount as u128;
        } else {
            let mut walked = 0;
            while walked < step.min(MAX_DECAY_STEPS) && amount > 0 {
                before += every as u128 * amount as u128;
                amount = self.decayed(amount);
                walked += 1;
            }
            if step >= MAX_DECAY_STEPS {
                amount = 0;
            }
            before += (epoch - walked.min(step) * every).min(every) as u128 * amount as u128;
        }
        let left = (self.supply_cap as u128).saturating_sub(before);
        (amount as u128).min(left) as u64
    }

    /// Checks the schedule is well formed.
    pub fn validate(&self) -> Result<()> {
        require!(
            self.decay_bps as u64 <= math::BPS_DENOMINATOR
                && self.decay_every_epochs >= 1
                && self.initial_per_epoch <= self.supply_cap,
            TesseraError::InvalidEmissionSchedule
        );
        Ok(())
    }
}

/// What is paused. Exits (withdrawals, cancellations, closes) are never paused, so a pause
/// cannot trap anyone's tokens.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace,
)]
pub struct PauseFlags {
    /// Refuses new registrations, new stake, new jobs and accepting jobs.
    pub new_jobs: bool,
    /// Refuses receipt settlement.
    pub settlements: bool,
    /// Refuses emission claims.
    pub claims: bool,
}

/// When settlements were paused, so that a pause never shortens anyone's time to settle: jobs
/// that ended extend their settlement window by the pauses since, and receipts by the latest
/// pause they lived through.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace,
)]
pub struct SettlementPauses {
    /// Start of the current or latest settlement pause, unix seconds (0 if never paused).
    pub latest_started_at: i64,
    /// End of the latest settlement pause, unix seconds (0 while paused or if never paused).
    pub latest_ended_at: i64,
    /// Seconds of settlement pauses that have ended, over the network's life.
    pub ended_secs: i64,
}

impl SettlementPauses {
    /// Whether a pause is running.
    pub fn running(&self) -> bool {
        self.latest_started_at != 0 && self.latest_ended_at == 0
    }

    /// Seconds settlements have been paused from genesis to `now`.
    pub fn paused_secs_at(&self, now: i64) -> Result<i64> {
        let current = if self.running() {
            now.checked_sub(self.latest_started_at)
                .ok_or_else(|| error!(TesseraError::MathOverflow))?
        } else {
            0
        };
        math::add_secs(self.ended_secs, current)
    }

    /// How much later a receipt issued at `issued_at` and expiring at `expires_at` expires
    /// because of the latest ended pause: a pause that began before the receipt expired stops
    /// its clock from the later of the pause's start and the receipt's issue until the pause
    /// ended, so the receipt keeps the life it had left. Earlier pauses are not counted.
    pub fn latest_extension(&self, issued_at: i64, expires_at: i64) -> i64 {
        if self.latest_ended_at == 0
            || self.latest_started_at >= expires_at
            || self.latest_ended_at <= issued_at
        {
            return 0;
        }
        self.latest_ended_at
            .saturating_sub(self.latest_started_at.max(issued_at))
    }

    /// Records a change of the settlements pause flag at `now`.
    pub fn record(&mut self, paused: bool, now: i64) -> Result<()> {
        if paused && !self.running() {
            self.latest_started_at = now;
            self.latest_ended_at = 0;
        } else if !paused && self.running() {
            self.latest_ended_at = now;
            let length = now
                .checked_sub(self.latest_started_at)
                .ok_or_else(|| error!(TesseraError::MathOverflow))?;
            self.ended_secs = math::add_secs(self.ended_secs, length)?;
        }
        Ok(())
    }
}

/// Running totals over the network's accounts (invariant 4 of docs/design.md).
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace,
)]
pub struct NetworkTotals {
    /// Registered providers.
    pub providers: u64,
    /// Jobs created and not yet closed.
    pub open_jobs: u64,
    /// Sum of `Provider::stake`, in reward-mint base units.
    pub staked: u64,
    /// Sum of `Provider::unbonding_amount`, in reward-mint base units.
    pub unbonding: u64,
    /// Reward tokens minted by claims, in base units.
    pub emitted: u64,
    /// Units settled on jobs (unweighted, all mints together) by providers that have since
    /// deregistered. A registered provider's are in its `Provider::settled_units`, so that
    /// settlements need not write the network: the network's total is this plus the sum over
    /// its providers. u128: anyone may settle a job of their own at any size, and a statistic
    /// must never block anything by overflowing.
    pub deregistered_settled_units: u128,
    /// Units attested by service receipts (unweighted) to providers that have since
    /// deregistered; likewise the network's total is this plus the sum of
    /// `Provider::service_units` over its providers.
    pub deregistered_service_units: u128,
    /// Jobs ever created; numbers each job (`Job::nonce`), so receipts never outlive their job.
    pub jobs_created: u64,
    /// Provider registrations ever made; numbers each registration (`Provider::nonce`).
    pub registrations: u64,
    /// Reward tokens taken from stake by lost disputes, in base units.
    pub slashed: u64,
    /// Disputes opened and not yet resolved.
    pub open_disputes: u64,
}

/// A Tessera network: its authority, parameters, reward mint and running totals.
/// Seeds: `["network", network_id (u64 little endian)]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Network {
    /// Chosen by the creator; distinguishes networks of the same program.
    pub network_id: u64,
    /// Sets parameters, attestors and pauses; resolves disputes.
    pub authority: Pubkey,
    /// Proposed next authority, or the default pubkey when none is proposed.
    pub pending_authority: Pubkey,
    /// Mint of stake and emissions; its mint authority is the PDA `["mint", network]`.
    pub reward_mint: Pubkey,
    /// Owner of the token accounts that receive protocol fees.
    pub treasury: Pubkey,
    /// Parameters the authority may change.
    pub params: NetworkParams,
    /// Emission curve, fixed at genesis.
    pub emission: EmissionSchedule,
    /// Start of epoch 0, unix seconds.
    pub genesis_at: i64,
    /// Reward-mint supply when the network was created (tokens minted before the network took
    /// the mint authority), in base units. Supply now = genesis_supply + totals.emitted.
    pub genesis_supply: u64,
    /// Attestors whose quorum can vouch for receipts in place of the client.
    pub attestors: AttestorSet,
    /// What is paused.
    pub pause: PauseFlags,
    /// Running totals.
    pub totals: NetworkTotals,
    /// Layout version of this account.
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// Bump of the mint-authority PDA.
    pub mint_authority_bump: u8,
    /// Proposed next treasury, or the default pubkey when none is proposed.
    pub pending_treasury: Pubkey,
    /// When settlements were paused.
    pub settlement_pauses: SettlementPauses,
    /// Per class (indexed by `ProviderClass::index()`), the least price per unit, in
    /// reward-mint base units, of a job whose attested units earn emission; 0 lets every job
    /// earn. Only a job paid in the reward mint can meet a floor above 0: a price in another
    /// mint cannot be compared with what an emission is worth. Set by `set_emission_floors`.
    pub emission_price_floors: [u64; ProviderClass::COUNT],
    /// Room for later fields.
    pub reserved: [u8; 32],
}

/// The seeds of a network's mint authority PDA, owning their bytes.
pub struct MintAuthoritySeeds {
    network: Pubkey,
    bump: [u8; 1],
}

impl MintAuthoritySeeds {
    /// `["mint", network, bump]`.
    pub fn as_seeds(&self) -> [&[u8]; 3] {
        [MINT_AUTHORITY_SEED, self.network.as_ref(), &self.bump]
    }
}

impl Network {
    /// Seed prefix of `Network`.
    pub const SEED: &'static [u8] = b"network";

    /// The seeds the network's mint authority (`["mint", network]`) signs with; `address` is
    /// this network's own address.
    pub fn mint_authority_seeds(&self, address: Pubkey) -> MintAuthoritySeeds {
        MintAuthoritySeeds {
            network: address,
            bump: [self.mint_authority_bump],
        }
    }
    /// Current layout version.
    pub const VERSION: u8 = 3;

    /// Whether the attested units of a job of `class`, paid in `payment_mint` at
    /// `price_per_unit` base units, earn emission: the class has no floor, or the job pays in
    /// the reward mint at the floor or above. A provider that funds its own jobs to farm
    /// emission then pays at least the protocol fee on the floor price for each unit.
    pub fn job_earns_emission(
        &self,
        class: ProviderClass,
        payment_mint: &Pubkey,
        price_per_unit: u64,
    ) -> bool {
        let floor = self.emission_price_floors[class.index()];
        floor == 0 || (*payment_mint == self.reward_mint && price_per_unit >= floor)
    }

    /// The network's parameters and schedule are in range and emissions stayed under the cap.
    pub fn invariant(&self) -> Result<()> {
        self.params.validate()?;
        self.emission.validate()?;
        self.attestors.invariant()?;
        require!(
            self.totals.emitted <= self.emission.supply_cap
                && self.pause.settlements == self.settlement_pauses.running(),
            TesseraError::InvariantViolated
        );
        Ok(())
    }

    /// The epoch `timestamp` falls in: `(timestamp - genesis_at) / epoch_length_secs`.
    pub fn epoch_at(&self, timestamp: i64) -> Result<u64> {
        let elapsed = timestamp
            .checked_sub(self.genesis_at)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        let elapsed = u64::try_from(elapsed).map_err(|_| error!(TesseraError::MathOverflow))?;
        Ok(elapsed / self.params.epoch_length_secs as u64)
    }

    /// Start of `epoch`, unix seconds.
    pub fn epoch_start(&self, epoch: u64) -> Result<i64> {
        let offset = math::mul(epoch, self.params.epoch_length_secs as u64)?;
        let offset = i64::try_from(offset).map_err(|_| error!(TesseraError::MathOverflow))?;
        math::add_secs(self.genesis_at, offset)
    }

    /// Fails with `ClaimsPaused` while emission claims are paused.
    pub fn require_claims_open(&self) -> Result<()> {
        require!(!self.pause.claims, TesseraError::ClaimsPaused);
        Ok(())
    }

    /// Fails with `SettlementsPaused` while settlement is paused.
    pub fn require_settlements_open(&self) -> Result<()> {
        require!(!self.pause.settlements, TesseraError::SettlementsPaused);
        Ok(())
    }

    /// Fails with `NewJobsPaused` while new work is paused.
    pub fn require_new_jobs_open(&self) -> Result<()> {
        require!(!self.pause.new_jobs, TesseraError::NewJobsPaused);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schedule computed the slow way, epoch by epoch, with no shortcut and no early exit:
    /// the table `emission_for_epoch` must reproduce.
    fn table(schedule: &EmissionSchedule, epochs: u64) -> Vec<u64> {
        let mut per_epoch = schedule.initial_per_epoch as u128;
        let mut emitted: u128 = 0;
        let mut out = Vec::new();
        for epoch in 0..epochs {
            if epoch > 0 && epoch % schedule.decay_every_epochs as u64 == 0 {
                per_epoch = per_epoch * (10_000 - schedule.decay_bps as u128) / 10_000;
            }
            let step = epoch / schedule.decay_every_epochs as u64;
            let scheduled = if schedule.decay_bps > 0 && step >= MAX_DECAY_STEPS {
                0
            } else {
                per_epoch
            };
            let emission = scheduled.min(schedule.supply_cap as u128 - emitted);
            emitted += emission;
            out.push(emission as u64);
        }
        out
    }

    fn schedule(initial: u64, decay_bps: u16, every: u32, cap: u64) -> EmissionSchedule {
        EmissionSchedule {
            initial_per_epoch: initial,
            decay_bps,
            decay_every_epochs: every,
            supply_cap: cap,
        }
    }

    #[test]
    fn matches_the_slow_table_for_many_shapes() {
        let shapes = [
            schedule(1_000_000, 5_000, 10, 15_000_000),
            schedule(1_000_000, 5_000, 10, 100_000_000),
            schedule(999_999_937, 1_000, 3, u64::MAX),
            schedule(7, 2_500, 1, 1_000),
            schedule(500, 0, 4, 10_001),
            schedule(500, 10_000, 4, 10_000),
            schedule(u64::MAX / 3, 5_000, 2, u64::MAX),
            schedule(1, 1, 1, 10),
        ];
        for shape in shapes {
            let expected = table(&shape, 700);
            for (epoch, want) in expected.iter().enumerate() {
                assert_eq!(
                    shape.emission_for_epoch(epoch as u64),
                    *want,
                    "epoch {epoch} of {shape:?}"
                );
            }
        }
    }

    #[test]
    fn the_cap_cuts_one_epoch_short_and_zeroes_the_rest() {
        // 1,000,000 per epoch for 10 epochs, then 500,000: 10,000,000 + 5 × 500,000 = 12,500,000
        // after epoch 14; the cap of 12,750,000 leaves 250,000 for epoch 15.
        let shape = schedule(1_000_000, 5_000, 10, 12_750_000);
        assert_eq!(shape.emission_for_epoch(14), 500_000);
        assert_eq!(
            shape.emission_for_epoch(15),
            250_000,
            "the last epoch before the cap"
        );
        for epoch in 16..2_000 {
            assert_eq!(shape.emission_for_epoch(epoch), 0, "epoch {epoch}");
        }
        for epoch in [u64::MAX / 2, u64::MAX - 1, u64::MAX] {
            assert_eq!(shape.emission_for_epoch(epoch), 0);
        }
        let total: u64 = (0..2_000)
            .map(|epoch| shape.emission_for_epoch(epoch))
            .sum();
        assert_eq!(total, 12_750_000);
    }

    #[test]
    fn pauses_are_timed_and_extend_what_they_interrupted() {
        let mut pauses = SettlementPauses::default();
        assert!(!pauses.running());
        assert_eq!(pauses.paused_secs_at(1_000).unwrap(), 0);
        pauses.record(true, 100).unwrap();
        assert!(pauses.running());
        // Pausing again changes nothing; the running pause counts up to now.
        pauses.record(true, 150).unwrap();
        assert_eq!(pauses.paused_secs_at(130).unwrap(), 30);
        pauses.record(false, 160).unwrap();
        assert_eq!(pauses.paused_secs_at(10_000).unwrap(), 60);
        pauses.record(false, 170).unwrap();
        pauses.record(true, 200).unwrap();
        pauses.record(false, 210).unwrap();
        assert_eq!(pauses.paused_secs_at(10_000).unwrap(), 70);

        // The latest pause ran from 200 to 210.
        assert_eq!(pauses.latest_extension(190, 205), 10, "issued before it");
        assert_eq!(pauses.latest_extension(205, 300), 5, "issued during it");
        assert_eq!(pauses.latest_extension(100, 200), 0, "expired as it began");
        assert_eq!(pauses.latest_extension(210, 300), 0, "issued after it");
        pauses.record(true, 400).unwrap();
        assert_eq!(
            pauses.latest_extension(390, 500),
            0,
            "a running pause extends nothing: settlements wait for its end"
        );
    }

    #[test]
    fn stake_for_jobs_is_the_minimum_or_stake_per_job_times_the_jobs() {
        let class = ClassParams {
            min_stake: 100,
            emission_weight_bps: 10_000,
            stake_per_job: 30,
        };
        assert_eq!(class.stake_for_jobs(0).unwrap(), 100);
        assert_eq!(class.stake_for_jobs(3).unwrap(), 100);
        assert_eq!(class.stake_for_jobs(4).unwrap(), 120);
        let huge = ClassParams {
            stake_per_job: u64::MAX,
            ..class
        };
        assert!(huge.stake_for_jobs(2).is_err());
    }

    #[test]
    fn each_class_measures_its_own_units() {
        use ProviderClass::*;
        use UnitKind::*;
        let measured: Vec<(ProviderClass, UnitKind)> = [Training, Inference, Edge, Bandwidth]
            .into_iter()
            .flat_map(|class| [GpuSeconds, CpuSeconds, Bytes].map(|kind| (class, kind)))
            .filter(|(class, kind)| class.measures(*kind))
            .collect();
        assert_eq!(
            measured,
            vec![
                (Training, GpuSeconds),
                (Inference, GpuSeconds),
                (Edge, GpuSeconds),
                (Edge, CpuSeconds),
                (Bandwidth, Bytes),
            ]
        );
    }

    #[test]
    fn a_decaying_schedule_stops_after_the_last_step() {
        let shape = schedule(1_000_000_000_000, 10, 1, u64::MAX);
        assert!(shape.emission_for_epoch(MAX_DECAY_STEPS - 1) > 0);
        assert_eq!(shape.emission_for_epoch(MAX_DECAY_STEPS), 0);
        assert_eq!(shape.emission_for_epoch(u64::MAX), 0);
        // Without decay the amount never changes, up to the cap.
        let flat = schedule(3, 0, 1, u64::MAX);
        assert_eq!(flat.emission_for_epoch(u64::MAX / 4), 3);
    }
}
