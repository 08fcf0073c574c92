use crate::errors::TesseraError;
use crate::math;
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
        ] {
            require!(
                (1..=MAX_PERIOD_SECS).contains(&period),
                TesseraError::InvalidPeriod
            );
        }
        require!(
            self.jail_after_lost_disputes >= 1,
            TesseraError::InvalidJailThreshold
        );
        for class in &self.classes {
            require!(
                (1..=MAX_CLASS_WEIGHT_BPS).contains(&class.emission_weight_bps),
                TesseraError::InvalidClassWeight
            );
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

impl EmissionSchedule {
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

/// Running totals over the network's accounts (invariant 4 of DESIGN.md).
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
    /// Room for later fields.
    pub reserved: [u8; 64],
}

impl Network {
    /// Seed prefix of `Network`.
    pub const SEED: &'static [u8] = b"network";
    /// Current layout version.
    pub const VERSION: u8 = 1;

    /// The network's parameters and schedule are in range and emissions stayed under the cap.
    pub fn invariant(&self) -> Result<()> {
        self.params.validate()?;
        self.emission.validate()?;
        require!(
            self.totals.emitted <= self.emission.supply_cap,
            TesseraError::InvariantViolated
        );
        Ok(())
    }

    /// Fails with `NewJobsPaused` while new work is paused.
    pub fn require_new_jobs_open(&self) -> Result<()> {
        require!(!self.pause.new_jobs, TesseraError::NewJobsPaused);
        Ok(())
    }
}
